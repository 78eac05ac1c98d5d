"""LLM suggestions from a real, tiny causal LM (``tests/tiny_lm.py``, trained by the test on the
workbench's own prompts): loaded locally (log-probabilities of the answer's letter), and served by
``transformers serve`` on localhost, a real OpenAI-compatible server that returns no
log-probabilities (JSON answers, validated against the listed codes). Then servers that hang,
answer garbage, hang up, or never name a listed code."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from core.models.combining import fit_calibration
from core.models.llm import Candidate, letter_scores, messages, parse_json_answer
from core.models.manifest import Manifest, ModelFolderError
from core.models.runtimes import load_classifier
from core.models.runtimes.llm import connect_llm, llm_candidates
from core.models.services import ServiceError, ServiceUnavailable
from tests.conftest import ROOT, corpus, free_port, headlines

pytestmark = pytest.mark.slow

TRAIN, VAL, TEST = slice(0, 1500), slice(1500, 2300), slice(2300, 2700)


def accuracy(clf, texts, golds):
    scores = clf.predict_scores(texts)
    return float(np.mean([clf.manifest.codes[i] == g[0] for i, g in zip(scores.argmax(1), golds)])), scores


def test_prompts_and_answers():
    cands = [Candidate("3", {"en": "Health", "hu": "Egészségügy"}, "Includes issues related to health care"),
             Candidate("12", {"en": "Law and Crime"})]
    msgs = messages("Kórházi várólisták", cands, "letters", "hu")
    assert "A. Egészségügy (Includes issues" in msgs[1]["content"] and "B. Law and Crime" in msgs[1]["content"]
    assert '"code"' in messages("x", cands, "json")[1]["content"] and "3: Health" in messages("x", cands, "json")[1][
        "content"]
    assert parse_json_answer('Sure! {"code": "12"}', ["3", "12"]) == "12"
    assert parse_json_answer('{"code": "99"}', ["3", "12"]) is None  # not a listed code
    assert parse_json_answer("12", ["3", "12"]) == "12" and parse_json_answer("", ["3"]) is None
    scores = letter_scores({"A": -0.1, " B": -2.5, "Z": -0.01}, 2)  # Z is not listed
    assert scores[0] > scores[1] and abs(sum(scores) - 1) < 1e-9
    assert letter_scores({"hello": -0.1}, 2) is None


def test_local_causal_lm_reranks_and_calibrates(lm, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "ws"))
    folder = tmp_path / "cap-llm-rerank"
    manifest = connect_llm(folder, taxonomy=lm["taxonomy"], mode="rerank", local_model=lm["lm"], shortlist=lm["own"],
                           top_k=8)
    assert manifest.runtime == "llm" and manifest.files == {"lm": "lm"}
    texts, golds = headlines(TEST)
    clf = load_classifier(folder)
    own_acc, _ = accuracy(load_classifier(lm["own"]), texts, golds)
    rr_acc, scores = accuracy(clf, texts, golds)
    assert clf.report_["invalid"] == 0  # letters: every answer is a listed one
    own_scores = load_classifier(lm["own"]).predict_scores(texts)
    outside = np.argsort(-own_scores, axis=1)[:, 8:]  # what the LLM was not shown keeps the shortlist's scores
    assert np.allclose(np.take_along_axis(scores, outside, 1), np.take_along_axis(own_scores, outside, 1), atol=1e-5)
    assert rr_acc >= own_acc - 0.03, (rr_acc, own_acc)
    fitted = fit_calibration(folder, *headlines(VAL), lm["taxonomy"])
    assert fitted.calibration["ece_after"] < 0.1, fitted.calibration


def test_zero_shot_over_a_small_taxonomy(lm, tmp_path, monkeypatch):
    """FORD's six major fields fit one prompt: no shortlist, every field scored."""
    from core.files.taxonomy_io import read_taxonomy_file

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "ws"))
    ford = read_taxonomy_file(ROOT / "data" / "taxonomies" / "ford.csv", id="ford")
    connect_llm(tmp_path / "ford-llm", taxonomy=ford, level=1, local_model=lm["lm"])
    scores = load_classifier(tmp_path / "ford-llm").predict_scores(["Deep learning for protein folding",
                                                                    "Medieval Hungarian poetry"])
    assert scores.shape == (2, 6) and np.allclose(scores.sum(1), 1, atol=1e-5) and (scores > 0).all()
    with pytest.raises(ModelFolderError, match="too many"):
        connect_llm(tmp_path / "cap-all", taxonomy=lm["taxonomy"], local_model=lm["lm"])  # 213 subtopics


