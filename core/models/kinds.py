"""Model folders of the kinds the workbench trains from its own labels:

- ``tfidf``: word 1-2-grams + character 2-5-grams TF-IDF + a class-balanced linear SVM whose
  margins a temperature-scaled softmax turns into probabilities (``sparse-linear``);
- ``head``: logistic regression on the encoder's mean-pooled sentence vectors (``encoder-head``);
- ``ensemble``: a weighted mean of members' scores (``ensemble``), weights fitted on out-of-fold
  predictions.

Every kind's single-label confidence is temperature-scaled on predictions for unseen data
(``core.models.fitting``); the manifest records how.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.encoder import link_tree
from core.models.familiarity import support_rows, term_threshold, vector_threshold
from core.models.fitting import Fitted, fit_linear, fit_temperature, fit_weights, folds_for
from core.models.manifest import Manifest, write_manifest
from core.models.runtimes.base import calibrate
from core.models.tfidf_onnx import SKLEARN_TOKEN_PATTERN

HEAD_C = 20.0  # inverse regularisation of the head (unit-length vectors need a weak penalty)
TFIDF_C = 1.0  # of the class-balanced linear SVM (measured better than logistic regression on
# short Danish items and long Hungarian speeches alike; its margins are temperature-calibrated)
TFIDF_MULTI_C = 10.0  # of the one-vs-rest logistic models of a multi-label TF-IDF kind


def with_conformal(calibration: dict, scores: np.ndarray, gold: np.ndarray, seed: int = 0) -> dict:
    """Add the held-out rows split-conformal triage reads (``core.domain.conformal``), from the
    temperature-scaled ``scores`` of records the model did not train on, in a shuffled order."""
    from core.domain.conformal import held_out_rows

    temperature = float(calibration.get("temperature") or 1.0)
    logits = np.log(np.clip(np.asarray(scores, dtype=np.float64), 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    scaled /= scaled.sum(axis=1, keepdims=True)
    order = np.random.default_rng(seed).permutation(len(gold))
    return {**calibration, "conformal_rows": held_out_rows(scaled[order], np.asarray(gold)[order])}


def _calibration(fitted: Fitted, codes: Sequence[Sequence[str]], multi_label: bool) -> dict:
    if multi_label or fitted.calibration_scores is None or not len(fitted.calibration_rows):
        return {}
    gold = np.array([fitted.classes.index(codes[i][0]) for i in fitted.calibration_rows])
    held = f"{folds_for(len(codes))}-fold out-of-fold predictions" if len(fitted.calibration_rows) == len(codes) else \
        "a 10 % split the model did not train on"
    calibration = {**fit_temperature(fitted.calibration_scores, gold), "fitted_on": held}
    return with_conformal(calibration, fitted.calibration_scores, gold)


def _finish(folder: Path, manifest: Manifest, fitted: Fitted, codes, multi_label: bool, method: str,
            files: dict) -> Manifest:
    manifest = replace(manifest, codes=tuple(fitted.classes), multi_label=multi_label, files=files,
                       calibration=_calibration(fitted, codes, multi_label),
                       training={**manifest.training, "examples": len(codes), "method": method,
                                 "per_code": dict(sorted(Counter(c for cs in codes for c in cs).items()))})
    write_manifest(folder, manifest)
    return manifest


def build_tfidf(texts: Sequence[str], codes: Sequence[Sequence[str]], folder: Path, manifest: Manifest, *,
                multi_label: bool = False, seed: int = 0, characters: bool = True) -> tuple[Manifest, Fitted]:
    """``characters``: character 2-5-grams beside the word 1-2-grams (any language, inflected words;
    without them, the words alone: several times faster on long abstracts, for the fast tier)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    from core.models.runtimes.sparse_linear import save_sparse_linear

    def make_features(rows):
        word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=SKLEARN_TOKEN_PATTERN,
                               lowercase=True, sublinear_tf=True, max_features=200_000)
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True, sublinear_tf=True,
                               min_df=2 if len(rows) > 50 else 1, max_features=300_000)
        word.fit(rows)
        if not characters:
            return (lambda xs: word.transform(xs).tocsr()), (word,)
        char.fit(rows)
        return (lambda xs: hstack([word.transform(xs), char.transform(xs)]).tocsr()), (word, char)

    fitted = fit_linear(make_features, list(texts), codes, multi_label=multi_label, seed=seed,
                        c=TFIDF_MULTI_C if multi_label else TFIDF_C, loss="logistic" if multi_label else "svm")
    folder.mkdir(parents=True, exist_ok=True)
    files = save_sparse_linear(folder, list(fitted.extra), fitted.coef, fitted.intercept)
    familiar, terms = write_terms(folder, texts)
    files = {**files, "terms": terms}
    manifest = _finish(folder, replace(manifest, runtime="sparse-linear"), fitted, codes, multi_label,
                       ("TF-IDF (word 1-2-grams + character 2-5-grams) + " if characters else
                        "TF-IDF (word 1-2-grams) + ") + (
                           "one-vs-rest logistic regression" if multi_label else
                           "class-balanced linear SVM, margins softmax-calibrated"), files)
    manifest = replace(manifest, calibration={**manifest.calibration, "familiarity": familiar})
    write_manifest(folder, manifest)
    return manifest, fitted


