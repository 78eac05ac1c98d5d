"""Per-row routing: a mixed Hungarian / English export classified in one job (and by ``classify
--route``), each row by the model that serves its language in the workspace (a lead promoted a
Hungarian model for Hungarian records and an English one for the rest), the result naming the
model of each row, per-language counts and confidence, triage within each model's rows, and a
resumed job keeping the choices it made."""

import pandas as pd
import pytest

from core.cli import main
from core.files.records_io import inspect_source
from core.jobs import JobError, JobParams, classify_file, create_job, result_rows, route_plan, run_job, triage
from core.models.kinds.tfidf import build_tfidf
from core.models.manifest import Manifest
from core.models.runtimes import load_classifier
from core.work.routing import Route, RoutingError, language_summary
from tests.conftest import corpus, shared_file


@pytest.fixture(scope="module")
def routed_models(tmp_path_factory):
    """Two small real CAP models: one trained on English headlines, one on Hungarian speech titles."""
    folder = tmp_path_factory.mktemp("routed-models")
    nyt = corpus("cap_nyt_headlines_sample.csv", slice(0, 1500))
    hu = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str,
                     keep_default_na=False)
    hu_texts = (hu["agenda_item_title"].str.strip('"') + ". " + hu["text"].str[:400]).tolist()
    for name, texts, codes, language in (("cap-en", nyt["title"].tolist(), nyt["cap_major"].tolist(), "en"),
                                         ("cap-hu", hu_texts[60:], hu["cap_major"].tolist()[60:], "hu")):
        base = Manifest(name=name, version="1", taxonomy="cap", codes=(), runtime="", languages=(language,),
                        input_fields=("title", "abstract"))
        build_tfidf(texts, [[c] for c in codes], folder / name, base)
    return folder


@pytest.fixture
def mixed_file(tmp_path):
    """40 Hungarian speeches (title and the opening as abstract, no language column) and 40 English
    headlines, interleaved, as a librarian's export."""
    hu = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str,
                     keep_default_na=False).head(40)
    nyt = corpus("cap_nyt_headlines_sample.csv", slice(2000, 2040))
    rows = []
    for k in range(40):
        rows.append({"id": f"hu{k}", "title": hu["agenda_item_title"].iloc[k].strip('"'),
                     "abstract": hu["text"].iloc[k][:400]})
        rows.append({"id": f"en{k}", "title": nyt["title"].iloc[k], "abstract": ""})
    path = tmp_path / "mixed.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def promote(store, folder: str, language: str) -> None:
    store.add_promotion({"taxonomy_id": "cap", "language": language, "folder": folder, "model_name": folder,
                         "model_version": "1", "action": "promote", "gate": "[]", "by": "Vezető Vera"})


def job_params(path, models_dir, **more):
    base = dict(source=str(path), file_name=path.name, mapping={"id": "id", "title": "title", "abstract": "abstract"},
                models=[], taxonomy_id="cap", route=["cap"], models_dir=str(models_dir), chunk=16)
    return JobParams(**(base | more))


