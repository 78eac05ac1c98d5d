"""The metrics engine against scikit-learn and against every case of the shared hierarchical
metric test vectors."""

import json
import random

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

from core.domain.metrics import (
    confused_pairs,
    evaluate,
    grouped,
    hierarchical,
    hierarchical_from_sets,
    kappa_overall,
    kappa_per_category,
    per_category,
    trend,
)
from core.domain.taxonomy import NodeSpec, Taxonomy
from core.files.taxonomy_io import read_taxonomy_file
from tests.conftest import DATA, shared_file


@pytest.fixture(scope="module")
def ford():
    return read_taxonomy_file(DATA / "taxonomies" / "ford.csv")


def random_single(ford, n=400, seed=0):
    rnd = random.Random(seed)
    codes = [c.code for c in ford.at_level(2)][:15]
    true = [[rnd.choice(codes)] for _ in range(n)]
    pred = [[t[0] if rnd.random() < 0.6 else rnd.choice(codes)] for t in true]
    return true, pred


def test_strict_single_label_matches_scikit_learn(ford):
    true, pred = random_single(ford)
    report = evaluate(true, pred, ford)
    y, yh = [t[0] for t in true], [p[0] for p in pred]
    for avg in ("micro", "macro", "weighted"):
        labels = sorted(set(y))  # macro/weighted over categories with gold support
        p, r, f, _ = precision_recall_fscore_support(y, yh, average=avg, labels=labels if avg != "micro" else None,
                                                     zero_division=0)
        assert report.summary[f"{avg}_precision"] == pytest.approx(p, abs=1e-9)
        assert report.summary[f"{avg}_recall"] == pytest.approx(r, abs=1e-9)
        assert report.summary[f"{avg}_f1"] == pytest.approx(f, abs=1e-9)
    p, r, f, s = precision_recall_fscore_support(y, yh, labels=sorted(set(y)), zero_division=0)
    table = report.categories.set_index("code").loc[sorted(set(y))]
    assert np.allclose(table["precision"], p) and np.allclose(table["recall"], r) and np.allclose(table["f1"], f)
    assert (table["support"].values == s).all()
    assert (table["tp"] + table["fn"] == table["support"]).all()
    assert report.summary["micro_f1"] == pytest.approx(report.summary["accuracy"])


def test_strict_multi_label_matches_scikit_learn(ford):
    rnd = random.Random(3)
    codes = [c.code for c in ford.at_level(2)][:10]
    true = [rnd.sample(codes, rnd.randint(1, 3)) for _ in range(300)]
    pred = [rnd.sample(codes, rnd.randint(0, 3)) for _ in range(300)]
    mlb = MultiLabelBinarizer(classes=codes).fit([codes])
    yt, yp = mlb.transform(true), mlb.transform(pred)
    report = evaluate(true, pred, ford)
    for avg in ("micro", "macro", "weighted"):
        assert report.summary[f"{avg}_f1"] == pytest.approx(f1_score(yt, yp, average=avg, zero_division=0), abs=1e-9)


def test_lenient_gives_half_credit_to_siblings(ford):
    true = [["1.1"], ["1.1"], ["1.1"], ["5.2"]]
    pred = [["1.1"], ["1.2"], ["5.2"], ["2.1"]]  # exact, sibling, other field, other field
    table = per_category(true, pred, ford).set_index("code")
    assert table.loc["1.1", "lenient_recall"] == pytest.approx((1 + 0.5) / 3)
    assert table.loc["1.2", "lenient_precision"] == pytest.approx(0.5)
    assert table.loc["1.1", "recall"] == pytest.approx(1 / 3)
    report = evaluate(true, pred, ford)
    assert report.summary["lenient_micro_f1"] == pytest.approx(1.5 / 4)
    assert report.summary["micro_f1"] == pytest.approx(1 / 4)
    # top-level codes are not siblings of each other
    top = per_category([["1"]], [["2"]], ford).set_index("code")
    assert top.loc["1", "lenient_recall"] == 0


def test_levels_and_hierarchical(ford):
    true = [["1.1"], ["1.2"], ["5.2"]]
    pred = [["1.2"], ["1.2"], ["5.6"]]
    at1 = evaluate(true, pred, ford, level=1)
    assert at1.summary["micro_f1"] == 1.0 and set(at1.categories["code"]) == {"1", "5"}
    h = hierarchical(true, pred, ford)
    assert h["h_precision"] == pytest.approx(4 / 6) and h["h_recall"] == pytest.approx(4 / 6)


def test_hiclass_vectors():
    cases = json.loads(shared_file("metrics", "hierarchical_metric_test_vectors.json").read_text())["hiclass"]["cases"]
    assert len(cases) >= 10
    for case in cases:
        def sets(rows):
            out = []
            for row in rows:
                paths = row if row and isinstance(row[0], list) else [row]
                out.append({str(x) for path in paths for x in path if x != ""})
            return out
        got = hierarchical_from_sets(sets(case["y_true"]), sets(case["y_pred"]), case["average"])
        assert got[f"h_{case['metric']}"] == pytest.approx(case["expected"], abs=case["tolerance"]), case["id"]


