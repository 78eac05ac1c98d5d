"""Performance figures from a workspace: gold labels (expert events, imported labels) against a
real model's stored predictions, agreement, the bubble chart's specification, exports, and a
labelled file evaluated end to end."""

import io

import pandas as pd
import pytest

from core.files.writers import table_bytes
from core.work.annotation import Annotator, score_records
from core.work.performance import (
    bubble_chart,
    bubble_data,
    chart_bytes,
    comparison_table,
    evaluate_file,
    expert_expert_agreement,
    expert_model_kappa,
    gold_frame,
    model_result,
    per_level_table,
    reliability,
)
from tests.conftest import DATA, corpus, import_frame


@pytest.fixture
def ws(store, ford_tfidf):
    frame = corpus("sci_mag_paper_titles_dev.csv", slice(3000, 3300))
    frame["lang"] = ["en" if i % 3 else "hu" for i in range(len(frame))]
    truth = dict(zip(frame.index, frame["ford_l2"]))
    frame.loc[100:, "ford_l2"] = ""  # 100 with labels in the file, the rest labelled by experts below
    ford = store.load_taxonomy("ford")
    import_frame(store, frame, "mag.csv", {"title": "title", "label": "ford_l2", "language": "lang"})
    ids = [r["id"] for r in store.records(limit=1000)]
    eva, jan = Annotator(store, "Eva", "expert", ford), Annotator(store, "Jan", "expert", ford)
    for k, rid in enumerate(ids[100:]):
        eva.correct(rid, [truth[100 + k]], [])
        if k < 40:
            jan.correct(rid, [truth[100 + k] if k % 4 else "1.1"], [])
    score_records(store, ford_tfidf, ford, ids[:250])
    return store, ford, ids


def test_gold_against_stored_predictions(ws):
    store, ford, ids = ws
    gold = gold_frame(store, ford, source="experts", annotators=("Eva",))
    assert len(gold) == 200
    result = model_result(store, ford, gold, "ford-test", "t1")
    assert len(result.frame) == 150 and len(result.unscored) == 50  # ids[250:] are not scored
    s = result.report.summary
    assert 0.3 < s["micro_f1"] < 1.0 and s["lenient_micro_f1"] >= s["micro_f1"]
    assert s["hierarchical_micro_f1"] >= s["micro_f1"]
    assert set(result.report.groups["language"]["group"]) == {"en", "hu"}
    both = gold_frame(store, ford, source="both")
    assert len(both) == 300
    imported = gold_frame(store, ford, source="imported")
    assert len(imported) == 100 and set(imported["annotator"]) == {"(imported file)"}
    table = comparison_table([result, model_result(store, ford, imported, "ford-test", "t1")])
    assert list(table.columns[:4]) == ["model", "version", "samples", "precision"]
    low, high = (float(x) for x in table.loc[0, "F1 interval"].split("-"))  # each model's figure with its interval
    assert low <= table.loc[0, "F1"] <= high and table.loc[0, "weighted F1 interval"]
    levels = per_level_table(result.frame, ford)
    assert list(levels["level"]) == [1, 2] and levels.loc[0, "F1"] >= levels.loc[1, "F1"]
    # the reliability table: bins of top-1 confidence, each with its share correct; ECE as in fitting.ece
    import numpy as np

    bins, error = reliability(result.frame, ford)
    assert bins["records"].sum() == len(result.frame) and bins["confidence"].is_monotonic_increasing
    right = np.array([t in g for t, g in zip(result.frame["top_code"], result.frame["gold"])])
    assert abs(bins["accuracy"].mul(bins["records"]).sum() / len(result.frame) - right.mean()) < 1e-3
    weights = bins["records"] / bins["records"].sum()
    assert abs(error - (weights * (bins["accuracy"] - bins["confidence"]).abs()).sum()) < 1e-3


def test_agreement(ws):
    store, ford, _ = ws
    pairs = expert_expert_agreement(store, ford)
    row = pairs.iloc[0]
    assert (row["expert_a"], row["expert_b"], row["shared_records"]) == ("Eva", "Jan", 40)
    assert row["exact_agreement"] <= 0.8 and -1 <= row["kappa"] < 1
    result = model_result(store, ford, gold_frame(store, ford), "ford-test", "t1")
    kappa = expert_model_kappa(result.frame, ford)
    assert {"code", "name", "kappa", "expert_only", "model_only"} <= set(kappa.columns)


