"""The ``knn`` kind: suggestions from the nearest labelled records in a sentence encoder's space,
weighted by similarity (``encoder-knn``); alone, or as an ensemble member beside TF-IDF. Its
out-of-fold scores are exact leave-one-out (each training record scored from its neighbours among
the others), which fit the temperature and an ensemble's weights, and choose ``k`` and the
similarity width where the recipe leaves them automatic: encoders spread similarities differently
(MiniLM's cosines of two titles span far more than multilingual e5's), so no one width fits both
(``bench/bench_knn.py --grid``: FORD and CAP on MiniLM read best at 0.1, Danish on e5 at 0.02)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.kinds.base import Field, Kind, Trained, TrainingInput, finish, gold_indices, with_recipe
from core.models.manifest import Manifest

K, WIDTH = 20, 0.1  # for a multi-label model (no top-1 accuracy to choose by)
K_CHOICES = (5, 10, 20, 40)
WIDTH_CHOICES = (0.01, 0.02, 0.05, 0.1, 0.2)


def leave_one_out(vectors: np.ndarray, codes: Sequence[Sequence[str]], k: int = 0, width: float = 0.0,
                  multi_label: bool = False):
    """(classes, rows, columns, scores, k, width): which training record carries which code, and
    each record scored from its ``k`` nearest among the others (``vectors``: unit length); a ``k``
    or ``width`` of 0 is chosen from ``K_CHOICES`` / ``WIDTH_CHOICES`` by the leave-one-out top-1
    accuracy, ties by log-loss."""
    from core.models.calibration import nll
    from core.models.runtimes.encoder_knn import flat_index, targets, vote

    classes = sorted({c for cs in codes for c in cs})
    index = {c: i for i, c in enumerate(classes)}
    rows = np.array([r for r, cs in enumerate(codes) for _ in cs], dtype=np.int32)
    columns = np.array([index[c] for cs in codes for c in cs], dtype=np.int32)
    carried = targets(rows, columns, len(vectors), len(classes))
    if multi_label:
        k, width = k or K, width or WIDTH
    widest = k or max(K_CHOICES)
    search = flat_index(vectors)
    similarities, neighbours = search.search(np.ascontiguousarray(vectors, dtype=np.float32),
                                             min(widest + 1, len(vectors)))
    own = neighbours == np.arange(len(vectors))[:, None]
    own[:, -1] |= ~own.any(axis=1)  # a twin came first and pushed the record out: the last one goes instead
    keep = ~own
    similarities = similarities[keep].reshape(len(vectors), -1)
    neighbours = neighbours[keep].reshape(len(vectors), -1)
    if not k or not width:
        gold = np.array([index[cs[0]] for cs in codes])
        best = None
        for k_ in ([k] if k else K_CHOICES):
            for w in ([width] if width else WIDTH_CHOICES):
                scores = vote(similarities[:, :k_], neighbours[:, :k_], carried, w, False)
                key = (round(float(np.mean(scores.argmax(1) == gold)), 4), -nll(scores, gold))
                if best is None or key > best[0]:
                    best = (key, k_, w)
        k, width = best[1], best[2]
    k = min(k, similarities.shape[1]) if similarities.shape[1] else k
    scores = vote(similarities[:, :k], neighbours[:, :k], carried, width, multi_label)
    return classes, rows, columns, scores, k, width


def build_knn(vectors: np.ndarray, codes: Sequence[Sequence[str]], folder: Path, manifest: Manifest, encoder_dir: Path,
              *, multi_label: bool = False, seed: int = 0, k: int = 0, width: float = 0.0):
    """Returns (manifest, (classes, leave-one-out scores, rows)); ``k``, ``width``: 0 = chosen on
    leave-one-out (``leave_one_out``)."""
    from safetensors.numpy import save_file

    from core.models.calibration import held_out_calibration
    from core.models.encoder import link_encoder
    from core.models.familiarity import support_rows, vector_threshold
    from core.models.runtimes.encoder_knn import unit

    vectors = unit(vectors)
    classes, rows, columns, oof, k, width = leave_one_out(vectors, codes, k, width, multi_label)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"vectors": np.ascontiguousarray(vectors, dtype=np.float16), "rows": rows, "columns": columns},
              str(folder / "neighbours.safetensors"))
    support = vectors[support_rows(len(vectors), seed)]
    save_file({"vectors": np.ascontiguousarray(support, dtype=np.float16)}, str(folder / "support.safetensors"))
    link_encoder(encoder_dir, folder / "encoder")
    calibration = {} if multi_label or len(vectors) < 2 else held_out_calibration(
        oof, gold_indices(classes, codes, np.arange(len(codes))), "leave-one-out predictions", seed, classes)
    calibration["familiarity"] = vector_threshold(support)
    manifest = replace(manifest, runtime="encoder-knn", training={**manifest.training, "k": int(k),
                                                                  "width": float(width)})
    manifest = finish(folder, manifest, classes, codes, multi_label,
                      f"the {k} nearest labelled records' codes, weighted by similarity",
                      {"neighbours": "neighbours.safetensors", "encoder": "encoder", "support": "support.safetensors"},
                      calibration)
    return manifest, (classes, oof, np.arange(len(codes)))


def train(data: TrainingInput) -> Trained:
    from core.models.encoder import ensure_encoder

    encoder = ensure_encoder(data.models_dir, KIND.vector_encoder(data.params))
    manifest, oof = build_knn(data.vectors, data.codes, data.folder, data.manifest, encoder,
                              multi_label=data.multi_label, seed=data.seed, k=int(data.params.get("k") or 0),
                              width=float(data.params.get("width") or 0.0))
    return with_recipe(data, manifest, oof)


KIND = Kind(
    name="knn", help="the nearest labelled records' codes, weighted by similarity (a sentence encoder's vectors)",
    runtime="encoder-knn", reads=frozenset({"vectors"}), train=train, recipe_version="1.0.0",
    fields=(Field("encoder", "Sentence encoder", "choice", "minilm",
                  "minilm: all-MiniLM-L6-v2 (English); e5: multilingual-e5-small (about 100 languages); the -fast "
                  "choices: their static vectors", choices=("minilm", "minilm-fast", "e5", "e5-fast")),
            Field("k", "Neighbours (0: automatic)", "int", 0,
                  "how many of the most similar labelled records vote; 0 chooses 5, 10, 20 or 40 by leave-one-out",
                  low=0, high=200),
            Field("width", "Similarity width (0: automatic)", "float", 0.0,
                  "how fast a less similar record's vote fades (smaller trusts the nearest more); 0 chooses from "
                  "0.01 to 0.2 by leave-one-out", low=0.0, high=1.0, advanced=True)))

__all__ = ["KIND", "build_knn"]