def test_sklearn_hierarchical_classification_vectors():
    data = json.loads(shared_file("metrics", "hierarchical_metric_test_vectors.json").read_text())
    for case in data["sklearn_hierarchical_classification"]["cases"]:
        parents = {str(b): str(a) for a, b in case["hierarchy_edges"]}
        nodes = {str(x) for edge in case["hierarchy_edges"] for x in edge}
        tax = Taxonomy("t", "t", [NodeSpec(n, {"en": n}, (parents[n],) if n in parents else ()) for n in sorted(nodes)])
        true = [[str(x) for x in s] for s in case["y_true_label_sets"]]
        pred = [[str(x) for x in s] for s in case["y_pred_label_sets"]]
        got = hierarchical(true, pred, tax, "micro")  # node 0 is a real node here, so it is counted
        for key, value in case["expected"].items():
            assert got[key] == pytest.approx(value, abs=case["tolerance"]), case["id"]


def test_kappa_confusions_groups_and_trend(ford):
    from sklearn.metrics import cohen_kappa_score

    true, pred = random_single(ford, 200, seed=5)
    assert kappa_overall([t[0] for t in true], [p[0] for p in pred]) == pytest.approx(
        cohen_kappa_score([t[0] for t in true], [p[0] for p in pred]))
    per = kappa_per_category(true, pred).set_index("code")
    code = true[0][0]
    x = [code in t for t in true]
    y = [code in p for p in pred]
    assert per.loc[code, "kappa"] == pytest.approx(cohen_kappa_score(x, y))
    pairs = confused_pairs(true, pred)
    assert pairs["count"].is_monotonic_decreasing and (pairs["gold"] != pairs["predicted"]).all()
    # single-label: the confusion cells are scikit-learn's confusion matrix, each gold row's shares sum to one
    from sklearn.metrics import confusion_matrix

    from core.domain.metrics import NO_PREDICTION, confusion_cells

    cells = confusion_cells(true, pred)
    labels = sorted({c for s in true + pred for c in s})
    matrix = confusion_matrix([t[0] for t in true], [p[0] for p in pred], labels=labels)
    got = {(g, p): n for g, p, n in zip(cells["gold"], cells["predicted"], cells["count"])}
    for i, g in enumerate(labels):
        for j, p in enumerate(labels):
            assert got.get((g, p), 0) == matrix[i, j], (g, p)
    assert cells.groupby("gold")["share"].sum().round(3).eq(1.0).all()
    assert pairs.iloc[0]["share"] == round(pairs.iloc[0]["count"] / sum(pairs.iloc[0]["gold"] in t for t in true), 4)
    empty = confusion_cells([["1.1"], ["1.2"]], [[], ["1.2"]])  # nothing predicted: its own column
    assert set(zip(empty["gold"], empty["predicted"])) == {("1.1", NO_PREDICTION), ("1.2", "1.2")}
    table = grouped(true, pred, ["en" if i % 2 else "hu" for i in range(200)], ford)
    assert list(table["group"]) == ["en", "hu"] and table["samples"].sum() == 200
    times = [f"2026-0{1 + i // 50}-0{1 + i % 7}T10:00:00+00:00" for i in range(200)]
    t = trend(true, pred, times, ford, freq="M")
    assert list(t["cumulative_labels"]) == [50, 100, 150, 200]
    assert t["cumulative_micro_f1"].iloc[-1] == pytest.approx(evaluate(true, pred, ford).summary["micro_f1"])


def test_bootstrap_figures_use_the_reports_definitions_and_scale():
    """The intervals resample the very figures ``evaluate`` reports (strict micro, macro and
    weighted F1), and stay cheap on 100,000 records of a 1,000-code hierarchy."""
    import time

    import numpy as np

    from core.domain.metrics import _indicators, _strict_f1s, evaluate, intervals
    from core.files.shipped import builtin_taxonomy

    ford = builtin_taxonomy("ford")
    rng = np.random.default_rng(1)
    codes = [n.code for n in ford if ford.level(n.code) == 2]
    true = [[codes[i]] for i in rng.integers(0, len(codes), 400)]
    pred = [[codes[i]] if rng.random() < 0.6 else [t[0]] for i, t in zip(rng.integers(0, len(codes), 400), true)]
    pred[3] = [*pred[3], codes[0]]  # a multi-label row too
    summary = evaluate(true, pred, ford).summary
    _, g, p = _indicators(true, pred)
    whole = _strict_f1s(np.ones((1, len(true)), dtype=np.float32), g, p)
    for key in ("micro_f1", "macro_f1", "weighted_f1"):
        assert abs(float(whole[key][0]) - summary[key]) < 1e-6, key
        low, high = intervals(true, pred)[key]
        assert low < summary[key] < high and high - low < 0.2
    big_true = [[f"c{i % 1000}"] for i in range(100_000)]
    big_pred = [[f"c{(i * 7) % 1000}"] for i in range(100_000)]
    start = time.perf_counter()
    assert set(intervals(big_true, big_pred, resamples=200)) == {"micro_f1", "macro_f1", "weighted_f1"}
    assert time.perf_counter() - start < 60
