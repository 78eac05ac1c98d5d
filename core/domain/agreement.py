"""Agreement between annotators, for hierarchical and multi-code labels.

A record's label is the *set* of codes an annotator gave it (a rejection: the empty set). Three
measures, each overall, per level (codes cut at that level) and per category:

- **Cohen's kappa** for each pair of annotators on the records both labelled (scikit-learn), on the
  label sets as nominal values;
- **Krippendorff's alpha** for any number of annotators (the ``krippendorff`` library) with the
  **Jaccard distance** between label sets (1 - |A∩B| / |A∪B|: for single codes, the nominal
  distance, so alpha is the nominal alpha);
- the same alpha with a **hierarchical distance**: two codes are as far apart as the path between
  them in the taxonomy, divided by the longest such path (siblings are close, codes of different
  fields far); two sets are compared code by code (each code of one set against the nearest code of
  the other, averaged both ways).

Per category, each annotator's label becomes a yes/no decision (the category or one below it is in
the set), and alpha is the nominal alpha of those decisions.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Callable, Hashable, Iterable, Mapping

import numpy as np

from core.domain.taxonomy import Taxonomy

Label = frozenset  # a label: the set of codes one annotator gave one record
Units = Mapping[Hashable, Mapping[str, Label]]  # record -> annotator -> label


def jaccard_distance(a: Label, b: Label) -> float:
    if not a and not b:
        return 0.0
    return 1.0 - len(a & b) / len(a | b)


def tree_distance(taxonomy: Taxonomy) -> Callable[[str, str], float]:
    """Path length between two codes through their lowest common ancestor, divided by twice the
    taxonomy's depth (0: the same code; 1: leaves of the deepest branches of different fields). A
    code with several parents takes its first."""
    depth = max(taxonomy.depth, 1)
    paths: dict[str, list[str]] = {}

    def path(code: str) -> list[str]:
        if code not in paths:
            paths[code] = [n.code for n in taxonomy.path(code)] if code in taxonomy else [code]
        return paths[code]

    def distance(a: str, b: str) -> float:
        if a == b:
            return 0.0
        pa, pb = path(a), path(b)
        common = 0
        for x, y in zip(pa, pb):
            if x != y:
                break
            common += 1
        return min((len(pa) - common + len(pb) - common) / (2 * depth), 1.0)

    return distance


def hierarchical_set_distance(taxonomy: Taxonomy) -> Callable[[Label, Label], float]:
    code_distance = tree_distance(taxonomy)

    def distance(a: Label, b: Label) -> float:
        if not a and not b:
            return 0.0
        if not a or not b:  # a rejection against a code: as far as can be
            return 1.0
        ab = sum(min(code_distance(x, y) for y in b) for x in a) / len(a)
        ba = sum(min(code_distance(y, x) for x in a) for y in b) / len(b)
        return (ab + ba) / 2

    return distance


def krippendorff_alpha(units: Units, distance: Callable[[Hashable, Hashable], float] | str = "nominal"
                       ) -> float | None:
    """Krippendorff's alpha of ``units`` (record -> annotator -> value) computed by the
    ``krippendorff`` library; ``distance``: "nominal" or a function of two values (through the
    library's callable metric, on the distinct values' distance matrix). None when alpha is not
    defined: no record with two annotators, or one value only."""
    import krippendorff

    coders = sorted({c for labels in units.values() for c in labels})
    pairable = [u for u, labels in units.items() if len(labels) >= 2]
    if len(coders) < 2 or not pairable:
        return None
    domain: dict[Hashable, int] = {}
    for u in pairable:
        for value in units[u].values():
            domain.setdefault(value, len(domain))
    if len(domain) < 2:
        return None
    data = np.full((len(coders), len(pairable)), np.nan)
    row = {c: i for i, c in enumerate(coders)}
    for j, u in enumerate(pairable):
        for coder, value in units[u].items():
            data[row[coder], j] = domain[value]
    if distance == "nominal":
        metric = "nominal"
    else:
        values = list(domain)
        matrix = np.array([[float(distance(x, y)) for y in values] for x in values])

        def metric(v1, v2, i1, i2, n_v, dtype=np.float64):  # the library's callable: by value index  # noqa: ARG001 - the library calls it with these
            return matrix[i1, i2].astype(dtype)
    return float(krippendorff.alpha(reliability_data=data, value_domain=list(range(len(domain))),
                                    level_of_measurement=metric))


def cohen_kappa(pairs: Iterable[tuple[Label, Label]]) -> float | None:
    """Cohen's kappa of two annotators' labels (as nominal values) on the records both labelled."""
    from sklearn.metrics import cohen_kappa_score

    pairs = list(pairs)
    if not pairs:
        return None
    a = ["|".join(sorted(x)) for x, _ in pairs]
    b = ["|".join(sorted(y)) for _, y in pairs]
    if len(set(a) | set(b)) < 2:
        return 1.0  # both gave one and the same label to every record
    return float(cohen_kappa_score(a, b))


def cut(units: Units, taxonomy: Taxonomy, level: int | None) -> dict:
    """The labels with their codes cut at ``level`` (each distinct label cut once)."""
    if level is None:
        return {u: dict(labels) for u, labels in units.items()}
    memo: dict[Label, Label] = {}

    def at_level(label: Label) -> Label:
        if label not in memo:
            memo[label] = frozenset(taxonomy.cut_codes(sorted(label), level))
        return memo[label]

    return {u: {c: at_level(label) for c, label in labels.items()} for u, labels in units.items()}


def pairwise_kappa(units: Units, min_shared: int = 1) -> list[dict]:
    """Cohen's kappa of each pair of annotators who labelled at least ``min_shared`` records in common."""
    shared: dict[tuple[str, str], list] = defaultdict(list)
    for labels in units.values():
        for a, b in combinations(sorted(labels), 2):
            shared[(a, b)].append((labels[a], labels[b]))
    out = []
    for (a, b), pairs in sorted(shared.items()):
        if len(pairs) >= min_shared:
            out.append({"annotator_a": a, "annotator_b": b, "shared_records": len(pairs),
                        "exact_agreement": sum(x == y for x, y in pairs) / len(pairs), "kappa": cohen_kappa(pairs)})
    return out


