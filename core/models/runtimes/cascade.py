"""A supervised model choosing the branch and a zero-shot model ranking the nodes below it (the
``cascade`` runtime; see ``core.models.cascade``). The folder holds both members under ``members/``;
they share an encoder, so a record is encoded once and a kept vector serves both."""

from __future__ import annotations

import numpy as np

from core.models.calibration import calibrate
from core.models.manifest import ModelFolderError
from core.models.runtimes.base import Classifier


class CascadeClassifier(Classifier):
    name = "cascade"

    def _load(self) -> None:
        from core.models.runtimes import load_classifier

        files = self.manifest.files
        try:
            self.supervised_ = load_classifier(self.folder / files["supervised"], threads=self.threads)
            self.zero_shot_ = load_classifier(self.folder / files["zero_shot"], threads=self.threads)
        except KeyError as exc:
            raise ModelFolderError(f"'{self.folder}' names no {exc.args[0]} member in its manifest") from None
        self.branch_ = np.asarray(self.manifest.training.get("branches") or [], dtype=np.int64)
        self.weight_ = float(self.manifest.training.get("weight", 0.5))
        codes = self.manifest.codes
        if len(self.branch_) != len(codes) or tuple(self.zero_shot_.manifest.codes) != codes:
            raise ModelFolderError(f"'{self.folder}': its codes, branches and zero-shot member do not match")
        if self.supervised_.encoder_id != self.zero_shot_.encoder_id:
            raise ModelFolderError(f"'{self.folder}': the members must read the same encoder")

    @property
    def encoder_id(self) -> str | None:
        return self.zero_shot_.encoder_id

    def far_from_training(self, texts, vectors=None):
        return self.supervised_.far_from_training(texts, vectors)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.zero_shot_.embed(texts)

    def _from_vectors(self, vectors: np.ndarray) -> np.ndarray:
        from core.models.cascade import combine

        return combine(self.supervised_.scores_from_vectors(vectors), self.zero_shot_.scores_from_vectors(vectors),
                       self.branch_, self.weight_)

    def scores_from_vectors(self, vectors: np.ndarray, texts: list[str] | None = None) -> np.ndarray:  # noqa: ARG002 - the interface's signature
        return calibrate(self._from_vectors(vectors), self.manifest)

    def _scores(self, texts: list[str]) -> np.ndarray:
        return self._from_vectors(self.embed(texts))
