"""The sparse TF-IDF + logistic regression graph gives scikit-learn's probabilities exactly, on
English, Hungarian and Danish text, and the onnx-text runtime also runs skl2onnx's dense graphs."""

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from core.models.manifest import Manifest, write_manifest
from core.models.runtimes import load_classifier
from core.models.tfidf_onnx import ONNX_TOKEN_PATTERN, SKLEARN_TOKEN_PATTERN, tfidf_logreg_to_onnx
from tests.conftest import DATA

ODD = ["", "!!! ???", "a", "Árvíztűrő tükörfúrógép ÁRVÍZTŰRŐ", "økonomi og æbler på Ærø", "x" * 5000,
       "the the the the the the", "123 4567 ab_cd", "naïve café résumé"]


def corpus():
    frames = [pd.read_csv(DATA / "corpora" / name, dtype=str, keep_default_na=False)
              for name in ("sci_mag_paper_titles_dev.csv",)]
    titles = frames[0][["title", "ford_l2"]].head(1200)
    return titles["title"].tolist(), titles["ford_l2"].tolist()


def session(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def run(sess, texts):
    return sess.run(["probabilities"], {"text": np.array(texts, dtype=object).reshape(-1, 1)})[0]


@pytest.fixture(scope="module")
def fitted():
    texts, codes = corpus()
    vec = TfidfVectorizer(token_pattern=SKLEARN_TOKEN_PATTERN)
    clf = LogisticRegression(max_iter=1000, C=10).fit(vec.fit_transform(texts + ODD[3:5] * 3), codes + ["1.1"] * 6)
    return vec, clf, texts


def test_sparse_graph_equals_scikit_learn(fitted):
    vec, clf, texts = fitted
    sample = texts[:300] + ODD
    expected = clf.predict_proba(vec.transform(sample))
    got = run(session(tfidf_logreg_to_onnx(vec, clf)), sample)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-5
    # a batch in which no text has a single known word
    empty = run(session(tfidf_logreg_to_onnx(vec, clf)), ["", "!!"])
    assert np.abs(empty - clf.predict_proba(vec.transform(["", "!!"]))).max() < 1e-5


def test_binary_classifier(fitted):
    vec, _, texts = fitted
    labels = ["a" if i % 3 else "b" for i in range(len(texts))]
    clf = LogisticRegression(max_iter=1000).fit(vec.transform(texts), labels)
    got = run(session(tfidf_logreg_to_onnx(vec, clf)), texts[:50] + ODD)
    assert np.abs(got - clf.predict_proba(vec.transform(texts[:50] + ODD))).max() < 1e-5


def test_unsupported_settings_are_refused(fitted):
    _, clf, texts = fitted
    vec = TfidfVectorizer(ngram_range=(1, 2)).fit(texts)
    with pytest.raises(ValueError, match="1-gram"):
        tfidf_logreg_to_onnx(vec, clf)
    vec = TfidfVectorizer(sublinear_tf=True).fit(texts)
    with pytest.raises(ValueError, match="sublinear_tf"):
        tfidf_logreg_to_onnx(vec, clf)


def test_runtime_runs_a_skl2onnx_graph_too(fitted, tmp_path):
    """A user's own skl2onnx export (dense graph, ZipMap off) loads in the same runtime."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType
    from sklearn.pipeline import Pipeline

    vec, clf, texts = fitted
    pipe = Pipeline([("tfidf", vec), ("clf", clf)])
    onx = convert_sklearn(pipe, initial_types=[("text", StringTensorType([None, 1]))],
                          options={id(vec): {"locale": "C.UTF-8", "tokenexp": ONNX_TOKEN_PATTERN},
                                   id(clf): {"zipmap": False}}, target_opset=17)
    (tmp_path / "model.onnx").write_bytes(onx.SerializeToString())
    write_manifest(tmp_path, Manifest(name="skl", version="1", taxonomy="ford",
                                      codes=tuple(str(c) for c in clf.classes_), runtime="onnx-text"))
    sample = texts[:200] + ODD
    one = load_classifier(tmp_path, threads=1).predict_scores(sample)
    two = load_classifier(tmp_path, threads=2).predict_scores(sample)
    expected = clf.predict_proba(vec.transform(sample))
    assert np.array_equal(one, two)
    assert (one.argmax(1) == expected.argmax(1)).mean() > 0.99


def test_a_million_character_text_in_a_batch_of_titles(fitted, tmp_path):
    """Counting tokens is O(n log n): a 1,000,000-character record (the earlier n x n comparison
    asked for tens of GB) is scored exactly, beside titles, in well under a second or two."""
    import time

    vec, clf, texts = fitted
    words = " ".join(texts).split()
    huge = " ".join(words[i % len(words)] for i in range(170_000))[:1_000_000]
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(tfidf_logreg_to_onnx(vec, clf).SerializeToString())
    write_manifest(folder, Manifest(name="t", version="1", taxonomy="ford", codes=tuple(clf.classes_),
                                    runtime="onnx-text"))
    batch = texts[:50] + [huge] + texts[50:100]
    start = time.perf_counter()
    got = load_classifier(folder).predict_scores(batch)
    assert time.perf_counter() - start < 10
    want = clf.predict_proba(vec.transform(batch))
    assert np.abs(np.delete(got, 50, axis=0) - np.delete(want, 50, axis=0)).max() < 1e-5
    assert np.abs(got[50] - want[50]).max() < 1e-3  # float32 sums over 170,000 tokens
    assert (got.argmax(1) == want.argmax(1)).all()
