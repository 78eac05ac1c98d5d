"""The library's journey, end to end on real servers: a librarian harvests a collection over
OAI-PMH (pyoai's provider on localhost), classifies it in a bulk job with an ensemble of the
workbench's model and the library's Annif project (a real Annif server), lets the confident
suggestions through; an expert sees a generative model's re-ranked suggestions beside the
ensemble's on the Annotate page (a real tiny causal LM); and the codes go back into the library
system's MARCXML export as 084 fields."""

import io
from datetime import datetime

import pytest
from pymarc import Field, Record, Subfield, XMLWriter, parse_xml_to_array

from core.files.oai import harvest_file
from core.jobs import JobParams, create_job, run_job, triage
from core.models.combining import combine, fit_calibration
from core.models.runtimes.annif import connect_annif
from core.models.runtimes.llm import connect_llm
from core.work.final_codes import write_back
from core.work.records_import import import_records
from tests.conftest import ROOT, corpus, linked_models

pytestmark = pytest.mark.slow
pytest.importorskip("oaipmh")

ROWS = slice(2300, 2360)  # headlines none of the models trained on
FIT = slice(1500, 2300)  # the calibration and the ensemble's weights


def nyt(rows):
    return corpus("cap_nyt_headlines_sample.csv", rows)


@pytest.fixture(scope="module")
def provider():
    from tests.test_oai_harvest import Provider, serve

    records = [(f"oai:library:{row.id}", datetime(2024, 1, 1), row.title) for row in nyt(ROWS).itertuples()]

    class Library(Provider):
        def _selected(self, set=None, from_=None, until=None):
            return [(self.common.Header(None, identifier, stamp, ["news"], False),
                     self.common.Metadata(None, {"title": [title], "language": ["eng"], "identifier": [identifier]}),
                     None) for identifier, stamp, title in records]

    import cgi
    import urllib.parse
    from http.server import BaseHTTPRequestHandler
    from urllib.parse import parse_qsl, urlparse

    from oaipmh import metadata, server

    if not hasattr(cgi, "parse_qs"):
        cgi.parse_qs = urllib.parse.parse_qs
    registry = metadata.MetadataRegistry()
    registry.registerWriter("oai_dc", server.oai_dc_writer)
    oai = server.BatchingServer(Library(), registry, resumption_batch_size=25)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = oai.handleRequest(dict(parse_qsl(urlparse(self.path).query)))
            body = body if isinstance(body, bytes) else body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http, url = serve(Handler)
    yield url
    http.shutdown()


def marcxml_export(rows) -> bytes:
    """The library system's MARCXML export of the same records (001 = the OAI identifier)."""
    buffer = io.BytesIO()
    writer = XMLWriter(buffer)
    for row in rows.itertuples():
        record = Record()
        record.add_field(Field(tag="001", data=f"oai:library:{row.id}"))
        record.add_field(Field(tag="245", indicators=["0", "0"], subfields=[Subfield("a", row.title)]))
        writer.write(record)
    writer.close(close_fh=False)
    return buffer.getvalue()


def test_harvest_classify_with_annif_and_ours_rerank_by_an_llm_and_write_marcxml_back(
        provider, annif, lm, store, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    taxonomy = store.load_taxonomy("cap")
    models = linked_models(tmp_path / "models")
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))

    # the librarian harvests the collection
    store.act_as("lena", "librarian")
    data, count = harvest_file(provider)
    assert count == 60
    (tmp_path / "harvest.jsonl").write_bytes(data)
    report = import_records(store, data, "harvest.jsonl", collection="library")
    assert report.rows_imported == 60

    # an ensemble of our model and the library's Annif project, weights fitted on records neither saw
    fit = (nyt(FIT)["title"].tolist(), [[c] for c in nyt(FIT)["cap_major"]])
    connect_annif(models / "cap-annif", url=annif["url"], project="cap-svc", taxonomy=taxonomy, level=1)
    fit_calibration(models / "cap-annif", *fit, taxonomy)
    mix = combine([lm["own"], models / "cap-annif"], *fit, taxonomy, models / "cap-ours-annif")
    assert all(w > 0 for w in mix.training["weights"])

    # the bulk job over the harvested file: its rows are the collection's records, classified once
    job_id = create_job(store, JobParams(source=str(tmp_path / "harvest.jsonl"), file_name="harvest.jsonl",
                                         mapping={"id": "id", "title": "title", "language": "language"},
                                         models=[str(models / "cap-ours-annif")], taxonomy_id="cap", top_k=3,
                                         collection="library"), "lena")
    job = run_job(store.path, job_id)
    assert job.status == "done" and job.done == 60 and store.job_result_count(job_id) == 60
    assert store.count_records() == 60  # the job's rows are the harvested records, not copies
    accepted = triage(store, job, "cap-ours-annif", {}, default=0.5)
    assert 0 < accepted.accepted < 60

    # the expert: a tiny LM re-ranks the ensemble's top 5, shown beside the ensemble's suggestions
    connect_llm(models / "cap-llm-rerank", taxonomy=taxonomy, mode="rerank", local_model=lm["lm"],
                shortlist=models / "cap-ours-annif", top_k=5)
    monkeypatch.setenv("WORKBENCH_DB", str(store.path))
    monkeypatch.setenv("WORKBENCH_MODELS", str(models))
    monkeypatch.setenv("WORKBENCH_DEMO", "0")
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    # AppTest re-captures only the page after the first run: the sidebar is set on the first run's tree
    at.text_input(key="sidebar.user").input("Kovács Anna")
    at.selectbox(key="sidebar.taxonomy").select("cap")
    at.run()
    at.switch_page("pages/annotate.py").run()
    at.selectbox(key="annotate.model").select("cap-ours-annif").run()
    at.selectbox(key="annotate.model2").select("cap-llm-rerank").run()
    at.button(key="annotate.open").click().run()
    assert not at.exception, at.exception
    side = [m.value for m in at.markdown if "cap-llm-rerank" in m.value]
    assert side, [m.value for m in at.markdown][:10]
    assert any("cap-ours-annif" in m.value for m in at.markdown)
    reranked = [p.proto.text for p in at.get("progress") if "% · " in p.proto.text]  # the LLM's column
    assert len(reranked) >= 2 and all(text.split(" · ")[1] in taxonomy for text in reranked)

    # the codes go back into the library system's MARCXML export: an 084 per code, with provenance
    export = marcxml_export(nyt(ROWS))
    out, changed, fmt = write_back(store, taxonomy, export, "export.xml", collection="library")
    assert fmt == "marcxml" and changed == accepted.accepted
    records = parse_xml_to_array(io.BytesIO(out))
    assert len(records) == 60
    coded = [r for r in records if r.get_fields("084")]
    assert len(coded) == accepted.accepted
    field = coded[0].get_fields("084")[0]
    assert field.get_subfields("2") == ["cap"] and field.get_subfields("a")[0] in taxonomy
    assert "cap-ours-annif" in field.get_subfields("q")[0]
    assert [r["245"]["a"] for r in records] == nyt(ROWS)["title"].tolist()  # every other field as it was