def test_bubble_chart_spec_and_exports(ws):
    store, ford, _ = ws
    result = model_result(store, ford, gold_frame(store, ford), "ford-test", "t1")
    data = bubble_data(result.report, ford, 2, good=0.8, fair=0.5)
    assert len(data) == 42  # every FORD field, with or without data
    assert set(data["band"]) >= {"no data"} and data.loc[data["band"] == "no data", "support"].eq(0).all()
    scored = data[data["support"] > 0]
    assert ((scored["f1"] >= 0.8) == (scored["band"] == "good")).all()
    spec = bubble_chart(data).to_dict()
    layer = spec["layer"][0]
    assert layer["mark"]["type"] == "point" and layer["mark"]["filled"]
    # size, label and tooltip count the same thing: gold records; the size legend spans all of them
    assert layer["encoding"]["size"]["field"] == "support" and layer["encoding"]["size"]["title"] == "gold records"
    assert max(layer["encoding"]["size"]["legend"]["values"]) == data["support"].max()
    with_gold = data[data["support"] > 0]
    # names beside codes: "1.2 Computer and informat… (34)"
    assert all(label.startswith(f"{code} {ford.name_of(code)[:10]}") and label.endswith(f" ({n})")
               for label, code, n in zip(with_gold["label"], with_gold["code"], with_gold["support"]))
    top = bubble_data(result.report, ford, 1)  # the top level: a column per field, named, not one tall column
    assert top["group"].nunique() == 6 and (top["slot"] == 1).all() and top["group"].str.contains("Natural").any()
    # a colour-blind safe palette, and a shape per band so colour is never the only cue
    assert layer["encoding"]["color"]["scale"]["range"] == ["#009E73", "#E6B800", "#D55E00", "#0072B2"]
    assert layer["encoding"]["color"]["scale"]["domain"] == ["good", "fair", "poor", "no data"]
    assert layer["encoding"]["shape"]["scale"]["range"] == ["circle", "square", "triangle-up", "diamond"]
    # few gold records: faded
    assert (data["uncertain"] == ((data["support"] > 0) & (data["support"] < 10))).all()
    assert layer["encoding"]["opacity"]["condition"]["value"] == 0.3
    assert {t["field"] for t in layer["encoding"]["tooltip"]} >= {"code", "f1", "support"}
    top = bubble_data(result.report, ford, 1)
    assert top["group"].nunique() == len(top) == 6
    assert chart_bytes(bubble_chart(data), "png")[:4] == b"\x89PNG"
    assert b"<svg" in chart_bytes(bubble_chart(data), "svg")[:500]
    xlsx = table_bytes(result.report.categories, "xlsx")
    assert pd.read_excel(io.BytesIO(xlsx), dtype={"code": str})["code"].tolist() == result.report.categories["code"].tolist()


def test_evaluate_a_labelled_file(ford_tfidf, ford_tax=None):
    from core.files.taxonomy_io import read_taxonomy_file

    ford = read_taxonomy_file(DATA / "taxonomies" / "ford.csv")
    frame = pd.read_csv(DATA / "corpora" / "sci_mag_paper_titles_dev.csv", dtype=str).iloc[4000:4400]
    frame.loc[frame.index[:5], "ford_l2"] = "9.9"  # unknown codes: reported, left out
    data = frame.to_csv(index=False).encode()
    report, rows = evaluate_file(ford_tfidf, ford, data, "gold.csv", {"title": "title", "label": "ford_l2"})
    assert report.samples == 395 and report.summary["rows_without_known_gold"] == 5
    assert len(rows) == 395
    from core.errors import InputFileError

    with pytest.raises(InputFileError, match="gold codes"):
        evaluate_file(ford_tfidf, ford, data, "gold.csv", {"title": "title"})
    with pytest.raises(InputFileError, match="no column 'missing'"):
        evaluate_file(ford_tfidf, ford, data, "gold.csv", {"title": "missing", "label": "ford_l2"})


def test_trend_chart_draws_lines_over_dates():
    import pandas as pd

    from core.work.charts import trend_chart

    over_time = pd.DataFrame({"period": pd.to_datetime(["2026-11-02", "2026-11-09", "2026-11-16"]),
                              "labels": [10, 5, 8], "cumulative_labels": [10, 15, 23],
                              "period_micro_f1": [0.5, 0.6, 0.7], "cumulative_micro_f1": [0.5, 0.53, 0.6]})
    spec = trend_chart(over_time).to_dict()
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["type"] == "temporal" and spec["encoding"]["x"]["axis"]["format"] == "%Y-%m-%d"
    data = next(iter(spec["datasets"].values()))
    assert len(data) == 6 and {d["series"] for d in data} == {"in the period", "cumulative"}


