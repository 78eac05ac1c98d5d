"""A bulk job's lifecycle: created (queued) → a worker process runs it (``launch``) → done,
cancelled or failed. A job row holds its parameters, progress and checkpoint; a running job whose
worker died (dead pid, or no heartbeat for ``STALE_SECONDS``) reads as "interrupted", and
``resume_interrupted`` (called when the app starts) launches it again from its checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from core.errors import NotFound, WorkbenchError
from core.files.records_io import inspect_source
from core.models.manifest import load_manifest
from core.processes import holder_alive
from core.store import Store
from core.work.column_mapping import validate_mapping

STALE_SECONDS = 90  # a running job whose worker has not written for this long is interrupted


class JobError(WorkbenchError):
    prefix = "Job problem"


@dataclass
class JobParams:
    source: str  # path of the file to classify (uploads are saved into the workspace first)
    file_name: str
    mapping: dict[str, str | None]
    models: list[str]  # model folders
    taxonomy_id: str  # the job's taxonomy: a model whose manifest names none classifies into it
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
    source_sha256: str = ""  # of the job's own copy of the file (``source``), checked before results are read
    collection: str = ""  # the records' collection: "" = a new one named after the file
    route: list[str] = field(default_factory=list)  # taxonomies whose rows go to the model for their language
    models_dir: str = ""  # where a routed job chooses its models
    fast: bool = False  # a routed job prefers a fast-tier model where one reads the row's language
    within: list[str] = field(default_factory=list)  # the job taxonomy's suggestions limited to these nodes

    @classmethod
    def from_json(cls, text: str) -> "JobParams":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in json.loads(text).items() if k in known})


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
    number: int = 0  # the job's number among bulk jobs (shown to people; ``id`` is the key)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def records_per_s(self) -> float:
        return float(self.checkpoint.get("records_per_s") or 0.0)

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the job's recent rate (the last chunks, smoothed), else its mean rate."""
        rate = float(self.checkpoint.get("recent_per_s") or 0.0) or self.records_per_s
        if rate > 0 and self.total:
            return (self.total - self.done) / rate
        estimate = self.checkpoint.get("estimate_s")  # before the first step: the models' expected speed
        return float(estimate) if estimate and self.status == "running" else None

    @property
    def stage(self) -> str:
        """What the job does now ("importing the file", "loading the models", "classifying")."""
        return str(self.checkpoint.get("stage") or "")

    @property
    def resumable(self) -> bool:
        """Interrupted, cancelled or failed: it can go on from where it stopped."""
        return self.status in ("interrupted", "cancelled", "failed")

    @property
    def finished(self) -> bool:
        return self.status in ("done", "cancelled", "failed")

    @property
    def models(self) -> list[dict]:
        """The models the worker loaded: name, version, folder and the taxonomy each classifies into."""
        return [{"taxonomy": self.params.taxonomy_id, **m} for m in self.checkpoint.get("models") or []]

    @property
    def by_language(self) -> list[dict]:
        """Per language: rows, and per taxonomy the models that scored them and their mean top
        score (``core.work.routing.language_summary``; a routed job's figures)."""
        from core.work.routing import language_summary

        return language_summary(self.checkpoint.get("by_language") or {})


def _age_seconds(stamp: str) -> float:
    try:
        return (datetime.now(timezone.utc) - datetime.fromisoformat(stamp)).total_seconds()
    except (TypeError, ValueError):
        return float("inf")


def _row_to_info(row: dict) -> JobInfo:
    checkpoint = json.loads(row["checkpoint"] or "{}")
    status = row["status"]
    alive = holder_alive(checkpoint)
    if status in ("running", "preparing", "cancelling") and not alive and (
            checkpoint.get("pid") or _age_seconds(row["updated_at"]) > STALE_SECONDS):
        status = "cancelled" if status == "cancelling" else "interrupted"  # its worker is gone
    elif status == "queued" and not alive and _age_seconds(row["updated_at"]) > STALE_SECONDS:
        status = "interrupted"  # its worker never started
    return JobInfo(row["id"], status, JobParams.from_json(row["params"]), row["total"] or 0, row["done"] or 0,
                   row["error"] or "", row["created_by"] or "", row["created_at"] or "", row["updated_at"] or "",
                   checkpoint, int(row.get("number") or row["id"]))


