"""A fitted scikit-learn TF-IDF (word 1-grams, l2) + logistic regression as a sparse ONNX graph.

skl2onnx's graph runs ``TfIdfVectorizer`` then ``Normalizer`` then ``LinearClassifier`` on a dense
(batch x vocabulary) matrix: with a 30,000-word vocabulary most of the time goes into writing and
normalising zeros. This graph never builds that matrix. For the tokens t_1..t_n of a text
(vocabulary ids, unknown words -> an all-zero row):

    logits = (sum_i idf[t_i] * W[:, t_i]) / ||tfidf|| + b,
    ||tfidf||^2 = sum_i idf[t_i]^2 * count(t_i),   count(t_i) = #{j : t_j == t_i},

which is exactly what scikit-learn computes (``sublinear_tf=False``, ``norm="l2"``), without
the O(vocabulary) matrix. ``count`` comes from one ``Unique`` over (row, token id) keys of the
whole batch: O(n log n) in the number of tokens, so a text of a million characters costs seconds
and megabytes (``counting="pairwise"``, the earlier n x n comparison, is kept for benchmarks). The
tokens come from the same ``StringNormalizer`` and ``Tokenizer`` ops skl2onnx uses, with a
Unicode word pattern so Hungarian and Danish words survive.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.manifest import Manifest, write_manifest

# The same words in scikit-learn (Python regex) and in onnxruntime (RE2): letters and digits of
# any script, two or more.
SKLEARN_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
ONNX_TOKEN_PATTERN = r"[\p{L}\p{N}_]{2,}"


def tfidf_logreg_to_onnx(vectorizer, classifier, *, name: str = "tfidf_logreg", counting: str = "unique"):
    """Return an ``onnx.ModelProto``: input ``text`` (string, [N, 1]) -> ``probabilities`` [N, C]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if vectorizer.ngram_range != (1, 1) or vectorizer.analyzer != "word":
        raise ValueError("only word 1-gram TF-IDF can be exported this way")
    if vectorizer.sublinear_tf or vectorizer.norm != "l2" or not vectorizer.lowercase:
        raise ValueError("the export needs sublinear_tf=False, norm='l2' and lowercase=True")
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    size = len(vocabulary)
    idf = vectorizer.idf_.astype(np.float32) if vectorizer.use_idf else np.ones(size, np.float32)
    coef = np.asarray(classifier.coef_, dtype=np.float32)
    intercept = np.asarray(classifier.intercept_, dtype=np.float32)
    if coef.shape[0] == 1:  # binary: p1 = sigmoid(z) = softmax([0, z])[1]
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros(1, np.float32), intercept])
    n_classes = coef.shape[0]

    weighted = np.zeros((size + 1, n_classes), np.float32)  # row `size`: unknown words and padding
    weighted[:size] = idf[:, None] * coef.T
    idf_sq = np.zeros(size + 1, np.float32)
    idf_sq[:size] = idf ** 2
    words = sorted(vocabulary, key=vocabulary.get)

    nodes = [
        helper.make_node("Reshape", ["text", "flat_shape"], ["flat"]),
        helper.make_node("StringNormalizer", ["flat"], ["lower"], case_change_action="LOWER",
                         is_case_sensitive=0, locale="C.UTF-8"),
        helper.make_node("Tokenizer", ["lower"], ["tokens"], domain="com.microsoft", mark=0, mincharnum=1,
                         pad_value="#", tokenexp=ONNX_TOKEN_PATTERN),
        helper.make_node("LabelEncoder", ["tokens"], ["ids"], domain="ai.onnx.ml", keys_strings=words,
                         values_int64s=list(range(size)), default_int64=size),
        helper.make_node("Gather", ["weighted", "ids"], ["per_token"]),
        helper.make_node("ReduceSum", ["per_token", "axis1"], ["raw"], keepdims=0),
        helper.make_node("Gather", ["idf_sq", "ids"], ["token_idf_sq"]),
        *(_pairwise_count(helper, TensorProto) if counting == "pairwise" else _unique_count(helper, TensorProto)),
        helper.make_node("Mul", ["token_idf_sq", "count"], ["square_terms"]),
        helper.make_node("ReduceSum", ["square_terms", "axis1"], ["norm_sq"], keepdims=1),
        helper.make_node("Sqrt", ["norm_sq"], ["norm_raw"]),
        helper.make_node("Max", ["norm_raw", "tiny"], ["norm"]),
        helper.make_node("Div", ["raw", "norm"], ["scaled"]),
        helper.make_node("Add", ["scaled", "intercept"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    initializers = [
        numpy_helper.from_array(np.array([-1], np.int64), "flat_shape"),
        numpy_helper.from_array(weighted, "weighted"),
        numpy_helper.from_array(idf_sq, "idf_sq"),
        numpy_helper.from_array(intercept, "intercept"),
        numpy_helper.from_array(np.array(1e-12, np.float32), "tiny"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        numpy_helper.from_array(np.array([2], np.int64), "axis2"),
        numpy_helper.from_array(np.array(0, np.int64), "zero"),
        numpy_helper.from_array(np.array(1, np.int64), "one"),
        numpy_helper.from_array(np.array([0], np.int64), "first"),
        numpy_helper.from_array(np.array(size + 1, np.int64), "stride"),
    ]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("text", TensorProto.STRING, [None, 1])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, n_classes])],
        initializers,
    )
    opsets = [helper.make_opsetid(domain, version) for domain, version in
              (("", 17), ("com.microsoft", 1), ("ai.onnx.ml", 2))]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="workbench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


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
    from core.models.held_out import evaluate

    figures = evaluate(y_test, list(held_out.predict(x_test)))
    from core.models.calibration import calibrate, fit_temperature, with_conformal
    from core.models.familiarity import write_fingerprints, write_terms

    held_classes = [str(k) for k in held_out.classes_]
    known = [i for i, y in enumerate(y_test) if y in held_classes]
    gold = np.array([held_classes.index(y_test[i]) for i in known])
    proba = held_out.predict_proba([x_test[i] for i in known])
    temperature = {**fit_temperature(proba, gold), "fitted_on": f"the {test_size:.0%} held-out split"}
    calibrated = calibrate(proba, replace(manifest, calibration=temperature, multi_label=False))
    conformal = with_conformal({}, calibrated, gold, seed, held_classes)  # on the scores the runtime will give
    final = pipeline().fit(texts, codes)
    classes = [str(k) for k in final.classes_]
    onx = tfidf_logreg_to_onnx(final.steps[0][1], final.steps[1][1])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(onx.SerializeToString())
    familiar, terms = write_terms(folder, texts)
    manifest = replace(
        manifest, codes=tuple(classes), runtime="onnx-text", multi_label=False,
        files={"onnx": "model.onnx", "terms": terms, "training_texts": write_fingerprints(folder, texts)},
        training={**manifest.training, "examples": len(texts), "per_code": dict(sorted(Counter(codes).items())),
                  "method": "TF-IDF (word 1-grams) + logistic regression", "held_out_fraction": test_size},
        evaluation={"held_out": figures},
        calibration={**temperature, "familiarity": familiar, "conformal_rows": conformal["conformal_rows"],
                     "conformal_from": f"the {test_size:.0%} held-out split"},
    )
    write_manifest(folder, manifest)
    return manifest


