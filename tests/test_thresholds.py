"""Precision against coverage per category, thresholds at a precision target, kept per model
version and used by triage and the card: constructed cases for the rule, a real TF-IDF model's
held-out records for the figures, a real workspace for keeping and using them."""

import math

import numpy as np
import pytest

from core.domain.thresholds import accepted_figures, confident, fit_thresholds, lowest_threshold, precision_curve


def _category(n, seed, code):
    """n records of one category: the higher the score, the likelier right."""
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0.2, 1.0, n).round(3)
    right = rng.uniform(0, 1, n) < scores ** 2
    return [code] * n, scores.tolist(), right.tolist()


def test_the_threshold_is_where_precision_stays_above_the_target_from_there_up():
    tops, scores, right = _category(400, 1, "A")
    for target in (0.7, 0.8, 0.9):
        t = lowest_threshold(np.array(scores), np.array(right), target)
        assert not math.isinf(t)
        curve = precision_curve(tops, scores, right)
        above = curve[(curve["threshold"] >= t) & (curve["accepted"] >= 10)]
        assert len(above) and (above["precision"] >= target).all()  # every threshold from t up reaches it
        below = curve[curve["threshold"] < t]
        assert below.empty or below["precision"].iloc[0] < target  # one step lower misses it
    # the curve: coverage grows as the threshold falls, and ties are accepted together
    curve = precision_curve(["B"] * 4, [0.9, 0.7, 0.7, 0.2], [True, True, False, False])
    assert curve["threshold"].tolist() == [0.9, 0.7, 0.2] and curve["accepted"].tolist() == [1, 3, 4]
    assert curve["precision"].round(3).tolist() == [1.0, 0.667, 0.5] and curve["coverage"].tolist() == [0.25, 0.75, 1]


def test_a_small_category_follows_the_pooled_curve_and_an_unreachable_target_accepts_nothing():
    """Shrinkage: a category with a handful of records is judged mostly by all categories'
    precision at the same score (all right: at most the pooled threshold; all wrong: nothing),
    one with no record takes the pooled threshold, a large one its own curve."""
    a = _category(400, 2, "A")
    good = (["B"] * 6, [0.9, 0.85, 0.8, 0.75, 0.7, 0.65], [True] * 6)
    bad = (["D"] * 6, [0.99, 0.97, 0.95, 0.93, 0.91, 0.9], [False] * 6)
    tops, scores, right = (a[i] + good[i] + bad[i] for i in range(3))
    fitted = fit_thresholds(tops, scores, right, 0.8, codes=["A", "B", "C", "D"])
    pooled = lowest_threshold(np.array(scores), np.array(right), 0.8)
    assert not fitted["A"].pooled and fitted["B"].pooled and fitted["C"].pooled and not math.isinf(pooled)
    assert fitted["C"].threshold == pooled and fitted["C"].records == 0
    assert fitted["B"].threshold <= pooled + 0.05 and fitted["B"].accepted > 0
    assert math.isinf(fitted["D"].threshold) and fitted["D"].accepted == 0 and fitted["D"].precision is None
    assert fitted["A"].precision >= 0.8 and 0 < fitted["A"].coverage < 1
    assert not confident("D", 0.99, {"D": fitted["D"].threshold}) and not confident("E", 0.99, {})
    assert confident("A", fitted["A"].threshold, {"A": fitted["A"].threshold})
    never = fit_thresholds(["F"] * 50, [0.9] * 50, [True] * 20 + [False] * 30, 0.9)["F"]
    assert math.isinf(never.threshold)
    with pytest.raises(ValueError):
        fit_thresholds(tops, scores, right, 0.0)


def test_a_real_models_held_out_records_give_thresholds_that_hold_on_records_not_fitted_on(ford_tfidf):
    """The manifest's held-out rows keep each top code; thresholds fitted on half of them keep
    their promise on the other half (within a few points), and accept more at a lower target."""
    from core.work.thresholds import from_manifest

    tops, scores, right = from_manifest(ford_tfidf.manifest)
    assert len(tops) >= 300 and set(tops) <= set(ford_tfidf.manifest.codes)
    shares = []
    for target in (0.8, 0.9):
        fitted = fit_thresholds(tops[0::2], scores[0::2], right[0::2], target, codes=ford_tfidf.manifest.codes)
        figures = accepted_figures(tops[1::2], scores[1::2], right[1::2], {c: t.threshold for c, t in fitted.items()})
        assert figures["accepted"] >= 10 and figures["precision"] >= target - 0.05, figures
        shares.append(figures["accept_share"])
    assert shares[0] > shares[1]  # a lower target accepts more
    assert sum(right) / len(right) < 0.8  # the model alone is not that precise: the thresholds did it


def test_kept_thresholds_drive_triage_and_the_cards_note(arxiv_ws, ford_tfidf, tmp_path):
    """A lead keeps thresholds for a version; triage starts from them (else from the version's
    held-out records), and the card says "no confident suggestion" under them."""
    from core.work import thresholds as th

    store, _ = arxiv_ws
    manifest = ford_tfidf.manifest
    start, source = th.for_triage(store, "ford", manifest, 0.9)
    assert source == "held-out" and set(start) == set(manifest.codes)
    tops, scores, right = th.from_manifest(manifest)
    fitted = fit_thresholds(tops, scores, right, 0.9, codes=manifest.codes)
    never = manifest.codes[0]
    fitted[never] = fitted[never].__class__(never, math.inf, 0, 0, None, True)  # a category never accepted
    kept = th.save(store, "ford", manifest.name, manifest.version, fitted, target=0.9, by="Lead", basis="gold")
    assert kept["thresholds"][never] is None and th.saved(store, "ford", manifest.name, manifest.version) == kept
    start, source = th.for_triage(store, "ford", manifest, 0.95)
    assert source == "kept" and math.isinf(start[never])
    code = next(c for c, t in start.items() if not math.isinf(t))
    assert th.confidence_note(store, "ford", manifest.name, manifest.version, code, start[code]) is None
    note = th.confidence_note(store, "ford", manifest.name, manifest.version, code, start[code] - 0.01)
    assert note[0].startswith("No confident suggestion") and note[1][1] == code
    assert "no score" in th.confidence_note(store, "ford", manifest.name, manifest.version, never, 0.99)[0]
    assert th.confidence_note(store, "ford", manifest.name, "other", code, 0.0) is None
