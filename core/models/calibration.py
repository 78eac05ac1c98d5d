"""Calibrated confidence, in one place: every kind's and runtime's temperature scaling, its fitting
(on predictions for data the model did not see; through a taxonomy's roll-up where the labels sit
higher than the model's codes), and the held-out rows split-conformal triage reads.

A single-label model's probabilities p become softmax(log p / T); T is fitted to minimise the
negative log-likelihood of held-out gold codes. Multi-label (sigmoid) scores are left as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from core.domain.taxonomy import Taxonomy
    from core.models.manifest import Manifest


def scaled(scores: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T) of each row of probabilities ``scores`` (the one temperature softmax)."""
    logits = np.log(np.clip(np.asarray(scores, dtype=np.float64), 1e-12, 1.0)) / float(temperature)
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def calibrate(scores: np.ndarray, manifest: Manifest) -> np.ndarray:
    """A single-label model's probabilities, temperature-scaled by its manifest's calibration."""
    temperature = float((manifest.calibration or {}).get("temperature") or 1.0)
    if manifest.multi_label or abs(temperature - 1.0) < 1e-6 or not scores.size:
        return scores
    return scaled(scores, temperature).astype(np.float32)


def nll(scores: np.ndarray, gold: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(scores[np.arange(len(gold)), gold], 1e-12, 1.0))))


def ece(scores: np.ndarray, gold: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the top-1 confidence (equal-width bins)."""
    conf, pred = scores.max(axis=1), scores.argmax(axis=1)
    correct = (pred == gold).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(total)


def _best_temperature(loss, low: float, high: float) -> float:
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(lambda lt: loss(float(np.exp(lt))), bounds=(np.log(low), np.log(high)),
                             method="bounded")
    return float(np.exp(result.x))


def fit_temperature(scores: np.ndarray, gold: np.ndarray) -> dict:
    """The temperature T minimising the negative log-likelihood of softmax(log p / T) on
    predictions for unseen data (records of a category the predicting model never saw left
    out); with the expected calibration error before and after."""
    # a record whose category its fold's model never saw scores 0 for it whatever the temperature;
    # left in, such records (rare categories) would drive T to its bound and flatten every score
    seen = scores[np.arange(len(gold)), gold] > 0
    left_out = int(len(gold) - seen.sum())
    if seen.any():
        scores, gold = scores[seen], gold[seen]
    t = _best_temperature(lambda t_: nll(scaled(scores, t_), gold), 0.01, 20.0)
    return {"method": "temperature", "temperature": round(t, 4), "records": int(len(gold)),
            "left_out_unseen_category": left_out,
            "nll_before": round(nll(scores, gold), 4), "nll_after": round(nll(scaled(scores, t), gold), 4),
            "ece_before": round(ece(scores, gold), 4), "ece_after": round(ece(scaled(scores, t), gold), 4)}


def fit_through_rollup(taxonomy: Taxonomy, codes: list[str], scores: np.ndarray, gold: list[str]) -> dict:
    """Fit the temperature where the labels are: leaf scores summed up to each gold code's level
    (a softmax over leaves, temperature-scaled, rolled up, is compared with the gold code there)."""
    level = min(taxonomy.level(g) for g in gold)
    targets = sorted({taxonomy.cut(g, level) for g in gold})
    index = {c: i for i, c in enumerate(targets)}
    group = np.array([index.get(taxonomy.cut(c, level), -1) for c in codes])
    rows = [i for i, g in enumerate(gold) if taxonomy.cut(g, level) in index]
    y = np.array([index[taxonomy.cut(gold[i], level)] for i in rows])
    leaf = scores[rows]

    def rolled(t: float) -> np.ndarray:
        p = scaled(leaf, t)
        out = np.zeros((len(rows), len(targets)))
        for j in range(len(targets)):
            out[:, j] = p[:, group == j].sum(axis=1)
        return out

    t = _best_temperature(lambda t_: nll(rolled(t_), y), 0.05, 20.0)
    before, after = rolled(1.0), rolled(t)
    return {"method": "temperature", "temperature": round(t, 4), "records": int(len(y)), "level": int(level),
            "nll_before": round(nll(before, y), 4), "nll_after": round(nll(after, y), 4),
            "ece_before": round(ece(before, y), 4), "ece_after": round(ece(after, y), 4),
            "fitted_on": f"labelled records at level {level}, leaf scores rolled up"}


def with_conformal(calibration: dict, scores: np.ndarray, gold: np.ndarray, seed: int = 0,
                   codes: Sequence[str] | None = None) -> dict:
    """Add the held-out rows split-conformal triage and per-category thresholds read
    (``core.domain.conformal``), from the ``scores`` of records the model did not train on
    (temperature-scaled here by ``calibration``; ``codes``: their columns), in a shuffled order."""
    from core.domain.conformal import held_out_rows

    temperature = float(calibration.get("temperature") or 1.0)
    order = np.random.default_rng(seed).permutation(len(gold))
    return {**calibration,
            "conformal_rows": held_out_rows(scaled(scores, temperature)[order], np.asarray(gold)[order], codes)}


def held_out_calibration(scores: np.ndarray, gold: np.ndarray, fitted_on: str, seed: int = 0,
                         codes: Sequence[str] | None = None) -> dict:
    """The calibration block of a single-label model scored on records it did not train on:
    the fitted temperature, where it was fitted, and the conformal rows (``codes``: the scores'
    columns, kept with each row's top code)."""
    return with_conformal({**fit_temperature(scores, gold), "fitted_on": fitted_on}, scores, gold, seed, codes)


__all__ = ["calibrate", "ece", "fit_temperature", "fit_through_rollup", "held_out_calibration", "nll", "scaled",
           "with_conformal"]
