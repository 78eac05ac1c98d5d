"""Split conformal prediction for triage: a record is machine-accepted only when its prediction set
at the chosen miscoverage rate is a single code.

A model carries, for held-out records (data it was not trained on), ``(p_true, p_top, p_second,
top_is_true)``: the calibrated probability of the gold code, the top two probabilities, and
whether the top one is the gold code. Those rows are split in two by a fixed hash: the first half
calibrates (nonconformity 1 - p_true; q = its ceil((n + 1)(1 - alpha)) / n quantile), so the set
{codes with p >= 1 - q} holds the gold code with probability >= 1 - alpha; the second half, used
neither for training nor for calibration, measures the coverage and the error among the records
that would be accepted (a single code in the set: p_top >= 1 - q > p_second). The guarantee is on
coverage; the error among accepted records is measured, not promised (it is usually below alpha,
since the hard records get larger sets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class ConformalRule:
    alpha: float  # the miscoverage rate chosen
    threshold: float  # a code is in the set when its probability is at least this
    calibration_records: int
    test_records: int
    test_accepted: int  # test records whose set is a single code
    test_errors: int  # ... of which the code is wrong
    test_covered: int = 0  # test records whose set holds their gold code (the guarantee: >= 1 - alpha)

    @property
    def measured_error(self) -> float | None:
        return self.test_errors / self.test_accepted if self.test_accepted else None

    @property
    def test_coverage(self) -> float | None:
        return self.test_covered / self.test_records if self.test_records else None

    @property
    def test_accept_share(self) -> float:
        return self.test_accepted / self.test_records if self.test_records else 0.0

    def accepts(self, top: float, second: float) -> bool:
        return top >= self.threshold > second


def held_out_rows(scores: np.ndarray, gold: Sequence[int], codes: Sequence[str] | None = None) -> list[list]:
    """(p_true, p_top, p_second, top_is_true) per held-out record, rounded for a manifest; with
    ``codes`` (the scores' columns), the top code too, for per-category thresholds
    (``core.domain.thresholds``)."""
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, axis=1)
    rows = []
    for i, g in enumerate(gold):
        top, second = scores[i, order[i, 0]], (scores[i, order[i, 1]] if scores.shape[1] > 1 else 0.0)
        rows.append([round(float(scores[i, g]), 5), round(float(top), 5), round(float(second), 5),
                     int(order[i, 0] == g)] + ([str(codes[order[i, 0]])] if codes is not None else []))
    return rows


def conformal_rule(rows: Sequence[Sequence[float]], alpha: float) -> ConformalRule:
    """The acceptance rule at miscoverage ``alpha`` from a model's held-out rows (see above)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError("the miscoverage rate must lie between 0 and 1")
    rows = [tuple(r) for r in rows]
    calibration = rows[0::2]  # fixed alternation: the rows are already in a random (split) order
    test = rows[1::2]
    n = len(calibration)
    rank = math.ceil((n + 1) * (1 - alpha))
    if n == 0 or rank > n:
        threshold = math.inf  # too few calibration records for this guarantee: accept nothing
    else:
        q = sorted(1.0 - r[0] for r in calibration)[rank - 1]
        threshold = 1.0 - q
    accepted = [r for r in test if r[1] >= threshold > r[2]]
    errors = sum(1 for r in accepted if not r[3])
    covered = sum(1 for r in test if r[0] >= threshold)
    return ConformalRule(alpha, threshold, n, len(test), len(accepted), errors, covered)


__all__ = ["ConformalRule", "conformal_rule", "held_out_rows"]
