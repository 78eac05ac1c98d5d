"""Work that runs in other processes. Leases (a bulk job's worker, an import): a pid together with
the process's start time, so a pid the system reuses later never keeps dead work "running". Ray:
one way to join a cluster or start a local one for a job."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def process_start(pid: int) -> str:
    """When a process started (clock ticks since boot, from /proc): with the pid, it names one
    process even after the pid is reused. Empty where /proc is not available."""
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(") ", 1)[-1].split()[19]
    except (OSError, IndexError, ValueError):
        return ""


def lease_of(pid: int) -> str:
    return f"{pid}:{process_start(pid)}"


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


def lease_alive(lease: str) -> bool:
    """Whether the process a lease names still runs (a reused pid does not count)."""
    pid, _, started = (lease or "").partition(":")
    try:
        return _pid_alive(int(pid)) and process_start(int(pid)) == started
    except ValueError:
        return False


def holder_alive(checkpoint: dict) -> bool:
    """Whether the worker holding a job's lease still runs."""
    lease = checkpoint.get("lease") or ""
    return lease_alive(lease) if lease else _pid_alive(checkpoint.get("pid"))


__all__ = ["holder_alive", "lease_alive", "lease_of", "process_start"]


def live_status(status: str, checkpoint: dict) -> str:
    """A background job's status as it is now: a running or cancelling job whose worker is gone
    reads as "interrupted" or "cancelled"."""
    if status in ("running", "cancelling") and not holder_alive(checkpoint):
        return "cancelled" if status == "cancelling" else "interrupted"
    return status


@contextmanager
def ray_session(address: str | None, cpus: int, **env_vars: str):
    """Ray for one job: the cluster at ``address`` (a job's placement; empty or "local": a local
    Ray with ``cpus`` logical CPUs), its workers importing this checkout offline. A Ray already
    running in this process is used as it is; what this starts, it shuts down."""
    import ray

    if ray.is_initialized():
        yield ray
        return
    env = {"env_vars": {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                        **env_vars}}
    if address and address != "local":
        ray.init(address=address, runtime_env=env, log_to_driver=False)
    else:
        ray.init(num_cpus=cpus, include_dashboard=False, runtime_env=env, log_to_driver=False,
                 configure_logging=False)
    try:
        yield ray
    finally:
        ray.shutdown()
