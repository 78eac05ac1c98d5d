"""Held-out figures for a shipped default model: a model is built without a stratified 20 % split
and scored on it (the manifest's held-out figures and the conformal rows triage reads), then the
saved model is built from every record. Any family's builder goes through ``held_out_then_final``;
a kind (``core.models.kinds``) goes through ``train_kind``."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from core.models.manifest import Manifest, write_manifest

TEST_SIZE = 0.2


def evaluate(y_true: Sequence[str], y_pred: Sequence[str]) -> dict:
    """Strict single-label figures: weighted and macro F1, accuracy, and per-category P/R/F1."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = sorted(set(y_true) | set(y_pred))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "strict_weighted_f1": round(float(f1_score(y_true, y_pred, average="weighted", zero_division=0)), 4),
        "strict_macro_f1": round(float(f1_score(y_true, y_pred, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "test_size": len(y_true),
        "per_category": {
            code: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4),
                   "support": int(s[i])}
            for i, code in enumerate(labels)
        },
    }


def split(codes: Sequence[str], test_size: float = TEST_SIZE, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The defaults' held-out split: stratified where every code has two records."""
    from sklearn.model_selection import train_test_split

    stratify = list(codes) if min(Counter(codes).values()) >= 2 else None
    train, test = train_test_split(np.arange(len(codes)), test_size=test_size, random_state=seed, stratify=stratify)
    return np.asarray(train), np.asarray(test)


def held_out_then_final(texts: list[str], codes: list[str], folder: Path, vectors: np.ndarray | None,
                        make: Callable[[np.ndarray, Path], Manifest], *, test_size: float = TEST_SIZE, seed: int = 0,
                        **changes) -> Manifest:
    """``make(rows, target)`` builds a model folder from those rows; one is built without the
    held-out split and scored on it (the held-out figures and conformal rows), the saved one from
    everything, with its training-text fingerprints. ``vectors``: the texts' encoder vectors for a
    model that reads them (None for one that reads texts). ``changes``: more manifest fields for
    the saved one."""
    from core.models.calibration import with_conformal
    from core.models.familiarity import write_fingerprints
    from core.models.runtimes import load_classifier

    train_idx, test_idx = split(codes, test_size, seed)
    scratch = Path(tempfile.mkdtemp(prefix="held-out-"))
    try:
        make(train_idx, scratch / "m")
        held = load_classifier(scratch / "m")
        scores = held.scores_from_vectors(None if vectors is None else vectors[test_idx],
                                          [texts[i] for i in test_idx])  # calibrated
        figures = evaluate([codes[i] for i in test_idx], [held.manifest.codes[k] for k in scores.argmax(1)])
        known = [k for k, i in enumerate(test_idx) if codes[i] in held.manifest.codes]
        gold = np.array([held.manifest.codes.index(codes[test_idx[k]]) for k in known])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    folder = Path(folder)
    final = make(np.arange(len(texts)), folder)
    conformal = with_conformal({}, scores[known], gold, seed, held.manifest.codes)["conformal_rows"]
    final = replace(final, files={**final.files, "training_texts": write_fingerprints(folder, texts)},
                    training={**final.training, "held_out_fraction": test_size},
                    evaluation={"held_out": figures},
                    calibration={**final.calibration, "conformal_rows": conformal,
                                 "conformal_from": f"the {test_size:.0%} held-out split"}, **changes)
    write_manifest(folder, final)
    return final


def train_kind(kind, recipe: dict, texts: Sequence[str], codes: Sequence[str], folder: Path, manifest: Manifest,
               models_dir: Path, *, vectors: np.ndarray | None = None, seed: int = 0, taxonomy=None,
               **changes) -> Manifest:
    """A model of ``kind`` (``core.models.kinds.Kind``) with ``recipe`` (its settings, checked by
    the kind), with held-out figures, as the workspace's loop trains it. ``vectors``: the texts'
    vectors from the recipe's sentence encoder, where the kind reads them; ``taxonomy``: the one it
    classifies into (a kind that scores its nodes reads it)."""
    from core.models.kinds.base import TrainingInput

    texts, codes = list(texts), [str(c) for c in codes]
    params = kind.recipe(recipe)
    if kind.reads_vectors(params) and vectors is None:
        raise ValueError(f"kind '{kind.name}' reads encoder vectors: give the texts' vectors")

    def make(rows: np.ndarray, target: Path) -> Manifest:
        return kind.train(TrainingInput(
            texts=[texts[i] for i in rows], codes=[[codes[i]] for i in rows], folder=target, manifest=manifest,
            models_dir=Path(models_dir), seed=seed, params=params,
            vectors=None if vectors is None else vectors[rows], taxonomy=taxonomy)).manifest

    return held_out_then_final(texts, codes, Path(folder), vectors, make, seed=seed, **changes)


__all__ = ["TEST_SIZE", "evaluate", "held_out_then_final", "split", "train_kind"]
