"""Suggestions within a part of the tree: the scores renormalised there (real FORD taxonomy, real
TF-IDF model), a bulk job and ``classify`` limited to one field, triage within the limit, and the
limit kept with each suggestion's provenance."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from core.models.limits import LimitError, describe, limited_scores, normal_limit, within_columns
from tests.conftest import DATA, ROOT


@pytest.fixture
def ford(store):
    return store.load_taxonomy("ford")


def titles(n: int, start: int = 2000) -> pd.DataFrame:
    frame = pd.read_csv(DATA / "corpora" / "sci_mag_paper_titles_dev.csv", dtype=str).iloc[start:start + n]
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "title": frame["title"].tolist()})


def test_scores_are_renormalised_within_the_limit_and_what_lies_outside_is_told(ford, ford_tfidf):
    manifest = ford_tfidf.manifest  # level-2 codes of fields 3 and 5
    scores = ford_tfidf.predict_scores(titles(40)["title"].tolist())
    inside, outside = limited_scores(manifest, ford, scores, ("5",))
    keep = np.array([c.startswith("5.") for c in manifest.codes])
    assert (inside[:, ~keep] == 0).all() and np.allclose(inside.sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(outside, scores[:, ~keep].sum(axis=1) / scores.sum(axis=1), atol=1e-5)
    ratio = inside[:, keep] / scores[:, keep]  # the order within is the model's own
    assert np.allclose(ratio, ratio[:, :1], rtol=1e-4)
    # a limit deeper than a model's codes keeps the code above it (a coarser model still says which field)
    assert within_columns(("1", "5", "3"), ford, ["5.2"]).tolist() == [False, True, False]
    assert within_columns(manifest.codes, ford, ["5.2"]).tolist() == [c == "5.2" for c in manifest.codes]
    same, none_outside = limited_scores(manifest, ford, scores, ())
    assert np.array_equal(same, scores.astype(np.float32)) and not none_outside.any()
    with pytest.raises(LimitError, match="none of ford-test's codes lies within 1.1"):
        limited_scores(manifest, ford, scores, ("1.1",))
    assert normal_limit(ford, ["5.2", "5", " ", "5"]) == ("5",)
    with pytest.raises(LimitError, match="'9.9' is not a code"):
        normal_limit(ford, ["9.9"])
    assert describe(ford, ("5.2",)).startswith("5.2 Economics")


def test_the_card_ranks_within_the_limit_and_keeps_it_in_the_event(arxiv_ws, ford_tfidf):
    from core.work.annotation import Annotator, model_view

    store, ford = arxiv_ws
    record = store.record(store.db.execute("SELECT min(id) FROM records").fetchone()[0])
    view = model_view(ford_tfidf, ford, record, within=("3",))
    assert view.within == ("3",) and 0 <= view.outside <= 1
    assert view.suggestions and all(s.code.startswith("3.") and s.within == ("3",) for s in view.suggestions)
    event = Annotator(store, "Eva", "expert", ford).accept(record["id"], view.suggestions[0], view.suggestions)
    assert [s.within for s in store.events(record["id"], taxonomy_id="ford")[-1].shown] == [("3",)] * len(
        view.suggestions) and event.codes == (view.suggestions[0].code,)
    assert store.verify_events().intact


def test_a_bulk_job_limited_to_one_field_ranks_and_triages_within_it(store, ford_tfidf, tmp_path):
    from core.jobs import JobError, JobParams, create_job, result_rows, run_job, triage

    titles(300).to_csv(tmp_path / "in.csv", index=False)

    def params(top_k=2, **kw):
        return JobParams(source=str(tmp_path / "in.csv"), file_name="in.csv", mapping={"id": "id", "title": "title"},
                         models=[str(ford_tfidf.folder)], taxonomy_id="ford", top_k=top_k, **kw)

    with pytest.raises(JobError, match="none of ford-test's codes lies within 1"):
        create_job(store, params(within=["1"]), "Lib")
    with pytest.raises(LimitError, match="'7' is not a code"):
        create_job(store, params(within=["7"]), "Lib")
    assert not store.db.execute("SELECT count(*) FROM jobs").fetchone()[0]  # nothing half-made
    job = run_job(store.path, create_job(store, params(within=["5.2", "5.6", "5.6"]), "Lib"))
    assert job.status == "done" and job.params.within == ["5.2", "5.6"]
    header, rows = next(result_rows(store, job, "en", chunk_size=1000))
    frame = pd.DataFrame(rows, columns=header)
    assert len(frame) == 300 and list(frame["id"]) == [f"r{i}" for i in range(300)]  # each row its own
    assert set(frame["code_1"]) <= {"5.2", "5.6"} and set(frame["code_2"].dropna()) <= {"5.2", "5.6", ""}
    scores = frame[["score_1", "score_2"]].astype(float).fillna(0).sum(axis=1)
    assert np.allclose(scores, 1.0, atol=1e-4)  # two codes within: their scores share all of it
    # the stored predictions stay the model's own (queues and figures read them)
    own = store.db.execute("SELECT count(DISTINCT top_code) FROM predictions WHERE model_name = 'ford-test'").fetchone()
    assert own[0] > 2
    report = triage(store, job, "ford-test", {"5.2": 0.9, "5.6": 0.9}, default=float("inf"))
    assert report.accepted > 0 and set(report.per_code) <= {"5.2", "5.6"}
    reasons = [r[0] for r in store.db.execute("SELECT reason FROM annotations WHERE action = 'machine-accept'")]
    assert all("within 5.2, 5.6" in r for r in reasons)
    # a job showing one code a row still keeps the second for triage (its conformal sets need it)
    one = run_job(store.path, create_job(store, params(top_k=1, within=["5.2", "5.6"]), "Lib"))
    header, _ = next(result_rows(store, one, "en", chunk_size=10))
    assert header[-3:] == ["code_1", "name_1", "score_1"]
    tops = store.job_result_tops(one.id, "ford-test", "ford")
    assert len(tops) == 300 and all(abs(top + second - 1.0) < 1e-4 for _, _, top, _, second in tops)


def test_classify_within_a_field_from_the_command_line(tmp_path, ford_tfidf):
    titles(200).to_csv(tmp_path / "in.csv", index=False)

    def run(*extra):
        return subprocess.run([sys.executable, "-m", "core", "--db", str(tmp_path / "c.db"), "classify",
                               str(tmp_path / "in.csv"), str(tmp_path / "out.csv"), "--model", str(ford_tfidf.folder),
                               "--map", "title=title", "--quiet", *extra], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)

    out = run("--within", "3")
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert len(frame) == 200 and set(frame["code_1"]) == {"3.2"}  # the one code of field 3 the model has
    out = run("--within", "1.1,4")
    assert out.returncode != 0 and "none of ford-test's codes lies within 1.1, 4" in out.stderr
    assert "Traceback" not in out.stderr
