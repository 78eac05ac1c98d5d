"""What every job runner does the same way, in one place: the table of job types (which worker
command runs each, and its log), starting a worker process, lowering its priority, taking a job's
lease (compare and swap: of two workers started at once, one wins), and whether a stop was asked
for. A stop raises ``core.errors.Cancelled`` in every runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.processes import lease_of
from core.store import Store

# job type (the jobs table's kind) -> (the worker command that runs it, its log's name prefix)
JOB_TYPES = {"classify": ("run-job", "job"), "train": ("run-training", "train"), "embed": ("run-embedding", "embed")}


def spawn(db_path: str | Path, job_type: str, job_id: int, log_dir: str | Path | None = None) -> int:
    """Run a job's worker (``python -m core COMMAND JOB_ID``) on the workspace in its own process,
    detached from the caller (it goes on when the browser tab closes or the app restarts), its
    output appended to ``<log_dir>/<prefix>-<id>.log``. Returns the worker's pid."""
    command, prefix = JOB_TYPES[job_type]
    log_dir = Path(log_dir or Path(db_path).parent / "jobs")
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    root = Path(__file__).resolve().parents[2]
    with open(log_dir / f"{prefix}-{job_id}.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "core", "--db", str(db_path), command, str(job_id)],
                                cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    return proc.pid


def lower_priority(nice: int) -> None:
    """Add ``nice`` to this process's niceness: the app's pages stay responsive beside a worker."""
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass


def take(store: Store, job_id: int, expected_lease: str = "") -> str | None:
    """This process's lease on the job (pid and start time), if the job's lease was still
    ``expected_lease``; None where another worker holds it."""
    lease = lease_of(os.getpid())
    return lease if store.claim_job(job_id, expected_lease, lease, os.getpid()) else None


def stop_requested(store: Store, job_id: int) -> bool:
    """Whether the job was asked to stop (Cancel), or is gone."""
    row = store.job_row(job_id)
    return row is None or row["status"] == "cancelling"


__all__ = ["JOB_TYPES", "lower_priority", "spawn", "stop_requested", "take"]
