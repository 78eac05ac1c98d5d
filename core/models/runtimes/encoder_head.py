"""A linear head on a sentence encoder's mean-pooled vectors (the ``encoder-head`` runtime).

The folder holds ``encoder/`` (the ONNX encoder with its pooling, tokenizer and ``encoder.json``;
hard links to the workspace's shared encoder where it was trained) and ``head.safetensors``
(``weight`` codes x dim, ``bias``). ``embed`` and ``scores_from_vectors`` let callers that keep
an embedding cache score a record without running the encoder again.
"""

from __future__ import annotations

import numpy as np

from core.models.calibration import calibrate
from core.models.manifest import ModelFolderError
from core.models.runtimes.base import Classifier


class EncoderHeadClassifier(Classifier):
    name = "encoder-head"
    records_per_s = 150.0

    def _encoder_and(self, role: str, default: str, what: str) -> dict[str, np.ndarray]:
        """Load the folder's encoder, and return the arrays of its ``role`` file (``default`` name)."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        from core.models.encoder import Encoder

        path = self.folder / self.manifest.files.get(role, default)
        if not path.exists():
            raise ModelFolderError(f"'{path}' is missing")
        self.encoder_ = Encoder(self.folder / self.manifest.files.get("encoder", "encoder"), threads=self.threads)
        try:
            return load_file(str(path))
        except (ValueError, OSError, SafetensorError) as exc:
            raise ModelFolderError(f"'{path}' holds no readable {what} ({exc})") from None

    def _load(self) -> None:
        arrays = self._encoder_and("head", "head.safetensors", "head")
        head = self.folder / self.manifest.files.get("head", "head.safetensors")
        try:
            self.weight_, self.bias_ = arrays["weight"].astype(np.float32), arrays["bias"].astype(np.float32)
        except KeyError as exc:
            raise ModelFolderError(f"'{head}' holds no readable head ({exc})") from None
        if self.weight_.shape != (len(self.manifest.codes), self.encoder_.dim):
            raise ModelFolderError(f"'{head}' has shape {self.weight_.shape}; expected "
                                   f"({len(self.manifest.codes)}, {self.encoder_.dim})")

    @property
    def encoder_id(self) -> str:
        return self.encoder_.id

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.encoder_.embed(texts)

    def _from_vectors(self, vectors: np.ndarray) -> np.ndarray:
        logits = np.asarray(vectors, dtype=np.float32) @ self.weight_.T + self.bias_
        if self.manifest.multi_label:
            return 1.0 / (1.0 + np.exp(-logits))
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def scores_from_vectors(self, vectors: np.ndarray, texts: list[str] | None = None) -> np.ndarray:  # noqa: ARG002 - the interface's signature
        """Calibrated scores from vectors ``embed`` made (or the cache kept)."""
        return calibrate(np.clip(self._from_vectors(vectors), 0.0, 1.0).astype(np.float32), self.manifest)

    def _scores(self, texts: list[str]) -> np.ndarray:
        return self._from_vectors(self.embed(texts))
