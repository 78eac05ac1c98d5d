"""The one scoring pipeline: a model's scores → the taxonomy's codes → ranked suggestions → the
cells a results file shows. Every path (the Models page, Annotate, bulk jobs, ``classify``, Ray,
``evaluate``, the Performance page) goes through these functions, so they agree by construction.

- ``rolled_up``: scores for every node that is a model code or an ancestor of one (for a
  single-label model a parent's score is the probability mass of its subtree; for a multi-label
  model, the best score in its subtree). Codes the taxonomy does not know are dropped.
- ``rank``: top-k suggestions at the model's own codes or cut at a level, with a threshold.
- ``predicted_codes``: the codes a ranking stands for (top-1, or every code ≥ 0.5 multi-label).
- ``prediction_rows``: what the store keeps per scored record (ranked codes, margin, entropy).
- ``result_columns`` / ``output_cells``: the ``code_i, name_i, score_i`` columns of a results file.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from core.domain.taxonomy import Taxonomy
from core.models.manifest import Manifest

MULTI_LABEL_THRESHOLD = 0.5  # a multi-label model predicts every code scoring at least this


@dataclass(frozen=True)
class Suggestion:
    code: str
    score: float
    rank: int


@dataclass(frozen=True)
class _Plan:
    """How a model's output columns map onto taxonomy nodes (computed once per model and taxonomy)."""

    codes: tuple[str, ...]  # every model code and ancestor, canonical
    groups: tuple[tuple[int, ...], ...]  # per code: the output columns it sums / maxes over
    own: np.ndarray  # indexes into ``codes`` of the model's own codes
    levels: np.ndarray  # level of each of ``codes``
    matrix: np.ndarray  # (outputs, codes) 0/1: single-label roll-up as one matrix product


_PLANS: "weakref.WeakKeyDictionary[Taxonomy, dict]" = weakref.WeakKeyDictionary()


def _plan(manifest: Manifest, taxonomy: Taxonomy) -> _Plan:
    cache = _PLANS.setdefault(taxonomy, {})
    key = manifest.codes
    if key not in cache:
        groups: dict[str, list[int]] = {}
        own: list[str] = []
        for i, code in manifest.known_codes(taxonomy):
            if code not in own:
                own.append(code)
            for target in [code, *taxonomy.ancestors(code)]:
                groups.setdefault(target, []).append(i)
        codes = tuple(groups)
        matrix = np.zeros((len(manifest.codes), len(codes)), dtype=np.float32)
        for j, cols in enumerate(groups.values()):
            matrix[cols, j] = 1.0
        index = {c: j for j, c in enumerate(codes)}
        cache[key] = _Plan(codes, tuple(tuple(g) for g in groups.values()),
                           np.array([index[c] for c in own], dtype=np.int64),
                           np.array([taxonomy.level(c) for c in codes], dtype=np.int64), matrix)
    return cache[key]


def scorable_codes(manifest: Manifest, taxonomy: Taxonomy) -> set[str]:
    """The nodes a model gives a score: its own codes and their ancestors."""
    return set(_plan(manifest, taxonomy).codes)


def unscorable_codes(manifest: Manifest, taxonomy: Taxonomy) -> list[str]:
    """The taxonomy's nodes a model cannot suggest (no training example, or below its level), in
    the taxonomy's order."""
    have = scorable_codes(manifest, taxonomy)
    return [n.code for n in taxonomy if n.code not in have]


