"""Agreement between annotators: alpha and kappa cross-checked against the krippendorff and
scikit-learn libraries, the Jaccard and hierarchical distances, per category and per level."""

import math

import numpy as np
import pytest

from core.domain.agreement import (
    agreement_summary,
    cohen_kappa,
    disagreement,
    hierarchical_set_distance,
    jaccard_distance,
    krippendorff_alpha,
    pairwise_kappa,
    per_category,
    tree_distance,
)

# Krippendorff's own example (Computing Krippendorff's alpha-reliability, 2011): 4 coders, 12 units,
# missing values; nominal alpha 0.743
EXAMPLE = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
    [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
]


def example_units(as_sets: bool = False):
    units = {}
    for j in range(len(EXAMPLE[0])):
        labels = {f"c{i}": int(row[j]) for i, row in enumerate(EXAMPLE) if not math.isnan(row[j])}
        units[j] = {c: frozenset({str(v)}) for c, v in labels.items()} if as_sets else labels
    return units


def test_alpha_matches_the_library_and_the_published_example():
    import krippendorff

    library = krippendorff.alpha(reliability_data=np.array(EXAMPLE), level_of_measurement="nominal")
    assert round(library, 3) == 0.743
    assert krippendorff_alpha(example_units()) == pytest.approx(library)
    # the callable path (a distance matrix over the values) gives the same for the nominal distance
    assert krippendorff_alpha(example_units(), lambda a, b: float(a != b)) == pytest.approx(library)
    # single codes as sets: the Jaccard distance is the nominal one
    assert krippendorff_alpha(example_units(True), jaccard_distance) == pytest.approx(library)


def test_alpha_is_undefined_without_two_coders_or_two_values():
    assert krippendorff_alpha({1: {"a": frozenset({"1.1"})}}) is None
    assert krippendorff_alpha({1: {"a": frozenset({"1.1"}), "b": frozenset({"1.1"})}}) is None
    perfect = {i: {"a": frozenset({c}), "b": frozenset({c})} for i, c in enumerate(["1.1", "1.2", "5.2"])}
    assert krippendorff_alpha(perfect, jaccard_distance) == pytest.approx(1.0)


def test_kappa_matches_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    a = ["1.1", "1.2", "1.2", "5.2", "5.2", "1.1", "2.1", "5.2"]
    b = ["1.1", "1.2", "1.1", "5.2", "5.3", "1.1", "2.1", "5.2"]
    pairs = [(frozenset({x}), frozenset({y})) for x, y in zip(a, b)]
    assert cohen_kappa(pairs) == pytest.approx(cohen_kappa_score(a, b))
    units = {i: {"eva": x, "jan": y} for i, (x, y) in enumerate(pairs)}
    (row,) = pairwise_kappa(units)
    assert row["shared_records"] == 8 and row["exact_agreement"] == 6 / 8
    assert row["kappa"] == pytest.approx(cohen_kappa_score(a, b))


def test_siblings_disagree_less_than_fields(store):
    ford = store.load_taxonomy("ford")
    d = tree_distance(ford)
    assert d("1.1", "1.1") == 0 and 0 < d("1.1", "1.2") < d("1.1", "5.2") <= 1
    assert d("1", "1.2") < d("1.1", "1.2")  # a parent is nearer its child than a sibling is
    sets = hierarchical_set_distance(ford)
    assert sets(frozenset({"1.1", "5.2"}), frozenset({"1.1", "5.2"})) == 0
    assert sets(frozenset(), frozenset({"1.1"})) == 1 and jaccard_distance(frozenset(), frozenset()) == 0
    assert jaccard_distance(frozenset({"1.1", "5.2"}), frozenset({"1.1"})) == 0.5
    # the same pattern of disagreement: among siblings it costs less hierarchical alpha than across fields
    base = {i: {"a": frozenset({c}), "b": frozenset({c})} for i, c in enumerate(["1.1", "1.2", "5.2", "5.3", "3.1"])}
    siblings = {**base, 10: {"a": frozenset({"1.1"}), "b": frozenset({"1.2"})}}
    fields = {**base, 10: {"a": frozenset({"1.1"}), "b": frozenset({"5.2"})}}
    assert krippendorff_alpha(siblings, jaccard_distance) == pytest.approx(krippendorff_alpha(fields, jaccard_distance))
    assert krippendorff_alpha(siblings, sets) > krippendorff_alpha(fields, sets)
    assert disagreement(siblings[10], ford) < disagreement(fields[10], ford)


def test_per_category_and_per_level(store):
    import krippendorff

    ford = store.load_taxonomy("ford")
    units = {1: {"a": frozenset({"1.1"}), "b": frozenset({"1.1"})},
             2: {"a": frozenset({"1.1"}), "b": frozenset({"1.2"})},
             3: {"a": frozenset({"5.2"}), "b": frozenset({"5.2"}), "c": frozenset({"5.2"})},
             4: {"a": frozenset({"5.2"}), "b": frozenset({"1.2"})},
             5: {"a": frozenset({"2.1"})}}  # labelled once: not double-coded
    rows = {r["code"]: r for r in per_category(units, ford, ["1", "1.1", "5.2", "6.1"])}
    assert rows["1.1"]["records"] == 2 and rows["1.1"]["agreed"] == 1
    assert rows["1"]["records"] == 3 and rows["1"]["agreed"] == 2  # 1.1 and 1.2 both fall in field 1
    assert rows["6.1"]["records"] == 0 and rows["6.1"]["alpha"] is None
    # the yes/no alpha of a category is the library's nominal alpha of those decisions
    coders, unit_ids = ["a", "b", "c"], [1, 2, 3, 4]
    matrix = [[(1.0 if "5.2" in units[u][c] else 0.0) if c in units[u] else np.nan for u in unit_ids] for c in coders]
    assert rows["5.2"]["alpha"] == pytest.approx(krippendorff.alpha(reliability_data=np.array(matrix),
                                                                     level_of_measurement="nominal"))
    summary = agreement_summary(units, ford)
    assert summary["double_coded"] == 4 and summary["annotators"] == 3 and summary["exact_agreement"] == 0.5
    at_fields = agreement_summary(units, ford, level=1)
    assert at_fields["exact_agreement"] == 0.75  # 1.1 / 1.2 agree at level 1
    assert at_fields["alpha"] > summary["alpha"]
