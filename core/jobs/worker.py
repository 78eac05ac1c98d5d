"""The worker that runs a bulk job (``python -m core run-job ID``): prepare (import the file as a
batch and list its rows' records) once, then classify chunk after chunk; each chunk's results,
predictions and the new checkpoint are written in one transaction, so a worker killed at any
moment loses at most the chunk it was on and a resumed one classifies every row exactly once.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Callable

from core.errors import Cancelled, WorkbenchError
from core.jobs.lifecycle import JobInfo, JobParams, get_job
from core.jobs.runner import stop_requested, take
from core.models.runtimes import load_classifier
from core.models.scoring import prediction_rows, rank
from core.processes import holder_alive
from core.store import Store
from core.work.embeddings import record_scores
from core.work.records_import import import_records

IMPORT_CHUNK = 1000  # rows per import step: progress shown and a cancel heard at least this often
FIRST_CHUNK = 32  # the first classification step is small, so the first rate (and ETA) comes quickly


def _prepare(store: Store, job_id: int, params: JobParams, checkpoint: dict | None = None) -> tuple[int | None, int]:
    """Import the file as a batch of its collection (a new one unless the job names one) and
    list, for each file row, the record it is: a new record, or the stored record with the same
    id and text in that collection. Returns (batch id, rows to classify). The import's progress
    is written to the job after each step, and a cancel stops it there (nothing of it is kept)."""
    taxonomy = store.load_taxonomy(params.taxonomy_id)
    mapping = dict(params.mapping)
    mapping.pop("label", None)  # a bulk job classifies; labels are imported on the Import page
    checkpoint = {} if checkpoint is None else checkpoint  # the worker's own: the import's figures stay in it
    made_by = f"bulk job #{(store.job_row(job_id) or {}).get('number') or job_id}"  # as people number jobs

    def progress(rows: int, fraction: float) -> None:
        if stop_requested(store, job_id):
            raise Cancelled("the job was cancelled while its file was imported; nothing of it was kept")
        checkpoint.update(stage="importing the file", import_rows=rows, import_fraction=round(fraction, 4))
        store.update_job(job_id, checkpoint=checkpoint)

    report = import_records(store, params.source, params.file_name, mapping=mapping, fmt=params.fmt,
                            encoding=params.encoding, delimiter=params.delimiter, on_error=params.on_error,
                            label_taxonomy=taxonomy, default_language=params.language,
                            default_domain=params.domain,
                            imported_by=made_by,
                            collection=params.collection or None, chunk_size=IMPORT_CHUNK, progress=progress)
    with store.write():
        store.clear_job_records(job_id)
        if report.batch_id is not None:
            store.add_job_records_from_batch(job_id, report.batch_id)
        store.add_job_records(job_id, report.linked)
        total = store.count_job_records(job_id)
    if report.batch_id is not None:  # a job with FORD and CAP models fills both taxonomies' queues
        from pathlib import Path

        from core.errors import WorkbenchError
        from core.models.manifest import load_manifest

        for folder in params.models:
            try:
                other = load_manifest(Path(folder)).taxonomy
            except WorkbenchError:
                continue
            if other and other != params.taxonomy_id:
                store.send_batch_to(report.batch_id, other, made_by)
    return report.batch_id, total


def _scores_or_errors(clf, texts: list[str], whole=None) -> tuple[list[int], "object", dict[int, str]]:
    """Scores for a chunk (``whole()``, e.g. through the embedding cache, else from the texts);
    when the chunk fails, record by record, so one bad or huge record gets an error instead of
    failing the job. Returns (rows scored, their scores, {row: error})."""
    from core.models.services import ServiceUnavailable

    try:
        return list(range(len(texts))), (whole() if whole else clf.predict_scores(texts)), {}
    except (MemoryError, ServiceUnavailable):  # an unreachable service fails the job (resumable), not its rows
        raise
    except Exception:  # noqa: BLE001 - isolated below, record by record
        pass
    good, parts, errors = [], [], {}
    for i, text in enumerate(texts):
        try:
            parts.append(clf.predict_scores([text]))
            good.append(i)
        except ServiceUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - the record's error cell says what happened
            errors[i] = (exc.message if isinstance(exc, WorkbenchError) else f"{type(exc).__name__}: {exc}")[:300]
    import numpy as np

    scores = np.vstack(parts) if parts else np.zeros((0, len(clf.manifest.codes)), dtype=np.float32)
    return good, scores, errors


def _ranked(clf, taxonomy, scores, params: JobParams) -> list:
    """The job's ranked results for a model's scores: within the job's limit for the models of its
    taxonomy (``core.models.limits``; the stored predictions stay the model's own, which queues and
    figures read), at its top-k, threshold and level. A limited job keeps at least two codes a row
    (its results show its top-k): triage reads the second score from them."""
    from core.models.limits import limited_scores

    top_k = params.top_k
    if params.within and taxonomy.id == params.taxonomy_id:
        scores = limited_scores(clf.manifest, taxonomy, scores, params.within)[0]
        top_k = max(top_k, 2)
    return rank(clf.manifest, scores, taxonomy, top_k=top_k, threshold=params.threshold, level=params.level)


def _classify_chunk(store: Store, classifiers, taxonomies, params: JobParams, items: list[tuple[int, int]]):
    """(results rows, [(manifest, taxonomy, prediction rows)], errors) for a chunk of (position,
    record id). Models on the same encoder reading the same fields share one set of vectors: each
    record is encoded once per chunk, however many taxonomies' heads read it."""
    ids = [rid for _, rid in items]
    records = {r["id"]: r for r in store.records_by_ids(ids)}
    rows = [records.get(rid, {}) for rid in ids]
    shared: dict[str, object] = {}
    results, predictions, failed = [], [], 0
    for clf, taxonomy in zip(classifiers, taxonomies):
        good, scores, errors = _scores_or_errors(clf, [clf.manifest.text_of(r) for r in rows],
                                                 lambda clf=clf: record_scores(store, clf, rows, shared))
        ranked = dict(zip(good, _ranked(clf, taxonomy, scores, params)))
        for i, (pos, _) in enumerate(items):
            value = {"error": errors[i]} if i in errors else [[s.code, round(s.score, 6)] for s in ranked[i]]
            results.append((pos, clf.manifest.name, json.dumps(value)))
        predictions.append((clf.manifest, taxonomy,
                            prediction_rows([ids[i] for i in good], clf.manifest, scores, taxonomy)))
        failed += len(errors)
    return results, predictions, failed


