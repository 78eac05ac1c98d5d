"""Filling the embedding cache in the background: an ``embed`` row in the jobs table, run by its own
process (``python -m core run-embedding ID``) at a low OS priority, encodes every stored record that
has no kept vector yet for each sentence encoder the installed models use. Scoring, bulk jobs and
training fill the cache as they go; this job does the rest, so that retraining a head or
re-scoring the whole workspace with a new one reads vectors instead of running the encoder.

The app starts one when it starts (unless ``WORKBENCH_EMBED=0``); one runs at a time; it stops at
its next batch when cancelled, and a stopped one is simply started again later (its work is kept
batch by batch).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import NotFound
from core.jobs.runner import lower_priority, spawn, stop_requested, take
from core.processes import live_status
from core.store import Store

JOB_TYPE = "embed"
NICE = 15  # lower than a training job's: the app and training go first


@dataclass
class EmbeddingJob:
    id: int
    status: str  # queued, running, cancelling, cancelled, done, failed, interrupted
    done: int
    total: int
    error: str
    created_at: str

    @property
    def finished(self) -> bool:
        return self.status in ("done", "cancelled", "failed", "interrupted")


def _info(row: dict) -> EmbeddingJob:
    checkpoint = json.loads(row["checkpoint"] or "{}")
    status = live_status(row["status"], checkpoint)
    return EmbeddingJob(row["id"], status, row["done"] or 0, row["total"] or 0, row["error"] or "",
                        row["created_at"] or "")


def embedding_jobs(store: Store, limit: int = 5) -> list[EmbeddingJob]:
    return [_info(r) for r in store.job_rows(limit, job_type=JOB_TYPE)]


def encoder_models(models_dir: str | Path) -> list[Path]:
    """Installed model folders whose runtime reads a sentence encoder (heads and ensembles)."""
    from core.models.kinds import vector_runtimes
    from core.models.registry import discover

    runtimes = vector_runtimes()
    return [m.folder for m in discover(Path(models_dir)) if m.manifest is not None and m.manifest.runtime in runtimes]


def start_embedding_fill(store: Store, models_dir: str | Path, db_path: str | Path | None = None) -> int | None:
    """Start the background fill unless one runs or no installed model has an encoder; returns
    the job id started, if any."""
    if any(not j.finished for j in embedding_jobs(store)) or not encoder_models(models_dir):
        return None
    job_id = store.create_job(JOB_TYPE, json.dumps({"models_dir": str(models_dir)}), "app")
    spawn(db_path or store.path, JOB_TYPE, job_id)
    return job_id


def run_embedding_fill(db_path: str | Path, job_id: int, *, nice: int = NICE, batch: int = 512) -> EmbeddingJob:
    """The worker: lower its priority, take the lease, encode what is missing for each distinct
    encoder (and the fields it reads), batch by batch, until done or cancelled."""
    from core.models.runtimes import load_classifier
    from core.work.embeddings import cache_key, fill_cache

    lower_priority(nice)
    with Store(db_path) as store:
        row = store.job_row(job_id)
        if row is None or row["kind"] != JOB_TYPE:
            raise NotFound(f"no embedding job #{job_id}")
        if row["status"] != "queued":
            return _info(row)
        lease = take(store, job_id)
        if lease is None:
            return _info(store.job_row(job_id))
        checkpoint = {"lease": lease, "pid": os.getpid()}
        params = json.loads(row["params"] or "{}")
        try:
            models, keys = [], set()
            for folder in encoder_models(params.get("models_dir", "")):
                clf = load_classifier(folder)
                key = cache_key(clf)
                if key and key not in keys:
                    keys.add(key)
                    models.append(clf)
            live = store.count_records()
            total = sum(max(0, live - store.embedding_count(cache_key(c))) for c in models)
            store.update_job(job_id, status="running", total=total, done=0, checkpoint=checkpoint)
            done = 0

            def should_stop() -> bool:
                return stop_requested(store, job_id)

            for clf in models:
                base = done

                def progress(count: int, _total: int, base: int = base) -> None:
                    store.update_job(job_id, done=base + count, checkpoint=checkpoint)

                # a long-text encoder goes in small batches: the records an expert will see next
                # (encode_ahead) never wait behind more than a few seconds of other work
                windowed = str(clf.encoder_id or "").startswith("multilingual-e5-small") and "static" not in str(
                    clf.encoder_id)
                done += fill_cache(store, clf, batch=min(batch, 16) if windowed else batch, should_stop=should_stop,
                                   progress=progress)
                if should_stop():
                    store.update_job(job_id, status="cancelled", done=done)
                    return _info(store.job_row(job_id))
            store.update_job(job_id, status="done", done=done, total=max(total, done), checkpoint=checkpoint)
        except Exception as exc:  # noqa: BLE001 - the job row says what happened; the log has the rest
            store.update_job(job_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
            raise
        return _info(store.job_row(job_id))


def cancel_embedding_fill(store: Store) -> None:
    for job in embedding_jobs(store):
        if not job.finished:
            store.update_job(job.id, status="cancelling" if job.status == "running" else "cancelled")


__all__ = ["EmbeddingJob", "cancel_embedding_fill", "embedding_jobs", "encoder_models", "run_embedding_fill",
           "start_embedding_fill"]
