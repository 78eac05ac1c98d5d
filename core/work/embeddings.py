"""Scoring stored records with the embedding cache: a model on a sentence encoder (a head, or an
ensemble with one) encodes each record once per encoder version; later scoring, retraining and
re-scoring read the kept float16 vectors. Other models read the text as always."""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Sequence

import numpy as np

from core.store import Store


def cache_key(classifier) -> str | None:
    """The cache's name for a model's vectors: its encoder's id and how it reads a record (the
    fields it joins), since the same encoder on other text gives other vectors. None: no encoder."""
    encoder_id = classifier.encoder_id
    if not encoder_id:
        return None
    m = classifier.manifest
    recipe = hashlib.sha256(repr((tuple(m.input_fields), m.joiner)).encode()).hexdigest()[:8]
    return f"{encoder_id}/{recipe}"


def record_vectors(store: Store, classifier, records: Sequence[dict[str, Any]], *, chunk: int = 512,
                   progress: Callable[[int, int], None] | None = None, shared: dict | None = None) -> np.ndarray:
    """The encoder vectors of ``records`` (float32, in order): kept ones read, the rest computed
    and kept. ``shared``: a dict the caller keeps while scoring the same records with several
    models, so models on one encoder get the vectors from memory instead of encoding or reading
    them again."""
    key = cache_key(classifier)
    if shared is not None:
        memo = (key, tuple(int(r["id"]) for r in records))
        if memo not in shared:
            shared.clear()  # one set of records at a time
            shared[memo] = record_vectors(store, classifier, records, chunk=chunk, progress=progress)
        return shared[memo]
    ids = [int(r["id"]) for r in records]
    kept = store.cached_embeddings(key, ids)
    missing = [i for i, rid in enumerate(ids) if rid not in kept]
    dim = next(iter(kept.values())).shape[0] if kept else None
    computed: dict[int, np.ndarray] = {}
    same_text = store.embeddings_by_text(key, [records[i].get("content_hash") or "" for i in missing])
    for start in range(0, len(missing), chunk):
        part = missing[start:start + chunk]
        texts = [classifier.manifest.text_of(records[i]) for i in part]
        known = {t: same_text[records[i].get("content_hash")] for i, t in zip(part, texts)
                 if records[i].get("content_hash") in same_text}  # another record with this text was encoded
        unique = [t for t in dict.fromkeys(texts) if t not in known]  # the same text is encoded once
        where = {t: k for k, t in enumerate(unique)}
        fresh = classifier.embed(unique) if unique else None
        vectors = np.stack([known[t].astype(np.float32) if t in known else fresh[where[t]] for t in texts])
        store.save_embeddings(key, [(ids[i], records[i].get("content_hash")) for i in part], vectors)
        for j, i in enumerate(part):
            computed[i] = vectors[j]
        dim = vectors.shape[1]
        if progress:
            progress(min(start + chunk, len(missing)), len(missing))
    out = np.zeros((len(records), dim or 0), dtype=np.float32)
    for i, rid in enumerate(ids):
        out[i] = computed[i] if i in computed else kept[rid]
    return out


def record_scores(store: Store | None, classifier, records: Sequence[dict[str, Any]],
                  shared: dict | None = None) -> np.ndarray:
    """Scores of stored records: through the embedding cache where the model has an encoder
    (``shared``: see ``record_vectors``)."""
    texts = [classifier.manifest.text_of(r) for r in records]
    if store is None or cache_key(classifier) is None or not records or any("id" not in r for r in records):
        return classifier.predict_scores(texts)
    return classifier.scores_from_vectors(record_vectors(store, classifier, records, shared=shared), texts)


def fill_cache(store: Store, classifier, *, batch: int = 2048, limit: int | None = None,
               should_stop: Callable[[], bool] = lambda: False,
               progress: Callable[[int, int], None] | None = None) -> int:
    """Encode stored records that have no kept vector yet (a background job's work); returns how
    many were encoded."""
    key = cache_key(classifier)
    done = 0
    total = limit or 0
    while not should_stop() and (limit is None or done < limit):
        ids = store.records_without_embedding(key, batch if limit is None else min(batch, limit - done))
        if not ids:
            break
        record_vectors(store, classifier, store.records_by_ids(ids))
        done += len(ids)
        if progress:
            progress(done, max(total, done))
    return done


__all__ = ["cache_key", "fill_cache", "record_scores", "record_vectors"]
