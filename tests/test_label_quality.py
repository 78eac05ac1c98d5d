"""Labels that look wrong: confident learning over out-of-fold probabilities finds wrong imported
labels in a real workspace, and the Annotate queue opens them worst first."""

import numpy as np
import pytest

from core.domain.labels import QueueSpec
from core.work.label_quality import MIN_LABELS, review_labels, suspect_queue
from tests.conftest import corpus, import_frame


def _coded(store, rows: int = 600, noise: float = 0.1, seed: int = 0):
    """NYT headlines imported with their CAP major topics, ``noise`` of them replaced by another code."""
    frame = corpus("cap_nyt_headlines_sample.csv", slice(0, rows))
    frame = frame[frame["cap_major"] != ""].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    codes = sorted(set(frame["cap_major"]))
    wrong = set(int(i) for i in rng.permutation(len(frame))[: int(noise * len(frame))])
    frame["given"] = [rng.choice([c for c in codes if c != g]) if i in wrong else g
                      for i, g in enumerate(frame["cap_major"])]
    import_frame(store, frame[["id", "title", "given"]], "nyt.csv", {"id": "id", "title": "title", "label": "given"},
                 taxonomy_id="cap")
    return frame, {str(frame["id"][i]) for i in wrong}


def test_wrong_imported_labels_come_first(store):
    frame, wrong = _coded(store)
    cap = store.load_taxonomy("cap")
    review = review_labels(store, cap)
    assert review.note == "" and review.level == 1 and review.labels >= 500
    flagged = review.flagged
    assert list(flagged.columns)[:5] == ["record_id", "external_id", "text", "given", "suggested"]
    top = set(flagged["external_id"].head(len(frame) // 10))
    assert len(top & wrong) / len(top) >= 0.3  # 3 times chance (0.1) on 600 short headlines
    assert (flagged["given"] != flagged["suggested"]).mean() > 0.9  # the model's view differs from the label
    assert flagged["given_probability"].is_monotonic_increasing or \
        flagged["given_probability"].head(20).mean() < flagged["given_probability"].tail(20).mean()
    assert set(flagged["source"]) == {"imported"}
    queue = suspect_queue(review, QueueSpec("cap", order="import"))
    assert queue.ids == list(dict.fromkeys(flagged["record_id"])) and queue.spec.status == "any"


def test_too_few_labels_say_so(store):
    _coded(store, rows=MIN_LABELS - 10, noise=0.0)
    review = review_labels(store, store.load_taxonomy("cap"))
    assert review.flagged.empty and "at least 50 labels" in review.note


def test_training_can_leave_out_the_worst_unreviewed_flags_and_says_so(store, tmp_path):
    from core.work.annotation import Annotator
    from core.work.label_quality import unreviewed_flags
    from core.work.learning import LearningError, TrainOptions, train_version

    frame, wrong = _coded(store)
    cap = store.load_taxonomy("cap")
    review = review_labels(store, cap)
    worst = unreviewed_flags(review, 500, 0.05)
    assert len(worst) == 25 and worst == [int(i) for i in review.flagged["record_id"].head(25)]
    # an expert confirms the worst one: reviewed, it is no longer left out
    given = review.flagged["given"].iloc[0]
    Annotator(store, "eva", "expert", cap).correct(worst[0], [given], ())
    again = unreviewed_flags(review_labels(store, cap), 500, 0.05)
    assert worst[0] not in again and len(again) == 25
    report = train_version(store, cap, tmp_path, TrainOptions("tfidf", include_imported=True, leave_out_flagged=0.05))
    plain = train_version(store, cap, tmp_path, TrainOptions("tfidf", include_imported=True))
    left = report.manifest.training["left_out_flagged"]
    assert left["share"] == 0.05 and 0 < left["records"] <= 0.05 * plain.examples + 1
    assert report.examples == plain.examples - left["records"]  # those labels were not trained on
    lineage = {r["folder"]: r["params"].get("left_out_flagged") for r in store.version_rows("cap")}
    assert lineage == {report.folder.name: left, plain.folder.name: None}
    assert "left_out_flagged" not in plain.manifest.training  # off by default
    with pytest.raises(LearningError, match="must lie between 0 and 0.5"):
        train_version(store, cap, tmp_path, TrainOptions("tfidf", include_imported=True, leave_out_flagged=0.9))