def create_job(store: Store, params: JobParams, created_by: str) -> int:
    """Check the file, mapping and models, then queue the job."""
    store.require("bulk_classify")
    if params.route:
        from core.work.routing import Route

        if params.models:
            raise JobError("a routed job chooses its models by each row's language: name no models")
        if not params.models_dir or not Path(params.models_dir).is_dir():
            raise JobError(f"the models folder '{params.models_dir}' does not exist")
        params.route = list(dict.fromkeys(params.route))
        for taxonomy_id in params.route:
            store.load_taxonomy(taxonomy_id).check_level(params.level)
            Route(taxonomy_id, Path(params.models_dir), params.fast).folder_name("", store)  # some model serves it
    elif not params.models:
        raise JobError("choose at least one model")
    if params.top_k < 1:
        raise JobError("top-k must be at least 1")
    source = Path(params.source)
    if not source.is_file():
        raise JobError(f"'{source}' does not exist or is not a file")
    info = inspect_source(source, params.file_name, fmt=params.fmt, encoding=params.encoding,
                          delimiter=params.delimiter)
    validate_mapping(info, params.mapping)
    if params.chunk < 1:
        raise JobError("the chunk size must be at least 1")
    if params.within:
        from core.models.limits import normal_limit

        if params.route:
            raise JobError("a routed job cannot be limited to part of a tree: limit a job of chosen models")
        params.within = list(normal_limit(store.load_taxonomy(params.taxonomy_id), params.within))
    names = set()
    for folder in params.models:  # models of several taxonomies may run together, each into its own
        manifest = load_manifest(folder)
        if manifest.name in names:
            raise JobError(f"two of the chosen models are named '{manifest.name}'; their result columns would clash")
        names.add(manifest.name)
        taxonomy = store.load_taxonomy(manifest.taxonomy or params.taxonomy_id)
        taxonomy.check_level(params.level)
        if params.within and taxonomy.id == params.taxonomy_id:
            from core.models.limits import LimitError, check_limit

            try:
                check_limit(manifest, taxonomy, params.within)
            except LimitError as exc:
                raise JobError(exc.message) from None
    params.fmt, params.encoding, params.delimiter = info.format, info.encoding or None, info.delimiter or None
    params.source, params.source_sha256 = snapshot(source, Path(store.path).parent / "jobs" / "sources",
                                                   params.file_name)
    return store.create_job("classify", json.dumps(asdict(params), ensure_ascii=False), created_by)


def snapshot(source: Path, folder: Path, name: str) -> tuple[str, str]:
    """Keep the job's own copy of its file (results are read back from it, so a source file that
    is edited, moved or deleted later cannot mismatch them); returns (copy's path, SHA-256)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex[:12]}-{Path(name).name}"
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as src, open(target, "wb") as dst:
            while block := src.read(1 << 20):
                digest.update(block)
                dst.write(block)
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise JobError(f"cannot keep a copy of '{name}' for the job ({exc.strerror or exc})") from None
    return str(target), digest.hexdigest()


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def get_job(store: Store, job_id: int) -> JobInfo:
    row = store.job_row(job_id)
    if row is None or row["kind"] != "classify":
        raise NotFound(f"no job #{job_id}")
    return _row_to_info(row)


def list_jobs(store: Store, limit: int = 50) -> list[JobInfo]:
    return [_row_to_info(r) for r in store.job_rows(limit)]


def cancel_job(store: Store, job_id: int) -> None:
    store.require("bulk_classify")
    job = get_job(store, job_id)
    if job.finished:
        return
    if job.status in ("queued", "interrupted") or not holder_alive(job.checkpoint):
        store.update_job(job_id, status="cancelled")  # no worker runs it: cancelled at once
    else:
        store.update_job(job_id, status="cancelling")  # its worker stops at its next chunk


def retry_job(store: Store, job_id: int) -> None:
    """Queue a failed, cancelled or interrupted job again: it resumes from its checkpoint (the
    rows done stay done) when a worker runs it (``resume_job`` starts one)."""
    store.require("bulk_classify")
    job = get_job(store, job_id)
    if not job.resumable:
        raise JobError(f"job #{job.number} is {job.status}: only a failed or cancelled job (or one whose worker "
                       "died) can be resumed")
    store.update_job(job_id, status="queued", error="")


def launch(db_path: str | Path, job_id: int, log_dir: str | Path | None = None) -> int:
    """Start (or resume) a bulk job in its own worker process; returns the worker's pid."""
    from core.jobs.runner import spawn

    return spawn(db_path, "classify", job_id, log_dir)


