"""The ``tfidf`` kind: word 1-2-grams + character 2-5-grams TF-IDF and a class-balanced linear SVM
whose margins a temperature-scaled softmax turns into probabilities (``sparse-linear``); any
language, inflected words included. Multi-label: one-vs-rest logistic regression."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

from core.models.familiarity import write_terms
from core.models.kinds.base import Field, Kind, Trained, TrainingInput, finish, gold_indices, with_recipe
from core.models.manifest import Manifest

TFIDF_C = 1.0  # of the class-balanced linear SVM (measured better than logistic regression on
# short Danish items and long Hungarian speeches alike; its margins are temperature-calibrated)
TFIDF_MULTI_C = 10.0  # of the one-vs-rest logistic models of a multi-label TF-IDF kind


def fitted_calibration(fitted, codes: Sequence[Sequence[str]], multi_label: bool, seed: int = 0) -> dict:
    """Temperature and conformal rows from a linear fit's out-of-fold (or held-out) scores."""
    from core.models.calibration import held_out_calibration
    from core.models.fitting import folds_for

    if multi_label or fitted.calibration_scores is None or not len(fitted.calibration_rows):
        return {}
    gold = gold_indices(fitted.classes, codes, fitted.calibration_rows)
    held = f"{folds_for(len(codes))}-fold out-of-fold predictions" if len(fitted.calibration_rows) == len(codes) else \
        "a 10 % split the model did not train on"
    return held_out_calibration(fitted.calibration_scores, gold, held, seed, fitted.classes)


def out_of_fold(fitted):
    if fitted.calibration_scores is None or fitted.calibration_rows is None:
        return None
    import numpy as np

    return fitted.classes, fitted.calibration_scores, np.asarray(fitted.calibration_rows)


def build_tfidf(texts: Sequence[str], codes: Sequence[Sequence[str]], folder: Path, manifest: Manifest, *,
                multi_label: bool = False, seed: int = 0, characters: bool = True, c: float | None = None):
    """``characters``: character 2-5-grams beside the word 1-2-grams (any language, inflected words;
    without them, the words alone: several times faster on long abstracts, for the fast tier).
    Returns (manifest, the linear fit with its out-of-fold scores)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    from core.models.fitting import fit_linear
    from core.models.runtimes.sparse_linear import save_sparse_linear
    from core.models.tfidf_onnx import SKLEARN_TOKEN_PATTERN

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

    c = c if c is not None else (TFIDF_MULTI_C if multi_label else TFIDF_C)
    fitted = fit_linear(make_features, list(texts), codes, multi_label=multi_label, seed=seed, c=c,
                        loss="logistic" if multi_label else "svm")
    folder.mkdir(parents=True, exist_ok=True)
    files = save_sparse_linear(folder, list(fitted.extra), fitted.coef, fitted.intercept)
    familiar, terms = write_terms(folder, texts)
    calibration = {**fitted_calibration(fitted, codes, multi_label, seed), "familiarity": familiar}
    method = ("TF-IDF (word 1-2-grams + character 2-5-grams) + " if characters else "TF-IDF (word 1-2-grams) + ") + (
        "one-vs-rest logistic regression" if multi_label else "class-balanced linear SVM, margins softmax-calibrated")
    manifest = finish(folder, replace(manifest, runtime="sparse-linear"), fitted.classes, codes, multi_label, method,
                      {**files, "terms": terms}, calibration)
    return manifest, fitted


def train(data: TrainingInput) -> Trained:
    manifest, fitted = build_tfidf(data.texts, data.codes, data.folder, data.manifest, multi_label=data.multi_label,
                                   seed=data.seed, characters=bool(data.params.get("characters", True)),
                                   c=data.params.get("c"))
    return with_recipe(data, manifest, out_of_fold(fitted))


KIND = Kind(
    name="tfidf", help="TF-IDF word + character n-grams (any language)", runtime="sparse-linear",
    reads=frozenset({"texts"}), train=train, recipe_version="1.5.0",
    fields=(Field("characters", "Character n-grams", "bool", True,
                  "character 2-5-grams beside the words: inflected and compound words match; slower on long texts"),
            Field("c", "Regularisation C", "float", TFIDF_C,
                  "the linear SVM's inverse regularisation: higher fits the training labels more closely",
                  low=0.001, high=1000.0, advanced=True)))

__all__ = ["KIND", "TFIDF_C", "TFIDF_MULTI_C", "build_tfidf", "fitted_calibration", "out_of_fold"]
