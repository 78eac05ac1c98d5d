"""Suggestions within a part of the tree: a queue, a bulk job or ``classify`` limited to chosen
nodes (a field of science, a set of policy topics) and everything under them.

A model's code is within the limit when it is a chosen node or lies under one, or when it lies
above one (a coarser model's code that holds the chosen node: a level-2 model limited to a level-4
node still says which level-2 field it is). Single-label scores are renormalised over the codes
within (a probability given that the record belongs inside the limit), so the ranking, the
triage and the conformal prediction sets are computed within it; the share of the probability the
model put outside travels with them (``outside``), since a record the model places elsewhere is
one an expert should look at whatever its renormalised score says. Multi-label scores (independent
per code) keep their values within and lose the rest. A record with no score within gets no
suggestion.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from core.errors import WorkbenchError


class LimitError(WorkbenchError):
    prefix = "Limit"


def normal_limit(taxonomy, codes: Sequence[str]) -> tuple[str, ...]:
    """The chosen nodes as canonical codes, each once, without those under another chosen node
    (sorted); an unknown code is refused by name."""
    chosen: list[str] = []
    for raw in codes:
        code = str(raw).strip()
        if not code:
            continue
        if code not in taxonomy:
            raise LimitError(f"'{code}' is not a code of taxonomy '{taxonomy.name}': a limit names nodes of the "
                             "taxonomy the model suggests in")
        node = taxonomy.node(code).code
        if node not in chosen:
            chosen.append(node)
    return tuple(sorted(c for c in chosen if not set(taxonomy.ancestors(c)) & set(chosen)))


def within_columns(codes: Sequence[str], taxonomy, limit: Sequence[str]) -> np.ndarray:
    """Which of a model's ``codes`` are within the limit (see the module)."""
    chosen = set(limit)
    keep = np.zeros(len(codes), dtype=bool)
    for j, code in enumerate(codes):
        if code not in taxonomy:
            continue
        above = set(taxonomy.ancestors(code))
        keep[j] = code in chosen or bool(above & chosen) or any(code in taxonomy.ancestors(c) for c in chosen)
    return keep


def check_limit(manifest, taxonomy, limit: Sequence[str]) -> np.ndarray:
    """Which of the model's codes are within the limit; a model with none is refused, naming it."""
    keep = within_columns(manifest.codes, taxonomy, limit)
    if not keep.any():
        raise LimitError(f"none of {manifest.name}'s codes lies within {', '.join(limit)}: it cannot suggest there")
    return keep


def limited_scores(manifest, taxonomy, scores: np.ndarray, limit: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(the scores within the limit, per row the share of the probability outside it). An empty
    limit changes nothing; a model with no code within is refused, naming it."""
    scores = np.asarray(scores, dtype=np.float32)
    if not limit:
        return scores, np.zeros(len(scores), dtype=np.float32)
    keep = check_limit(manifest, taxonomy, limit)
    out = np.zeros_like(scores)
    inside = scores[:, keep]
    if manifest.multi_label:
        out[:, keep] = inside
        total = np.clip(scores.sum(axis=1), 1e-12, None)
        return out, (1.0 - inside.sum(axis=1) / total).astype(np.float32)
    mass = inside.sum(axis=1)
    out[:, keep] = inside / np.clip(mass, 1e-12, None)[:, None]
    out[mass <= 0] = 0.0
    total = np.clip(scores.sum(axis=1), 1e-12, None)
    return out, np.clip(1.0 - mass / total, 0.0, 1.0).astype(np.float32)


def describe(taxonomy, limit: Sequence[str], lang: str = "en") -> str:
    """The limit in words: "5.2 Economics and business, 5.3 Educational sciences"."""
    return ", ".join(f"{c} {taxonomy.name_of(c, lang)}" if c in taxonomy else c for c in limit)


__all__ = ["LimitError", "check_limit", "describe", "limited_scores", "normal_limit", "within_columns"]
