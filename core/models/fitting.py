"""Fitting the workbench's trainable kinds with calibrated confidence.

Each kind is fitted on the training records; its probabilities are calibrated by temperature
scaling fitted on out-of-fold predictions (every record predicted by a model that did not see it;
10 folds up to 1,000 records, 5 up to 5,000, then 3) or, above ``OOF_LIMIT`` records, on a 10 %
calibration split the shipped model leaves out.
The same out-of-fold predictions fit an ensemble's member weights. Records with several codes
make a multi-label (one-vs-rest, sigmoid) model; its scores are not temperature-scaled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from core.models.calibration import nll

OOF_LIMIT = 20_000  # above this many records, calibrate on a held-out 10 % instead of folds
FOLDS = 3


def folds_for(n: int) -> int:
    """Folds of the out-of-fold predictions: more where labels are few, so each fold model trains on
    nearly all of them (3 folds on 90 speeches train on 60 and read 5-10 points below the model
    trained on all 90; 10 folds train on 81)."""
    return 10 if n <= 1_000 else 5 if n <= 5_000 else FOLDS


@dataclass
class Fitted:
    classes: list[str]
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray
    extra: object = None  # the fitted vectorizers of a TF-IDF model
    calibration_scores: np.ndarray | None = None  # predictions for data the model did not see
    calibration_rows: np.ndarray | None = None  # which training rows those are


def _targets(codes: Sequence[Sequence[str]], classes: list[str], multi_label: bool):
    if multi_label:
        index = {c: i for i, c in enumerate(classes)}
        y = np.zeros((len(codes), len(classes)), dtype=np.int8)
        for r, cs in enumerate(codes):
            for c in cs:
                y[r, index[c]] = 1
        return y
    return np.array([cs[0] for cs in codes])


MOST_WEIGHT = 10.0  # a record of a rare category counts at most this many times an average one


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """Each record's weight: the inverse of its category's count, scaled so that equal counts give
    1 (scikit-learn's "balanced"), at most ``MOST_WEIGHT``: a category with one or two records among
    thousands would otherwise pull the boundary to itself. ``bench_defaults.py``, macro F1 over
    three splits of the English defaults' corpora (plain / balanced / at most 10 / square root):
    FORD head 0.573 / 0.553 / 0.580 / 0.583, FORD ensemble 0.616 / 0.634 / 0.632 / 0.620; CAP head
    0.594 / 0.616 / 0.614 / 0.596, CAP ensemble 0.650 / 0.659 / 0.657 / 0.654."""
    present, counts = np.unique(y, return_counts=True)
    weights = np.minimum(len(y) / (len(present) * counts), MOST_WEIGHT)
    return weights[np.searchsorted(present, y)]


def _linear(features, y, multi_label: bool, c: float, loss: str = "logistic", balanced: bool = False):
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if multi_label:  # one-vs-rest; a code that is always (or never) present here gets a constant score
        coef = np.zeros((y.shape[1], features.shape[1]))
        intercept = np.zeros(y.shape[1])
        for k in range(y.shape[1]):
            column = y[:, k]
            if column.min() == column.max():
                intercept[k] = 20.0 if column[0] else -20.0
                continue
            model = LogisticRegression(max_iter=2000, C=c).fit(features, column)
            coef[k], intercept[k] = model.coef_[0], model.intercept_[0]
        return coef, intercept
    if loss == "svm":  # one-vs-rest margins, classes weighted by their inverse frequency
        model = LinearSVC(C=c, class_weight="balanced", max_iter=5000).fit(features, y)
    else:
        model = LogisticRegression(max_iter=3000, C=c).fit(features, y, sample_weight=balanced_weights(y) if balanced
                                                                      else None)
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:  # binary: p1 = softmax([0, z])[1]
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    return coef, intercept


def probabilities(logits: np.ndarray, multi_label: bool) -> np.ndarray:
    if multi_label:
        return 1.0 / (1.0 + np.exp(-logits))
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def fit_linear(make_features: Callable, data, codes: Sequence[Sequence[str]], *, multi_label: bool,
               c: float, seed: int = 0, calibrate: bool = True, loss: str = "logistic",
               balanced: bool = False) -> Fitted:
    """Fit ``make_features`` (fit on the rows given, returns (transform, extra)) + a linear model
    (``loss``: "logistic", or "svm" for a class-balanced linear SVM whose margins become scores by a
    softmax; single-label only, multi-label stays logistic); with out-of-fold (or held-out) scores
    for calibration and ensemble weights. ``balanced``: a single-label logistic model weighs each
    class by its inverse frequency (``balanced_weights``)."""
    classes = sorted({c_ for cs in codes for c_ in cs})
    y = _targets(codes, classes, multi_label)
    n = len(codes)
    rows_all = np.arange(n)

    def fit(rows):
        transform, extra = make_features([data[i] for i in rows])
        coef, intercept = _linear(transform([data[i] for i in rows]), y[rows], multi_label, c, loss, balanced)
        cls = classes if multi_label else sorted(set(y[rows]))
        return transform, extra, coef, intercept, cls

    def predict(model, rows) -> np.ndarray:
        transform, _, coef, intercept, cls = model
        logits = np.asarray(transform([data[i] for i in rows]) @ coef.T) + intercept
        p = probabilities(logits, multi_label)
        out = np.zeros((len(rows), len(classes)), dtype=np.float32)
        out[:, [classes.index(k) for k in cls]] = p
        return out

    held_scores, held_rows = None, None
    folds = folds_for(n)
    if calibrate and n >= 2 * FOLDS:
        from sklearn.model_selection import KFold, StratifiedKFold

        if n > OOF_LIMIT:  # one model on 90 %, calibrated on the other 10 %, is the one shipped
            rng = np.random.default_rng(seed)
            held_rows = np.sort(rng.permutation(n)[: n // 10])
            train_rows = np.setdiff1d(rows_all, held_rows)
            model = fit(train_rows)
            held_scores = predict(model, held_rows)
            transform, extra, coef, intercept, cls = model
            return Fitted(classes, _expand(coef, cls, classes), _expand_b(intercept, cls, classes, multi_label),
                          extra, held_scores, held_rows)
        counts = np.unique(y, return_counts=True)[1] if not multi_label else None
        folds = min(folds, n // 2)
        splitter = (StratifiedKFold(folds, shuffle=True, random_state=seed)
                    if counts is not None and counts.min() >= folds else KFold(folds, shuffle=True, random_state=seed))
        held_scores = np.zeros((n, len(classes)), dtype=np.float32)
        for train_rows, test_rows in splitter.split(rows_all, y if counts is not None else None):
            held_scores[test_rows] = predict(fit(train_rows), test_rows)
        held_rows = rows_all
    transform, extra, coef, intercept, cls = fit(rows_all)
    return Fitted(classes, _expand(coef, cls, classes), _expand_b(intercept, cls, classes, multi_label), extra,
                  held_scores, held_rows)


def _expand(coef: np.ndarray, cls: list[str], classes: list[str]) -> np.ndarray:
    if list(cls) == list(classes):
        return coef
    out = np.zeros((len(classes), coef.shape[1]), dtype=coef.dtype)
    out[[classes.index(k) for k in cls]] = coef
    return out


def _expand_b(intercept: np.ndarray, cls: list[str], classes: list[str], multi_label: bool) -> np.ndarray:
    if list(cls) == list(classes):
        return intercept
    out = np.full(len(classes), -1e4 if not multi_label else -20.0, dtype=np.float64)
    out[[classes.index(k) for k in cls]] = intercept
    return out


def fit_weights(member_scores: list[np.ndarray], gold: np.ndarray, step: float = 0.05) -> list[float]:
    """Ensemble weights on the simplex (a grid) maximising the mixture's top-1 accuracy on the
    out-of-fold predictions, ties broken by the lower negative log-likelihood (a mixture that
    only lowers the log-loss can still lose decisions: a weak member that leans to the majority
    class pulls the small classes' records into it). The mixture is calibrated afterwards."""
    if len(member_scores) == 1:
        return [1.0]
    grid = np.round(np.arange(0, 1 + 1e-9, step if len(member_scores) == 2 else 0.1), 4)
    best, best_w = (-1.0, float("inf")), [1.0 / len(member_scores)] * len(member_scores)
    import itertools

    for head in itertools.product(grid, repeat=len(member_scores) - 1):
        last = 1.0 - sum(head)
        if last < -1e-9:
            continue
        w = [*head, max(0.0, last)]
        mixed = sum(wi * s for wi, s in zip(w, member_scores))
        key = (round(float(np.mean(mixed.argmax(axis=1) == gold)), 4), nll(mixed, gold))
        if key[0] > best[0] or (key[0] == best[0] and key[1] < best[1] - 1e-9):
            best, best_w = key, [round(float(x), 4) for x in w]
    return best_w


__all__ = ["Fitted", "fit_linear", "fit_weights", "folds_for", "probabilities"]