def rolled_up(manifest: Manifest, taxonomy: Taxonomy, scores: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Scores for every node that is a model code or an ancestor of one (columns = returned codes)."""
    plan = _plan(manifest, taxonomy)
    scores = np.asarray(scores, dtype=np.float32)
    if manifest.multi_label:
        out = np.zeros((scores.shape[0], len(plan.codes)), dtype=np.float32)
        for j, cols in enumerate(plan.groups):
            out[:, j] = scores[:, list(cols)].max(axis=1)
    else:
        out = np.minimum(scores @ plan.matrix, 1.0)
    return list(plan.codes), out


def code_table(manifest: Manifest, taxonomy: Taxonomy, scores: np.ndarray,
               level: int | None = None) -> tuple[list[str], np.ndarray]:
    """The scores a ranking is made from: the model's own codes (``level`` None) or every node at
    ``level`` that a model code is in or under."""
    plan = _plan(manifest, taxonomy)
    codes, table = rolled_up(manifest, taxonomy, scores)
    keep = plan.own if taxonomy.check_level(level) is None else np.flatnonzero(plan.levels == level)
    return [codes[j] for j in keep], table[:, keep]


def rank(manifest: Manifest, scores: np.ndarray, taxonomy: Taxonomy, *, top_k: int = 5, threshold: float = 0.0,
         level: int | None = None) -> list[list[Suggestion]]:
    """Ranked suggestions per row of scores: best first, at most ``top_k``, scores above zero and
    at least ``threshold``; at the model's own codes or cut at ``level``."""
    codes, table = code_table(manifest, taxonomy, scores, level)
    if table.shape[1] == 0:
        return [[] for _ in range(len(table))]
    order = np.argsort(-table, axis=1, kind="stable")[:, :top_k]
    top = np.take_along_axis(table, order, axis=1).tolist()
    results = []
    for cols, values in zip(order.tolist(), top):
        picked = [(codes[j], v) for j, v in zip(cols, values) if v >= threshold and v > 0]
        results.append([Suggestion(c, v, r) for r, (c, v) in enumerate(picked, start=1)])
    return results


def suggest(classifier, texts: Sequence[str], taxonomy: Taxonomy, *, top_k: int = 5, threshold: float = 0.0,
            level: int | None = None) -> list[list[Suggestion]]:
    """Ranked suggestions per text (``rank`` over the classifier's scores)."""
    return rank(classifier.manifest, classifier.predict_scores(texts), taxonomy, top_k=top_k, threshold=threshold,
                level=level)


def predicted_codes(ranked: Sequence, multi_label: bool, threshold: float = MULTI_LABEL_THRESHOLD) -> list[str]:
    """The codes a ranking stands for: the top one (single-label) or every code scoring at least
    ``threshold``, at least the top one (multi-label). ``ranked``: Suggestions or (code, score)."""
    pairs = [(s.code, s.score) if isinstance(s, Suggestion) else (s[0], s[1]) for s in ranked]
    if not pairs:
        return []
    if not multi_label:
        return [pairs[0][0]]
    return [c for c, v in pairs if v >= threshold] or [pairs[0][0]]


def uncertainty(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: margin (top-1 minus top-2 score) and entropy (bits) of the normalised scores."""
    if scores.shape[1] == 0:
        return np.zeros(len(scores)), np.zeros(len(scores))
    top = -np.sort(-scores, axis=1)
    margin = top[:, 0] - (top[:, 1] if scores.shape[1] > 1 else 0.0)
    p = scores / np.clip(scores.sum(axis=1, keepdims=True), 1e-12, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.nansum(np.where(p > 0, p * np.log2(p), 0.0), axis=1)
    return margin, entropy


def prediction_rows(record_ids: Sequence[int], manifest: Manifest, scores: np.ndarray, taxonomy: Taxonomy, *,
                    top_k: int = 10) -> list[tuple[int, list[tuple[str, float]], float, float]]:
    """Rows for ``Store.save_predictions``: the ranked model codes (top-k, scores to 6 decimals),
    margin and entropy over all of the model's codes."""
    _, table = code_table(manifest, taxonomy, scores)
    margin, entropy = uncertainty(table)
    ranked = rank(manifest, scores, taxonomy, top_k=top_k)
    return [(int(rid), [(s.code, round(s.score, 6)) for s in r], float(m), float(e))
            for rid, r, m, e in zip(record_ids, ranked, margin.tolist(), entropy.tolist())]


def result_columns(model_names: Sequence[str], top_k: int) -> list[str]:
    """``code_1, name_1, score_1, …`` per model (prefixed with the model's name when there are several)."""
    prefix = (lambda m: f"{m}_") if len(model_names) > 1 else (lambda _m: "")
    return [f"{prefix(m)}{kind}_{i}" for m in model_names for i in range(1, top_k + 1)
            for kind in ("code", "name", "score")]


def output_cells(ranked: Sequence, taxonomy: Taxonomy, top_k: int, lang: str = "en") -> list:
    """One model's ``top_k`` × (code, name, score) cells for one row; empty cells where fewer codes
    passed (no score: None). ``ranked``: Suggestions or (code, score) pairs."""
    cells: list = []
    for item in list(ranked)[:top_k]:
        code, score = (item.code, item.score) if isinstance(item, Suggestion) else (item[0], item[1])
        cells += [code, taxonomy.name_of(code, lang) if code in taxonomy else "", round(float(score), 6)]
    return cells + ["", "", None] * (top_k - min(len(ranked), top_k))


__all__ = ["MULTI_LABEL_THRESHOLD", "Suggestion", "code_table", "output_cells", "predicted_codes",
           "prediction_rows", "rank", "result_columns", "rolled_up", "scorable_codes", "suggest", "uncertainty",
           "unscorable_codes"]