def in_category(label: Label, code: str, taxonomy: Taxonomy) -> bool:
    return any(c == code or (c in taxonomy and code in {n.code for n in taxonomy.path(c)}) for c in label)


def per_category(units: Units, taxonomy: Taxonomy, codes: Iterable[str]) -> list[dict]:
    """Per category: the records double-coded where anyone used it (or a code below it), the share
    of those where all annotators agree on it, and the nominal alpha of the yes/no decisions."""
    doubled = {u: labels for u, labels in units.items() if len(labels) >= 2}
    reach: dict[Label, frozenset] = {}  # each distinct label: its codes and every ancestor of them
    for labels in doubled.values():
        for label in labels.values():
            if label not in reach:
                reach[label] = frozenset(n.code for c in label if c in taxonomy for n in taxonomy.path(c)) | label
    out = []
    for code in codes:
        decisions = {u: {c: code in reach[label] for c, label in labels.items()} for u, labels in doubled.items()}
        used = [u for u, d in decisions.items() if any(d.values())]
        agreed = sum(len(set(decisions[u].values())) == 1 for u in used)
        alpha = krippendorff_alpha(decisions) if used else None
        out.append({"code": code, "records": len(used), "agreed": agreed,
                    "agreement": agreed / len(used) if used else None, "alpha": alpha})
    return out


def agreement_summary(units: Units, taxonomy: Taxonomy, level: int | None = None) -> dict:
    """Overall figures at ``level`` (None: the codes as given): records, annotators, double-coded
    records, exact agreement on them, mean pairwise kappa, alpha (Jaccard) and hierarchical alpha."""
    doubled = cut({u: labels for u, labels in units.items() if len(labels) >= 2}, taxonomy, level)
    data = doubled
    pairs = pairwise_kappa(data)
    kappas = [p["kappa"] for p in pairs if p["kappa"] is not None]
    weights = [p["shared_records"] for p in pairs if p["kappa"] is not None]
    exact = [len(set(labels.values())) == 1 for labels in doubled.values()]
    return {
        "records": len(units), "double_coded": len(doubled),
        "annotators": len({c for labels in units.values() for c in labels}),
        "exact_agreement": float(np.mean(exact)) if exact else None,
        "kappa_mean": float(np.average(kappas, weights=weights)) if kappas else None,
        "alpha": krippendorff_alpha(doubled, jaccard_distance),
        "alpha_hierarchical": krippendorff_alpha(doubled, hierarchical_set_distance(taxonomy)),
    }


def disagreement(labels: Mapping[str, Label], taxonomy: Taxonomy) -> float:
    """How far apart one record's labels are: the largest hierarchical distance between two of them."""
    distance = hierarchical_set_distance(taxonomy)
    values = list(labels.values())
    return max((distance(a, b) for a, b in combinations(values, 2)), default=0.0)


__all__ = ["agreement_summary", "cohen_kappa", "cut", "disagreement", "hierarchical_set_distance", "in_category",
           "jaccard_distance", "krippendorff_alpha", "pairwise_kappa", "per_category", "tree_distance"]
