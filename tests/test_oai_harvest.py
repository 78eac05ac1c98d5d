"""Harvesting over OAI-PMH from a real provider on localhost: pyoai's OAI-PMH server (the
``oaipmh`` package's BatchingServer, resumption tokens every 10 records) behind an HTTP server,
serving Dublin Core and MARCXML; then endpoints that hang, answer garbage or close the connection."""

import socket
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

import pytest

from core.files.oai import HarvestError, harvest, harvest_file
from core.store import Store
from core.work.records_import import import_records

pytest.importorskip("oaipmh")

RECORDS = [(f"oai:mtmt:{k}", datetime(2024, 1 + k % 12, 1 + k % 27), "hu" if k % 3 else "en",
            f"A magyar költségvetés {k}. fejezete" if k % 3 else f"Quantum field theory, part {k}")
           for k in range(25)]


class Provider:
    """pyoai's IBatchingOAI interface over RECORDS."""

    def __init__(self):
        from oaipmh import common

        self.common = common

    def identify(self):
        return self.common.Identify(repositoryName="Test repository", baseURL="http://localhost/oai",
                                    protocolVersion="2.0", adminEmails=["admin@localhost"],
                                    earliestDatestamp=datetime(2024, 1, 1), deletedRecord="transient",
                                    granularity="YYYY-MM-DDThh:mm:ssZ", compression=["identity"])

    def listMetadataFormats(self, identifier=None):
        return [("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                 "http://www.openarchives.org/OAI/2.0/oai_dc/")]

    def listSets(self, cursor=0, batch_size=10):
        return [("hu", "Hungarian records", ""), ("en", "English records", "")]

    def _selected(self, set=None, from_=None, until=None):
        out = []
        for identifier, stamp, lang, title in RECORDS:
            if (set and set != lang) or (from_ and stamp < from_) or (until and stamp > until):
                continue
            header = self.common.Header(None, identifier, stamp, [lang], False)
            metadata = self.common.Metadata(None, {"title": [title], "language": ["hun" if lang == "hu" else "eng"],
                                                   "subject": ["adózás" if lang == "hu" else "physics"],
                                                   "description": [f"Abstract of {title}"],
                                                   "date": [stamp.strftime("%Y-%m-%d")], "identifier": [identifier]})
            out.append((header, metadata, None))
        return out

    def listRecords(self, metadataPrefix=None, set=None, from_=None, until=None, cursor=0, batch_size=10):
        from oaipmh import error

        found = self._selected(set, from_, until)
        if not found:
            raise error.NoRecordsMatchError("no records match")
        return found[cursor:cursor + batch_size]

    def listIdentifiers(self, metadataPrefix=None, set=None, from_=None, until=None, cursor=0, batch_size=10):
        return [h for h, _, _ in self.listRecords(metadataPrefix, set, from_, until, cursor, batch_size)]

    def getRecord(self, metadataPrefix, identifier):
        return next(r for r in self._selected() if r[0].identifier() == identifier)


def serve(handler_class):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/oai"


@pytest.fixture(scope="module")
def provider():
    import cgi
    import urllib.parse

    from oaipmh import metadata, server

    if not hasattr(cgi, "parse_qs"):  # pyoai decodes its resumption tokens with what Python 3.8 moved to urllib
        cgi.parse_qs = urllib.parse.parse_qs

    registry = metadata.MetadataRegistry()
    registry.registerWriter("oai_dc", server.oai_dc_writer)
    oai = server.BatchingServer(Provider(), registry, resumption_batch_size=10)
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            kw = dict(parse_qsl(urlparse(self.path).query))
            requests.append(kw)
            body = oai.handleRequest(kw)
            body = body if isinstance(body, bytes) else body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http, url = serve(Handler)
    yield url, requests
    http.shutdown()


def test_a_harvest_follows_resumption_tokens_sets_and_dates(provider):
    url, requests = provider
    requests.clear()
    everything = list(harvest(url))
    assert [r["id"] for r in everything] == [r[0] for r in RECORDS]  # 25 records over 3 pages
    assert sum(1 for q in requests if "resumptionToken" in q) == 2
    first = everything[1]
    assert first["title"] == "A magyar költségvetés 1. fejezete" and first["language"] == "hu"
    assert first["keywords"] == "adózás" and first["year"] == "2024" and first["abstract"].startswith("Abstract")
    hungarian = list(harvest(url, set_="hu"))
    assert len(hungarian) == sum(1 for r in RECORDS if r[2] == "hu") and all(r["language"] == "hu" for r in hungarian)
    spring = list(harvest(url, from_="2024-03-01", until="2024-05-31"))
    assert spring and len(spring) == sum(1 for r in RECORDS if datetime(2024, 3, 1) <= r[1] <= datetime(2024, 5, 31))
    assert list(harvest(url, set_="hu", from_="2030-01-01")) == []  # noRecordsMatch: nothing, not an error


def test_a_harvest_imports_like_a_file_and_again_adds_nothing(provider, tmp_path):
    url, _ = provider
    data, count = harvest_file(url, set_="hu")
    with Store(tmp_path / "w.db") as db:
        report = import_records(db, data, "oai-mtmt-hu.jsonl", collection="mtmt")
        assert report.rows_imported == count and not report.problems
        again = import_records(db, harvest_file(url, set_="hu")[0], "oai-mtmt-hu.jsonl", collection="mtmt")
        assert again.rows_imported == 0 and again.already_stored == count
        langs = {r["language"] for r in db.db.query("SELECT language FROM records")}
    assert langs == {"hu"}


class Hanging(BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(5)

    def log_message(self, *args):
        pass


class Garbage(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><body>Service temporarily moved</body></html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Closing(BaseHTTPRequestHandler):
    def do_GET(self):
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("handler, expected", [(Hanging, "did not answer"), (Garbage, "not an OAI-PMH response"),
                                               (Closing, "did not answer")])
def test_an_endpoint_that_hangs_answers_garbage_or_hangs_up_gets_a_clear_message(handler, expected, tmp_path):
    http, url = serve(handler)
    try:
        started = time.perf_counter()
        with pytest.raises(HarvestError) as caught:
            harvest_file(url, timeout=1.0, retries=1)
        assert expected in str(caught.value), str(caught.value)
        assert time.perf_counter() - started < 15
    finally:
        http.shutdown()


def test_only_http_addresses_are_harvested():
    with pytest.raises(HarvestError, match="not an http"):
        list(harvest("file:///etc/passwd"))


def test_a_harvest_follows_the_remote_host_policy_and_needs_a_role_that_imports(store, monkeypatch):
    """Only this machine's endpoints, or a host an administrator named; and only a librarian, lead
    or administrator harvests (the request is refused before anything is fetched)."""
    from core.domain.access import PermissionDenied
    from core.work.harvesting import harvest_records

    monkeypatch.delenv("WORKBENCH_REMOTE_HOSTS", raising=False)
    with pytest.raises(HarvestError, match="may not be harvested from 'oai.example.org'.*WORKBENCH_REMOTE_HOSTS"):
        harvest_records(store, "https://oai.example.org/oai")
    with pytest.raises(HarvestError, match="not an http"):
        harvest_records(store, "file:///etc/passwd")
    monkeypatch.setenv("WORKBENCH_REMOTE_HOSTS", "oai.example.org")
    with pytest.raises(HarvestError, match="did not answer|Cannot harvest"):  # allowed: it is asked (and fails)
        harvest_records(store, "https://oai.example.org:9/oai", max_records=1, )
    with store.acting_as("eva", "expert"), pytest.raises(PermissionDenied, match="may not import records"):
        harvest_records(store, "http://127.0.0.1:9/oai")


def test_harvest_on_the_command_line(provider, tmp_path):
    from tests.test_cli import cli

    url, _ = provider
    out = cli("harvest", url, "--set", "en", "--quiet", db=tmp_path / "w.db")
    english = sum(1 for r in RECORDS if r[2] == "en")
    assert out.returncode == 0, out.stderr
    assert f"{english} records harvested" in out.stdout and "Traceback" not in out.stderr
    out = cli("harvest", "http://127.0.0.1:9/oai", db=tmp_path / "w.db")  # nothing listens there
    assert out.returncode != 0 and "Traceback" not in out.stderr and "Cannot harvest" in out.stderr, out.stderr


def test_a_librarian_harvests_on_the_import_page(provider, workspace_env):
    from tests.test_pages import on_page

    url, _ = provider
    at = on_page("import_records.py", role="librarian")
    at.text_input(key="import.oai.url").input(url)
    at.text_input(key="import.oai.set").input("hu").run()
    at.button(key="import.oai.run").click().run()
    assert not at.exception, at.exception
    hungarian = sum(1 for r in RECORDS if r[2] == "hu")
    assert any(f"{hungarian} records harvested" in s.value for s in at.success), [s.value for s in at.success]
    at.selectbox(key="import.label_taxonomy").select("").run()  # "Any taxonomy"
    at.button(key="import.run").click().run()
    assert not at.exception
    assert any(f"{hungarian} records imported" in s.value for s in at.success), [s.value for s in at.success]
