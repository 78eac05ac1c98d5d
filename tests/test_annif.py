"""A real Annif server on localhost (the registry's ``annif`` in ``.venv-annif``, made by the
set-up), trained by the test on the workbench's own exports: the SKOS vocabulary and the experts'
labels as an Annif corpus. Then the round trip: the project as a model folder (suggestions,
calibration, an ensemble with our model, a bulk job, ``classify``), and servers that are down,
hang or answer garbage."""

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest

from core.files.taxonomy_io import read_taxonomy
from core.models.combining import combine, fit_calibration
from core.models.manifest import Manifest, load_manifest, write_manifest
from core.models.runtimes import load_classifier
from core.models.runtimes.annif import connect_annif
from core.models.services import ServiceError, ServiceUnavailable, check_url
from tests.conftest import ROOT, corpus, free_port, headlines

pytestmark = pytest.mark.slow

TRAIN, VAL, TEST = slice(0, 1500), slice(1500, 2300), slice(2300, 3084)


def weighted_f1(clf, texts, golds):
    from sklearn.metrics import f1_score

    scores = clf.predict_scores(texts)
    pred = [clf.manifest.codes[i] for i in scores.argmax(1)]
    return f1_score([g[0] for g in golds], pred, average="weighted"), scores


def test_exports_load_into_annif_and_read_back(annif):
    """The SKOS file re-imports as the same taxonomy; every corpus line carries the export's URIs."""
    taxonomy = annif["taxonomy"]
    again = read_taxonomy((annif["root"] / "cap.ttl").read_bytes(), "cap.ttl")
    assert {n.code: n.parents for n in again} == {n.code: n.parents for n in taxonomy}
    lines = (annif["root"] / "corpus.tsv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1500 and all(line.count("\t") == 1 and "<https://workbench.local/cap/" in line
                                      for line in lines)
    docs = [json.loads(x) for x in (annif["root"] / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {d["document_id"] for d in docs} == set(corpus("cap_nyt_headlines_sample.csv", TRAIN)["id"])


def test_annif_project_is_a_calibrated_model(annif, tmp_path):
    taxonomy = annif["taxonomy"]
    folder = tmp_path / "cap-annif-svc"
    manifest = connect_annif(folder, url=annif["url"], project="cap-svc", taxonomy=taxonomy, level=1)
    assert manifest.runtime == "annif" and set(manifest.codes) == {n.code for n in taxonomy.at_level(1)}
    texts, golds = headlines(TEST)
    f1_raw, raw = weighted_f1(load_classifier(folder), texts, golds)
    assert f1_raw > 0.3, f1_raw  # 1,500 headlines; a constant guess scores below 0.05
    # each row is its own text's: shuffled input, same rows
    order = np.random.default_rng(0).permutation(200)
    shuffled = load_classifier(folder).predict_scores([texts[i] for i in order])
    assert np.allclose(shuffled, raw[order], atol=1e-6)

    fitted = fit_calibration(folder, *headlines(VAL), taxonomy)
    assert fitted.calibration["ece_after"] < fitted.calibration["ece_before"]
    from core.models.calibration import ece

    column = {c: i for i, c in enumerate(fitted.codes)}
    scores = load_classifier(folder).predict_scores(texts)
    assert ece(scores, np.array([column[g[0]] for g in golds])) < 0.1
    assert np.allclose(scores.sum(1), 1.0, atol=1e-4)


def test_ensemble_with_our_model(annif, tmp_path):
    """Annif's svc and omikuji projects mixed with a TF-IDF model trained on the same labels; the
    weights are fitted on records none of them saw."""
    from core.models.tfidf_onnx import train_tfidf_model

    taxonomy = annif["taxonomy"]
    train = corpus("cap_nyt_headlines_sample.csv", TRAIN)
    base = Manifest(name="cap-own", version="t1", taxonomy="cap", codes=(), runtime="onnx-text",
                    input_fields=("title",))
    train_tfidf_model(train["title"].tolist(), train["cap_major"].tolist(), tmp_path / "cap-own", base)
    for backend in ("svc", "omikuji"):
        connect_annif(tmp_path / f"cap-{backend}", url=annif["url"], project=f"cap-{backend}", taxonomy=taxonomy,
                      level=1)
        fit_calibration(tmp_path / f"cap-{backend}", *headlines(VAL), taxonomy)
    manifest = combine([tmp_path / "cap-own", tmp_path / "cap-svc", tmp_path / "cap-omikuji"], *headlines(VAL), taxonomy,
                       tmp_path / "cap-mix")
    assert len(manifest.training["weights"]) == 3 and abs(sum(manifest.training["weights"]) - 1) < 1e-6
    texts, golds = headlines(TEST)
    figures = {name: weighted_f1(load_classifier(tmp_path / name), texts, golds)[0]
               for name in ("cap-own", "cap-svc", "cap-omikuji", "cap-mix")}
    print(json.dumps({k: round(v, 4) for k, v in figures.items()}))
    assert figures["cap-mix"] >= max(figures["cap-own"], figures["cap-svc"], figures["cap-omikuji"]) - 0.02


def test_bulk_job_and_classify_through_annif(annif, tmp_path, store):
    from core.jobs import JobParams, create_job, retry_job, run_job
    from core.jobs.lifecycle import get_job

    folder = tmp_path / "models" / "cap-annif"
    connect_annif(folder, url=annif["url"], project="cap-svc", taxonomy=annif["taxonomy"], level=1)
    frame = corpus("cap_nyt_headlines_sample.csv", slice(2300, 2450))[["id", "title"]]
    frame.to_csv(tmp_path / "in.csv", index=False)
    out = subprocess.run([sys.executable, "-m", "core", "--db", str(store.path), "classify", str(tmp_path / "in.csv"),
                          str(tmp_path / "out.csv"), "--model", str(folder), "--map", "id=id", "--map", "title=title"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert result["id"].tolist() == frame["id"].tolist()

    params = JobParams(source=str(tmp_path / "in.csv"), file_name="in.csv", mapping={"id": "id", "title": "title"},
                       models=[str(folder)], taxonomy_id="cap", top_k=3, chunk=50)
    job_id = create_job(store, params, "Lib")
    assert run_job(store.path, job_id).status == "done"

    # the server goes away mid-job: the job fails as a whole (no row gets an error cell), and a
    # retry once it is back goes on from its last chunk, each row classified once
    manifest = load_manifest(folder)
    job2 = create_job(store, params, "Lib")
    run_job(store.path, job2, stop_after_chunks=1)
    write_manifest(folder, Manifest(**{**manifest.__dict__, "service": {**manifest.service,
                                                                          "url": f"http://localhost:{free_port()}"}}))
    with pytest.raises(ServiceUnavailable):
        run_job(store.path, job2)
    failed = get_job(store, job2)
    assert failed.status == "failed" and "nothing listens there" in failed.error
    assert 0 < failed.done < 150 and failed.checkpoint.get("errors", 0) == 0
    write_manifest(folder, manifest)
    retry_job(store, job2)
    done = run_job(store.path, job2)
    assert done.status == "done" and done.done == 150 and done.checkpoint.get("errors", 0) == 0
    assert store.job_result_count(job2) == 150


class _Hanging(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        time.sleep(5)

    do_GET = do_POST

    def log_message(self, *args):
        pass


class _Garbage(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"<html>not json")

    do_GET = do_POST

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("handler,message", [(_Hanging, "no answer within 1 s"),
                                             (_Garbage, "not JSON")])
def test_misbehaving_servers_give_a_clear_message(tmp_path, handler, message):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        folder = tmp_path / "bad"
        folder.mkdir()
        write_manifest(folder, Manifest(name="bad", version="1", taxonomy="cap", codes=("1", "2"), runtime="annif",
                                        service={"url": f"http://127.0.0.1:{server.server_port}", "project": "p",
                                                 "timeout_s": 1, "retries": 1}))
        started = time.perf_counter()
        with pytest.raises(ServiceUnavailable, match=message):
            load_classifier(folder).predict_scores(["a text"])
        assert time.perf_counter() - started < 10
    finally:
        server.shutdown()


def test_texts_go_only_where_an_administrator_allowed():
    assert check_url("http://127.0.0.1:5000/") == "http://127.0.0.1:5000"
    assert check_url("http://[::1]:8000") == "http://[::1]:8000"
    with pytest.raises(ServiceError, match="WORKBENCH_REMOTE_HOSTS"):
        check_url("https://annif.example.org")
    assert check_url("https://annif.example.org", env={"WORKBENCH_REMOTE_HOSTS": "annif.example.org"})
    with pytest.raises(ServiceError, match="credentials"):
        check_url("http://user:secret@localhost:5000")
    with pytest.raises(ServiceError, match="http"):
        check_url("file:///etc/passwd")
