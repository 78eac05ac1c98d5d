"""Suggestions from the nearest labelled records (the ``encoder-knn`` runtime): a record's codes
are those of its ``k`` most similar training records in a sentence encoder's space, each weighted
by its similarity (``weight = exp((similarity - 1) / width)``: a near twin counts fully, a record
0.1 less similar about a third as much at the default width, 0.1; measured best of 0.02, 0.05 and
0.1 with 5 to 40 neighbours by ``bench/bench_knn.py --grid``), temperature-calibrated like every kind.

The folder holds ``encoder/`` (as the ``encoder-head`` runtime's) and ``neighbours.safetensors``:
``vectors`` (training records x dim, unit length, float16), ``rows`` and ``columns`` (which
training record carries which code: index pairs into ``vectors`` and the manifest's codes). The
search is faiss's exact inner product over the 16-bit vectors.
"""

from __future__ import annotations

import numpy as np

from core.models.manifest import ModelFolderError
from core.models.runtimes.encoder_head import EncoderHeadClassifier

SMOOTHING = 1e-3  # every code keeps a little probability (a calibrated log-loss needs no zeros)


def targets(rows: np.ndarray, columns: np.ndarray, n: int, classes: int):
    from scipy.sparse import csr_matrix

    return csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(n, classes))


def flat_index(vectors: np.ndarray):
    """An exact inner-product index over ``vectors`` (unit length) stored as 16-bit floats."""
    import faiss

    faiss.omp_set_num_threads(1)
    index = faiss.IndexScalarQuantizer(vectors.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def vote(similarities: np.ndarray, neighbours: np.ndarray, carried, width: float, multi_label: bool) -> np.ndarray:
    """Scores from each row's neighbours (``neighbours``: training rows, -1 for none; ``carried``:
    training rows x codes, 1 where a row carries a code): the weighted share of the neighbours that
    carry each code; single-label rows sum to 1."""
    weights = np.exp((np.clip(similarities, -1.0, 1.0) - 1.0) / max(width, 1e-4)).astype(np.float32)
    weights[neighbours < 0] = 0.0
    rows = np.repeat(np.arange(len(neighbours)), neighbours.shape[1])
    from scipy.sparse import csr_matrix

    pick = csr_matrix((weights.ravel(), (rows, np.maximum(neighbours.ravel(), 0))),
                      shape=(len(neighbours), carried.shape[0]))
    totals = np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    scores = np.asarray((pick @ carried).todense(), dtype=np.float32) / totals
    if multi_label:
        return np.clip(scores, 0.0, 1.0)
    scores = scores + SMOOTHING
    return scores / scores.sum(axis=1, keepdims=True)


class EncoderKnnClassifier(EncoderHeadClassifier):
    name = "encoder-knn"
    records_per_s = 150.0

    def _load(self) -> None:
        arrays = self._encoder_and("neighbours", "neighbours.safetensors", "neighbours")
        path = self.folder / self.manifest.files.get("neighbours", "neighbours.safetensors")
        try:
            vectors = arrays["vectors"].astype(np.float32)
            rows, columns = arrays["rows"].astype(np.int64), arrays["columns"].astype(np.int64)
        except KeyError as exc:
            raise ModelFolderError(f"'{path}' holds no readable neighbours ({exc})") from None
        codes = len(self.manifest.codes)
        if vectors.ndim != 2 or vectors.shape[1] != self.encoder_.dim or len(rows) != len(columns) or (
                len(rows) and (rows.max() >= len(vectors) or columns.max() >= codes or min(rows.min(),
                                                                                          columns.min()) < 0)):
            raise ModelFolderError(f"'{path}' does not match its encoder ({self.encoder_.dim} dimensions) or its "
                                   f"{codes} codes")
        training = self.manifest.training or {}
        self.k_ = max(1, int(training.get("k", 20)))
        self.width_ = float(training.get("width", 0.1))
        self.carried_ = targets(rows, columns, len(vectors), codes)
        self.index_ = flat_index(vectors)

    def _from_vectors(self, vectors: np.ndarray) -> np.ndarray:
        k = min(self.k_, self.index_.ntotal)
        similarities, neighbours = self.index_.search(np.ascontiguousarray(unit(vectors)), k)
        return vote(similarities, neighbours, self.carried_, self.width_, self.manifest.multi_label)
