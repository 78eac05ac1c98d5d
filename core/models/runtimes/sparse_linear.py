"""TF-IDF over word n-grams and character n-grams + a linear model, for any language (Hungarian
inflection included): the kind the workbench trains from its own labels.

The folder holds ``features.json`` (each vectorizer's settings and vocabulary) and
``weights.safetensors`` (each vectorizer's idf, the coefficients and intercepts): nothing is
unpickled. Scoring rebuilds scikit-learn's vectorizers from them, so it is exactly what was
trained; each vectorizer's rows are l2-normalised, then stacked, then softmax over the classes.
"""

from __future__ import annotations

import json

import numpy as np

from core.models.manifest import ModelFolderError
from core.models.runtimes.base import Classifier

SETTINGS = ("analyzer", "ngram_range", "lowercase", "token_pattern", "sublinear_tf", "max_features", "min_df")


class SparseLinearClassifier(Classifier):
    name = "sparse-linear"
    records_per_s = 2000.0

    def _load(self) -> None:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file
        from sklearn.feature_extraction.text import TfidfVectorizer

        features, weights = self.folder / "features.json", self.folder / "weights.safetensors"
        for path in (features, weights):
            if not path.exists():
                raise ModelFolderError(f"'{path}' is missing")
        try:
            spec = json.loads(features.read_text(encoding="utf-8"))
            arrays = load_file(str(weights))
            self.vectorizers_ = []
            for i, settings in enumerate(spec["vectorizers"]):
                vec = TfidfVectorizer(**{k: (tuple(v) if k == "ngram_range" else v)
                                         for k, v in settings["settings"].items() if k in SETTINGS})
                vec.vocabulary_ = {str(k): int(j) for k, j in settings["vocabulary"].items()}
                vec.idf_ = arrays[f"idf_{i}"]
                self.vectorizers_.append(vec)
            self.coef_, self.intercept_ = arrays["coef"], arrays["intercept"]
        except (KeyError, ValueError, TypeError, json.JSONDecodeError, SafetensorError) as exc:
            raise ModelFolderError(f"'{self.folder}' holds no readable sparse-linear model ({exc})") from None
        if self.coef_.shape[0] != len(self.manifest.codes):
            raise ModelFolderError(f"'{weights}' has {self.coef_.shape[0]} classes, the manifest "
                                   f"{len(self.manifest.codes)} codes")

    def _scores(self, texts: list[str]) -> np.ndarray:
        from scipy.sparse import hstack

        features = hstack([vec.transform(texts) for vec in self.vectorizers_]).tocsr()
        logits = np.asarray(features @ self.coef_.T) + self.intercept_
        if self.manifest.multi_label:  # one-vs-rest: a sigmoid per code
            return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def save_sparse_linear(folder, vectorizers, coef: np.ndarray, intercept: np.ndarray) -> dict[str, str]:
    """Write fitted vectorizers and a linear model as features.json + weights.safetensors."""
    from safetensors.numpy import save_file

    spec = {"vectorizers": [{"settings": {k: (list(v) if isinstance(v, tuple) else v)
                                          for k, v in vec.get_params().items() if k in SETTINGS},
                             "vocabulary": {k: int(j) for k, j in vec.vocabulary_.items()}} for vec in vectorizers]}
    (folder / "features.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    arrays = {f"idf_{i}": vec.idf_.astype(np.float64) for i, vec in enumerate(vectorizers)}
    arrays.update(coef=np.ascontiguousarray(coef, dtype=np.float64),
                  intercept=np.ascontiguousarray(intercept, dtype=np.float64))
    save_file(arrays, str(folder / "weights.safetensors"))
    return {"features": "features.json", "weights": "weights.safetensors"}