def test_openai_endpoint_json_answers_and_cache(lm, served, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "ws"))
    folder = tmp_path / "cap-llm-served"
    connect_llm(folder, taxonomy=lm["taxonomy"], mode="rerank", url=served, model=str(lm["lm"]), shortlist=lm["own"],
                top_k=8, concurrency=4)
    texts, golds = headlines(slice(2300, 2360))
    clf = load_classifier(folder)
    acc, scores = accuracy(clf, texts, golds)
    assert clf.style_ == "json"  # the server ignores logprobs: answers are JSON, checked against the codes
    assert clf.report_["asked"] == 60 and clf.report_["invalid"] < 30
    assert np.allclose(scores.sum(1), 1, atol=1e-4)
    # asked again: every answer comes from the cache, even with the server gone
    import json

    manifest = json.loads((folder / "workbench.json").read_text())
    cached = load_classifier(folder)
    cached.endpoint_ = cached.endpoint_.__class__(url=f"http://localhost:{free_port()}/v1", what="LLM endpoint")
    cached.model_id_ = clf.model_id_
    assert np.allclose(cached.predict_scores(texts), scores)
    assert manifest["service"]["url"] == served


def _server(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _answer(body: bytes):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if body is None:
                time.sleep(5)
                return
            if body == b"HANGUP":
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

        def log_message(self, *args):
            pass

    return Handler


PROSE = b'{"choices": [{"message": {"role": "assistant", "content": "It is about many things."}}]}'


@pytest.mark.parametrize("body,message", [
    (None, "no answer within 1 s"),
    (b"<html>busy</html>", "not JSON"),
    (b'{"error": "nope"}', "not a chat completion"),
    (b"HANGUP", "broke off|cannot connect"),
    (PROSE, "named no listed code"),
])
def test_misbehaving_llm_servers(lm, tmp_path, monkeypatch, body, message):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "ws"))
    server = _server(_answer(body))
    try:
        folder = tmp_path / "bad"
        folder.mkdir()
        from core.models.encoder import link_tree
        from core.models.manifest import write_manifest

        link_tree(lm["own"], folder / "members" / "cap-own")
        codes = tuple(sorted(set(corpus("cap_nyt_headlines_sample.csv", TRAIN)["cap_major"]), key=int))
        write_manifest(folder, Manifest(
            name="bad", version="1", taxonomy="cap", codes=codes, runtime="llm",
            service={"url": f"http://127.0.0.1:{server.server_port}/v1", "model": "m", "timeout_s": 1, "retries": 1},
            training={"mode": "rerank", "shortlist": "cap-own", "candidates": llm_candidates(lm["taxonomy"], codes)}))
        started = time.perf_counter()
        with pytest.raises(ServiceUnavailable, match=message):
            load_classifier(folder).predict_scores(["Hospital budgets cut"])
        assert time.perf_counter() - started < 20
    finally:
        server.shutdown()


def test_texts_stay_on_this_machine(lm, tmp_path):
    with pytest.raises(ServiceError, match="WORKBENCH_REMOTE_HOSTS"):
        connect_llm(tmp_path / "x", taxonomy=lm["taxonomy"], mode="rerank", url="https://api.example.com/v1",
                    model="big", shortlist=lm["own"])
    assert not (tmp_path / "x").exists()


def test_a_bulk_job_with_an_llm_is_estimated_from_a_measured_sample(lm, served, tmp_path, monkeypatch):
    from core.jobs import estimate_job

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "ws"))
    connect_llm(tmp_path / "cap-llm", taxonomy=lm["taxonomy"], mode="rerank", url=served, model=str(lm["lm"]),
                shortlist=lm["own"])
    frame = corpus("cap_nyt_headlines_sample.csv", slice(2400, 2600))[["id", "title"]]
    frame.to_csv(tmp_path / "in.csv", index=False)
    est = estimate_job(tmp_path / "in.csv", "in.csv", {"id": "id", "title": "title"}, [str(tmp_path / "cap-llm")])
    assert not est.rows_exact and 120 <= est.rows <= 320  # 200 rows, estimated from the first 5 rows' size
    assert est.records_per_s["cap-llm"] > 0 and est.seconds == pytest.approx(est.rows / est.records_per_s["cap-llm"])
