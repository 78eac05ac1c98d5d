"""Evidence on the card: the labelled records most like a record, from the embedding cache through
a faiss index kept up to date by the events that changed labels."""

import numpy as np
import pytest

from core.work import evidence
from core.work.annotation import Annotator
from core.work.evidence import EvidenceIndex, Neighbour
from tests.conftest import corpus, import_frame

KEY = "lsa-test/fields"  # the cache's name for the test's vectors


def _vectors(texts: list[str], dim: int = 64) -> np.ndarray:
    """Real sentence vectors for the test: TF-IDF reduced by truncated SVD (LSA), unit length."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1).fit_transform(texts)
    v = TruncatedSVD(dim, random_state=0).fit_transform(x).astype(np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


@pytest.fixture
def coded(store):
    """600 NYT headlines with their imported CAP major topics; the first 550 with a kept vector."""
    frame = corpus("cap_nyt_headlines_sample.csv", slice(0, 700))
    frame = frame[frame["cap_major"] != ""].head(600).reset_index(drop=True)
    import_frame(store, frame[["id", "title", "cap_major"]], "nyt.csv",
                 {"id": "id", "title": "title", "label": "cap_major"}, taxonomy_id="cap")
    rows = list(store.db.query("SELECT id, external_id, content_hash FROM records ORDER BY id"))
    vectors = _vectors(frame["title"].astype(str).tolist())
    store.save_embeddings(KEY, [(r["id"], r["content_hash"]) for r in rows[:550]], vectors[:550])
    gold = dict(zip(frame["id"].astype(str), frame["cap_major"].astype(str)))
    return store, store.load_taxonomy("cap"), rows, vectors, gold


def test_the_nearest_labelled_records_carry_the_records_topic(coded):
    store, cap, rows, vectors, gold = coded
    index = EvidenceIndex("cap", KEY)
    index.refresh(store)
    assert len(index.in_index) == 550 and len(index.waiting) == 50  # 50 labelled records without a vector yet
    hits = total = 0
    for r, v in zip(rows[:200], vectors[:200]):
        found = index.nearest(v, 10, exclude=r["id"])
        assert len(found) == 10 and r["id"] not in {n.record_id for n in found}  # never the record itself
        assert all(-1.0001 <= n.similarity <= 1.0001 for n in found)
        assert [n.similarity for n in found] == sorted((n.similarity for n in found), reverse=True)
        hits += sum(gold[r["external_id"]] in n.codes for n in found)
        total += len(found)
    # the neighbours share the record's topic far more often than two records drawn at random do
    shares = np.unique(list(gold.values()), return_counts=True)[1] / len(gold)
    assert hits / total > 1.5 * float((shares ** 2).sum()), (hits / total, (shares ** 2).sum())
    # an exact match: the same vector is found first, with similarity 1
    first = index.nearest(vectors[5], 1)[0]
    assert first == Neighbour(rows[5]["id"], pytest.approx(1.0, abs=1e-3), (gold[rows[5]["external_id"]],),
                              "imported")


def test_labels_saved_since_are_read_by_their_events(coded, monkeypatch):
    store, cap, rows, vectors, gold = coded
    index = EvidenceIndex("cap", KEY)
    index.refresh(store)
    target = rows[7]["id"]
    other = next(n.code for n in cap.at_level(1) if n.code != gold[rows[7]["external_id"]])
    ann = Annotator(store, "eva", "expert", cap)
    ann.correct(target, [other], ())  # an expert's label wins over the file's
    index.refresh(store)
    assert index.labels[target] == ((other,), "expert")
    from core.work.team import adjudicate

    adjudicate(store, cap, target, [gold[rows[7]["external_id"]]], by="lea", role="lead")
    index.refresh(store)
    assert index.labels[target] == ((gold[rows[7]["external_id"]],), "gold")  # a lead's gold label wins over both
    rejected = rows[9]["id"]
    ann.reject(rejected, ())  # nothing fits: the record is no evidence any more
    index.refresh(store)
    assert rejected not in index.labels
    assert rejected not in {n.record_id for n in index.nearest(vectors[9], 5)}
    ann.undo()  # its file's label counts again
    index.refresh(store)
    assert index.labels[rejected] == ((gold[rows[9]["external_id"]],), "imported")
    assert index.nearest(vectors[9], 1)[0].record_id == rejected
    # the background fill keeps vectors of labelled records: they are found after the next check
    store.save_embeddings(KEY, [(r["id"], r["content_hash"]) for r in rows[550:]], vectors[550:])
    monkeypatch.setattr(evidence, "RECHECK_S", 0.0)
    monkeypatch.setattr(evidence, "RECHECK_BATCH", 20)  # looked for 20 at a time, in turn
    index.refresh(store)
    assert len(index.in_index) == 570 and len(index.waiting) == 30
    index.refresh(store)
    index.refresh(store)
    assert len(index.in_index) == 600 and not index.waiting
    assert index.nearest(vectors[580], 1)[0].record_id == rows[580]["id"]


def test_another_taxonomy_or_encoder_finds_nothing(coded):
    store, cap, rows, vectors, gold = coded
    ford = EvidenceIndex("ford", KEY)
    ford.refresh(store)
    assert ford.nearest(vectors[0], 5) == [] and not ford.labels
    other = EvidenceIndex("cap", "another-encoder/fields")
    other.refresh(store)
    assert other.nearest(vectors[0], 5) == [] and len(other.waiting) == 600
    index = EvidenceIndex("cap", KEY)
    index.refresh(store)
    assert index.nearest(np.ones(7), 5) == []  # a vector of another size is never compared


def test_evidence_counts_the_neighbours_carrying_a_code_or_one_under_it(store):
    ford = store.load_taxonomy("ford")
    found = (Neighbour(1, 0.9, ("1.2",), "gold"), Neighbour(2, 0.8, ("1.2",), "expert"),
             Neighbour(3, 0.7, ("2.1",), "imported"))
    ev = evidence.Evidence(found, "minilm", 3, 0)
    assert ev.carrying("1.2", ford) == 2 and ev.carrying("1", ford) == 2 and ev.carrying("2", ford) == 1
    assert ev.carrying("3", ford) == 0
    assert ev.code_counts(ford) == [("1.2", 2), ("2.1", 1)] and ev.code_counts(ford, 1) == [("1", 2), ("2", 1)]


@pytest.mark.slow
def test_the_card_shows_the_labelled_records_behind_its_suggestions_and_opens_one(workspace_env, tmp_path,
                                                                                   monkeypatch):
    """An expert on the Annotate card sees, through the MiniLM head in use, the ten labelled
    records nearest to the record, how many carry each suggestion, and opens one of them."""
    from core.models.runtimes import load_classifier
    from core.store import Store
    from core.work.embeddings import fill_cache
    from core.work.workspace import ensure_builtin_taxonomies
    from tests.conftest import linked_models
    from tests.test_pages import _annotate

    models = linked_models(tmp_path / "evidence-models", "ford-minilm", encoders=True)
    monkeypatch.setenv("WORKBENCH_MODELS", str(models))
    monkeypatch.setenv("WORKBENCH_DEMO", "0")
    monkeypatch.setenv("WORKBENCH_EMBED", "0")
    frame = corpus("sci_mag_paper_titles_dev.csv", slice(0, 400)).reset_index(drop=True)
    frame["label"] = [c if i < 300 else "" for i, c in enumerate(frame["ford_l2"].astype(str))]
    frame["id"] = [f"m{i}" for i in range(len(frame))]
    workspace_env.mkdir(parents=True, exist_ok=True)
    with Store(workspace_env / "workbench.db") as db:
        ensure_builtin_taxonomies(db)
        import_frame(db, frame[["id", "title", "label"]], "mag.csv", {"id": "id", "title": "title", "label": "label"},
                     default_language="en")
        assert fill_cache(db, load_classifier(models / "ford-minilm")) == 400
    at = _annotate(workspace_env, model="ford-minilm")
    captions = [c.value for c in at.caption]
    assert any(c.startswith("**Nearest labelled records:**") for c in captions), captions
    picks = [b.label for b in at.button if b.key and b.key.startswith("annotate.pick.")]
    assert picks and all(" of 10 nearest]" in label for label in picks), picks
    assert any("Found with all-MiniLM-L6-v2" in c and "among 300 labelled records" in c for c in captions), captions
    shown = next(c for c in captions if c.startswith("id "))
    chosen = at.selectbox(key="annotate.evidence_pick")
    neighbour = chosen.options[2]
    chosen.select_index(2).run()
    at.button(key="annotate.evidence_open").click().run()
    assert not at.exception, at.exception
    now = next(c.value for c in at.caption if c.value.startswith("id "))
    assert now != shown and now.split(" · ")[0] == "id " + neighbour.split(" · ")[0]
    at.button(key="annotate.next").click().run()  # the record it came from follows it
    assert next(c.value for c in at.caption if c.value.startswith("id ")) == shown
