"""Training as a background job: a ``train`` row in the jobs table, run by its own process
(``python -m core run-training ID``) at a lower OS priority than the app, with progress, an ETA,
cancel, and a lease like a bulk job's, so it goes on when the tab closes. A kind that trains in
epochs (``finetune``) leaves a checkpoint after each one (``<models>/.checkpoints/train-<id>``): a
job that was killed, cancelled or failed resumes from its last completed epoch (``resume_training``);
other kinds start again (their training is one step)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import Cancelled, NotFound, WorkbenchError
from core.jobs.runner import lower_priority, spawn, stop_requested, take
from core.processes import live_status
from core.store import Store
from core.work.learning import TrainOptions, train_version

NICE = 10  # added to the training process's niceness: the app's pages stay responsive
JOB_TYPE = "train"


@dataclass
class TrainingJob:
    id: int
    status: str  # queued, running, cancelling, cancelled, done, failed, interrupted
    taxonomy_id: str
    options: TrainOptions
    stage: str
    fraction: float
    eta_seconds: float | None
    result: dict
    error: str
    created_by: str
    created_at: str
    number: int = 0  # the job's number among training jobs (shown to people; ``id`` is the key)
    models_dir: str = ""

    @property
    def checkpoint(self) -> dict | None:
        """The last completed epoch a finished job can resume from ({"epoch", "curve", ...}), if any."""
        return epoch_progress(self.models_dir, self.id) if self.models_dir else None

    @property
    def resumable(self) -> bool:
        return self.status in ("cancelled", "failed", "interrupted") and bool(self.checkpoint)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "cancelled", "failed", "interrupted")


def _info(row: dict) -> TrainingJob:
    params = json.loads(row["params"] or "{}")
    checkpoint = json.loads(row["checkpoint"] or "{}")
    status = live_status(row["status"], checkpoint)
    fraction = float(checkpoint.get("fraction") or 0.0)
    started = checkpoint.get("started")
    eta = None
    if status == "running" and started and fraction - float(checkpoint.get("from") or 0.0) > 0.05:
        # estimated when the fraction last moved, then counted down: a long stage (fitting) does not
        # make the estimate grow; past its end, no figure rather than a wrong one
        at = float(checkpoint.get("at") or time.time())
        origin = float(checkpoint.get("from") or 0.0)  # where a resumed job started
        estimate = (at - float(started)) * (1 - fraction) / max(fraction - origin, 1e-6)
        left = estimate - (time.time() - at)
        eta = left if left > 1 else None
    kept = dict(params.get("options", {}))
    recipe = dict(kept.get("params") or {})
    for old, new in (("workers", "workers"), ("ray", "ray")):  # a job queued when they were recipe settings
        if old in recipe:
            kept[new] = recipe.pop(old)
    options = TrainOptions(**{k: v for k, v in {**kept, "params": recipe}.items()
                              if k in TrainOptions.__dataclass_fields__})
    return TrainingJob(row["id"], status, params.get("taxonomy_id", ""), options, checkpoint.get("stage", ""),
                       fraction, eta, checkpoint.get("result") or {}, row["error"] or "", row["created_by"] or "",
                       row["created_at"] or "", int(row.get("number") or row["id"]), params.get("models_dir", ""))


def epoch_progress(models_dir: str | Path, job_id: int) -> dict | None:
    """The per-epoch curve a training job's kind has written so far (``epoch``, ``curve``,
    ``best_epoch``), read from its checkpoint folder; None where there is none."""
    from core.work.learning import checkpoints_for

    folder = checkpoints_for(Path(models_dir), "", job_id)
    for path in (folder / "progress.json", *sorted(folder.glob("*/progress.json"))):  # an ensemble's member
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("curve"):
            return data
    return None


def create_training_job(store: Store, taxonomy_id: str, options: TrainOptions, models_dir: str | Path,
                        created_by: str) -> int:
    store.require("train")
    store.load_taxonomy(taxonomy_id)  # a clear message for an unknown taxonomy
    running = [j for j in training_jobs(store) if j.taxonomy_id == taxonomy_id and not j.finished]
    if running:
        raise WorkbenchError(f"training job #{running[0].id} for '{taxonomy_id}' is still {running[0].status}")
    from core.models import kinds

    try:
        kinds.get(options.kind).recipe(options.params)  # a clear message now, not in the worker's log
    except ValueError as exc:
        raise WorkbenchError(str(exc)) from None
    prune_checkpoints(store, models_dir)
    params = {"taxonomy_id": taxonomy_id, "options": asdict(options), "models_dir": str(models_dir)}
    return store.create_job(JOB_TYPE, json.dumps(params, ensure_ascii=False), created_by)


def training_jobs(store: Store, limit: int = 20) -> list[TrainingJob]:
    return [_info(r) for r in store.job_rows(limit, job_type=JOB_TYPE)]


def get_training_job(store: Store, job_id: int) -> TrainingJob:
    row = store.job_row(job_id)
    if row is None or row["kind"] != JOB_TYPE:
        raise NotFound(f"no training job #{job_id}")
    return _info(row)


def cancel_training(store: Store, job_id: int) -> None:
    store.require("train")
    job = get_training_job(store, job_id)
    if not job.finished:
        store.update_job(job_id, status="cancelling" if job.status == "running" else "cancelled")


def resume_training(store: Store, job_id: int, db_path: str | Path | None = None) -> None:
    """Run a killed, cancelled or failed training job again from its last completed epoch (same
    job, same recipe; a kind whose records changed since starts afresh and says so)."""
    store.require("train")
    job = get_training_job(store, job_id)
    if not job.resumable:
        raise WorkbenchError(f"training job #{job.number} has no completed epoch to resume from" if job.finished
                             else f"training job #{job.number} is still {job.status}")
    others = [j for j in training_jobs(store) if j.taxonomy_id == job.taxonomy_id and not j.finished]
    if others:
        raise WorkbenchError(f"training job #{others[0].number} for '{job.taxonomy_id}' is still {others[0].status}")
    store.update_job(job_id, status="queued", error="", checkpoint={"spent": spent_seconds(store, job_id)})
    launch_training(db_path or store.path, job_id)


def spent_seconds(store: Store, job_id: int) -> float:
    """Seconds a training job has run over all its runs so far: the earlier runs' total plus the
    last run's, up to its last progress write (a killed worker writes no end)."""
    row = store.job_row(job_id)
    checkpoint = json.loads((row or {}).get("checkpoint") or "{}")
    spent = float(checkpoint.get("spent") or 0.0)
    began, last = checkpoint.get("run_started"), checkpoint.get("at")
    if began and last and float(last) > float(began):
        spent += float(last) - float(began)
    return spent


