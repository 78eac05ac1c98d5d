"""The ``finetune`` kind's training loop, shared by a run on this machine and each Ray Train
worker (``finetune_ray``): the data (validation split, targets, class weights), the model built
from an encoder, and ``fit``: epochs with a class-weighted loss or a balanced sampler, early
stopping on validation macro F1, a checkpoint after every epoch (weights, optimiser, schedule,
curve) that a killed worker resumes from."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import Cancelled
from core.models.kinds.finetune_stages import (
    collate,
    contrastive_stage,
    predict,
    probe_start,
    uses_contrastive,
    uses_probe,
)

FREEZE_VOCABULARY = 100_000  # "auto": word embeddings of a larger vocabulary stay as they are

SAMPLERS = ("weighted-loss", "balanced", "plain")


def validation_split(codes: list[list[str]], share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows): per first code, ``share`` of its records (rounded; none of a
    code with fewer than 3, so every code keeps at least 2 to learn from), in a seeded order."""
    rng = np.random.default_rng(seed)
    by_code: dict[str, list[int]] = {}
    for i, cs in enumerate(codes):
        by_code.setdefault(cs[0], []).append(i)
    val = []
    for code in sorted(by_code):
        rows = np.array(by_code[code])
        rng.shuffle(rows)
        take = int(round(share * len(rows))) if len(rows) >= 3 else 0
        val.extend(rows[:take].tolist())
    val = np.array(sorted(val), dtype=np.int64)
    return np.setdiff1d(np.arange(len(codes)), val), val


def targets(codes: list[list[str]], classes: list[str], multi_label: bool) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    if not multi_label:
        return np.array([index[cs[0]] for cs in codes], dtype=np.int64)
    y = np.zeros((len(codes), len(classes)), dtype=np.float32)
    for r, cs in enumerate(codes):
        for c in cs:
            y[r, index[c]] = 1.0
    return y


def class_weights(y: np.ndarray, n_classes: int, multi_label: bool) -> np.ndarray:
    """Square-root inverse frequency (single-label: n / (k * count), rooted; multi-label: each
    code's negatives per positive, rooted, at most 10): rare codes count more without letting a
    code of two examples dominate the loss."""
    if multi_label:
        positives = y.sum(axis=0)
        return np.clip(np.sqrt((len(y) - positives) / np.maximum(positives, 1.0)), 1.0, 10.0).astype(np.float32)
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weights = np.sqrt(len(y) / (n_classes * np.maximum(counts, 1.0)))
    return (weights / weights[counts > 0].mean()).astype(np.float32)


def validation_loss(scores: np.ndarray, y: np.ndarray, multi_label: bool) -> float:
    """Unweighted log-loss of the validation records (ties of F1 go to the lower one)."""
    if multi_label:
        p = np.clip(scores, 1e-6, 1 - 1e-6)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return float(-np.mean(np.log(np.clip(scores[np.arange(len(y)), y], 1e-9, 1.0))))


def macro_f1(scores: np.ndarray, y: np.ndarray, multi_label: bool) -> float:
    from sklearn.metrics import f1_score

    if multi_label:
        return float(f1_score(y.astype(int), (scores >= 0.5).astype(int), average="macro", zero_division=0))
    return float(f1_score(y, scores.argmax(1), labels=np.unique(y), average="macro", zero_division=0))


@dataclass
class Setup:
    """What every training process (this one, or each Ray worker) needs, as plain data."""

    encoder: str  # folder
    ids: list  # token ids per record (truncated to max_length)
    y: np.ndarray
    train_rows: np.ndarray
    val_rows: np.ndarray
    classes: list[str]
    multi_label: bool
    params: dict
    seed: int
    checkpoints: str  # folder
    key: str  # what a checkpoint must match to be resumed
    pad_id: int = 0
    types: bool = False  # the tokenizer gives token_type_ids (BERT-like)


def device_for(params: dict) -> str:
    import torch

    return "cuda" if torch.cuda.is_available() and params.get("device", "auto") != "cpu" else "cpu"


CPU_TOKENS = 2048  # tokens in one forward pass on a CPU with the automatic batch (see ``batch_size_for``)