def write_terms(folder: Path, texts: Sequence[str], name: str = "terms.txt") -> tuple[dict, str]:
    """Keep the training texts' words (``terms.txt``) for the known-term measure; returns its threshold."""
    threshold, vocabulary = term_threshold(texts)
    (Path(folder) / name).write_text("\n".join(sorted(vocabulary)) + "\n", encoding="utf-8")
    return threshold, name


def build_head(vectors: np.ndarray, codes: Sequence[Sequence[str]], folder: Path, manifest: Manifest,
               encoder_dir: Path, *, multi_label: bool = False, seed: int = 0) -> tuple[Manifest, Fitted]:
    from safetensors.numpy import save_file

    from core.models.encoder import link_encoder

    vectors = np.asarray(vectors, dtype=np.float32)
    fitted = fit_linear(lambda rows: ((lambda xs: np.asarray(xs, dtype=np.float32)), None), vectors, codes,
                        multi_label=multi_label, c=HEAD_C, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"weight": np.ascontiguousarray(fitted.coef, dtype=np.float32),
               "bias": np.ascontiguousarray(fitted.intercept, dtype=np.float32)}, str(folder / "head.safetensors"))
    support = vectors[support_rows(len(vectors), seed)]
    save_file({"vectors": np.ascontiguousarray(support, dtype=np.float16)}, str(folder / "support.safetensors"))
    link_encoder(encoder_dir, folder / "encoder")
    encoder_name = json.loads((Path(encoder_dir) / "encoder.json").read_text(encoding="utf-8")).get("name", "")
    manifest = _finish(folder, replace(manifest, runtime="encoder-head"), fitted, codes, multi_label,
                       f"logistic regression on the {encoder_name or 'sentence encoder'}'s sentence vectors",
                       {"head": "head.safetensors", "encoder": "encoder", "support": "support.safetensors"})
    manifest = replace(manifest, calibration={**manifest.calibration, "familiarity": vector_threshold(support)})
    write_manifest(folder, manifest)
    return manifest, fitted


def build_ensemble(members: Sequence[tuple[Path, Manifest, Fitted]], codes: Sequence[Sequence[str]], folder: Path,
                   manifest: Manifest, *, multi_label: bool = False) -> Manifest:
    """An ensemble of trained member folders (each with out-of-fold scores on the same rows)."""
    classes, aligned, known = out_of_fold(members, len(codes))
    if multi_label or not known.any():
        weights = [round(1.0 / len(members), 4)] * len(members)
        calibration = {}
    else:
        gold = np.array([classes.index(codes[i][0]) for i in np.flatnonzero(known)])
        weights = fit_weights([a[known] for a in aligned], gold)
        mixed = weighted_mean(aligned, known, weights)
        calibration = with_conformal({**fit_temperature(mixed, gold),
                                      "fitted_on": "out-of-fold predictions of the members"}, mixed, gold)
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for member_folder, m, _ in members:
        link_tree(member_folder, folder / "members" / member_folder.name)
        names.append(member_folder.name)
    manifest = replace(manifest, runtime="ensemble", codes=tuple(classes), multi_label=multi_label, files={},
                       calibration=calibration,
                       training={**manifest.training, "examples": len(codes), "members": names, "weights": weights,
                                 "method": "weighted mean of members' calibrated scores, weights fitted on "
                                           "out-of-fold predictions"})
    write_manifest(folder, manifest)
    return manifest


def weighted_mean(aligned: Sequence[np.ndarray], rows: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """The ensemble's scores on ``rows``: its members' aligned scores, weighted."""
    return sum(w * a[rows] for w, a in zip(weights, aligned)) / (sum(weights) or 1.0)


def out_of_fold(members: Sequence[tuple[Path, Manifest, Fitted]], n: int) -> tuple[list[str], list[np.ndarray],
                                                                               np.ndarray]:
    """The members' calibrated out-of-fold scores on the ``n`` training rows, aligned on the union
    of their classes, and the rows every member predicted without having seen them."""
    classes = sorted({c for _, m, _ in members for c in m.codes})
    aligned = []
    for _, m, f in members:
        out = np.zeros((n, len(classes)), dtype=np.float32)
        out[:, [classes.index(c) for c in f.classes]] = calibrate(_full(f, n), m)
        aligned.append(out)
    known = np.ones(n, dtype=bool)
    for _, _, f in members:
        known &= _seen_mask(f, n)
    return classes, aligned, known


def _full(f: Fitted, n: int) -> np.ndarray:
    out = np.zeros((n, len(f.classes)), dtype=np.float32)
    if f.calibration_scores is not None:
        out[f.calibration_rows] = f.calibration_scores
    return out


def _seen_mask(f: Fitted, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    if f.calibration_rows is not None:
        mask[f.calibration_rows] = True
    return mask


__all__ = ["build_ensemble", "build_head", "build_tfidf", "out_of_fold", "weighted_mean", "with_conformal"]
