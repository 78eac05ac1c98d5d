"""The one contract every model runtime fulfils, and the post-processing shared by all of them.

``Classifier.predict_scores(texts)`` validates its input, calls the subclass's ``_scores`` and
checks the output (one column per manifest code, finite, in [0, 1]). ``suggest`` turns scores into
ranked suggestions: unknown codes dropped, threshold, top-k, and the roll-up of scores to every
ancestor node (for a single-label model a parent's score is the probability mass of its subtree;
for a multi-label model, the best score in its subtree).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from core.manifest import Manifest, ModelFolderError
from core.taxonomy import Taxonomy


@dataclass(frozen=True)
class Suggestion:
    code: str
    score: float
    rank: int


LONG_TEXT_MODES = ("truncate", "chunks")


def thread_count(threads: int | None = None) -> int:
    """Threads for inference: the argument, else ``WORKBENCH_THREADS``, else every core."""
    if threads:
        return max(1, int(threads))
    try:
        return max(1, int(os.environ.get("WORKBENCH_THREADS", "0"))) if os.environ.get("WORKBENCH_THREADS") else (
            os.cpu_count() or 1)
    except ValueError:
        return os.cpu_count() or 1


class Classifier(ABC):
    """A loaded model. Subclasses implement ``_load`` and ``_scores``; nothing else.

    ``threads``: CPU threads for inference (default: ``WORKBENCH_THREADS`` or every core).
    ``long_texts``: for token models, "truncate" (title + abstract + keywords cut at the manifest's
    max length) or "chunks" (overlapping windows of max length, scores pooled: mean for a
    single-label model, max for a multi-label one), at most ``max_chunks`` windows a text.
    """

    name = "base"  # the runtime's registry name

    def __init__(self, folder: str | Path, manifest: Manifest, *, threads: int | None = None,
                 long_texts: str = "truncate", max_chunks: int = 16):
        if long_texts not in LONG_TEXT_MODES:
            raise ValueError(f"long_texts must be one of {', '.join(LONG_TEXT_MODES)}, not '{long_texts}'")
        self.folder = Path(folder)
        self.manifest = manifest
        self.threads = thread_count(threads)
        self.long_texts = long_texts
        self.max_chunks = max(1, int(max_chunks))
        self._load()

    @abstractmethod
    def _load(self) -> None:
        """Read the folder's files (never unpickling anything)."""

    @abstractmethod
    def _scores(self, texts: list[str]) -> np.ndarray:
        """Scores in [0, 1], shape (len(texts), len(manifest.codes))."""

    def predict_scores(self, texts: Sequence[str]) -> np.ndarray:
        texts = ["" if t is None else str(t) for t in texts]
        if not texts:
            return np.zeros((0, len(self.manifest.codes)), dtype=np.float32)
        scores = np.asarray(self._scores(texts), dtype=np.float32)
        expected = (len(texts), len(self.manifest.codes))
        if scores.shape != expected:
            raise ModelFolderError(
                f"model '{self.manifest.name}' gave outputs of shape {scores.shape}, expected {expected}: "
                "the manifest's codes do not match the model's outputs"
            )
        return np.clip(np.nan_to_num(scores, nan=0.0), 0.0, 1.0)


def rolled_up(manifest: Manifest, taxonomy: Taxonomy, scores: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Scores for every node that is a model code or an ancestor of one (columns = returned codes)."""
    known = [(i, taxonomy.node(c).code) for i, c in enumerate(manifest.codes) if c in taxonomy]
    codes: dict[str, list[int]] = {}
    for i, code in known:
        for target in [code, *taxonomy.ancestors(code)]:
            codes.setdefault(target, []).append(i)
    out = np.zeros((scores.shape[0], len(codes)), dtype=np.float32)
    for j, cols in enumerate(codes.values()):
        block = scores[:, cols]
        out[:, j] = block.max(axis=1) if manifest.multi_label else np.minimum(block.sum(axis=1), 1.0)
    return list(codes), out


def suggest(
    classifier: Classifier,
    texts: Sequence[str],
    taxonomy: Taxonomy,
    *,
    top_k: int = 5,
    threshold: float = 0.0,
    level: int | None = None,
) -> list[list[Suggestion]]:
    """Ranked suggestions per text. ``level`` reports codes cut at that level of the hierarchy."""
    return ranked_from_scores(classifier.manifest, classifier.predict_scores(texts), taxonomy, top_k=top_k,
                              threshold=threshold, level=level)


def ranked_from_scores(
    manifest: Manifest,
    scores: np.ndarray,
    taxonomy: Taxonomy,
    *,
    top_k: int = 5,
    threshold: float = 0.0,
    level: int | None = None,
) -> list[list[Suggestion]]:
    """``suggest`` on scores already computed (so one inference serves several reports)."""
    codes, table = rolled_up(manifest, taxonomy, scores)
    if level is not None:
        keep = [j for j, c in enumerate(codes) if taxonomy.level(c) == level]
    else:
        model_codes = {taxonomy.node(c).code for c in manifest.codes if c in taxonomy}
        keep = [j for j, c in enumerate(codes) if c in model_codes]
    codes = [codes[j] for j in keep]
    table = table[:, keep]
    if table.shape[1] == 0:
        return [[] for _ in range(len(table))]
    order = np.argsort(-table, axis=1, kind="stable")[:, :top_k]
    top = np.take_along_axis(table, order, axis=1).tolist()
    results = []
    for cols, values in zip(order.tolist(), top):
        picked = [(codes[j], v) for j, v in zip(cols, values) if v >= threshold and v > 0]
        results.append([Suggestion(c, v, r) for r, (c, v) in enumerate(picked, start=1)])
    return results
