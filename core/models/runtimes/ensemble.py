"""An ensemble: a weighted mean of member models' scores (the ``ensemble`` kind).

The folder holds its members as sub-folders (``members/<name>/``, ordinary model folders) and the
weights in its manifest (``training.weights``, fitted on predictions for data the members were not
trained on). Each member's codes are mapped onto the ensemble's codes (their union); a code a
member cannot predict gets nothing from it. ``training.member_codes`` may map a member's codes onto
others of the ensemble (``{member: {its code: the ensemble's code}}``): a zero-shot member scoring
the taxonomy's leaves gives each ensemble code the sum of its leaves' scores (the roll-up).
Members that read the same encoder's vectors share one encoding of each text.
"""

from __future__ import annotations

import numpy as np

from core.models.calibration import calibrate
from core.models.manifest import ModelFolderError
from core.models.runtimes.base import Classifier


def aligned(scores: np.ndarray, columns: np.ndarray, n_codes: int, *, fold: str = "sum",
            prior: np.ndarray | None = None) -> np.ndarray:
    """A member's scores (rows x its codes) on the ensemble's ``n_codes`` columns: each member code
    to ``columns`` (-1: not an ensemble code), several codes to one column by their sum or, with
    ``fold`` "max", their best (the row renormalised); with ``prior`` (one share per member code)
    divided by it first (the row renormalised)."""
    scores = np.asarray(scores, dtype=np.float32)
    if prior is not None:
        scores = scores / np.maximum(prior, 1e-6)
        scores = scores / np.maximum(scores.sum(axis=1, keepdims=True), 1e-12)
    out = np.zeros((len(scores), n_codes), dtype=np.float32)
    keep = columns >= 0
    if fold == "max":
        np.maximum.at(out.T, columns[keep], scores[:, keep].T)
        return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)
    np.add.at(out.T, columns[keep], scores[:, keep].T)  # several member codes may share one
    return out


def member_prior(codes, shares: dict | None) -> np.ndarray | None:
    """A member's ``training.member_prior`` as one share per member code (None: no prior divided out)."""
    if not shares:
        return None
    prior = np.array([float(shares.get(c, 0.0)) for c in codes], dtype=np.float32)
    return prior / prior.sum() if prior.sum() > 0 else None


class EnsembleClassifier(Classifier):
    name = "ensemble"
    records_per_s = 120.0

    def _load(self) -> None:
        from core.models.runtimes import load_classifier

        members = self.manifest.training.get("members") or []
        weights = self.manifest.training.get("weights") or []
        if not members or len(members) != len(weights):
            raise ModelFolderError(f"'{self.folder}': an ensemble needs its members and one weight per member")
        self.members_, self.weights_, self.columns_ = [], [float(w) for w in weights], []
        index = {c: i for i, c in enumerate(self.manifest.codes)}
        maps = self.manifest.training.get("member_codes") or {}
        folds = self.manifest.training.get("member_fold") or {}
        priors = self.manifest.training.get("member_prior") or {}
        self.folds_, self.priors_ = [], []
        for name in members:
            folder = self.folder / "members" / str(name)
            if folder.resolve().parent != (self.folder / "members").resolve():
                raise ModelFolderError(f"'{self.folder}': member '{name}' lies outside the folder")
            member = load_classifier(folder, threads=self.threads, long_texts=self.long_texts,
                                     max_chunks=self.max_chunks)
            self.members_.append(member)
            mapped = maps.get(str(name)) or {}
            self.columns_.append(np.array([index.get(mapped.get(c, c), -1) for c in member.manifest.codes]))
            self.folds_.append(str(folds.get(str(name)) or "sum"))
            self.priors_.append(member_prior(member.manifest.codes, priors.get(str(name))))

    @property
    def encoder_id(self) -> str | None:
        return next((m.encoder_id for m in self.members_ if m.encoder_id), None)

    def combine(self, member_scores: list[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(member_scores[0]), len(self.manifest.codes)), dtype=np.float32)
        for scores, columns, weight, fold, prior in zip(member_scores, self.columns_, self.weights_, self.folds_,
                                                        self.priors_):
            out += weight * aligned(scores, columns, len(self.manifest.codes), fold=fold, prior=prior)
        total = sum(self.weights_) or 1.0
        return out / total

    def scores_from_vectors(self, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        """Scores where the encoder members' vectors are known (the cache); other members read the texts."""
        parts = [m.scores_from_vectors(vectors, texts) for m in self.members_]
        return calibrate(np.clip(self.combine(parts), 0.0, 1.0), self.manifest)

    def far_from_training(self, texts, vectors=None):
        """Far where any member that measures it says so (the conservative reading)."""
        flags = [m.far_from_training(texts, vectors if m.reads_vectors else None) for m in self.members_]
        flags = [f for f in flags if f is not None]
        return np.logical_or.reduce(flags) if flags else None

    def embed(self, texts: list[str]) -> np.ndarray:
        member = next(m for m in self.members_ if m.reads_vectors)
        return member.embed(texts)

    def _scores(self, texts: list[str]) -> np.ndarray:
        readers = {m.encoder_id for m in self.members_ if m.reads_vectors}
        if len(readers) == 1 and all(m.reads_vectors for m in self.members_):  # one encoding for every member
            vectors = self.embed(texts)
            return self.combine([m.scores_from_vectors(vectors, texts) for m in self.members_])
        return self.combine([m.predict_scores(texts) for m in self.members_])
