"""The command line, run as a user runs it (a subprocess)."""

import subprocess
import sys

import pytest

from tests.conftest import DATA, ROOT, default_model


def cli(*args, db):
    return subprocess.run([sys.executable, "-m", "core", "--db", str(db), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_import_list_and_search(tmp_path):
    db = tmp_path / "cli.db"
    out = cli("import-records", str(DATA / "corpora" / "cap_nyt_headlines_sample.csv"), "--label-taxonomy", "cap",
              "--quiet", db=db)
    assert out.returncode == 0, out.stderr
    assert "3,084 records imported" in out.stdout and "into collection 'cap_nyt_headlines_sample'" in out.stdout
    again = cli("import-records", str(DATA / "corpora" / "cap_nyt_headlines_sample.csv"), "--label-taxonomy", "cap",
                "--collection", "cap_nyt_headlines_sample", "--quiet", db=db)
    assert again.returncode == 0 and "0 records imported" in again.stdout and "3,084 already stored" in again.stdout
    out = cli("import-records", str(DATA / "corpora" / "cap_nyt_headlines_sample.csv"), "--quiet", db=tmp_path / "x.db")
    assert out.returncode == 2 and "which taxonomy" in out.stderr  # enforced in core, as on the Import page
    out = cli("list", "batches", db=db)
    assert "cap_nyt_headlines_sample.csv" in out.stdout and "3084 imported" in out.stdout
    out = cli("list", "taxonomies", db=db)
    assert "ford-deep" in out.stdout and "cap" in out.stdout
    out = cli("search", "ford", "politikatudomany", db=db)
    assert out.stdout.splitlines()[0].startswith("5.6\t")


def test_import_taxonomy_and_bad_input(tmp_path):
    db = tmp_path / "cli.db"
    good = tmp_path / "mine.csv"
    good.write_text("code,parent,name_en\nA,,Alpha\nB,A,Beta\n", encoding="utf-8")
    out = cli("import-taxonomy", str(good), "--id", "mine", db=db)
    assert out.returncode == 0 and "2 nodes" in out.stdout
    out = cli("import-taxonomy", str(good), "--id", "ford", "--replace", db=db)
    assert out.returncode == 2 and "built-in" in out.stderr  # the rule lives in core, not in a page
    bad = tmp_path / "cycle.csv"
    bad.write_text("code,parent,name_en\nA,B,Alpha\nB,A,Beta\n", encoding="utf-8")
    out = cli("import-taxonomy", str(bad), db=db)
    assert out.returncode == 2 and "cycle" in out.stderr
    dups = tmp_path / "dups.csv"
    dups.write_text("id,title\n1,a\n1,b\n", encoding="utf-8")
    out = cli("import-records", str(dups), "--quiet", db=db)
    assert out.returncode == 2 and "row 3, column 'id': id '1' repeats row 2" in out.stderr
    out = cli("import-records", str(dups), "--quiet", "--skip-bad-rows", db=db)
    assert out.returncode == 0 and "1 records imported" in out.stdout
    out = cli("import-records", str(dups), "--map", "title=titel", "--quiet", db=db)
    assert out.returncode == 2 and "no column 'titel'" in out.stderr


def test_suggest_with_a_model_folder(tmp_path):
    import pandas as pd

    from core.models.manifest import Manifest
    from core.models.tfidf_onnx import train_tfidf_model

    frame = pd.read_csv(DATA / "corpora" / "cap_us_congress_bill_titles.csv").head(2000)
    folder = tmp_path / "cap"
    train_tfidf_model(frame["text"].tolist(), frame["cap_major"].astype(str).tolist(), folder,
                      Manifest(name="cap", version="t", taxonomy="cap", codes=(), runtime="onnx-text"), max_features=3000)
    out = cli("suggest", str(folder), "To amend the Internal Revenue Code to extend the tax credit", db=tmp_path / "c.db")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].split("\t")[2] == "1"  # Macroeconomics (taxes)
    out = cli("suggest", str(tmp_path / "nowhere"), "x", db=tmp_path / "c.db")
    assert out.returncode == 2 and "not a folder" in out.stderr


def test_export_training_data(tmp_path):
    from core.domain.labels import QueueSpec
    from core.store import Store
    from core.work.annotation import Annotator
    from core.work.workspace import ensure_builtin_taxonomies

    db = tmp_path / "cli.db"
    out = cli("import-records", str(DATA / "corpora" / "cap_nyt_headlines_sample.csv"), "--map", "id=id",
              "--map", "title=title", "--label-taxonomy", "cap", "--quiet", db=db)
    assert out.returncode == 0, out.stderr
    out = cli("export-training", "cap", str(tmp_path / "none.csv"), db=db)
    assert out.returncode == 1 and "nothing written" in out.stderr
    with Store(db) as store:
        ensure_builtin_taxonomies(store)
        cap = store.load_taxonomy("cap")
        ann = Annotator(store, "Eva", "expert", cap)
        for i, rid in enumerate(store.queue_ids(QueueSpec("cap", order="import"), limit=60)):
            ann.correct(rid, ["1" if i % 2 else "12"], [])
    out = cli("export-training", "cap", str(tmp_path / "cap.csv"), "--format", "csv", db=db)
    assert out.returncode == 0, out.stderr
    assert "wrote 60 rows (60 records)" in out.stdout
    import pandas as pd

    frame = pd.read_csv(tmp_path / "cap.csv", dtype=str)
    assert sorted(frame["codes"].unique()) == ["1", "12"] and set(frame["split"]) == {"train", "validation", "test"}
    out = cli("export-training", "cap", str(tmp_path / "hf"), "--format", "hf", "--level", "1", db=db)
    assert out.returncode == 0, out.stderr
    from datasets import load_from_disk

    assert sum(len(load_from_disk(str(tmp_path / "hf"))[s]) for s in ("train", "validation", "test")) == 60


@pytest.mark.slow  # a default model
def test_evaluate_a_labelled_file(tmp_path):
    import json

    import pandas as pd

    frame = pd.read_csv(DATA / "corpora" / "cap_us_congress_bill_titles.csv", dtype=str).head(300)
    frame.loc[frame.index[:3], "cap_major"] = "777"
    frame.to_csv(tmp_path / "gold.csv", index=False)
    out = cli("evaluate", str(default_model("cap-tfidf")), str(tmp_path / "gold.csv"), "--map", "title=text",
              "--map", "label=cap_major", "--csv", str(tmp_path / "cats.csv"), "--json", str(tmp_path / "r.json"),
              db=tmp_path / "c.db")
    assert out.returncode == 0, out.stderr
    assert "297 rows (3 without a known gold code" in out.stdout and "lenient micro F1" in out.stdout
    cats = pd.read_csv(tmp_path / "cats.csv", dtype={"code": str})
    assert {"code", "name", "support", "precision", "recall", "f1", "lenient_f1"} <= set(cats.columns)
    assert cats["support"].sum() == 297
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["samples"] == 297 and report["summary"]["micro_f1"] > 0.5  # the model saw these titles
    out = cli("evaluate", str(default_model("cap-tfidf")), str(tmp_path / "gold.csv"), "--map", "title=text",
              db=tmp_path / "c.db")
    assert out.returncode == 2 and "gold codes" in out.stderr


def test_the_set_up_installs_the_workbench_command():
    """`workbench ...` after the set-up (pyproject.toml's console script), the same parser as
    `python -m core ...`."""
    import subprocess
    import sys
    from pathlib import Path

    command = Path(sys.executable).with_name("workbench")
    out = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("usage: workbench"), out.stderr[-500:]
    assert "classify" in out.stdout and "train" in out.stdout