def resume_job(store: Store, job_id: int, log_dir: str | Path | None = None) -> int:
    """Queue an interrupted, cancelled or failed job again and start its worker, which goes on from
    the checkpoint (the rows done stay done); returns the worker's pid. A worker runs only a queued
    job, so a stopped job goes on only through here, as someone allowed to run bulk jobs."""
    retry_job(store, job_id)
    return launch(store.path, job_id, log_dir)


def resume_interrupted(store: Store, log_dir: str | Path | None = None) -> list[int]:
    """Start a worker for every job whose worker died (the app calls this when it starts)."""
    resumed = []
    for job in list_jobs(store, limit=200):
        if job.status == "interrupted":
            resume_job(store, job.id, log_dir)
            resumed.append(job.id)
    return resumed


@dataclass(frozen=True)
class Estimate:
    rows: int  # the file's rows (counted where cheap, else estimated from its size)
    rows_exact: bool
    records_per_s: dict  # {model name: records/s measured on the sample}
    seconds: float  # every model over every row, one after the other

    @property
    def slowest(self) -> str:
        return min(self.records_per_s, key=self.records_per_s.get) if self.records_per_s else ""


def route_plan(store: Store, source, info, mapping: dict, taxonomies: list[str], models_dir, *, fast: bool = False,
               sample: int = 200) -> list[dict]:
    """Which model would read the rows of each language among the file's first ``sample`` rows,
    per taxonomy, and which reads rows of any other language: [{language ("" = other), rows,
    models: {taxonomy: folder name}, fast: {taxonomy: whether that model runs no transformer}}],
    most rows first."""
    from collections import Counter

    from core.files.records_io import preview
    from core.work.routing import Route, row_languages

    mapped = validate_mapping(info, mapping)
    head = preview(source, info, sample)
    languages = Counter(row_languages([{f: row.get(c, "") for f, c in mapped.items()} for row in head]))
    routes = [Route(t, Path(models_dir), fast) for t in taxonomies]
    rows = [(language, n) for language, n in languages.most_common() if language] + [("", languages.get("", 0))]
    return [{"language": language, "rows": n,
             "models": {r.taxonomy_id: r.folder_name(language, store) for r in routes},
             "fast": {r.taxonomy_id: r.fast_for(language, store) for r in routes}} for language, n in rows]


def estimate_job(source, name: str, mapping: dict, models: list[str], sample: int = 5) -> Estimate:
    """How long a job would take, from the models timed on the file's first ``sample`` rows (for
    models whose speed is not known in advance: an LLM, a server's). The sample is asked for real,
    so it costs what ``sample`` records cost."""
    import time

    from core.files.records_io import preview
    from core.models.runtimes import load_classifier

    info = inspect_source(source, name)
    mapped = validate_mapping(info, mapping)
    head = preview(source, info, max(1, sample))
    records = [{f: row.get(c, "") for f, c in mapped.items()} for row in head]
    if info.rows_hint is not None:
        rows, exact = int(info.rows_hint), True
    else:
        sample_bytes = sum(len(",".join(str(v) for v in row.values()).encode()) + 1 for row in head) or 1
        rows, exact = max(len(head), int(info.size / (sample_bytes / max(len(head), 1)))), False
        if len(head) < sample:
            rows, exact = len(head), True
    rates = {}
    for folder in models:
        clf = load_classifier(folder)
        texts = [clf.manifest.text_of(r) for r in records]
        started = time.perf_counter()
        clf.predict_scores(texts)
        rates[clf.manifest.name] = len(texts) / max(time.perf_counter() - started, 1e-6)
    return Estimate(rows=rows, rows_exact=exact, records_per_s=rates,
                    seconds=sum(rows / r for r in rates.values()))
