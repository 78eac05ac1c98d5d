"""A deterministic runtime for page tests: scores follow a hash of the text (no files needed)."""

from __future__ import annotations

import hashlib

import numpy as np

from core.models.runtimes.base import Classifier


class DummyClassifier(Classifier):
    name = "dummy"
    records_per_s = 10000.0

    def _load(self) -> None:
        pass

    def _scores(self, texts: list[str]) -> np.ndarray:
        n = len(self.manifest.codes)
        out = np.empty((len(texts), n), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
            logits = np.random.default_rng(seed).normal(size=n) * 2.0
            if self.manifest.multi_label:
                out[i] = 1.0 / (1.0 + np.exp(-logits))
            else:
                e = np.exp(logits - logits.max())
                out[i] = e / e.sum()
        return out
