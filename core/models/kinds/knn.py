"""The ``knn`` kind: suggestions from the nearest labelled records in a sentence encoder's space,
weighted by similarity (``encoder-knn``); alone, or as an ensemble member beside TF-IDF. Its
out-of-fold scores are exact leave-one-out (each training record scored from its neighbours among
the others), which fit the temperature and an ensemble's weights."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.kinds.base import Field, Kind, Trained, TrainingInput, finish, gold_indices, with_recipe
from core.models.manifest import Manifest

K, WIDTH = 20, 0.1


def leave_one_out(vectors: np.ndarray, codes: Sequence[Sequence[str]], k: int = K, width: float = WIDTH,
                  multi_label: bool = False):
    """(classes, rows, columns, scores): which training record carries which code, and each record
    scored from its ``k`` nearest among the others (``vectors``: unit length)."""
    from core.models.runtimes.encoder_knn import flat_index, targets, vote

    classes = sorted({c for cs in codes for c in cs})
    index = {c: i for i, c in enumerate(classes)}
    rows = np.array([r for r, cs in enumerate(codes) for _ in cs], dtype=np.int32)
    columns = np.array([index[c] for cs in codes for c in cs], dtype=np.int32)
    carried = targets(rows, columns, len(vectors), len(classes))
    search = flat_index(vectors)
    similarities, neighbours = search.search(np.ascontiguousarray(vectors, dtype=np.float32),
                                             min(k + 1, len(vectors)))
    own = neighbours == np.arange(len(vectors))[:, None]
    own[:, -1] |= ~own.any(axis=1)  # a twin came first and pushed the record out: the last one goes instead
    keep = ~own
    similarities = similarities[keep].reshape(len(vectors), -1)
    neighbours = neighbours[keep].reshape(len(vectors), -1)
    return classes, rows, columns, vote(similarities, neighbours, carried, width, multi_label)


def build_knn(vectors: np.ndarray, codes: Sequence[Sequence[str]], folder: Path, manifest: Manifest, encoder_dir: Path,
              *, multi_label: bool = False, seed: int = 0, k: int = K, width: float = WIDTH):
    """Returns (manifest, (classes, leave-one-out scores, rows))."""
    from safetensors.numpy import save_file

    from core.models.calibration import held_out_calibration
    from core.models.encoder import link_encoder
    from core.models.familiarity import support_rows, vector_threshold
    from core.models.runtimes.encoder_knn import unit

    vectors = unit(vectors)
    classes, rows, columns, oof = leave_one_out(vectors, codes, k, width, multi_label)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"vectors": np.ascontiguousarray(vectors, dtype=np.float16), "rows": rows, "columns": columns},
              str(folder / "neighbours.safetensors"))
    support = vectors[support_rows(len(vectors), seed)]
    save_file({"vectors": np.ascontiguousarray(support, dtype=np.float16)}, str(folder / "support.safetensors"))
    link_encoder(encoder_dir, folder / "encoder")
    calibration = {} if multi_label or len(vectors) < 2 else held_out_calibration(
        oof, gold_indices(classes, codes, np.arange(len(codes))), "leave-one-out predictions", seed)
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
                              multi_label=data.multi_label, seed=data.seed, k=int(data.params.get("k") or K),
                              width=float(data.params.get("width") or WIDTH))
    return with_recipe(data, manifest, oof)


KIND = Kind(
    name="knn", help="the nearest labelled records' codes, weighted by similarity (a sentence encoder's vectors)",
    runtime="encoder-knn", reads=frozenset({"vectors"}), train=train, recipe_version="1.0.0",
    fields=(Field("encoder", "Sentence encoder", "choice", "minilm",
                  "minilm: all-MiniLM-L6-v2 (English); e5: multilingual-e5-small (about 100 languages); the -fast "
                  "choices: their static vectors", choices=("minilm", "minilm-fast", "e5", "e5-fast")),
            Field("k", "Neighbours", "int", K, "how many of the most similar labelled records vote", low=1, high=200),
            Field("width", "Similarity width", "float", WIDTH,
                  "how fast a less similar record's vote fades: smaller trusts the nearest more", low=0.005, high=1.0,
                  advanced=True)))

__all__ = ["KIND", "build_knn"]
