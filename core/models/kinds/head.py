"""The ``head`` kind: logistic regression on the sentence encoder's mean-pooled vectors, kept per
record (``encoder-head``); temperature-calibrated on out-of-fold predictions."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.kinds.base import Field, Kind, Trained, TrainingInput, finish, with_recipe
from core.models.kinds.tfidf import fitted_calibration, out_of_fold
from core.models.manifest import Manifest

HEAD_C = 20.0  # inverse regularisation of the head (unit-length vectors need a weak penalty)


def automatic_c(records: int) -> float:
    """The head's C for ``records`` training records: 20 from 2,500 records up, larger below (at
    most 300), so the penalty keeps its weight against a smaller sum of losses. Measured with 5-fold
    weighted F1 on e5 vectors: NYT headlines (2,467 per fold) are best at C 20, Danish agenda items
    (1,600) at 50, the Hungarian speeches (176) at 100-300 (0.34 at C 20, 0.46 at C 100)."""
    return float(min(300.0, max(HEAD_C, 50_000.0 / max(records, 1))))


def build_head(vectors: np.ndarray, codes: Sequence[Sequence[str]], folder: Path, manifest: Manifest,
               encoder_dir: Path, *, multi_label: bool = False, seed: int = 0, c: float | None = None,
               balanced: bool = True):
    """A logistic regression on ``vectors`` (one per record) served with the encoder's runtime.
    ``balanced``: each category weighs by its inverse frequency in the loss (single-label; capped,
    ``core.models.fitting.balanced_weights``), as the TF-IDF kind's SVM and the fine-tuned kind's
    loss do: on few, imbalanced labels the rare categories are otherwise seldom suggested (TF-IDF +
    the e5 head on the 220 Hungarian speeches, 5-fold weighted F1: 0.444 plain, 0.494 weighted; the
    head alone 0.500; the figures in docs/leads.md, "The head's class weights")."""
    from safetensors.numpy import save_file

    from core.models.encoder import link_encoder
    from core.models.familiarity import support_rows, vector_threshold
    from core.models.fitting import fit_linear

    vectors = np.asarray(vectors, dtype=np.float32)
    fitted = fit_linear(lambda rows: ((lambda xs: np.asarray(xs, dtype=np.float32)), None), vectors, codes,  # noqa: ARG005 - the interface's signature
                        multi_label=multi_label, c=c or automatic_c(len(vectors)), seed=seed, balanced=balanced)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"weight": np.ascontiguousarray(fitted.coef, dtype=np.float32),
               "bias": np.ascontiguousarray(fitted.intercept, dtype=np.float32)}, str(folder / "head.safetensors"))
    support = vectors[support_rows(len(vectors), seed)]
    save_file({"vectors": np.ascontiguousarray(support, dtype=np.float16)}, str(folder / "support.safetensors"))
    link_encoder(encoder_dir, folder / "encoder")
    encoder_name = json.loads((Path(encoder_dir) / "encoder.json").read_text(encoding="utf-8")).get("name", "")
    calibration = {**fitted_calibration(fitted, codes, multi_label, seed), "familiarity": vector_threshold(support)}
    manifest = finish(folder, replace(manifest, runtime="encoder-head"), fitted.classes, codes, multi_label,
                      f"logistic regression on the {encoder_name or 'sentence encoder'}'s sentence vectors",
                      {"head": "head.safetensors", "encoder": "encoder", "support": "support.safetensors"},
                      calibration)
    if json.loads((Path(encoder_dir) / "encoder.json").read_text(encoding="utf-8")).get("type") == "static":
        from core.models.manifest import write_manifest

        manifest = replace(manifest, training={**manifest.training, "tier": "fast"})  # no transformer at run time
        write_manifest(folder, manifest)
    return manifest, fitted


def train(data: TrainingInput) -> Trained:
    from core.models.encoder import ensure_encoder

    encoder = ensure_encoder(data.models_dir, KIND.vector_encoder(data.params))
    manifest, fitted = build_head(data.vectors, data.codes, data.folder, data.manifest, encoder,
                                  multi_label=data.multi_label, seed=data.seed, c=data.params.get("c"),
                                  balanced=str(data.params.get("imbalance") or "balanced") == "balanced")
    return with_recipe(data, manifest, out_of_fold(fitted))


KIND = Kind(
    name="head", help="a head on a sentence encoder's vectors (kept per record): MiniLM or multilingual e5",
    runtime="encoder-head", reads=frozenset({"vectors"}), train=train, recipe_version="2.6.0",
    fields=(Field("encoder", "Sentence encoder", "choice", "minilm",
                  "minilm: all-MiniLM-L6-v2 (English, fast); minilm-fast: static vectors distilled from it "
                  "(English, no transformer at run time); e5: multilingual-e5-small (about 100 languages, "
                  "Hungarian and Danish among them; about 3 times slower); e5-fast: static vectors distilled from "
                  "e5 (any of its languages, no transformer at run time: for millions of records)",
                  choices=("minilm", "minilm-fast", "e5", "e5-fast")),
            Field("c", "Regularisation C (0: automatic)", "float", 0.0,
                  "the head's inverse regularisation: higher fits the training labels more closely; 0 takes 20 "
                  "from 2,500 records up and more for fewer (at most 300)", low=0.0, high=1000.0, advanced=True),
            Field("imbalance", "Imbalance", "choice", "balanced",
                  "balanced: each category weighs by the inverse of its count, so a rare one is suggested where "
                  "it fits (single-label); plain: every record weighs the same, which favours the common ones",
                  choices=("balanced", "plain"), advanced=True),))

__all__ = ["HEAD_C", "KIND", "automatic_c", "build_head"]