@pytest.mark.slow
def test_a_mixed_export_is_classified_row_by_row_by_the_model_for_its_language(store, routed_models, mixed_file,
                                                                             tmp_path):
    promote(store, "cap-en", "")  # the model in use for every language
    promote(store, "cap-hu", "hu")  # and for Hungarian records
    plan = route_plan(store, mixed_file, inspect_source(mixed_file, mixed_file.name),
                      {"id": "id", "title": "title", "abstract": "abstract"}, ["cap"], routed_models)
    assert {p["language"]: p["models"]["cap"] for p in plan} == {"hu": "cap-hu", "en": "cap-en", "": "cap-en"}
    assert all(p["fast"]["cap"] for p in plan)  # TF-IDF runs no transformer: the fast tier already
    job = run_job(store.path, create_job(store, job_params(mixed_file, routed_models), "Lib"))
    assert job.status == "done" and job.done == 80
    header, rows = next(result_rows(store, job, chunk_size=1000))
    table = pd.DataFrame(rows, columns=header)
    assert header[:3] == ["id", "title", "abstract"] and header[-2:] == ["cap_model", "row_language"]
    assert {"cap_code_1", "cap_name_1", "cap_score_1", "cap_code_3"} <= set(header)
    assert table["id"].tolist() == pd.read_csv(mixed_file)["id"].tolist()  # every row is its own input row
    hungarian = table["id"].str.startswith("hu")
    assert (table.loc[hungarian, "row_language"] == "hu").mean() >= 0.9  # detected at import
    assert (table.loc[~hungarian, "row_language"] == "en").mean() >= 0.8
    expected = table["row_language"].map(lambda lang: "cap-hu" if lang == "hu" else "cap-en")
    assert table["cap_model"].tolist() == expected.tolist()
    # each model's cells equal that model run alone on its rows
    cap = store.load_taxonomy("cap")
    for name in ("cap-hu", "cap-en"):
        part = table[table["cap_model"] == name]
        alone = tmp_path / f"{name}.csv"
        subset = tmp_path / f"{name}-in.csv"
        part[["id", "title", "abstract"]].to_csv(subset, index=False)
        classify_file([load_classifier(routed_models / name)], cap, subset, subset.name,
                      {"title": "title", "abstract": "abstract"}, alone)
        back = pd.read_csv(alone, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        assert back["code_1"].tolist() == part["cap_code_1"].tolist()
    # per-language counts and confidence; the models used, each into its taxonomy
    figures = {r["language"]: r for r in job.by_language}
    assert figures["hu"]["rows"] == (table["row_language"] == "hu").sum()
    assert figures["hu"]["taxonomies"]["cap"]["models"] == {"cap-hu": figures["hu"]["rows"]}
    assert 0 < figures["en"]["taxonomies"]["cap"]["mean_confidence"] <= 1
    assert sum(r["rows"] for r in job.by_language) == 80
    assert {m["name"]: m["taxonomy"] for m in job.models} == {"cap-hu": "cap", "cap-en": "cap"}
    # triage stays within each model's rows and languages
    report = triage(store, job, "cap-hu", {c: 0.0 for c in cap.nodes}, dry_run=True)
    assert report.accepted + report.to_queue + report.already_labelled == figures["hu"]["rows"]
    assert report.other_language == 0 and report.accepted > 0
    # classify --route writes the same cells from the same file, with no job
    out = tmp_path / "routed.csv"
    assert main(["--db", str(store.path), "classify", str(mixed_file), str(out), "--route", "cap", "--models-dir",
                 str(routed_models),
                 "--map", "title=title", "--map", "abstract=abstract", "--quiet"]) == 0
    back = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    same_language = back["row_language"] == table["row_language"]
    assert same_language.mean() >= 0.95  # detection from the same text (the job stored it at import)
    assert (back.loc[same_language, "cap_model"] == table.loc[same_language, "cap_model"]).all()
    assert (back.loc[same_language, "cap_code_1"] == table.loc[same_language, "cap_code_1"]).all()


@pytest.mark.slow
def test_a_resumed_job_keeps_the_models_it_chose(store, routed_models, mixed_file):
    """Within one run a language is read by one model: a promotion made while a job is paused does
    not split its rows between two models."""
    promote(store, "cap-en", "")
    promote(store, "cap-hu", "hu")
    job_id = create_job(store, job_params(mixed_file, routed_models), "Lib")
    first = run_job(store.path, job_id, stop_after_chunks=2)
    assert 0 < first.done < 80 and first.checkpoint["routes"][0]["chosen"]["hu"] == "cap-hu"
    promote(store, "cap-en", "hu")  # a lead changes the Hungarian model meanwhile
    job = run_job(store.path, job_id)
    assert job.status == "done"
    header, rows = next(result_rows(store, job, chunk_size=1000))
    table = pd.DataFrame(rows, columns=header)
    assert set(table.loc[table["row_language"] == "hu", "cap_model"]) == {"cap-hu"}
    assert sum(r["rows"] for r in job.by_language) == 80  # every row counted once


@pytest.mark.slow
def test_a_route_is_checked_before_anything_runs(store, routed_models, mixed_file, tmp_path):
    with pytest.raises(JobError, match="name no models"):
        create_job(store, job_params(mixed_file, routed_models, models=[str(routed_models / "cap-en")]), "Lib")
    with pytest.raises(JobError, match="does not exist"):
        create_job(store, job_params(mixed_file, tmp_path / "nowhere"), "Lib")
    with pytest.raises(RoutingError, match="no model of taxonomy 'ford' is installed"):
        create_job(store, JobParams(source=str(mixed_file), file_name="mixed.csv", mapping={"title": "title"},
                                    models=[], taxonomy_id="ford", route=["ford"], models_dir=str(routed_models)),
                   "Lib")
    assert main(["classify", str(mixed_file), str(tmp_path / "o.csv"), "--route", "cap", "--model",
                 str(routed_models / "cap-en")]) == 2
    # no workspace promotion: the registry's default for each language (here the first model for all)
    route = Route("cap", routed_models)
    assert route.folder_name("hu") == route.folder_name("en") == route.folder_name("") in ("cap-en", "cap-hu")
    assert route.groups(["hu", "en", "hu"]) == {route.folder_name("hu"): [0, 1, 2]}


def test_language_summary_counts_rows_once_and_means_per_taxonomy():
    from core.work.routing import count_languages

    counts: dict = {}
    count_languages(counts, ["hu", "en", "hu"], "cap", ["cap-hu", "cap-en", "cap-hu"], [0.5, 0.9, None],
                    count_rows=True)
    count_languages(counts, ["hu", "en", "hu"], "ford", ["ford-x", "ford-x", "ford-x"], [0.2, 0.4, 0.6],
                    count_rows=False)
    summary = language_summary(counts)
    assert [r["language"] for r in summary] == ["hu", "en"] and [r["rows"] for r in summary] == [2, 1]
    assert summary[0]["taxonomies"]["cap"] == {"models": {"cap-hu": 2}, "mean_confidence": 0.5}
    assert summary[0]["taxonomies"]["ford"]["mean_confidence"] == 0.4


@pytest.mark.slow
def test_fast_routing_prefers_a_fast_model_that_reads_the_language(store, routed_models, tmp_path):
    """``fast``: where the model in use for a language runs a transformer, a fast-tier model that
    declares the language serves it (a head on static vectors, alone or mixed with TF-IDF: the
    one-click recipe's fast twin); a model in use that runs none (TF-IDF) is the fast tier itself;
    other languages keep the model that serves them. The Bulk page's plan says which are fast."""
    import os
    import shutil

    from core.models.encoder import ENCODER_NAME, STATIC_NAME, Encoder, ensure_encoder
    from core.models.kinds.ensemble import build_ensemble
    from core.models.kinds.head import build_head
    from core.models.manifest import is_fast
    from tests.conftest import MODELS

    models = tmp_path / "models"
    shutil.copytree(routed_models, models, copy_function=os.link)
    (models / "cap-hu").rename(tmp_path / "cap-hu")  # the Hungarian TF-IDF comes back at the end
    hu = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str, keep_default_na=False)
    texts = (hu["agenda_item_title"].str.strip('"') + ". " + hu["text"].str[:400]).tolist()
    labels = [[c] for c in hu["cap_major"]]

    def base(name):
        return Manifest(name=name, version="1", taxonomy="cap", codes=(), runtime="", languages=("hu",),
                        input_fields=("title", "abstract"))

    minilm = ensure_encoder(MODELS, ENCODER_NAME)
    slow, _ = build_head(Encoder(minilm).embed(texts), labels, models / "cap-hu-minilm", base("cap-hu-minilm"), minilm)
    static = ensure_encoder(MODELS, STATIC_NAME)
    head = build_head(Encoder(static).embed(texts), labels, tmp_path / "cap-hu-static", base("cap-hu-static"), static)
    assert head[0].training["tier"] == "fast" and not is_fast(slow)
    lexical = build_tfidf(texts, labels, tmp_path / "cap-hu-words", base("cap-hu-words"), characters=False)
    twin = build_ensemble([(tmp_path / "cap-hu-words", *lexical), (tmp_path / "cap-hu-static", *head)], labels,
                          models / "cap-hu-fast", base("cap-hu-fast"))
    assert twin.training["tier"] == "fast"  # every member runs no transformer
    promote(store, "cap-en", "")
    promote(store, "cap-hu-minilm", "hu")
    fast = Route("cap", models, fast=True)
    assert fast.folder_name("hu", store) == "cap-hu-fast" and fast.folder_name("en", store) == "cap-en"
    assert fast.fast_for("hu", store) and fast.fast_for("en", store)
    assert Route("cap", models).folder_name("hu", store) == "cap-hu-minilm"  # without fast: the model in use
    assert not Route("cap", models).fast_for("hu", store)
    (tmp_path / "cap-hu").rename(models / "cap-hu")
    promote(store, "cap-hu", "hu")  # TF-IDF in use: the fast tier already, the lead's choice kept
    assert Route("cap", models, fast=True).folder_name("hu", store) == "cap-hu"