def prune_checkpoints(store: Store, models_dir: str | Path, keep: int = 2) -> list[int]:
    """Delete the checkpoint folders of finished jobs but the ``keep`` newest resumable ones (a
    fine-tuned encoder's checkpoint is a few hundred MB); returns the job ids pruned."""
    import shutil

    from core.work.learning import checkpoints_for

    root = Path(models_dir) / ".checkpoints"
    if not root.is_dir():
        return []
    jobs = {j.id: j for j in training_jobs(store, limit=1000)}
    resumable = [j.id for j in jobs.values() if j.resumable][:keep]
    pruned = []
    for folder in root.glob("train-*"):
        try:
            job_id = int(folder.name.split("-", 1)[1])
        except ValueError:
            continue
        job = jobs.get(job_id)
        if job is not None and (not job.finished or job_id in resumable):
            continue
        shutil.rmtree(checkpoints_for(Path(models_dir), "", job_id), ignore_errors=True)
        pruned.append(job_id)
    return pruned


def launch_training(db_path: str | Path, job_id: int, log_dir: str | Path | None = None) -> int:
    """Start a training job's worker process (detached, like a bulk job's); returns its pid."""
    return spawn(db_path, JOB_TYPE, job_id, log_dir)


def run_training(db_path: str | Path, job_id: int, *, nice: int = NICE) -> TrainingJob:
    """The worker: lower its priority, take the lease, train, record the result."""
    lower_priority(nice)
    with Store(db_path) as store:
        job = get_training_job(store, job_id)
        if job.status not in ("queued",):
            return job
        lease = take(store, job_id)
        if lease is None:
            return get_training_job(store, job_id)
        params = json.loads(store.job_row(job_id)["params"])
        spent = float(json.loads(store.job_row(job_id)["checkpoint"] or "{}").get("spent") or 0.0)  # earlier runs
        started = time.time()
        run = {"lease": lease, "pid": os.getpid(), "run_started": started, "spent": spent}
        store.update_job(job_id, status="running", checkpoint={**run, "started": started, "stage": "starting",
                                                                "at": started})
        seen = {"fraction": 0.0, "written": 0.0}
        origin = {"time": started, "from": 0.0}  # the ETA counts from here

        def progress(stage: str, fraction: float) -> None:
            if fraction - seen["fraction"] > 0.1:  # a jump: a resumed job skipping its completed epochs
                origin.update({"time": time.time(), "from": fraction})
            seen["fraction"] = fraction
            if time.time() - seen["written"] > 0.5 or fraction >= 1.0:
                seen["written"] = time.time()
                store.update_job(job_id, done=int(fraction * 100), total=100, checkpoint={
                    **run, "started": origin["time"], "from": origin["from"],
                    "stage": stage, "fraction": fraction, "at": time.time()})

        def should_stop() -> bool:
            return stop_requested(store, job_id)

        try:
            taxonomy = store.load_taxonomy(params["taxonomy_id"])
            report = train_version(store, taxonomy, Path(params["models_dir"]), job.options,
                                   by=store.job_row(job_id)["created_by"] or "", job_id=job_id, progress=progress,
                                   should_stop=should_stop)
            result = {"folder": report.folder.name, "version_id": report.version_id, "number": report.number,
                      "examples": report.examples, "eval_records": report.eval_records,
                      "seconds": spent + time.time() - started, "run_seconds": report.seconds,
                      "after": (report.after or {}).get("summary"), "before": (report.before or {}).get("summary"),
                      "eval_figures": {k: v for k, v in (report.after or {}).items() if k != "per_category"},
                      "cross_validated": report.cross_validated, "verdict": report.verdict}
            store.update_job(job_id, status="done", done=100, total=100, checkpoint={
                **run, "started": started, "stage": "done", "fraction": 1.0, "at": time.time(), "result": result})
        except Cancelled:
            _stamp(store, job_id)
            store.update_job(job_id, status="cancelled")
        except WorkbenchError as exc:
            _stamp(store, job_id)
            store.update_job(job_id, status="failed", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - the job row says what happened, the log has the rest
            _stamp(store, job_id)
            store.update_job(job_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
            raise
        return get_training_job(store, job_id)


def _stamp(store: Store, job_id: int) -> None:
    """Mark when a run stopped (its time counts towards the job's duration once resumed)."""
    checkpoint = json.loads(store.job_row(job_id)["checkpoint"] or "{}")
    store.update_job(job_id, checkpoint={**checkpoint, "at": time.time()})


AUTO_SETTING = "auto_retrain_every"  # {taxonomy id: N corrections (0 = off)}


def auto_retrain(store: Store, taxonomy_id: str, models_dir: str | Path,
                 db_path: str | Path | None = None) -> int | None:
    """Start a training job (``recommended_options``: TF-IDF, or TF-IDF with a multilingual head
    where most labels are not English) when the lead's "retrain every N corrections" is due for
    the taxonomy (and none runs); returns the job id started, if any."""
    from core.work.versions import corrections_since

    every = int((store.setting(AUTO_SETTING, {}) or {}).get(taxonomy_id) or 0)
    if every <= 0 or corrections_since(store, taxonomy_id, Path(models_dir))[0] < every:
        return None
    if any(j.taxonomy_id == taxonomy_id and not j.finished for j in training_jobs(store)):
        return None
    recent = [j for j in training_jobs(store) if j.taxonomy_id == taxonomy_id and j.created_by == "auto"]
    if recent and recent[0].status == "failed":
        return None  # a failing automatic run is not repeated on every page view
    from core.work.one_click import recommended_options

    options, _ = recommended_options(store, store.load_taxonomy(taxonomy_id))
    with store.acting_as("auto", store.SYSTEM):  # the lead's standing order, not the viewer's own action
        job_id = create_training_job(store, taxonomy_id, options, models_dir, "auto")
    launch_training(db_path or store.path, job_id)
    return job_id


__all__ = ["AUTO_SETTING", "NICE", "TrainingJob", "auto_retrain", "cancel_training", "create_training_job",
           "epoch_progress", "get_training_job", "launch_training", "prune_checkpoints", "resume_training",
           "run_training", "spent_seconds", "training_jobs"]
