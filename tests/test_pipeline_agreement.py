"""One scoring pipeline: the local ``classify``, a bulk job and ``classify --ray`` write the same
top-k codes and scores for the same CSV and XLSX file, and ``evaluate``'s per-row top-1 is their
``code_1``."""

import pandas as pd
import pytest

from core.jobs import JobParams, classify_file, create_job, get_job, run_job, write_results
from core.models.runtimes import load_classifier
from core.work.performance import evaluate_file
from tests.conftest import corpus, write_dummy_models

pytestmark = [pytest.mark.slow, pytest.mark.ray]
MAPPING = {"id": "id", "title": "title"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The same 300 records (later MAG titles than the model saw, a formula-like title, a
    Hungarian one) as CSV and as XLSX, with their gold codes."""
    folder = tmp_path_factory.mktemp("inputs")
    frame = corpus("sci_mag_paper_titles_dev.csv", slice(4000, 4300))[["title", "ford_l2"]]
    frame.insert(0, "id", [f"r{i:04d}" for i in range(len(frame))])
    frame.loc[5, "title"] = "=HYPERLINK(\"http://x\") quantum field theory"
    frame.loc[6, "title"] = "A búza és a kukorica terméshozamának összehasonlítása"
    frame.to_csv(folder / "records.csv", index=False)
    frame.to_excel(folder / "records.xlsx", index=False)
    return folder, frame


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    keep = ["id"] + [c for c in frame.columns if c.rsplit("_", 1)[0].endswith(("code", "score"))]
    return frame[keep].set_index("id").sort_index()


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a, b = _cells(a), _cells(b)
    assert list(a.columns) == list(b.columns) and list(a.index) == list(b.index)
    for column in a.columns:
        if "score" in column:
            x, y = pd.to_numeric(a[column], errors="coerce"), pd.to_numeric(b[column], errors="coerce")
            bad = (x - y).abs().fillna(0) > 2e-6  # written to 6 decimals: float32 noise may round 1e-6 apart
            assert not bad.any() and (x.isna() == y.isna()).all(), (column, pd.concat([x[bad], y[bad]], axis=1))
        else:
            assert (a[column].fillna("") == b[column].fillna("")).all(), column


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_local_job_and_ray_write_the_same_cells(suffix, inputs, ford_tfidf, store, tmp_path):
    from core.jobs.ray import classify_on_ray

    folder, frame = inputs
    source = folder / f"records.{suffix}"
    dummy = write_dummy_models(tmp_path / "models") / "ford-dummy"
    folders = [str(ford_tfidf.folder), str(dummy)]
    taxonomy = store.load_taxonomy("ford")
    classifiers = [load_classifier(f) for f in folders]

    local = tmp_path / "local.csv"
    assert classify_file(classifiers, taxonomy, source, source.name, MAPPING, local, top_k=3) == len(frame)
    local_frame = pd.read_csv(local, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if suffix == "csv":  # (pandas writes that title into the XLSX as a formula, which has no text)
        assert local_frame["title"].iloc[5].startswith("'=")  # spreadsheet-bound: formula neutralised

    job_id = create_job(store, JobParams(source=str(source), file_name=source.name, mapping=MAPPING, models=folders,
                                         taxonomy_id="ford", top_k=3, chunk=64), "test")
    assert run_job(store.path, job_id).status == "done"
    job_file = tmp_path / "job.csv"
    write_results(store, get_job(store, job_id), "csv", job_file)
    _same(local_frame, pd.read_csv(job_file, dtype=str, keep_default_na=False, encoding="utf-8-sig"))

    rows = classify_on_ray([source], tmp_path / "ray", folders, taxonomy, MAPPING, top_k=3, workers=2,
                           batch_size=100)  # a local Ray, started and shut down by the job
    assert rows == len(frame)
    parts = sorted((tmp_path / "ray").glob("*.csv"))
    ray_frame = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts], ignore_index=True)
    assert list(ray_frame["id"]) == list(frame["id"])  # input order kept
    _same(local_frame, ray_frame)

    report, rows_frame = evaluate_file(classifiers[0], taxonomy, source, source.name,
                                       {"title": "title", "label": "ford_l2"})
    empty = local_frame["ford-test_code_1"] == ""  # rows with no text (the XLSX formula cell): no guess
    assert report.samples == len(frame) - empty.sum() and report.summary["rows_without_text"] == empty.sum()
    assert [p[0] for p in rows_frame["pred"]] == local_frame.loc[~empty, "ford-test_code_1"].tolist()
    assert rows_frame["row"].tolist() == [i + 2 for i in frame.index[~empty]]  # each its own file row
