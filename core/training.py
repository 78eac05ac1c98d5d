"""Training the TF-IDF + linear baseline and exporting it as an ONNX model folder."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.manifest import Manifest, write_manifest

# The same words in scikit-learn (Python regex) and in onnxruntime (RE2): letters and digits of
# any script, two or more, so Hungarian and Danish words survive.
SKLEARN_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
ONNX_TOKEN_PATTERN = r"[\p{L}\p{N}_]{2,}"


def evaluate(y_true: Sequence[str], y_pred: Sequence[str]) -> dict:
    """Strict single-label figures: weighted and macro F1, accuracy, and per-category P/R/F1."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = sorted(set(y_true) | set(y_pred))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "strict_weighted_f1": round(float(f1_score(y_true, y_pred, average="weighted", zero_division=0)), 4),
        "strict_macro_f1": round(float(f1_score(y_true, y_pred, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "test_size": len(y_true),
        "per_category": {
            code: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4),
                   "support": int(s[i])}
            for i, code in enumerate(labels)
        },
    }


def train_tfidf_model(
    texts: Sequence[str],
    codes: Sequence[str],
    folder: str | Path,
    manifest: Manifest,
    *,
    test_size: float = 0.2,
    max_features: int = 50000,
    c: float = 10.0,
    seed: int = 0,
) -> Manifest:
    """Fit TF-IDF + logistic regression, evaluate on a held-out split, refit on everything,
    and write ``model.onnx`` + the manifest (with the held-out figures) into ``folder``."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline

    def pipeline() -> Pipeline:
        return Pipeline([
            ("tfidf", TfidfVectorizer(token_pattern=SKLEARN_TOKEN_PATTERN, lowercase=True, min_df=1,
                                      max_features=max_features, sublinear_tf=False)),
            ("clf", LogisticRegression(max_iter=2000, C=c)),
        ])

    texts, codes = list(texts), [str(c_) for c_ in codes]
    counts = Counter(codes)
    stratify = codes if min(counts.values()) >= 2 else None
    x_train, x_test, y_train, y_test = train_test_split(texts, codes, test_size=test_size, random_state=seed,
                                                        stratify=stratify)
    held_out = pipeline().fit(x_train, y_train)
    figures = evaluate(y_test, list(held_out.predict(x_test)))
    final = pipeline().fit(texts, codes)
    classes = [str(k) for k in final.classes_]
    onx = convert_sklearn(
        final,
        initial_types=[("text", StringTensorType([None, 1]))],
        options={id(final.steps[0][1]): {"locale": "C.UTF-8", "tokenexp": ONNX_TOKEN_PATTERN},
                 id(final.steps[1][1]): {"zipmap": False}},
        target_opset=17,
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(onx.SerializeToString())
    manifest = replace(
        manifest, codes=tuple(classes), runtime="onnx-text", multi_label=False, files={"onnx": "model.onnx"},
        training={**manifest.training, "examples": len(texts), "per_code": dict(sorted(Counter(codes).items())),
                  "method": "TF-IDF (word 1-grams) + logistic regression", "held_out_fraction": test_size},
        evaluation={"held_out": figures},
    )
    write_manifest(folder, manifest)
    return manifest


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.argmax(a, axis=1) == np.argmax(b, axis=1)))