def batch_size_for(params: dict, device: str) -> tuple[int, int]:
    """(records per forward pass, passes added up per optimiser step). The automatic batch is 16
    records a step on a CPU, 64 on a GPU; on a CPU a step of long records is taken in parts of at
    most ``CPU_TOKENS`` tokens whose gradients are added up: the same step in less memory.
    Measured (multilingual-e5-small, 64 Hungarian speeches at 512 tokens, one epoch, 2 cores):
    16 at once peaked at 13.1 GB in 161 s; 4 records x 4 parts at 6.1 GB in 139 s."""
    accumulation = max(1, int(params.get("accumulation") or 1))
    chosen = int(params.get("batch_size") or 0)
    if chosen:
        return chosen, accumulation
    if device == "cuda":
        return 64, accumulation
    batch, longest = 16, max(1, int(params.get("max_length") or 128))
    part = max(d for d in (1, 2, 4, 8, 16) if d == 1 or d * longest <= CPU_TOKENS)
    return part, accumulation * (batch // part)


def build_model(encoder: str, classes: list[str], multi_label: bool):
    from transformers import AutoConfig, AutoModelForSequenceClassification

    config = AutoConfig.from_pretrained(encoder, local_files_only=True, num_labels=len(classes),
                                        id2label=dict(enumerate(classes)),
                                        label2id={c: i for i, c in enumerate(classes)},
                                        problem_type="multi_label_classification" if multi_label else
                                        "single_label_classification")
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()  # "some weights were newly initialised": the head, as intended
    logging.disable_progress_bar()
    try:
        return AutoModelForSequenceClassification.from_pretrained(encoder, config=config, local_files_only=True,
                                                                  use_safetensors=True)
    finally:
        logging.set_verbosity(level)


def frozen_vocabulary(params: dict, model) -> bool:
    """Whether the word embeddings stay as they are: "on", or "auto" for a vocabulary over 100,000
    (a multilingual model's 250,000 rows hold most of its weights and most of an optimiser step's
    work; the few labels of a workspace touch few of them)."""
    choice = str(params.get("freeze_embeddings") or "auto")
    return choice == "on" or (choice == "auto" and model.get_input_embeddings().num_embeddings > FREEZE_VOCABULARY)


def head_parameter_names(model) -> set[str]:
    """The parameters new to fine-tuning (classifier, and a BERT pooler): they take the head's rate."""
    names = set()
    for name, _ in model.named_parameters():
        if name.startswith(("classifier", "score", "pre_classifier")) or ".pooler." in f".{name}":
            names.add(name)
    return names


def _save_atomic(write: Callable[[Path], None], path: Path) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    write(tmp)
    tmp.replace(path)


def _state(model) -> dict:
    return {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}


AUTO_EPOCHS, MIN_STEPS, MAX_AUTO_EPOCHS = 6, 300, 30


def planned_epochs(params: dict, steps_per_epoch: int) -> int:
    """The epochs to run: the recipe's when it names them; automatic (0) is 6, raised for few training
    records until training takes at least 300 optimiser steps (at most 30 epochs; early stopping still
    ends sooner). A 150-record set is otherwise done after 60 steps, before the head has learned much."""
    epochs = int(params.get("epochs") or 0)
    if epochs > 0:
        return epochs
    return max(AUTO_EPOCHS, min(MAX_AUTO_EPOCHS, math.ceil(MIN_STEPS / max(1, steps_per_epoch))))


def fit(setup: Setup, progress: Callable[[str, float], None], should_stop: Callable[[], bool], *,
        rank: int = 0, world: int = 1, wrap=None, report=None) -> dict:
    """Train per ``setup``; returns {"state": the best epoch's weights, "curve": [...], "best_epoch",
    "resumed_from"}. With ``world`` > 1 this is one data-parallel worker (``wrap`` makes the model
    distributed; each worker takes its share of every batch; rank 0 writes the checkpoints)."""
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    params = setup.params
    device = device_for(params)
    torch.manual_seed(setup.seed)
    tokenizer = AutoTokenizer.from_pretrained(setup.encoder, local_files_only=True)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    model = build_model(setup.encoder, setup.classes, setup.multi_label).to(device)
    needs_types = "token_type_ids" in tokenizer.model_input_names and getattr(model.config, "type_vocab_size", 0) > 0
    head = head_parameter_names(model)
    if frozen_vocabulary(params, model):
        model.get_input_embeddings().weight.requires_grad_(False)
    probe = uses_probe(params, setup.encoder)
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    # a head that starts from a probe already works: it moves at the encoder's rate (LP-FT)
    groups = [{"params": [p for n, p in trained if n not in head], "lr": float(params["lr_encoder"])},
              {"params": [p for n, p in trained if n in head],
               "lr": float(params["lr_encoder"] if probe else params["lr_head"])}]
    optimiser = torch.optim.AdamW(groups, weight_decay=0.01)
    batch, accumulation = batch_size_for(params, device)
    steps_per_epoch = max(1, math.ceil(len(setup.train_rows) / (batch * accumulation)))
    epochs = planned_epochs(params, steps_per_epoch)
    schedule = get_linear_schedule_with_warmup(optimiser, int(float(params["warmup"]) * steps_per_epoch * epochs),
                                               steps_per_epoch * epochs)
    y_train = setup.y[setup.train_rows]
    weights = None
    if params["sampler"] == "weighted-loss":
        weights = torch.tensor(class_weights(y_train, len(setup.classes), setup.multi_label), device=device)
    loss_fn = (torch.nn.BCEWithLogitsLoss(pos_weight=weights) if setup.multi_label
               else torch.nn.CrossEntropyLoss(weight=weights))
    autocast_dtype = None
    if device == "cuda":
        autocast_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda") if autocast_dtype == torch.float16 else None

    folder = Path(setup.checkpoints)
    folder.mkdir(parents=True, exist_ok=True)
    curve, best_epoch, best_key, best_state, start_epoch, resumed_from = [], 0, None, None, 1, 0
    state_file = folder / "progress.json"
    if state_file.exists():
        try:
            saved = json.loads(state_file.read_text(encoding="utf-8"))
            if saved.get("key") == setup.key:
                model.load_state_dict(load_file(str(folder / "last.safetensors")), strict=True)
                extra = torch.load(folder / "optimiser.pt", weights_only=True, map_location=device)
                optimiser.load_state_dict(extra["optimiser"])
                schedule.load_state_dict(extra["schedule"])
                if scaler is not None and extra.get("scaler"):
                    scaler.load_state_dict(extra["scaler"])
                curve, best_epoch = saved["curve"], int(saved["best_epoch"])
                best_key = tuple(saved["best_key"]) if saved.get("best_key") else None
                best_state = load_file(str(folder / "best.safetensors")) if best_key is not None else None
                start_epoch = resumed_from = int(saved["epoch"]) + 1
        except (OSError, ValueError, KeyError, RuntimeError):
            curve, best_epoch, best_key, best_state, start_epoch, resumed_from = [], 0, None, None, 1, 0
    share = 0.0  # of the progress bar the contrastive stage takes
    if uses_contrastive(params, len(setup.train_rows), probe):
        share = 0.2
        if resumed_from == 0:  # done before any epoch; a resumed run has it in its weights already
            contrastive_stage(model, setup, pad_id, needs_types, device, lambda s, f: progress(s, share * f),
                              should_stop)
            if rank == 0:
                _save_atomic(lambda p: save_file(_state(model), str(p)), folder / "last.safetensors")
                _save_atomic(lambda p: torch.save({"optimiser": optimiser.state_dict(),
                                                   "schedule": schedule.state_dict(), "scaler": None}, p),
                             folder / "optimiser.pt")
                _save_atomic(lambda p: p.write_text(json.dumps({"key": setup.key, "epoch": 0, "curve": [],
                                                                "best_epoch": 0, "best_key": None}),
                                                    encoding="utf-8"), state_file)
    if probe and not any(e.get("epoch") == 0 for e in curve):  # a resumed run may have it in its weights
        probe_start(model, setup, pad_id, needs_types, device, lambda s, f: progress(s, share + 0.05 * f),
                    should_stop)
        entry = {"epoch": 0, "train_loss": None, "seconds": 0.0, "start": "linear probe",
                 **validation_figures(model, setup, pad_id, needs_types, device)}
        if "val_loss" in entry:
            best_key, best_epoch, best_state = [entry["val_macro_f1"], -entry["val_loss"]], 0, _state(model)
            if rank == 0:
                _save_atomic(lambda p: save_file(best_state, str(p)), folder / "best.safetensors")
        curve.append(entry)
        if rank == 0:
            _save_atomic(lambda p: save_file(_state(model), str(p)), folder / "last.safetensors")
            _save_atomic(lambda p: torch.save({"optimiser": optimiser.state_dict(), "schedule": schedule.state_dict(),
                                               "scaler": None}, p), folder / "optimiser.pt")
            _save_atomic(lambda p: p.write_text(json.dumps({"key": setup.key, "epoch": 0, "curve": curve,
                                                            "best_epoch": best_epoch, "best_key": best_key}),
                                                encoding="utf-8"), state_file)
        share += 0.05
    if wrap is not None:
        model = wrap(model)
    inner = model.module if hasattr(model, "module") else model
    patience = int(params.get("patience") or 0)
    started = time.perf_counter()
    for epoch in range(start_epoch, epochs + 1):
        if best_key is not None and patience and epoch - best_epoch > patience:
            break
        generator = np.random.default_rng(setup.seed * 1000 + epoch)
        if params["sampler"] == "balanced" and not setup.multi_label:
            counts = np.bincount(y_train, minlength=len(setup.classes)).astype(np.float64)
            p = 1.0 / counts[y_train]
            order = generator.choice(len(setup.train_rows), size=len(setup.train_rows), p=p / p.sum())
        else:
            order = generator.permutation(len(setup.train_rows))
        rows = setup.train_rows[order]
        torch.manual_seed(setup.seed * 1000 + epoch)
        model.train()
        total_loss, seen = 0.0, 0
        optimiser.zero_grad()
        chunks = [rows[i:i + batch] for i in range(0, len(rows), batch)]
        for step, chunk in enumerate(chunks, start=1):
            if should_stop():
                raise Cancelled("training stopped on request; the last completed epoch is kept")
            mine = chunk[rank::world] if world > 1 else chunk
            if not len(mine):
                mine = chunk[:1]
            feeds = {k: v.to(device) for k, v in collate(setup.ids, mine, pad_id, needs_types).items()}
            target = torch.as_tensor(setup.y[mine], device=device)
            with torch.autocast(device_type="cuda", dtype=autocast_dtype, enabled=autocast_dtype is not None):
                logits = model(**feeds).logits
            loss = loss_fn(logits.float(), target) / accumulation
            (scaler.scale(loss) if scaler is not None else loss).backward()
            total_loss += loss.item() * accumulation * len(mine)
            seen += len(mine)
            if step % accumulation == 0 or step == len(chunks):
                if scaler is not None:
                    scaler.unscale_(optimiser)
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                if scaler is not None:
                    scaler.step(optimiser)
                    scaler.update()
                else:
                    optimiser.step()
                schedule.step()
                optimiser.zero_grad()
            progress(f"epoch {epoch}/{epochs} · step {step}/{len(chunks)}",
                     share + (1 - share) * ((epoch - 1) + step / len(chunks)) / epochs)
        entry = {"epoch": epoch, "train_loss": round(total_loss / max(seen, 1), 4),
                 "seconds": round(time.perf_counter() - started, 1),
                 **validation_figures(inner, setup, pad_id, needs_types, device)}
        # no validation records: the last epoch is kept
        key = (entry["val_macro_f1"], -entry["val_loss"]) if "val_loss" in entry else (epoch, 0.0)
        curve.append(entry)
        if best_key is None or tuple(key) > tuple(best_key):
            best_key, best_epoch, best_state = list(key), epoch, _state(inner)
        if rank == 0:
            _save_atomic(lambda p: save_file(_state(inner), str(p)), folder / "last.safetensors")
            if best_epoch == epoch:
                _save_atomic(lambda p: save_file(best_state, str(p)), folder / "best.safetensors")
            _save_atomic(lambda p: torch.save({"optimiser": optimiser.state_dict(), "schedule": schedule.state_dict(),
                                               "scaler": scaler.state_dict() if scaler is not None else None}, p),
                         folder / "optimiser.pt")
            _save_atomic(lambda p: p.write_text(json.dumps({"key": setup.key, "epoch": epoch, "curve": curve,
                                                            "best_epoch": best_epoch, "best_key": list(best_key)}),
                                                encoding="utf-8"), state_file)
        if report is not None:
            report(entry)
    return {"state": best_state if best_state is not None else _state(inner), "curve": curve,
            "best_epoch": best_epoch, "resumed_from": resumed_from, "epochs": epochs}


def validation_figures(model, setup: Setup, pad_id: int, needs_types: bool, device: str) -> dict:
    """The model's macro F1 and loss on the validation records ({} without any)."""
    if not len(setup.val_rows):
        return {}
    scores = predict(model, setup.ids, setup.val_rows, pad_id, needs_types, setup.multi_label, device)
    y_val = setup.y[setup.val_rows]
    return {"val_macro_f1": round(macro_f1(scores, y_val, setup.multi_label), 4),
            "val_loss": round(validation_loss(scores, y_val, setup.multi_label), 4)}
