"""Precision against coverage, per category, and the per-category thresholds that reach a target
precision (pure: no SQL, no streamlit).

For the records whose top code is ``c``, a threshold ``t`` accepts those scoring at least ``t``:
their share of the category's records is the coverage, the share of them whose top code is right
the precision. Lowering ``t`` accepts more records and, for a calibrated model, lets precision fall.

The threshold a category gets at a target precision is the lowest ``t`` from which precision stays
at or above the target for every higher threshold that accepts at least ``min_records`` records
(the envelope from above: a lucky dip at a low score never opens the door to the noisy records
above it). A category with fewer than ``min_records`` records of its own takes the threshold found
on all categories together ("pooled"); where even that is not reached, nothing is accepted
(``math.inf``). A record whose top score is under its category's threshold has no confident
suggestion: the experts see it, the machine does not label it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

MIN_RECORDS = 10  # accepted records below which a point of the curve is not trusted
TARGETS = (0.8, 0.9, 0.95, 0.98, 0.99)  # precision targets a lead chooses among


@dataclass(frozen=True)
class Threshold:
    code: str
    threshold: float  # math.inf: nothing of this category is accepted
    records: int  # records whose top code is this one
    accepted: int  # ... of which score at or above the threshold
    precision: float | None  # of the accepted (None when none)
    pooled: bool = False  # too few records of its own: the threshold of all categories together

    @property
    def coverage(self) -> float:
        return self.accepted / self.records if self.records else 0.0


def _curve(scores: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, accepted, precision) at each distinct score, highest first."""
    order = np.argsort(-scores, kind="stable")
    s, c = scores[order], correct[order].astype(float)
    hits = np.cumsum(c)
    accepted = np.arange(1, len(s) + 1)
    last = np.r_[s[1:] != s[:-1], True]  # the last of each run of equal scores: ties are accepted together
    return s[last], accepted[last], (hits / accepted)[last]


def precision_curve(top_codes: Sequence[str], scores: Sequence[float], correct: Sequence[bool]) -> pd.DataFrame:
    """Per category, one row per distinct score: code, threshold, accepted, records, coverage,
    precision (highest threshold first)."""
    frame = pd.DataFrame({"code": list(top_codes), "score": np.asarray(scores, dtype=float),
                          "correct": np.asarray(correct, dtype=bool)})
    parts = []
    for code, part in frame.groupby("code", sort=True):
        if not code:
            continue
        t, accepted, precision = _curve(part["score"].to_numpy(), part["correct"].to_numpy())
        parts.append(pd.DataFrame({"code": code, "threshold": t, "accepted": accepted, "records": len(part),
                                   "coverage": accepted / len(part), "precision": precision}))
    columns = ["code", "threshold", "accepted", "records", "coverage", "precision"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def lowest_threshold(scores: np.ndarray, correct: np.ndarray, target: float, min_records: int = MIN_RECORDS) -> float:
    """The lowest threshold from which precision stays at or above ``target`` at every higher
    threshold accepting ``min_records`` or more (``math.inf`` when there is none)."""
    if len(scores) < min_records:
        return math.inf
    t, accepted, precision = _curve(np.asarray(scores, dtype=float), np.asarray(correct, dtype=bool))
    trusted = accepted >= min_records
    t, precision = t[trusted], precision[trusted]
    envelope = np.minimum.accumulate(precision)  # from the highest threshold down
    ok = np.flatnonzero(envelope >= target)
    return float(t[ok[-1]]) if len(ok) else math.inf


def fit_thresholds(top_codes: Sequence[str], scores: Sequence[float], correct: Sequence[bool], target: float, *,
                   min_records: int = MIN_RECORDS, codes: Sequence[str] = ()) -> dict[str, Threshold]:
    """Each category's threshold at ``target`` precision (see the module), for the categories seen
    as top codes and any other ``codes`` (those take the pooled threshold, with 0 records)."""
    if not 0.0 < target <= 1.0:
        raise ValueError("the target precision must lie in (0, 1]")
    top = np.asarray(list(top_codes), dtype=object)
    s = np.asarray(scores, dtype=float)
    c = np.asarray(correct, dtype=bool)
    pooled = lowest_threshold(s, c, target, min_records)
    out: dict[str, Threshold] = {}
    for code in dict.fromkeys([*(x for x in top if x), *codes]):
        mask = top == code
        own = lowest_threshold(s[mask], c[mask], target, min_records) if mask.sum() >= min_records else None
        threshold = pooled if own is None else own
        taken = mask & (s >= threshold)
        out[code] = Threshold(code, threshold, int(mask.sum()), int(taken.sum()),
                              float(c[taken].mean()) if taken.any() else None, own is None)
    return out


def confident(top_code: str, score: float, thresholds: dict[str, float], default: float = math.inf) -> bool:
    """Whether a record's top code is a confident suggestion under per-category thresholds."""
    return bool(top_code) and score >= thresholds.get(top_code, default)


def accepted_figures(top_codes: Sequence[str], scores: Sequence[float], correct: Sequence[bool],
                     thresholds: dict[str, float]) -> dict[str, float | int | None]:
    """What the thresholds accept of these records: accepted, share, precision, errors."""
    taken = [confident(t, float(s), thresholds) for t, s in zip(top_codes, scores)]
    n, k = len(taken), sum(taken)
    right = sum(1 for x, ok in zip(taken, correct) if x and ok)
    return {"records": n, "accepted": k, "accept_share": k / n if n else 0.0,
            "precision": right / k if k else None, "errors": k - right}


__all__ = ["MIN_RECORDS", "TARGETS", "Threshold", "accepted_figures", "confident", "fit_thresholds",
           "lowest_threshold", "precision_curve"]
