"""Bulk classification jobs: a file of records classified by one or more models in a worker
process, checkpointed per chunk in SQLite, resumable after a crash with every row classified
exactly once; results downloadable as CSV or XLSX (original columns + top-k codes, names and
scores, spreadsheet formulas neutralised); confidence-gated triage into machine-accepted labels
and the expert queue.

A job's life: ``create_job`` (queued) -> ``run_job`` in a worker (``python -m core run-job ID``,
started by ``launch``): prepare (import the file as a batch, list its rows' records), then chunks
of records, each chunk's results and the new checkpoint written in one transaction -> done,
cancelled or failed. A worker that died leaves the job "running" with a stale heartbeat: it is
reported as interrupted and ``launch`` resumes it from its checkpoint.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from core.errors import NotFound, WorkbenchError
from core.labels import MACHINE_ROLE, Event
from core.records_import import import_records
from core.records_io import inspect_source, read_chunks
from core.store import Store, now

STALE_SECONDS = 90  # a running job whose worker has not written for this long is interrupted
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


class JobError(WorkbenchError):
    prefix = "Job problem"


@dataclass
class JobParams:
    source: str  # path of the file to classify (uploads are saved into the workspace first)
    file_name: str
    mapping: dict[str, str | None]
    models: list[str]  # model folders
    taxonomy_id: str
    top_k: int = 3
    threshold: float = 0.0
    level: int | None = None
    long_texts: str = "truncate"
    fmt: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    on_error: str = "skip"
    language: str = ""
    domain: str = ""
    chunk: int = 256

    @classmethod
    def from_json(cls, text: str) -> "JobParams":
        return cls(**json.loads(text))


@dataclass
class JobInfo:
    id: int
    status: str  # queued, preparing, running, interrupted, cancelling, cancelled, done, failed
    params: JobParams
    total: int
    done: int
    error: str
    created_by: str
    created_at: str
    updated_at: str
    checkpoint: dict = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def records_per_s(self) -> float:
        return float(self.checkpoint.get("records_per_s") or 0.0)

    @property
    def eta_seconds(self) -> float | None:
        rate = self.records_per_s
        return (self.total - self.done) / rate if rate > 0 and self.total else None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "cancelled", "failed")

    @property
    def models(self) -> list[dict]:
        return list(self.checkpoint.get("models") or [])


def _age_seconds(stamp: str) -> float:
    try:
        return (datetime.now(timezone.utc) - datetime.fromisoformat(stamp)).total_seconds()
    except (TypeError, ValueError):
        return float("inf")


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    try:  # a zombie (finished child not yet reaped) is not alive
        with open(f"/proc/{int(pid)}/stat", encoding="ascii") as fh:
            return fh.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


# ---------------------------------------------------------------------------------- store
def _row_to_info(row: dict) -> JobInfo:
    checkpoint = json.loads(row["checkpoint"] or "{}")
    status = row["status"]
    if status in ("running", "preparing", "cancelling") and _age_seconds(row["updated_at"]) > STALE_SECONDS \
            and not _pid_alive(checkpoint.get("pid")):
        status = "interrupted"
    elif status in ("running", "preparing") and checkpoint.get("pid") and not _pid_alive(checkpoint.get("pid")):
        status = "interrupted"
    return JobInfo(row["id"], status, JobParams.from_json(row["params"]), row["total"] or 0, row["done"] or 0,
                   row["error"] or "", row["created_by"] or "", row["created_at"] or "", row["updated_at"] or "",
                   checkpoint)


def create_job(store: Store, params: JobParams, created_by: str) -> int:
    """Check the file, mapping and models, then queue the job."""
    from core.manifest import load_manifest
    from core.records_import import validate_mapping

    if not params.models:
        raise JobError("choose at least one model")
    if params.top_k < 1:
        raise JobError("top-k must be at least 1")
    source = Path(params.source)
    if not source.is_file():
        raise JobError(f"'{source}' does not exist or is not a file")
    info = inspect_source(source, params.file_name, fmt=params.fmt, encoding=params.encoding,
                          delimiter=params.delimiter)
    mapped = validate_mapping(info, params.mapping)
    if not any(f in mapped for f in ("title", "abstract", "keywords")):
        raise JobError(f"map at least one text column of '{params.file_name}' (title, abstract or keywords)")
    taxonomy = store.load_taxonomy(params.taxonomy_id)
    for folder in params.models:
        manifest = load_manifest(folder)
        if manifest.taxonomy and manifest.taxonomy != taxonomy.id:
            raise JobError(f"model '{manifest.name}' classifies into '{manifest.taxonomy}', not '{taxonomy.id}'")
    params.fmt, params.encoding, params.delimiter = info.format, info.encoding or None, info.delimiter or None
    return store.create_job("classify", json.dumps(asdict(params), ensure_ascii=False), created_by)


def get_job(store: Store, job_id: int) -> JobInfo:
    row = store.job_row(job_id)
    if row is None:
        raise NotFound(f"no job #{job_id}")
    return _row_to_info(row)


def list_jobs(store: Store, limit: int = 50) -> list[JobInfo]:
    return [_row_to_info(r) for r in store.job_rows(limit)]


def cancel_job(store: Store, job_id: int) -> None:
    job = get_job(store, job_id)
    if job.finished:
        return
    if job.status in ("queued", "interrupted"):
        store.update_job(job_id, status="cancelled")
    else:
        store.update_job(job_id, status="cancelling")


def launch(db_path: str | Path, job_id: int, log_dir: str | Path | None = None) -> int:
    """Start (or resume) a job in its own worker process, detached from the caller: it goes on
    when the browser tab closes or the app restarts. Returns the worker's pid."""
    log_dir = Path(log_dir or Path(db_path).parent / "jobs")
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    root = Path(__file__).resolve().parents[1]
    with open(log_dir / f"job-{job_id}.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "core", "--db", str(db_path), "run-job", str(job_id)],
                                cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    return proc.pid


def resume_interrupted(store: Store, log_dir: str | Path | None = None) -> list[int]:
    """Start a worker for every job whose worker died (the app calls this when it starts)."""
    resumed = []
    for job in list_jobs(store, limit=200):
        if job.status == "interrupted" and job.checkpoint.get("pid"):
            launch(store.path, job.id, log_dir)
            resumed.append(job.id)
    return resumed


# ---------------------------------------------------------------------------------- worker
def _prepare(store: Store, job_id: int, params: JobParams) -> tuple[int, int]:
    """Import the file as a batch and list, for each file row, the record it became (rows whose id
    is already stored are linked to that record). Returns (batch id, rows to classify)."""
    taxonomy = store.load_taxonomy(params.taxonomy_id)
    mapping = dict(params.mapping)
    mapping.pop("label", None)  # a bulk job classifies; labels are imported on the Import page
    report = import_records(store, params.source, params.file_name, mapping=mapping, fmt=params.fmt,
                            encoding=params.encoding, delimiter=params.delimiter, on_error=params.on_error,
                            label_taxonomy=taxonomy, default_language=params.language,
                            default_domain=params.domain, imported_by=f"job #{job_id}")
    batch_id = report.batch_id
    with store.write():
        store.clear_job_records(job_id)
        store.add_job_records_from_batch(job_id, batch_id)
        if report.already_stored and mapping.get("id"):
            info = inspect_source(params.source, params.file_name, fmt=params.fmt, encoding=params.encoding,
                                  delimiter=params.delimiter)
            for rows, cols in read_chunks(params.source, info):
                ids = [i.strip() for i in cols[mapping["id"]]]
                store.add_job_records_by_external_id(job_id, list(zip(rows, ids)))
        total = store.count_job_records(job_id)
    return batch_id, total


def run_job(db_path: str | Path, job_id: int, *, stop_after_chunks: int | None = None,
            progress: Callable[[JobInfo], None] | None = None) -> JobInfo:
    """Run (or resume) a job to its end in this process. ``stop_after_chunks`` stops early, as if
    the worker died there (for tests)."""
    from core.annotation import prediction_rows
    from core.runtimes import load_classifier, ranked_from_scores

    store = Store(db_path, timeout=120)
    try:
        job = get_job(store, job_id)
        if job.finished:
            return job
        if job.status == "cancelling":
            store.update_job(job_id, status="cancelled")
            return get_job(store, job_id)
        params = job.params
        checkpoint = dict(job.checkpoint, pid=os.getpid())
        try:
            if not checkpoint.get("prepared"):
                store.update_job(job_id, status="preparing", checkpoint=checkpoint)
                batch_id, total = _prepare(store, job_id, params)
                checkpoint.update(prepared=True, batch_id=batch_id)
                store.update_job(job_id, status="running", total=total, done=0, checkpoint=checkpoint)
            taxonomy = store.load_taxonomy(params.taxonomy_id)
            classifiers = [load_classifier(folder, long_texts=params.long_texts) for folder in params.models]
            checkpoint["models"] = [{"name": c.manifest.name, "version": c.manifest.version,
                                     "folder": str(folder)} for c, folder in zip(classifiers, params.models)]
            store.update_job(job_id, status="running", checkpoint=checkpoint)
            job = get_job(store, job_id)
            position, total = job.done, job.total
            started, done_here, chunks = time.perf_counter(), 0, 0
            while position < total:
                if store.job_row(job_id)["status"] == "cancelling":
                    store.update_job(job_id, status="cancelled")
                    break
                items = store.job_records(job_id, position, params.chunk)
                records = {r["id"]: r for r in store.records_by_ids([rid for _, rid in items])}
                results: list[tuple[int, str, str]] = []
                predictions = []
                for clf in classifiers:
                    texts = [clf.manifest.text_of(records.get(rid, {})) for _, rid in items]
                    scores = clf.predict_scores(texts)
                    ranked = ranked_from_scores(clf.manifest, scores, taxonomy, top_k=params.top_k,
                                                threshold=params.threshold, level=params.level)
                    results += [(pos, clf.manifest.name, json.dumps([[s.code, round(s.score, 6)] for s in r]))
                                for (pos, _), r in zip(items, ranked)]
                    predictions.append((clf.manifest, prediction_rows([rid for _, rid in items], clf.manifest,
                                                                      scores, taxonomy)))
                position = items[-1][0] + 1
                done_here += len(items)
                checkpoint["records_per_s"] = round(done_here / max(time.perf_counter() - started, 1e-9), 2)
                with store.write():  # results and checkpoint together: a chunk is done once or not at all
                    store.save_job_results(job_id, results)
                    for manifest, rows in predictions:
                        store.save_predictions(manifest.name, manifest.version, taxonomy.id, rows, job_id=job_id)
                    store.update_job(job_id, done=position, checkpoint=checkpoint)
                chunks += 1
                if progress:
                    progress(get_job(store, job_id))
                if stop_after_chunks is not None and chunks >= stop_after_chunks:
                    return get_job(store, job_id)
            else:
                store.update_job(job_id, status="done", done=total, checkpoint=checkpoint)
        except Exception as exc:  # noqa: BLE001 - the job records why it failed; the worker exits
            message = exc.message if isinstance(exc, WorkbenchError) else f"{type(exc).__name__}: {exc}"
            store.update_job(job_id, status="failed", error=message[:2000])
            raise
        return get_job(store, job_id)
    finally:
        store.close()


# --------------------------------------------------------------------------------- results
def neutralise(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (numbers stay)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def result_columns(model_names: Sequence[str], top_k: int) -> list[str]:
    prefix = (lambda m: f"{m}_") if len(model_names) > 1 else (lambda m: "")
    return [f"{prefix(m)}{kind}_{i}" for m in model_names for i in range(1, top_k + 1)
            for kind in ("code", "name", "score")]


def result_rows(store: Store, job: JobInfo, lang: str = "en", chunk_size: int = 5000) -> Iterator[tuple[list[str], list[list]]]:
    """(header, rows) chunks: the original file's columns followed by each model's top-k codes,
    names and scores, in the file's row order."""
    params = job.params
    taxonomy = store.load_taxonomy(params.taxonomy_id)
    names = [m["name"] for m in job.models] or [Path(f).name for f in params.models]
    info = inspect_source(params.source, params.file_name, fmt=params.fmt, encoding=params.encoding,
                          delimiter=params.delimiter)
    header = list(info.columns) + result_columns(names, params.top_k)
    for rows, cols in read_chunks(params.source, info, chunk_size=chunk_size):
        found = store.job_results_for_rows(job.id, rows)
        out = []
        for k, row in enumerate(rows):
            values = [cols[c][k] for c in info.columns]
            for name in names:
                ranked = found.get((row, name), [])
                for i in range(params.top_k):
                    if i < len(ranked):
                        code, score = ranked[i]
                        values += [code, taxonomy.name_of(code, lang) if code in taxonomy else "", score]
                    else:
                        values += ["", "", ""]
            out.append(values)
        yield header, out


def write_results(store: Store, job: JobInfo, fmt: str, target: str | Path | io.IOBase, lang: str = "en") -> None:
    """Stream the results to a CSV or XLSX file (or a binary file object)."""
    if fmt not in ("csv", "xlsx"):
        raise JobError(f"results download as csv or xlsx, not '{fmt}'")
    if fmt == "csv":
        raw = open(target, "wb") if isinstance(target, (str, Path)) else target
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        first = True
        for header, rows in result_rows(store, job, lang):
            if first:
                writer.writerow([neutralise(h) for h in header])
                first = False
            writer.writerows([[neutralise(v) for v in row] for row in rows])
        text.flush()
        text.detach()
        if isinstance(target, (str, Path)):
            raw.close()
        return
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("results")
    first = True
    for header, rows in result_rows(store, job, lang):
        if first:
            sheet.append([neutralise(h) for h in header])
            first = False
        for row in rows:
            sheet.append([neutralise(v) for v in row])
    book.save(target)


def distribution(store: Store, job: JobInfo, model_name: str | None = None) -> dict[str, int]:
    """How many rows have each code as their first suggestion."""
    name = model_name or (job.models[0]["name"] if job.models else Path(job.params.models[0]).name)
    return store.job_top_code_counts(job.id, name)


def classify_file(classifiers: Sequence, taxonomy, source: str | Path, name: str, mapping: dict[str, str | None],
                  output: str | Path, *, top_k: int = 3, threshold: float = 0.0, level: int | None = None,
                  fmt: str | None = None, encoding: str | None = None, delimiter: str | None = None,
                  chunk_size: int = 2000, lang: str = "en",
                  progress: Callable[[int, float], None] | None = None) -> int:
    """Stream a file through models into an output file (CSV, or XLSX by its suffix): the
    original columns + top-k codes, names and scores per model; memory stays bounded by the
    chunk size. Returns the number of rows written. Nothing is stored in a workspace."""
    from core.records_import import validate_mapping
    from core.runtimes import ranked_from_scores

    info = inspect_source(source, name, fmt=fmt, encoding=encoding, delimiter=delimiter)
    mapped = validate_mapping(info, mapping)
    if not any(f in mapped for f in ("title", "abstract", "keywords")):
        raise JobError(f"map at least one text column of '{name}' (title, abstract or keywords)")
    output = Path(output)
    xlsx = output.suffix.lower() == ".xlsx"
    names = [c.manifest.name for c in classifiers]
    header = list(info.columns) + result_columns(names, top_k)
    fraction = 0.0

    def on_progress(value: float) -> None:
        nonlocal fraction
        fraction = value

    written = 0
    tmp = output.with_name(f".{output.name}.partial")
    if xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("results")
        sheet.append(header)
        append = sheet.append
        handle = None
    else:
        handle = open(tmp, "w", encoding="utf-8-sig", newline="")
        writer = csv.writer(handle)
        writer.writerow([neutralise(h) for h in header])
        append = writer.writerow
    try:
        for rows, cols in read_chunks(source, info, chunk_size=chunk_size, progress=on_progress):
            records = [{f: cols[c][k] for f, c in mapped.items()} for k in range(len(rows))]
            per_model = []
            for clf in classifiers:
                scores = clf.predict_scores([clf.manifest.text_of(r) for r in records])
                per_model.append(ranked_from_scores(clf.manifest, scores, taxonomy, top_k=top_k,
                                                    threshold=threshold, level=level))
            for k in range(len(rows)):
                values = [cols[c][k] for c in info.columns]
                for ranked in per_model:
                    for i in range(top_k):
                        if i < len(ranked[k]):
                            s = ranked[k][i]
                            values += [s.code, taxonomy.name_of(s.code, lang), round(s.score, 6)]
                        else:
                            values += ["", "", ""]
                append([neutralise(v) for v in values])
            written += len(rows)
            if progress:
                progress(written, fraction)
        if xlsx:
            book.save(tmp)
        else:
            handle.close()
        tmp.replace(output)
    except BaseException:
        if handle is not None and not handle.closed:
            handle.close()
        tmp.unlink(missing_ok=True)
        raise
    return written


# ---------------------------------------------------------------------------------- triage
def default_thresholds(manifest, floor: float = 0.55, ceiling: float = 0.95) -> dict[str, float]:
    """Per-category thresholds from the model's held-out precision: the more precise a category
    was, the lower the score it needs (precision 1.0 -> 0.55, 0.5 -> 0.75, 0 -> 0.95)."""
    per = ((manifest.evaluation or {}).get("held_out") or {}).get("per_category") or {}
    out = {}
    for code in manifest.codes:
        precision = float((per.get(code) or {}).get("precision", 0.0))
        out[code] = round(min(ceiling, max(floor, ceiling - 0.4 * precision)), 2)
    return out


@dataclass
class TriageReport:
    accepted: int
    to_queue: int
    already_labelled: int
    per_code: dict[str, tuple[int, int]]  # code -> (accepted, to queue)


def triage(store: Store, job: JobInfo, model_name: str, thresholds: dict[str, float], *,
           default: float = 0.9, dry_run: bool = False) -> TriageReport:
    """Records whose top code scores at or above its threshold are machine-accepted (an event of
    the machine role, never an expert's); the rest stay unlabelled for the expert queue, which
    shows the least confident first. Records someone has labelled are left alone."""
    model = next((m for m in job.models if m["name"] == model_name), None)
    if model is None:
        raise JobError(f"job #{job.id} did not run model '{model_name}'")
    annotator = f"model:{model['name']}@{model['version']}"
    rows = store.job_predictions(job.id, model["name"], model["version"], job.params.taxonomy_id)
    accepted = queued = labelled = 0
    per_code: dict[str, list[int]] = {}
    events = []
    for record_id, top_code, top_score, has_label in rows:
        if has_label:
            labelled += 1
            continue
        counts = per_code.setdefault(top_code, [0, 0])
        if top_code and top_score >= thresholds.get(top_code, default):
            accepted += 1
            counts[0] += 1
            events.append(Event(record_id, job.params.taxonomy_id, annotator, MACHINE_ROLE, "machine-accept",
                                (top_code,), reason=f"score {top_score:.3f} >= {thresholds.get(top_code, default):.2f} "
                                                    f"(job #{job.id})"))
        else:
            queued += 1
            counts[1] += 1
    if not dry_run:
        with store.write():
            for event in events:
                store.add_event(event)
    return TriageReport(accepted, queued, labelled, {c: (a, q) for c, (a, q) in per_code.items()})


__all__ = ["JobError", "JobInfo", "JobParams", "TriageReport", "cancel_job", "classify_file", "create_job", "default_thresholds",
           "distribution", "get_job", "launch", "list_jobs", "neutralise", "resume_interrupted", "result_rows", "run_job", "triage",
           "write_results"]