def _classify_routed_chunk(store: Store, routes, taxonomies, params: JobParams, items: list[tuple[int, int]],
                          loaded: dict, counts: dict):
    """As ``_classify_chunk`` for a routed job: each record by the model that serves its language
    (its stored language: given by the file, else detected at import), per route (taxonomy); a
    record's result is kept under the model that scored it."""
    from pathlib import Path

    from core.work.routing import count_languages, row_languages

    ids = [rid for _, rid in items]
    records = {r["id"]: r for r in store.records_by_ids(ids)}
    rows = [records.get(rid, {}) for rid in ids]
    languages = row_languages(rows, detect=False)
    results, predictions, failed, shared = [], [], 0, {}
    for number, (route, taxonomy) in enumerate(zip(routes, taxonomies)):
        used, top = [""] * len(rows), [None] * len(rows)
        for name, part in route.groups(languages, store).items():
            if name not in loaded:
                loaded[name] = load_classifier(Path(route.models_dir) / name, long_texts=params.long_texts)
            clf = loaded[name]
            subset = [rows[i] for i in part]
            good, scores, errors = _scores_or_errors(clf, [clf.manifest.text_of(r) for r in subset],
                                                     lambda clf=clf, subset=subset: record_scores(store, clf, subset,
                                                                                                  shared))
            ranked = dict(zip(good, _ranked(clf, taxonomy, scores, params)))
            for k, i in enumerate(part):
                if k in errors:
                    value = {"error": errors[k]}
                else:
                    value = [[s.code, round(s.score, 6)] for s in ranked[k]]
                    top[i] = ranked[k][0].score if ranked[k] else None
                used[i] = name
                results.append((items[i][0], clf.manifest.name, json.dumps(value)))
            predictions.append((clf.manifest, taxonomy,
                                prediction_rows([ids[part[k]] for k in good], clf.manifest, scores, taxonomy)))
            failed += len(errors)
        count_languages(counts, languages, route.taxonomy_id, used, top, count_rows=number == 0)
    return results, predictions, failed


def _models_used(loaded: dict, routes, taxonomies, counts: dict) -> list[dict]:
    """The checkpoint's list of the models that have scored a routed job's rows (name, version,
    folder, taxonomy)."""
    out = []
    for route, taxonomy in zip(routes, taxonomies):
        scored = {m for c in counts.values() for m in (c["taxonomies"].get(taxonomy.id) or {}).get("models", {})}
        for name in dict.fromkeys(route.chosen.values()):
            if name in loaded and name in scored:
                m = loaded[name].manifest
                out.append({"name": m.name, "version": m.version, "folder": str(route.models_dir / name),
                            "taxonomy": taxonomy.id})
    return out


