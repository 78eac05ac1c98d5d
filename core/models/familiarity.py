"""How far a record lies from a model's training data, so that triage never machine-accepts a
record the model has seen nothing like (a confident score on such a record means little).

- Embedding models (heads): the mean cosine similarity of the record's vector to its ``K`` nearest
  training vectors (the model folder keeps up to ``SUPPORT_MAX`` of them as float16).
- TF-IDF models: the share of the record's words that the model's vocabulary knows.

The threshold is fitted on data the measure did not see: each training row is measured leaving
itself out (its nearest *other* training vectors; its words counted as known only when another
training row has them), which is what a held-out record from the same source gets. A record
scoring below the ``QUANTILE`` of those held-out measures is "far from the training data".
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Sequence

import numpy as np

K = 3
QUANTILE = 0.01  # about 1 record in 100 from the training distribution itself is flagged
SUPPORT_MAX = 20_000
_WORD = re.compile(r"(?u)\b\w\w+\b")  # the TF-IDF kinds' token pattern, lower-cased


def words(text: str) -> list[str]:
    return _WORD.findall((text or "").lower())


def nearest_similarity(vectors: np.ndarray, support: np.ndarray, *, leave_one_out: bool = False,
                       chunk: int = 2048) -> np.ndarray:
    """Mean cosine similarity of each (unit-length) row of ``vectors`` to its ``K`` nearest rows of
    ``support``; with ``leave_one_out`` (``vectors`` is ``support``), a row's own entry is skipped."""
    vectors = np.asarray(vectors, dtype=np.float32)
    support = np.asarray(support, dtype=np.float32)
    k = max(1, min(K, len(support) - (1 if leave_one_out else 0)))
    out = np.zeros(len(vectors), dtype=np.float32)
    if not len(support) or not len(vectors) or (leave_one_out and len(support) < 2):
        return out
    for start in range(0, len(vectors), chunk):
        sims = vectors[start:start + chunk] @ support.T
        if leave_one_out:
            rows = np.arange(sims.shape[0])
            sims[rows, rows + start] = -np.inf
        top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
        out[start:start + chunk] = top.mean(axis=1)
    return out


def support_rows(n: int, seed: int = 0) -> np.ndarray:
    """The training rows a head keeps as its support (all, or an even random sample)."""
    if n <= SUPPORT_MAX:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, SUPPORT_MAX, replace=False))


def vector_threshold(support: np.ndarray) -> dict:
    held = nearest_similarity(support, support, leave_one_out=True)
    return {"measure": f"mean cosine similarity to the {K} nearest training vectors",
            "threshold": round(float(np.quantile(held, QUANTILE)), 4) if len(held) > 1 else 0.0,
            "quantile": QUANTILE, "fitted_on": f"{len(held):,} training rows, each left out of its own neighbours"}


def known_share(texts: Sequence[str], vocabulary) -> np.ndarray:
    """The share of each text's words found in ``vocabulary`` (1.0 for a text without words)."""
    out = np.ones(len(texts), dtype=np.float32)
    for i, text in enumerate(texts):
        tokens = words(text)
        if tokens:
            out[i] = sum(t in vocabulary for t in tokens) / len(tokens)
    return out


def term_threshold(texts: Sequence[str]) -> tuple[dict, set[str]]:
    """The known-term threshold (left-one-out shares on the training texts) and the vocabulary."""
    docs = [words(t) for t in texts]
    df = Counter(w for d in docs for w in set(d))
    held = np.array([sum(df[w] >= 2 for w in d) / len(d) for d in docs if d], dtype=np.float32)
    return ({"measure": "share of the record's words the model's vocabulary knows",
             "threshold": round(float(np.quantile(held, QUANTILE)), 4) if len(held) else 0.0,
             "quantile": QUANTILE, "fitted_on": f"{len(held):,} training texts, each left out of the vocabulary"},
            set(df))


def write_terms(folder, texts: Sequence[str], name: str = "terms.txt") -> tuple[dict, str]:
    """Keep the training texts' words (``terms.txt``) for the known-term measure; returns its threshold."""
    from pathlib import Path

    threshold, vocabulary = term_threshold(texts)
    (Path(folder) / name).write_text("\n".join(sorted(vocabulary)) + "\n", encoding="utf-8")
    return threshold, name


def far(values: np.ndarray | None, calibration: dict | None) -> np.ndarray | None:
    """True where a measure lies below the model's fitted threshold (None: the model measures none)."""
    info = (calibration or {}).get("familiarity")
    if values is None or not info:
        return None
    return np.asarray(values) < float(info["threshold"])


TRAINING_TEXTS = "training_texts.txt"


def fingerprint(text: str) -> str:
    """A short hash of a text (case and spacing ignored), to recognise training texts again."""
    import hashlib

    return hashlib.sha1(" ".join((text or "").casefold().split()).encode("utf-8")).hexdigest()[:16]


def write_fingerprints(folder, texts: Sequence[str]) -> str:
    """Keep the fingerprints of a model's training texts in its folder; returns the file name."""
    from pathlib import Path

    (Path(folder) / TRAINING_TEXTS).write_text("\n".join(sorted({fingerprint(t) for t in texts})) + "\n",
                                               encoding="utf-8")
    return TRAINING_TEXTS


def read_fingerprints(folder, manifest) -> frozenset[str]:
    """The fingerprints a model folder keeps (empty when it keeps none)."""
    from pathlib import Path

    name = (manifest.files or {}).get("training_texts")
    path = Path(folder) / name if name else None
    if path is None or not path.is_file():
        return frozenset()
    try:
        return _read_prints(str(path), path.stat().st_mtime_ns)
    except (OSError, UnicodeDecodeError):
        return frozenset()


@lru_cache(maxsize=16)
def _read_prints(path: str, mtime_ns: int) -> frozenset[str]:  # noqa: ARG001 - the cache key
    """A fingerprint file's lines, read once per change (a card checks its record on every key press)."""
    from pathlib import Path

    return frozenset(Path(path).read_text(encoding="utf-8").split())
