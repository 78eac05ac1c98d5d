"""Training-data export: filters, level cut, leak-free stratified split, and round trips through
CSV, JSONL, Parquet and a Hugging Face datasets folder."""

import pandas as pd
import pytest

from core.domain.labels import QueueSpec
from core.work.annotation import Annotator
from core.work.training_data import (
    ExportError,
    ExportFilter,
    category_counts,
    labelled_frame,
    read_back,
    split,
    to_bytes,
    write,
)
from tests.conftest import corpus, import_frame


@pytest.fixture
def labelled(store):
    frame = corpus("sci_arxiv_abstracts_sample.csv", slice(0, 200))
    frame.loc[20:, "ford_l2"] = ""
    ford = store.load_taxonomy("ford")
    import_frame(store, frame, "arxiv.csv", {"id": "id", "title": "title", "abstract": "abstract", "label": "ford_l2"},
                 default_language="en")
    ids = store.queue_ids(QueueSpec("ford", order="import"), limit=200)
    eva, jan = Annotator(store, "Eva", "expert", ford), Annotator(store, "Jan", "expert", ford)
    codes = ["1.1", "1.2", "1.3", "5.2", "2.2"]
    for i, rid in enumerate(ids[:150]):
        eva.correct(rid, [codes[i % 5]] + (["5.6"] if i % 10 == 0 else []), [])
    for rid in ids[:10]:
        jan.correct(rid, ["1.2"], [])
    eva.reject(ids[160], [])
    return store, ford, ids


def test_filters_levels_and_sources(labelled):
    store, ford, ids = labelled
    latest = labelled_frame(store, ford, ExportFilter("ford"))
    assert len(latest) == 150 and latest["record_id"].is_unique  # the rejected record is not training data
    assert latest.set_index("record_id").loc[ids[0], "annotator"] == "Jan"  # the latest label wins
    everyone = labelled_frame(store, ford, ExportFilter("ford", per_record="all"))
    assert len(everyone) == 160
    only_jan = labelled_frame(store, ford, ExportFilter("ford", annotators=("Jan",)))
    assert set(only_jan["annotator"]) == {"Jan"} and len(only_jan) == 10
    top = labelled_frame(store, ford, ExportFilter("ford", level=1, annotators=("Eva",)))
    assert set(c for cs in top["codes"] for c in cs) == {"1", "2", "5"}
    assert top.set_index("record_id").loc[ids[0], "codes"] == ["1", "5"]
    row = latest.set_index("record_id").loc[ids[12]]
    assert row["label_names"] == ["Physical sciences"] and row["text"].startswith(row["title"])
    with_files = labelled_frame(store, ford, ExportFilter("ford", include_imported=True, per_record="all"))
    assert (with_files["source"] == "imported").sum() == 20
    future = labelled_frame(store, ford, ExportFilter("ford", since="2999-01-01"))
    assert future.empty
    today = pd.Timestamp.now("UTC").strftime("%Y-%m-%d")
    assert len(labelled_frame(store, ford, ExportFilter("ford", since=today, until=today))) == 150


def test_split_is_stratified_and_keeps_records_together(labelled):
    store, ford, _ = labelled
    frame = split(labelled_frame(store, ford, ExportFilter("ford", per_record="all")), validation=0.2, test=0.2)
    assert frame.groupby("record_id")["split"].nunique().max() == 1
    shares = frame.drop_duplicates("record_id")["split"].value_counts(normalize=True)
    assert shares["train"] == pytest.approx(0.6, abs=0.05) and shares["test"] == pytest.approx(0.2, abs=0.05)
    counts = category_counts(frame, ford)
    assert list(counts.columns) == ["code", "name", "path", "rows", "train", "validation", "test"]
    per_code = counts.set_index("code")
    assert (per_code.loc[["1.1", "1.2", "1.3", "5.2", "2.2"], "test"] > 0).all()
    assert per_code.loc["5.6", "rows"] == 15
    with pytest.raises(ExportError):
        split(frame, validation=0.6, test=0.5)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "hf"])
def test_round_trip(labelled, tmp_path, fmt):
    store, ford, _ = labelled
    frame = split(labelled_frame(store, ford, ExportFilter("ford", per_record="all")))
    frame.loc[frame.index[0], "title"] = "=HYPERLINK(\"x\") ; \"quoted\", comma | pipe"
    path = write(frame, fmt, tmp_path / f"export.{fmt}")
    back = read_back(path, fmt).sort_values(["record_id", "annotator"]).reset_index(drop=True)
    want = frame.sort_values(["record_id", "annotator"]).reset_index(drop=True)
    assert back["codes"].tolist() == want["codes"].tolist()
    assert back["external_id"].astype(str).tolist() == want["external_id"].astype(str).tolist()
    titles = want["title"].tolist()
    if fmt == "csv":  # a spreadsheet-bound file: the formula is neutralised, the rest is exact
        titles = ["'" + t if t.startswith("=") else t for t in titles]
    assert back["title"].tolist() == titles
    assert back["split"].tolist() == want["split"].tolist()
    assert len(to_bytes(frame, fmt)) > 100
