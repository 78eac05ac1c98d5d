"""Fine-tuning on a Ray cluster through Ray Train: a ``TorchTrainer`` runs ``finetune_loop.fit`` in N
data-parallel workers (PyTorch DDP; gloo on CPUs, NCCL on GPUs). Every worker walks the same
shuffled order and takes its share of each batch, and DDP averages the gradients, so N workers
take the steps one worker would with the same batch size.

Locally (no address, or "local") a Ray instance with one CPU per worker is started here; give an
address ("auto" on a cluster node, "ray://head:10001") to use a running cluster. Every node needs
this project and the models folder at the same path (or a shared file system); the workers find
the project through PYTHONPATH. Rank 0 writes the per-epoch checkpoints into the job's checkpoint
folder; the driver reads progress and the stop request through small files there.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Callable

from core.errors import Cancelled

STOP_FILE = "STOP"
STEP_FILE = "step.json"
RESULT_FILE = "ray-best.safetensors"


def _loop(config: dict) -> None:
    """One Ray Train worker."""
    import ray.train
    import ray.train.torch
    import torch
    from safetensors.torch import save_file

    from core.models.kinds.finetune_loop import fit

    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    setup = config["setup"]
    folder = Path(setup.checkpoints)
    torch.set_num_threads(max(1, int(config.get("threads") or 1)))
    last = [0.0]

    def progress(stage: str, fraction: float) -> None:
        if rank == 0 and time.time() - last[0] > 0.5:
            last[0] = time.time()
            tmp = folder / f".{STEP_FILE}.tmp"
            tmp.write_text(json.dumps({"stage": stage, "fraction": fraction}), encoding="utf-8")
            tmp.replace(folder / STEP_FILE)

    def should_stop() -> bool:
        return (folder / STOP_FILE).exists()

    result = fit(setup, progress, should_stop, rank=rank, world=world,
                 wrap=lambda model: ray.train.torch.prepare_model(model, parallel_strategy="ddp"),
                 report=lambda entry: ray.train.report({k: v for k, v in entry.items() if v is not None}))
    if rank == 0:
        save_file(result["state"], str(folder / RESULT_FILE))
        (folder / "ray-result.json").write_text(json.dumps({k: result[k] for k in ("curve", "best_epoch",
                                                                                   "resumed_from", "epochs")}),
                                                encoding="utf-8")


def fit_on_ray(setup, address: str, workers: int, progress: Callable[[str, float], None],
               should_stop: Callable[[], bool]) -> dict:
    """``finetune_loop.fit`` on ``workers`` Ray Train workers; the same result dict as ``fit``."""
    from core.processes import ray_session

    folder = Path(setup.checkpoints)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (STOP_FILE, STEP_FILE, RESULT_FILE, "ray-result.json"):
        (folder / name).unlink(missing_ok=True)
    done = threading.Event()

    def watch() -> None:  # the driver's side of progress and stop
        while not done.wait(0.5):
            try:
                step = json.loads((folder / STEP_FILE).read_text(encoding="utf-8"))
                progress(step["stage"] + f" · {workers} workers", 0.92 * float(step["fraction"]))
            except (OSError, ValueError, KeyError):
                pass
            if should_stop():
                (folder / STOP_FILE).touch()

    watcher = threading.Thread(target=watch, daemon=True)
    with ray_session(address, workers, RAY_TRAIN_V2_ENABLED="1") as ray:
        watcher.start()
        try:
            return _train(ray, setup, folder, workers, local=address in ("", "local"))
        finally:
            done.set()
            watcher.join(timeout=2)


def _train(ray, setup, folder: Path, workers: int, *, local: bool) -> dict:
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer
    from safetensors.torch import load_file

    gpu = False if local else bool(ray.cluster_resources().get("GPU"))
    threads = max(1, (os.cpu_count() or 1) // workers) if local else 1
    trainer = TorchTrainer(
        _loop, train_loop_config={"setup": setup, "threads": threads},
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=gpu, resources_per_worker={"CPU": 1}),
        run_config=RunConfig(name=f"finetune-{folder.name}", storage_path=str((folder / "ray").resolve())))
    try:
        trainer.fit()
    except Exception as exc:  # noqa: BLE001 - Ray wraps a worker's error in its own types
        if (folder / STOP_FILE).exists():
            raise Cancelled("training stopped on request; the last completed epoch is kept") from None
        raise RuntimeError(f"Ray Train failed: {str(exc).splitlines()[0][:300]}") from None
    if (folder / STOP_FILE).exists() and not (folder / RESULT_FILE).exists():
        raise Cancelled("training stopped on request; the last completed epoch is kept")
    summary = json.loads((folder / "ray-result.json").read_text(encoding="utf-8"))
    return {**summary, "state": load_file(str(folder / RESULT_FILE)), "device": "cuda" if gpu else "cpu",
            "workers": workers}


__all__ = ["fit_on_ray"]