def _unique_count(helper, TensorProto) -> list:
    """count[r, i] = how often token i of row r occurs in row r, from one sort of the batch's
    (row x stride + id) keys."""
    return [
        helper.make_node("Shape", ["ids"], ["ids_shape"]),
        helper.make_node("Gather", ["ids_shape", "zero"], ["rows"]),
        helper.make_node("Range", ["zero", "rows", "one"], ["row_index"]),
        helper.make_node("Unsqueeze", ["row_index", "axis1"], ["row_col"]),
        helper.make_node("Mul", ["row_col", "stride"], ["row_base"]),
        helper.make_node("Add", ["ids", "row_base"], ["keys"]),
        helper.make_node("Unique", ["keys"], ["unique_keys", "first_at", "inverse", "counts"], sorted=1),
        helper.make_node("Gather", ["counts", "inverse"], ["count_flat"]),
        helper.make_node("Reshape", ["count_flat", "ids_shape"], ["count_int"], allowzero=1),  # [N, 0] too
        helper.make_node("Cast", ["count_int"], ["count"], to=TensorProto.FLOAT),
    ]


def _pairwise_count(helper, TensorProto) -> list:
    """count[r, i] by comparing every token of a row with every other: O(n^2) time and memory."""
    return [
        helper.make_node("Unsqueeze", ["ids", "axis2"], ["ids_col"]),
        helper.make_node("Unsqueeze", ["ids", "axis1"], ["ids_row"]),
        helper.make_node("Equal", ["ids_col", "ids_row"], ["same"]),
        helper.make_node("Cast", ["same"], ["same_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["same_f", "axis2"], ["count"], keepdims=0),
    ]


__all__ = ["ONNX_TOKEN_PATTERN", "SKLEARN_TOKEN_PATTERN", "tfidf_logreg_to_onnx", "train_tfidf_model"]
