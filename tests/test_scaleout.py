"""The classification step on a local Ray instance with two workers gives the same codes as the
single-process path."""

import pandas as pd
import pytest

from core.files.taxonomy_io import read_taxonomy_file
from core.jobs import classify_file
from core.models.runtimes import load_classifier
from tests.conftest import DATA, ROOT, default_model

pytestmark = [pytest.mark.slow, pytest.mark.ray]

ray = pytest.importorskip("ray")
TFIDF = default_model("ford-tfidf")


def test_ray_two_workers_match_the_local_path(tmp_path):
    from core.jobs.ray import classify_on_ray

    ford = read_taxonomy_file(DATA / "taxonomies" / "ford.csv")
    frame = pd.read_csv(DATA / "corpora" / "sci_arxiv_abstracts_sample.csv", dtype=str, keep_default_na=False)
    frame = frame[["id", "title", "abstract"]].head(1200)
    frame.loc[0, "title"] = "=cmd|' /C calc'!A0 " + frame.loc[0, "title"]
    for part in range(3):  # several input files, as a corpus split over files would be
        frame.iloc[part * 400:(part + 1) * 400].to_csv(tmp_path / f"in-{part}.csv", index=False)
    mapping = {"id": "id", "title": "title", "abstract": "abstract"}
    rows = classify_on_ray(sorted(tmp_path.glob("in-*.csv")), tmp_path / "out", [TFIDF], ford, mapping,
                           top_k=2, workers=2, batch_size=200)
    assert rows == 1200
    got = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((tmp_path / "out").iterdir())])
    got = got.set_index("id").loc[frame["id"]]
    frame.to_csv(tmp_path / "all.csv", index=False)
    classify_file([load_classifier(TFIDF)], ford, tmp_path / "all.csv", "all.csv", mapping, tmp_path / "local.csv",
                  top_k=2)
    local = pd.read_csv(tmp_path / "local.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert got["code_1"].tolist() == local["code_1"].tolist()
    assert got["code_2"].tolist() == local["code_2"].tolist()
    assert got.iloc[0]["title"].startswith("'=")  # formulas neutralised on Ray too


def test_cli_classify_on_ray(tmp_path):
    import subprocess
    import sys

    frame = pd.read_csv(DATA / "corpora" / "cap_nyt_headlines_sample.csv", dtype=str).head(500)
    frame.to_csv(tmp_path / "nyt.csv", index=False)
    out = subprocess.run([sys.executable, "-m", "core", "--db", str(tmp_path / "c.db"), "classify",
                          str(tmp_path / "nyt.csv"), str(tmp_path / "out-parquet"), "--model",
                          str(default_model("cap-tfidf")), "--map", "title=title", "--ray", "--ray-workers", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "500 rows classified on Ray" in out.stdout
    got = pd.read_parquet(tmp_path / "out-parquet")
    assert len(got) == 500 and got["code_1"].str.len().gt(0).all()
