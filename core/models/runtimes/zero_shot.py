"""Zero-shot scores for every leaf of a taxonomy from sentence similarity (the ``zero-shot`` runtime;
see ``core.models.zeroshot``). The folder holds ``encoder/`` (links to the shared encoder) and
``nodes.safetensors`` (``nodes``: one vector per node description; ``owner``: the leaf each
describes). Like a head, it reads kept record vectors through ``scores_from_vectors``.
"""

from __future__ import annotations

import numpy as np

from core.models.calibration import calibrate
from core.models.manifest import ModelFolderError
from core.models.runtimes.base import Classifier


class ZeroShotClassifier(Classifier):
    name = "zero-shot"

    def _load(self) -> None:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        from core.models.encoder import Encoder
        from core.models.zeroshot import SHARPNESS

        nodes = self.folder / self.manifest.files.get("nodes", "nodes.safetensors")
        if not nodes.exists():
            raise ModelFolderError(f"'{nodes}' is missing")
        self.encoder_ = Encoder(self.folder / self.manifest.files.get("encoder", "encoder"), threads=self.threads)
        self.sharpness_ = float(self.manifest.training.get("sharpness") or SHARPNESS)
        try:
            arrays = load_file(str(nodes))
            self.nodes_, self.owner_ = arrays["nodes"].astype(np.float32), arrays["owner"].astype(np.int64)
        except (KeyError, ValueError, OSError, SafetensorError) as exc:
            raise ModelFolderError(f"'{nodes}' holds no readable node vectors ({exc})") from None
        if self.nodes_.shape[1] != self.encoder_.dim or len(self.owner_) != len(self.nodes_) or (
                len(self.owner_) and self.owner_.max() >= len(self.manifest.codes)):
            raise ModelFolderError(f"'{nodes}' does not match the manifest's {len(self.manifest.codes)} codes "
                                   f"and the encoder's {self.encoder_.dim} dimensions")

    @property
    def encoder_id(self) -> str:
        return self.encoder_.id

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.encoder_.embed(texts)

    def scores_from_vectors(self, vectors: np.ndarray, texts: list[str] | None = None) -> np.ndarray:  # noqa: ARG002 - the interface's signature
        from core.models.zeroshot import similarity_scores

        scores = similarity_scores(vectors, self.nodes_, self.owner_, len(self.manifest.codes), self.sharpness_)
        return calibrate(scores.astype(np.float32), self.manifest)

    def _scores(self, texts: list[str]) -> np.ndarray:
        from core.models.zeroshot import similarity_scores

        return similarity_scores(self.embed(texts), self.nodes_, self.owner_, len(self.manifest.codes),
                                 self.sharpness_)