def run_job(db_path, job_id: int, *, stop_after_chunks: int | None = None,
            progress: Callable[[JobInfo], None] | None = None) -> JobInfo:
    """Run (or resume) a job to its end in this process. ``stop_after_chunks`` stops early, as if
    the worker died there (for tests)."""
    with Store(db_path, timeout=120) as store:
        job = get_job(store, job_id)
        if job.finished:
            return job
        if holder_alive(job.checkpoint):
            return job  # another worker holds it: a job runs once at a time
        if job.status == "cancelling":
            store.update_job(job_id, status="cancelled")
            return get_job(store, job_id)
        lease = take(store, job_id, job.checkpoint.get("lease") or "")
        if lease is None:
            return get_job(store, job_id)  # another worker took it a moment ago
        params, checkpoint = job.params, dict(job.checkpoint, pid=os.getpid(), lease=lease)
        position, total = job.done, job.total
        try:
            if not checkpoint.get("prepared"):
                checkpoint["stage"] = "importing the file"
                store.update_job(job_id, status="preparing", checkpoint=checkpoint)
                try:
                    checkpoint["batch_id"], total = _prepare(store, job_id, params, checkpoint)
                except Cancelled:
                    store.update_job(job_id, status="cancelled", checkpoint=dict(checkpoint, stage="cancelled"))
                    return get_job(store, job_id)
                checkpoint["prepared"], position = True, 0
            checkpoint["stage"] = "loading the models"
            store.update_job(job_id, total=total, checkpoint=checkpoint)
            from core.models.registry import estimated_seconds

            left = total - position
            if params.route:
                from pathlib import Path

                from core.work.routing import Route

                saved = {r["taxonomy"]: r for r in checkpoint.get("routes") or []}  # a resumed job keeps its choices
                routes = [Route.from_json(saved[t], Path(params.models_dir)) if t in saved else
                          Route(t, Path(params.models_dir), params.fast) for t in params.route]
                taxonomies = [store.load_taxonomy(t) for t in params.route]
                classifiers, loaded = [], {}
                counts = checkpoint.setdefault("by_language", {})
                fallback = [load_classifier(r.folder("", store), long_texts=params.long_texts) for r in routes]
                loaded.update({r.folder_name("", store): c for r, c in zip(routes, fallback)})
                checkpoint["estimate_s"] = round(sum(estimated_seconds(c.manifest, left) for c in fallback), 1)
            else:
                classifiers = [load_classifier(folder, long_texts=params.long_texts) for folder in params.models]
                taxonomies = [store.load_taxonomy(c.manifest.taxonomy or params.taxonomy_id) for c in classifiers]
                checkpoint["models"] = [{"name": c.manifest.name, "version": c.manifest.version,
                                         "folder": str(folder), "taxonomy": t.id}
                                        for c, t, folder in zip(classifiers, taxonomies, params.models)]
                checkpoint["estimate_s"] = round(sum(estimated_seconds(c.manifest, left) for c in classifiers), 1)
            checkpoint["stage"] = "classifying"
            store.update_job(job_id, status="running", total=total, done=position, checkpoint=checkpoint)
            started, done_here, chunks = time.perf_counter(), 0, 0
            checkpoint["elapsed_s"] = 0.0  # this worker's clock (a resumed job starts a new one)
            checkpoint.pop("recent_per_s", None)
            while position < total:
                if stop_requested(store, job_id):
                    store.update_job(job_id, status="cancelled")
                    break
                items = store.job_records(job_id, position, FIRST_CHUNK if not chunks else params.chunk)
                if params.route:
                    results, predictions, failed = _classify_routed_chunk(store, routes, taxonomies, params, items,
                                                                          loaded, counts)
                    checkpoint["routes"] = [r.to_json() for r in routes]
                    checkpoint["models"] = _models_used(loaded, routes, taxonomies, counts)
                else:
                    results, predictions, failed = _classify_chunk(store, classifiers, taxonomies, params, items)
                checkpoint["errors"] = checkpoint.get("errors", 0) + failed
                position, done_here, chunks = items[-1][0] + 1, done_here + len(items), chunks + 1
                elapsed = max(time.perf_counter() - started, 1e-9)
                checkpoint["records_per_s"] = round(done_here / elapsed, 2)
                # the ETA follows the recent chunks (a file whose later rows are longer slows down)
                chunk_rate = len(items) / max(elapsed - checkpoint.get("elapsed_s", 0.0), 1e-9)
                recent = checkpoint.get("recent_per_s")
                checkpoint["recent_per_s"] = round(chunk_rate if not recent else 0.5 * recent + 0.5 * chunk_rate, 2)
                checkpoint["elapsed_s"] = round(elapsed, 3)
                with store.write():  # results and checkpoint together: a chunk is done once or not at all
                    store.save_job_results(job_id, results)
                    for manifest, taxonomy, rows in predictions:
                        store.save_predictions(manifest.name, manifest.version, taxonomy.id, rows, job_id=job_id)
                    store.update_job(job_id, done=position, checkpoint=checkpoint)
                if progress:
                    progress(get_job(store, job_id))
                if stop_after_chunks is not None and chunks >= stop_after_chunks:
                    # as if this worker died here: it no longer holds the job
                    store.update_job(job_id, checkpoint=dict(checkpoint, lease="", pid=None))
                    break
            else:
                store.update_job(job_id, status="done", done=total, checkpoint=checkpoint)
        except Exception as exc:  # noqa: BLE001 - the job records why it failed; the worker exits
            message = exc.message if isinstance(exc, WorkbenchError) else f"{type(exc).__name__}: {exc}"
            if "disk is full" in message or "No space left" in message:
                message = f"the disk is full ({message}); free some space, then retry the job"
            try:
                store.update_job(job_id, status="failed", error=message[:2000],
                                 checkpoint=dict(checkpoint, lease="", pid=None))  # a retry may take it at once
            except Exception:  # noqa: BLE001 - even that write failed (a full disk): the log keeps why
                print(f"job #{job_id} failed: {message}", file=sys.stderr)
            raise
        return get_job(store, job_id)


__all__ = ["run_job"]
