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
    (``shared``: see ``record_vectors``); a model that reads other languages through a language
    shift (the cross-lingual default) gets each record's vector moved by its language's offset."""
    texts = [classifier.manifest.text_of(r) for r in records]
    if store is None or cache_key(classifier) is None or not records or any("id" not in r for r in records):
        return classifier.predict_scores(texts)
    vectors = record_vectors(store, classifier, records, shared=shared)
    return classifier.scores_from_vectors(language_shifted(store, classifier, records, vectors), texts)


SHIFT_SAMPLE, SHIFT_MINIMUM = 50, 10  # records whose mean vector stands for their language
SHIFT_SECONDS = 600.0  # a language's mean is computed again after this long (more of its records kept)
_MEANS: dict[tuple, tuple[float, np.ndarray | None]] = {}


def language_reference(classifier) -> tuple[str, np.ndarray] | None:
    """(the language a model was trained on, the mean of its training vectors) for a model that
    reads other languages shifted onto that one (``training.language_shift``); None otherwise."""
    spec = classifier.manifest.training.get("language_shift")
    folder = getattr(classifier, "folder", None)
    if not spec or folder is None:
        return None
    cached = getattr(classifier, "language_reference_", None)
    if cached is None:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            mean = load_file(str(folder / spec["file"]))["mean"].astype(np.float32)
        except (OSError, KeyError, ValueError, SafetensorError):
            return None  # a folder without its reference reads every language as it is
        cached = (str(spec.get("language") or "en").lower(), mean)
        classifier.language_reference_ = cached
    return cached


def language_mean(store: Store, classifier, language: str) -> np.ndarray | None:
    """The mean vector of a language's records in the workspace (up to 50, kept vectors first; at
    least 10, else None), for the model's encoder; kept for ten minutes."""
    import time

    key = cache_key(classifier)
    memo = (str(store.path), key, language)
    hit = _MEANS.get(memo)
    if hit and time.monotonic() - hit[0] < SHIFT_SECONDS:
        return hit[1]
    ids = store.language_sample(key, language, SHIFT_SAMPLE, SHIFT_MINIMUM)
    mean = None
    if len(ids) >= SHIFT_MINIMUM:
        mean = record_vectors(store, classifier, store.records_by_ids(ids)).mean(axis=0)
    _MEANS[memo] = (time.monotonic(), mean)
    return mean


def language_shifted(store: Store, classifier, records: Sequence[dict[str, Any]], vectors: np.ndarray) -> np.ndarray:
    """``vectors`` with each record of another language than the model's moved by the difference
    between its language's mean and the training language's (the multilingual encoder places a
    language's texts around a mean of their own: an English-trained head reads that offset as a
    topic, e.g. every Hungarian speech as International Affairs). Records of the training language,
    of no language, or of a language with fewer than 10 records in the workspace are left as they are."""
    reference = language_reference(classifier)
    if reference is None:
        return vectors
    trained, reference_mean = reference
    languages = [str(r.get("language") or "").lower() for r in records]
    out = None
    for language in sorted(set(languages) - {"", trained}):
        mean = language_mean(store, classifier, language)
        if mean is None or mean.shape != reference_mean.shape:
            continue
        out = np.array(vectors, dtype=np.float32, copy=True) if out is None else out
        rows = [i for i, lang in enumerate(languages) if lang == language]
        out[rows] -= mean - reference_mean
    return vectors if out is None else out


AHEAD_SETTING = "embed_ahead"  # {"ids": [...]}: the records an expert will see next, encoded first
AHEAD = 24  # records of the open queue after the one on screen
AHEAD_BATCH = 4  # encoded at a time, so the next card's record is never behind a long batch


def encode_ahead(store: Store, record_ids: Sequence[int]) -> None:
    """Ask the background fill to encode these records first (the open queue's next ones, from the
    record on screen): the expert's next cards are read before the fill's own order."""
    ids = [int(i) for i in record_ids][:AHEAD]
    if (store.setting(AHEAD_SETTING) or {}).get("ids") != ids:
        store.set_setting(AHEAD_SETTING, {"ids": ids})


CHARS_PER_WINDOW = 1800  # a 510-token window of Hungarian or English prose, about
WINDOWS_PER_S = 5.0  # the multilingual encoder on 2 busy cores (7.8 measured on idle ones)
Q4_WINDOWS_PER_S = 2.0  # the 4-bit engine it was rebuilt from (2.5 measured on idle cores)


# scoring this quick (``scoring_seconds``) runs while the person waits, on every page; longer: a bulk job
INLINE_SECONDS = 30.0


def scoring_seconds(store: Store, classifier, record_ids: Sequence[int]) -> float:
    """How long scoring these stored records takes here: what the model's runtime declares, and for
    a model on a sentence encoder, the records whose vectors are not kept yet, by their length where
    the encoder reads long texts in windows (a 4,700-character speech is three windows)."""
    from core.models.registry import estimated_seconds

    key = cache_key(classifier)
    if not key or not record_ids:
        return estimated_seconds(classifier.manifest, len(record_ids))
    sample = list(record_ids[:5000])  # a larger set is judged by its first 5,000
    scale = len(record_ids) / len(sample)
    missing = store.records_without_embedding(key, len(sample), among=sample)
    cheap = len(record_ids) / 2000.0  # kept vectors: read and a head applied
    if not missing:
        return cheap
    encoder = str(classifier.encoder_id or "")
    if encoder.startswith("multilingual-e5-small") and "static" not in encoder:
        from core.models.encoder import E5_MAX_CHARS

        windows = sum(max(1, -(-min(n, E5_MAX_CHARS) // CHARS_PER_WINDOW)) for n in store.text_lengths(missing))
        return cheap + scale * windows / (Q4_WINDOWS_PER_S if "q4" in encoder else WINDOWS_PER_S)
    return cheap + estimated_seconds(classifier.manifest, round(scale * len(missing)))


def fill_cache(store: Store, classifier, *, batch: int = 2048, limit: int | None = None,
               should_stop: Callable[[], bool] = lambda: False,
               progress: Callable[[int, int], None] | None = None) -> int:
    """Encode stored records that have no kept vector yet (a background job's work), the records
    an expert will see next first (``encode_ahead``, checked before every batch); returns how many
    were encoded."""
    key = cache_key(classifier)
    done = 0
    total = limit or 0
    while not should_stop() and (limit is None or done < limit):
        room = batch if limit is None else min(batch, limit - done)
        ahead = (store.setting(AHEAD_SETTING) or {}).get("ids") or []
        ids = store.records_without_embedding(key, min(AHEAD_BATCH, room), among=ahead) if ahead else []
        ids = ids or store.records_without_embedding(key, room)
        if not ids:
            break
        record_vectors(store, classifier, store.records_by_ids(ids))
        done += len(ids)
        if progress:
            progress(done, max(total, done))
    return done


__all__ = ["AHEAD_SETTING", "cache_key", "encode_ahead", "fill_cache", "language_mean", "language_reference",
           "language_shifted", "record_scores", "record_vectors", "scoring_seconds"]
