"""The one contract every model runtime fulfils.

``Classifier.predict_scores(texts)`` validates its input, calls the subclass's ``_scores`` and
checks the output (one column per manifest code, finite, in [0, 1]). What happens to the scores
next (codes, roll-up, ranking, output cells) is ``core.models.scoring``, the same for every runtime.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.calibration import calibrate
from core.models.manifest import Manifest, ModelFolderError

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
    records_per_s = 10.0  # a rough scoring speed on a 2-core CPU (what is run inline, what as a job)
    encoder_id: str | None = None  # the sentence encoder whose kept vectors the model reads, if any

    @property
    def reads_vectors(self) -> bool:
        """True where the model scores from records' kept encoder vectors (``embed`` gives them,
        ``scores_from_vectors`` reads them); other models read the texts."""
        return bool(self.encoder_id)

    def embed(self, texts: list[str]) -> np.ndarray:  # noqa: ARG002 - the interface's signature
        raise ModelFolderError(f"model '{self.manifest.name}' reads texts, not encoder vectors")

    def scores_from_vectors(self, vectors: np.ndarray | None, texts: list[str]) -> np.ndarray:  # noqa: ARG002 - the interface's signature
        """Calibrated scores where the texts' encoder vectors are known (a model that reads texts
        scores the texts)."""
        return self.predict_scores(texts)

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

    def far_from_training(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray | None:
        """True for each text that lies far from the model's training data (a confident score on it
        means little: triage leaves it to the experts); None where the model measures nothing.
        ``vectors``: the texts' encoder vectors, where the caller keeps them. Measured where the
        folder keeps what it needs (``support``: training vectors; ``terms``: training words) and
        the manifest a threshold (``core.models.familiarity``)."""
        from safetensors import SafetensorError

        from core.models import familiarity

        calibration, files = self.manifest.calibration or {}, self.manifest.files
        if not calibration.get("familiarity") or not texts:
            return None
        try:
            if files.get("support"):
                if getattr(self, "support_", None) is None:
                    from safetensors.numpy import load_file

                    self.support_ = load_file(str(self.folder / files["support"]))["vectors"].astype(np.float32)
                vectors = self.embed(list(texts)) if vectors is None else vectors
                return familiarity.far(familiarity.nearest_similarity(vectors, self.support_), calibration)
            if files.get("terms"):
                if getattr(self, "terms_", None) is None:
                    self.terms_ = frozenset((self.folder / files["terms"]).read_text(encoding="utf-8").split())
                return familiarity.far(familiarity.known_share(list(texts), self.terms_), calibration)
        except (OSError, KeyError, ValueError, SafetensorError) as exc:
            raise ModelFolderError(f"'{self.folder}': its training-data measure is unreadable ({exc})") from None
        return None

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
        return calibrate(np.clip(np.nan_to_num(scores, nan=0.0), 0.0, 1.0), self.manifest)