def test_evaluating_a_file_counts_the_rows_the_model_was_trained_on(ford_tfidf, tmp_path):
    """ford_tfidf learnt from the first 2,000 MAG titles: a file of 40 of them (case and spacing
    changed) and 60 later titles reports the 40, so an optimistic figure is never taken at face value."""
    import pandas as pd

    from core.files.shipped import builtin_taxonomy
    from core.work.performance import evaluate_file
    from tests.conftest import corpus

    seen = corpus("sci_mag_paper_titles_dev.csv", slice(0, 40))
    unseen = corpus("sci_mag_paper_titles_dev.csv", slice(3000, 3060))
    seen["title"] = "  " + seen["title"].str.upper() + " "
    frame = pd.concat([seen, unseen], ignore_index=True)[["title", "ford_l2"]]
    frame.to_csv(tmp_path / "gold.csv", index=False)
    report, _ = evaluate_file(ford_tfidf, builtin_taxonomy("ford"), tmp_path / "gold.csv", "gold.csv",
                              {"title": "title", "label": "ford_l2"})
    assert report.summary["rows_in_training_data"] == 40 and report.samples == 100


def test_a_category_opens_exactly_the_records_the_page_lists(ws):
    from core.work.performance import category_records_queue, records_in_category

    store, ford, _ = ws
    result = model_result(store, ford, gold_frame(store, ford), "ford-test", "t1")
    code = result.report.categories.sort_values("support").iloc[-1]["code"]
    hits = records_in_category(result.frame, ford, code)
    queue = category_records_queue(ford, "ford-test", "t1", code, hits)
    assert len(hits) > 0 and queue.ids == list(dict.fromkeys(hits["record_id"].tolist())) and queue.total == len(hits)
    assert queue.spec.model_name == "ford-test" and queue.current == queue.ids[0]


def test_the_cap_major_topics_chart_is_a_readable_list_whose_labels_never_overlap():
    """CAP's 37 major topics at level 1, each its own column, made a 220-px strip of 37 slanted,
    overlapping names: above 12 such columns the chart is a sorted list, a row per category (the
    most gold records first), each name horizontal on its own line. Checked on the SVG the same
    renderer draws."""
    import re

    from core.domain.metrics import evaluate
    from core.files.taxonomy_io import read_taxonomy_file

    cap = read_taxonomy_file(DATA / "taxonomies" / "cap.csv")
    gold = [["1"], ["2"], ["3"], ["12"], ["99"], ["1"], ["1"]] * 5
    predicted = [["1"], ["3"], ["3"], ["12"], ["1"], ["2"], ["1"]] * 5
    data = bubble_data(evaluate(gold, predicted, cap), cap, 1)
    assert len(data) == data["group"].nunique() >= 21
    svg = chart_bytes(bubble_chart(data), "svg").decode()
    labels = [(float(y), size, text) for y, size, text in re.findall(
        r'<text text-anchor="end" transform="translate\([-\d.]+,([-\d.]+)\)"[^>]*font-size="(\d+)px"[^>]*>([^<]*)<',
        svg)]
    assert len(labels) == len(data)  # every category named once, none rotated
    ys = sorted(y for y, _, _ in labels)
    assert min(b - a for a, b in zip(ys, ys[1:])) >= max(int(s) for _, s, _ in labels)  # no two lines overlap
    assert labels[0][2] == "1 · Macroeconomics" and labels[1][2].startswith(("12 ·", "2 ·", "3 ·"))  # most gold first
    assert "F1 " in svg and "…" not in "".join(text for _, _, text in labels if len(text) < 40)


def test_every_confusion_cell_lists_exactly_its_records():
    """Each cell of the matrix (deeper codes cut to the level; several codes a record; nothing
    predicted) lists as many records as it counts, and its names are the taxonomy's."""
    from core.domain.metrics import NO_PREDICTION, evaluate
    from core.files.shipped import builtin_taxonomy
    from core.work.confusions import confusion_matrix_cells, confusion_records

    ford = builtin_taxonomy("ford")
    frame = pd.DataFrame({"record_id": range(6), "language": ["en", "en", "hu", "hu", "en", "hu"],
                          "gold": [["1.1"], ["1.2"], ["1.1", "5.2"], ["2.1"], ["1.1"], ["5.2"]],
                          "pred": [["1.2"], ["1.2"], ["1.1"], [], ["5.1"], ["5.2"]]})
    for level in (1, 2):
        report = evaluate(frame["gold"].tolist(), frame["pred"].tolist(), ford, level=level)
        cells = confusion_matrix_cells(report, ford)
        for g, p, n in zip(cells["gold"], cells["predicted"], cells["count"]):
            assert len(confusion_records(frame, ford, level, g, p)) == n, (level, g, p)
    assert "1 Natural sciences" in set(cells["gold label"]) or "1.1 Mathematics" in set(cells["gold label"])
    assert ("2.1", NO_PREDICTION) in set(zip(cells["gold"], cells["predicted"]))
