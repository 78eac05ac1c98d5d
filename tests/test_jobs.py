"""Bulk classification jobs on real files and a real SQLite workspace: end to end, a worker killed
mid-job and resumed (exactly once), cancel, malformed files, downloads, triage, the CLI."""

import io
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from core.domain.labels import QueueSpec
from core.errors import InputFileError, NotFound, TaxonomyError
from core.files.writers import neutralise
from core.jobs import (
    JobError,
    JobParams,
    cancel_job,
    create_job,
    default_thresholds,
    distribution,
    get_job,
    launch,
    list_jobs,
    run_job,
    triage,
    write_results,
)
from core.jobs.worker import FIRST_CHUNK
from core.models.manifest import load_manifest
from core.models.runtimes import load_classifier
from tests.conftest import DATA, ROOT, default_model, shared_file

pytestmark = pytest.mark.slow

TFIDF = default_model("ford-tfidf")


def records_file(path, rows, seed=0):
    """An MTMT-like export built from the shipped titles and abstracts (with a formula cell)."""
    titles = pd.read_csv(DATA / "corpora" / "sci_mag_paper_titles_dev.csv", dtype=str)["title"].tolist()
    abstracts = pd.read_csv(DATA / "corpora" / "sci_arxiv_abstracts_sample.csv", dtype=str)["abstract"].tolist()
    frame = pd.DataFrame({
        "MTMT id": [f"m{seed}-{i}" for i in range(rows)],
        "Cím": [titles[(i * 7 + seed) % len(titles)] for i in range(rows)],
        "Absztrakt": [abstracts[i % len(abstracts)] if i % 5 < 2 else "" for i in range(rows)],
        "note": ["=HYPERLINK(\"http://x\")" if i == 0 else f"n{i}" for i in range(rows)],
    })
    frame.to_csv(path, index=False)
    return frame


def params(path, **kw):
    base = dict(source=str(path), file_name=path.name, mapping={"id": "MTMT id", "title": "Cím", "abstract": "Absztrakt"},
                models=[str(TFIDF)], taxonomy_id="ford", top_k=3, chunk=1000)
    base.update(kw)
    return JobParams(**base)


def test_fifty_thousand_rows_end_to_end(store, tmp_path):
    frame = records_file(tmp_path / "big.csv", 50_000)
    job_id = create_job(store, params(tmp_path / "big.csv", chunk=5000), "Lib")
    assert get_job(store, job_id).status == "queued"
    job = run_job(store.path, job_id)
    assert job.status == "done" and job.done == job.total == 50_000 and job.records_per_s > 0
    assert store.job_result_count(job_id) == 50_000
    assert store.db.execute("SELECT count(*) FROM predictions WHERE job_id = ?", [job_id]).fetchone()[0] == 50_000
    dist = distribution(store, job)
    assert sum(dist.values()) == 50_000 and len(dist) > 3
    out = tmp_path / "out.csv"
    write_results(store, job, "csv", out)
    back = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(back.columns[:4]) == list(frame.columns)
    assert list(back.columns[4:7]) == ["code_1", "name_1", "score_1"]
    assert back["MTMT id"].tolist() == frame["MTMT id"].tolist()  # file order kept
    assert back.loc[0, "note"].startswith("'=")  # formula neutralised
    assert (back["code_1"] != "").all() and back["score_1"].astype(float).between(0, 1).all()


def test_killed_worker_resumes_exactly_once(store, tmp_path):
    records_file(tmp_path / "f.csv", 6000)
    job_id = create_job(store, params(tmp_path / "f.csv", chunk=500), "Lib")
    # a run that stops after three chunks: the job stays "running" with its checkpoint
    job = run_job(store.path, job_id, stop_after_chunks=3)
    assert job.done == FIRST_CHUNK + 1000 and job.status == "running"  # a small first step, then 500 a step
    # a real worker process, killed with SIGKILL while it works
    pid = launch(store.path, job_id, tmp_path / "logs")
    deadline = time.time() + 120
    while get_job(store, job_id).done <= job.done and time.time() < deadline:
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    mid = get_job(store, job_id)
    assert mid.status == "interrupted" and job.done < mid.done
    # resume to the end
    job = run_job(store.path, job_id)
    assert job.status == "done" and job.done == 6000
    counts = store.db.execute("SELECT count(*), count(DISTINCT position) FROM job_results WHERE job_id = ?",
                              [job_id]).fetchone()
    assert counts == (6000, 6000)
    assert store.db.execute("SELECT count(*) FROM records WHERE batch_id = ?",
                            [job.checkpoint["batch_id"]]).fetchone()[0] == 6000  # imported once


def test_cancel_and_list(store, tmp_path):
    records_file(tmp_path / "c.csv", 3000)
    job_id = create_job(store, params(tmp_path / "c.csv", chunk=500), "Lib")
    run_job(store.path, job_id, stop_after_chunks=1)
    from core.processes import lease_of

    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # a live worker
    try:
        store.update_job(job_id, checkpoint=dict(get_job(store, job_id).checkpoint, lease=lease_of(holder.pid),
                                                 pid=holder.pid))
        cancel_job(store, job_id)  # its worker is alive: it is asked to stop at its next chunk
        assert get_job(store, job_id).status == "cancelling"
    finally:
        holder.kill()
        holder.wait()
    job = get_job(store, job_id)  # the worker is gone: the job reads as cancelled
    assert job.status == "cancelled" and job.done == FIRST_CHUNK
    assert run_job(store.path, job_id).status == "cancelled"  # a cancelled job stays cancelled
    queued = create_job(store, params(tmp_path / "c.csv"), "Lib")
    cancel_job(store, queued)  # never started: cancelled at once
    assert get_job(store, queued).status == "cancelled"
    assert [j.id for j in list_jobs(store)][:2] == [queued, job_id]


def test_malformed_input_is_refused_before_anything_runs(store, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    with pytest.raises(InputFileError):
        create_job(store, params(bad), "Lib")
    records_file(tmp_path / "ok.csv", 10)
    with pytest.raises(InputFileError, match="no column 'Title'"):
        create_job(store, params(tmp_path / "ok.csv", mapping={"title": "Title"}), "Lib")
    with pytest.raises(InputFileError, match="text column"):
        create_job(store, params(tmp_path / "ok.csv", mapping={"id": "MTMT id"}), "Lib")
    with pytest.raises(JobError, match="two of the chosen models are named 'ford-tfidf'"):
        create_job(store, params(tmp_path / "ok.csv", models=[str(TFIDF), str(TFIDF)]), "Lib")
    import dataclasses
    import shutil

    from core.models.manifest import write_manifest

    stranger = tmp_path / "stranger"
    shutil.copytree(TFIDF, stranger)
    write_manifest(stranger, dataclasses.replace(load_manifest(stranger), name="stranger", taxonomy="mtmt"))
    with pytest.raises(NotFound, match="mtmt"):  # a model of a taxonomy the workspace does not have
        create_job(store, params(tmp_path / "ok.csv", models=[str(TFIDF), str(stranger)]), "Lib")
    with pytest.raises(JobError, match="does not exist"):
        create_job(store, params(tmp_path / "missing.csv"), "Lib")
    # a file with a bad row: skipped rows are reported, the job classifies the rest
    text = (tmp_path / "ok.csv").read_text(encoding="utf-8").splitlines()
    text.insert(3, "m0-1,,,x")  # repeated id, no text
    (tmp_path / "dirty.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    job = run_job(store.path, create_job(store, params(tmp_path / "dirty.csv"), "Lib"))
    assert job.status == "done" and job.total == 10
    assert list_jobs(store) and store.list_batches()[0].rows_skipped == 1
    assert not [j for j in list_jobs(store) if j.status == "queued"]
    assert len(store.db.execute("SELECT * FROM records").fetchall()) == 10


def test_xlsx_download_and_triage(store, tmp_path):
    records_file(tmp_path / "t.csv", 400)
    job = run_job(store.path, create_job(store, params(tmp_path / "t.csv", level=1), "Lib"))
    buf = io.BytesIO()
    write_results(store, job, "xlsx", buf)
    sheet = pd.read_excel(io.BytesIO(buf.getvalue()), dtype=str)
    assert len(sheet) == 400 and set(sheet["code_1"].dropna()) <= {"1", "2", "3", "4", "5", "6"}
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(buf.getvalue()))
    ws = book.active
    header = [c.value for c in ws[1]]
    # a formula-like text is what the reader sees, exactly (no apostrophe), stored as text that
    # Excel never runs (a string cell with the quote prefix)
    note = ws.cell(2, header.index("note") + 1)
    assert sheet.loc[0, "note"] == note.value and note.value.startswith("=") and note.data_type == "s"
    assert note.quotePrefix
    score, name = header.index("score_1") + 1, header.index("name_1") + 1
    assert ws.freeze_panes == "A2"  # the header stays in view
    assert ws.cell(2, score).number_format == "0.0%" and isinstance(ws.cell(2, score).value, float)
    assert 0 < ws.cell(2, score).value <= 1  # a number, shown as a percent
    letter = ws.cell(1, name).column_letter
    assert ws.column_dimensions[letter].width >= 40  # category names are readable
    manifest = load_manifest(TFIDF)
    thresholds = default_thresholds(manifest)
    assert set(thresholds) == set(manifest.codes) and all(0.55 <= t <= 0.95 for t in thresholds.values())
    preview = triage(store, job, "ford-tfidf", thresholds, dry_run=True)
    assert preview.accepted + preview.to_queue == 400 and store.stats()["annotations"] == 0
    report = triage(store, job, "ford-tfidf", {c: 0.5 for c in manifest.codes})
    assert report.accepted == preview.accepted or report.accepted > 0
    events = store.db.execute("SELECT DISTINCT role, action, annotator FROM annotations").fetchall()
    assert events == [("machine", "machine-accept", f"model:ford-tfidf@{manifest.version}")]
    # machine-accepted records leave the expert queue; the rest wait there, least confident first
    spec = QueueSpec("ford", model_name="ford-tfidf", model_version=manifest.version)
    assert store.queue_size(spec) == report.to_queue
    again = triage(store, job, "ford-tfidf", {c: 0.5 for c in manifest.codes})
    assert again.accepted == 0 and again.already_labelled == report.accepted  # nothing accepted twice
    # undoing the triage: an undo event per record (the log keeps both), the records queue again
    from core.jobs import undo_triage

    events_before = store.stats()["annotations"]
    assert undo_triage(store, job, "ford-tfidf", "Lead Lea") == report.accepted
    assert store.stats()["annotations"] == events_before + report.accepted
    assert store.queue_size(spec) == 400 and store.verify_events().intact
    assert undo_triage(store, job, "ford-tfidf", "Lead Lea") == 0  # nothing left to undo


def test_neutralise():
    assert neutralise("=SUM(A1)") == "'=SUM(A1)" and neutralise("@x") == "'@x" and neutralise("+1 555") == "'+1 555"
    assert neutralise("-3.5") == "-3.5" and neutralise("plain") == "plain" and neutralise(4) == 4


def test_cli_classify_streams_a_file(tmp_path):
    records_file(tmp_path / "in.csv", 3000)
    out = subprocess.run([sys.executable, "-m", "core", "--db", str(tmp_path / "c.db"), "classify",
                          str(tmp_path / "in.csv"), str(tmp_path / "out.xlsx"), "--model", str(TFIDF),
                          "--map", "title=Cím", "--map", "abstract=Absztrakt", "--top-k", "2", "--chunk", "500",
                          "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "3,000 rows classified" in out.stdout
    sheet = pd.read_excel(tmp_path / "out.xlsx", dtype=str)
    assert list(sheet.columns[-6:]) == ["code_1", "name_1", "score_1", "code_2", "name_2", "score_2"]
    assert len(sheet) == 3000
    out = subprocess.run([sys.executable, "-m", "core", "--db", str(tmp_path / "c.db"), "classify",
                          str(tmp_path / "nope.csv"), str(tmp_path / "o.csv"), "--model", str(TFIDF)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "does not exist" in out.stderr


def test_interrupted_jobs_resume_when_the_app_starts(store, tmp_path):
    from core.jobs import resume_interrupted

    records_file(tmp_path / "r.csv", 2000)
    job_id = create_job(store, params(tmp_path / "r.csv", chunk=500), "Lib")
    run_job(store.path, job_id, stop_after_chunks=1)
    dead = subprocess.Popen(["true"])
    dead.wait()
    job = get_job(store, job_id)
    store.update_job(job_id, checkpoint=dict(job.checkpoint, pid=dead.pid))  # its worker died
    assert get_job(store, job_id).status == "interrupted"
    assert resume_interrupted(store, tmp_path / "logs") == [job_id]
    deadline = time.time() + 120
    while get_job(store, job_id).status != "done" and time.time() < deadline:
        time.sleep(0.1)
    assert get_job(store, job_id).done == 2000 and store.job_result_count(job_id) == 2000
    assert resume_interrupted(store, tmp_path / "logs") == []


def test_results_come_from_the_jobs_own_copy_of_the_file(store, tmp_path):
    """Editing or deleting the source after the job does not mismatch its results; a changed copy is refused."""
    path = tmp_path / "export.csv"
    frame = records_file(path, 300)
    job_id = create_job(store, params(path), "Lib")
    assert run_job(store.path, job_id).status == "done"
    first = tmp_path / "first.csv"
    write_results(store, get_job(store, job_id), "csv", first)
    pd.concat([frame.head(1).assign(**{"MTMT id": "new"}), frame]).to_csv(path, index=False)  # a row on top
    again = tmp_path / "again.csv"
    write_results(store, get_job(store, job_id), "csv", again)
    assert first.read_bytes() == again.read_bytes()
    path.unlink()
    write_results(store, get_job(store, job_id), "csv", again)
    assert first.read_bytes() == again.read_bytes()
    copy = get_job(store, job_id).params.source
    with open(copy, "ab") as fh:
        fh.write(b"m0-x,tampered,,\n")
    with pytest.raises(JobError, match="was changed"):
        write_results(store, get_job(store, job_id), "csv", again)


def test_a_job_runs_once_at_a_time_and_a_reused_pid_does_not_hold_it(store, tmp_path):
    from core.processes import lease_of

    path = tmp_path / "export.csv"
    records_file(path, 50)
    job_id = create_job(store, params(path), "Lib")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        store.update_job(job_id, status="running", checkpoint={"lease": lease_of(holder.pid), "pid": holder.pid})
        assert get_job(store, job_id).status == "running"
        assert run_job(store.path, job_id).status == "running"  # a live holder: the second worker leaves it
        assert get_job(store, job_id).done == 0
        # the same pid with another start time is another process: the lease is dead
        store.update_job(job_id, checkpoint={"lease": f"{holder.pid}:1", "pid": holder.pid})
        assert get_job(store, job_id).status == "interrupted"
    finally:
        holder.kill()
        holder.wait()
    assert run_job(store.path, job_id).status == "done"


def test_a_job_on_a_file_whose_ids_another_source_uses_classifies_its_own_texts(store, tmp_path):
    """Hungarian speeches with text_id 681 vs stored headlines with id 681: the job's rows must show
    predictions for their own text, never the other record's."""
    from core.jobs import classify_file
    from core.models.runtimes import load_classifier
    from core.work.records_import import import_records

    path = tmp_path / "export.csv"
    frame = records_file(path, 200)
    other = pd.DataFrame({"MTMT id": frame["MTMT id"], "Cím": ["Tax credit for small business"] * 200})
    import_records(store, other.to_csv(index=False).encode(), "headlines.csv",
                   mapping={"id": "MTMT id", "title": "Cím"})
    job_id = create_job(store, params(path), "Lib")
    job = run_job(store.path, job_id)
    assert job.status == "done" and job.done == 200
    got = tmp_path / "job.csv"
    write_results(store, get_job(store, job_id), "csv", got)
    want = tmp_path / "local.csv"
    classify_file([load_classifier(TFIDF)], store.load_taxonomy("ford"), path, path.name,
                  {"id": "MTMT id", "title": "Cím", "abstract": "Absztrakt"}, want)
    job_codes = pd.read_csv(got, dtype=str, encoding="utf-8-sig")["code_1"].tolist()
    assert job_codes == pd.read_csv(want, dtype=str, encoding="utf-8-sig")["code_1"].tolist()
    assert store.collections() == {"headlines": 200, "export": 200}


def _numbers_only_model(folder):
    """A real ONNX text model that fails on a text that is not a number (Cast string -> float),
    standing for any record a model cannot take: in a batch, one such record fails the whole call."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from core.models.manifest import Manifest, write_manifest

    nodes = [
        helper.make_node("Cast", ["text"], ["number"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["number"], ["total"], keepdims=0),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        helper.make_node("Shape", ["text"], ["shape"]),
        helper.make_node("Slice", ["shape", "start", "end"], ["rows"]),
        helper.make_node("Concat", ["rows", "classes"], ["out_shape"], axis=0),
        helper.make_node("ConstantOfShape", ["out_shape"], ["half"],
                         value=numpy_helper.from_array(np.array([0.5], np.float32))),
        helper.make_node("Add", ["half", "nothing"], ["probabilities"]),
    ]
    inits = [numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
             numpy_helper.from_array(np.array([0], np.int64), "start"),
             numpy_helper.from_array(np.array([1], np.int64), "end"),
             numpy_helper.from_array(np.array([2], np.int64), "classes")]
    graph = helper.make_graph(nodes, "numbers", [helper.make_tensor_value_info("text", TensorProto.STRING, [None, 1])],
                              [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    folder.mkdir(parents=True)
    onnx.save(model, folder / "model.onnx")
    write_manifest(folder, Manifest(name="numbers", version="1", taxonomy="ford", codes=("1.1", "5.2"),
                                    runtime="onnx-text", input_fields=("title",)))
    return folder


def test_a_record_a_model_cannot_take_gets_an_error_cell_and_the_job_goes_on(store, tmp_path):
    folder = _numbers_only_model(tmp_path / "numbers")
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"id": [f"r{i}" for i in range(10)],
                  "title": ["1.5", "2", "not a number", "4", "5", "6", "7", "also text", "9", "10"]}).to_csv(
        path, index=False)
    job_id = create_job(store, JobParams(source=str(path), file_name=path.name, mapping={"id": "id", "title": "title"},
                                         models=[str(folder)], taxonomy_id="ford", top_k=1, chunk=4), "Lib")
    job = run_job(store.path, job_id)
    assert job.status == "done" and job.done == 10 and job.checkpoint["errors"] == 2
    out = tmp_path / "out.csv"
    write_results(store, job, "csv", out)
    frame = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(frame.columns) == ["id", "title", "code_1", "name_1", "score_1", "error"]
    failed = frame[frame["error"] != ""]
    assert failed["id"].tolist() == ["r2", "r7"] and (failed["code_1"] == "").all()
    assert "Cast" in failed["error"].iloc[0] or "convert" in failed["error"].iloc[0].lower()
    assert (frame.loc[frame["error"] == "", "code_1"] != "").all()  # every other row classified


def test_a_cancelled_job_offers_partial_results_and_can_be_retried(store, tmp_path):
    from core.jobs import retry_job

    records_file(tmp_path / "c.csv", 1500)
    job_id = create_job(store, params(tmp_path / "c.csv", chunk=500), "Lib")
    run_job(store.path, job_id, stop_after_chunks=1)
    cancel_job(store, job_id)
    assert get_job(store, job_id).status == "cancelled"
    partial = tmp_path / "partial.csv"
    write_results(store, get_job(store, job_id), "csv", partial)
    frame = pd.read_csv(partial, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(frame) == 1500 and (frame["code_1"] != "").sum() == FIRST_CHUNK
    with pytest.raises(JobError, match="only a failed or cancelled job"):
        retry_job(store, create_job(store, params(tmp_path / "c.csv"), "Lib"))
    retry_job(store, job_id)
    job = run_job(store.path, job_id)
    assert job.status == "done" and job.done == 1500 and store.job_result_count(job_id) == 1500


def test_one_job_runs_models_of_two_taxonomies_and_encodes_each_record_once(store, tmp_path):
    """FORD and CAP models in one job: each model's codes and names come from its own taxonomy, its
    predictions and triage land in its own taxonomy, the two MiniLM heads share one encoding per
    record, and the cells equal those of each model run alone."""
    from core.jobs import classify_file, job_taxonomies, result_rows
    from core.models.runtimes import load_classifier
    from core.work.embeddings import cache_key

    records_file(tmp_path / "mixed.csv", 120)
    folders = [default_model("ford-minilm"), default_model("cap-minilm"), default_model("cap-tfidf")]
    with pytest.raises(TaxonomyError, match="level 3"):  # neither has three levels
        create_job(store, params(tmp_path / "mixed.csv", models=[str(f) for f in folders], level=3), "Lib")
    job = run_job(store.path, create_job(store, params(tmp_path / "mixed.csv", models=[str(f) for f in folders]), "Lib"))
    assert job.status == "done" and job.done == 120
    assert {m["name"]: m["taxonomy"] for m in job.models} == {"ford-minilm": "ford", "cap-minilm": "cap",
                                                              "cap-tfidf": "cap"}
    assert {n: t.id for n, t in job_taxonomies(store, job).items()} == {"ford-minilm": "ford", "cap-minilm": "cap",
                                                                      "cap-tfidf": "cap"}
    heads = [load_classifier(f) for f in folders[:2]]
    assert cache_key(heads[0]) == cache_key(heads[1]) is not None
    unique = store.db.execute("SELECT count(DISTINCT content_hash) FROM records").fetchone()[0]
    assert store.db.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 120 and unique <= 120
    taxa = dict(store.db.execute("SELECT model_name, group_concat(DISTINCT taxonomy_id) FROM predictions "
                                 "GROUP BY model_name").fetchall())
    assert taxa == {"ford-minilm": "ford", "cap-minilm": "cap", "cap-tfidf": "cap"}
    header, rows = next(result_rows(store, job, chunk_size=1000))
    table = pd.DataFrame(rows, columns=header)
    ford, cap = store.load_taxonomy("ford"), store.load_taxonomy("cap")
    assert table["ford-minilm_code_1"].map(lambda c: c in ford).all()
    assert table["cap-minilm_code_1"].map(lambda c: c in cap).all()
    assert table["cap-minilm_name_1"].tolist() == [cap.name_of(c) for c in table["cap-minilm_code_1"]]
    # each model alone, through ``classify``, writes the same codes and scores
    for folder in folders:
        alone = tmp_path / f"{folder.name}.csv"
        classify_file([load_classifier(folder)], store.load_taxonomy(load_classifier(folder).manifest.taxonomy),
                      tmp_path / "mixed.csv", "mixed.csv", {"title": "Cím", "abstract": "Absztrakt"}, alone)
        back = pd.read_csv(alone, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        name = folder.name
        assert back["code_1"].tolist() == table[f"{name}_code_1"].tolist()
        assert (back["score_1"].astype(float) - table[f"{name}_score_1"].astype(float)).abs().max() < 2e-3
    report = triage(store, job, "cap-minilm", {c: 0.0 for c in cap.nodes})
    # science titles are far from the CAP model's headlines and bills for about half of them
    assert report.accepted + report.other_language + report.far_from_training == 120 and report.accepted > 30
    assert store.db.execute("SELECT count(*) FROM annotations WHERE action = 'machine-accept' AND taxonomy_id = 'cap'"
                            ).fetchone()[0] == report.accepted


def test_conformal_triage_accepts_only_single_code_sets_and_measures_its_error(store, tmp_path):
    """The guarantee, on the shipped FORD head: fewer records accepted at a stricter rate, the
    coverage kept on held-out records, the error measured there, Hungarian records never accepted, and
    a zero-shot model (no held-out rows) accepts nothing and says so."""
    from core.jobs import conformal_triage
    from core.work.annotation import Annotator

    frame = records_file(tmp_path / "c.csv", 300)
    frame.loc[:9, "Cím"] = ["A magyar mezőgazdaság helyzete és jövője az Európai Unióban"] * 10
    frame.to_csv(tmp_path / "c.csv", index=False)
    folders = [str(default_model("ford-minilm")), str(default_model("ford-zeroshot"))]
    job = run_job(store.path, create_job(store, params(tmp_path / "c.csv", models=folders), "Lib"))
    strict, strict_rule = conformal_triage(store, job, "ford-minilm", 0.05, dry_run=True)
    loose, loose_rule = conformal_triage(store, job, "ford-minilm", 0.2, dry_run=True)
    assert strict_rule.threshold <= loose_rule.threshold or strict.accepted <= loose.accepted
    assert strict.accepted < loose.accepted and strict_rule.test_accept_share < loose_rule.test_accept_share
    assert strict_rule.test_coverage >= 0.95 - 0.02 and loose_rule.test_coverage >= 0.8 - 0.02
    assert strict_rule.measured_error < loose_rule.measured_error < 0.2
    assert strict.other_language >= 10  # the Hungarian titles go to the experts
    hungarian = {r["id"] for r in store.db.query("SELECT id FROM records WHERE language = 'hu'")}
    done, _ = conformal_triage(store, job, "ford-minilm", 0.2)
    accepted = {r[0] for r in store.db.execute("SELECT record_id FROM annotations WHERE action = 'machine-accept'")}
    assert len(accepted) == done.accepted == loose.accepted and not accepted & hungarian
    reasons = [r[0] for r in store.db.execute("SELECT reason FROM annotations WHERE action = 'machine-accept'")]
    assert all("conformal set" in r for r in reasons)
    nothing, rule = conformal_triage(store, job, "ford-zeroshot", 0.05, dry_run=True)
    assert rule is None and nothing.accepted == 0
    Annotator(store, "Eva", "expert", store.load_taxonomy("ford"))  # the experts' queue is untouched


def test_triage_leaves_records_far_from_the_training_data_to_the_experts(store, tmp_path):
    """Records that pass the language check (the file says English) but lie far from a model's
    training data are never machine-accepted: Hungarian speeches have too few words the TF-IDF
    model knows; placeholder rows (ISBNs, "[no title]") have no similar training vector for the
    head. English titles from the training source are nearly all accepted."""
    english = records_file(tmp_path / "e.csv", 200)
    speeches = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"),
                           dtype=str)["text"].head(60)
    junk = [f"ISBN 978-963-{i:03d}-{i * 7 % 1000:03d}-1" if i % 2 else f"[no title] #{i} 2019-03-{i % 28 + 1:02d}"
            for i in range(40)]
    frame = pd.concat([english, pd.DataFrame({"MTMT id": [f"hu{i}" for i in range(60)] + [f"x{i}" for i in range(40)],
                                              "Cím": speeches.str[:300].tolist() + junk, "Absztrakt": "",
                                              "note": ""})], ignore_index=True)
    frame["lang"] = "en"
    frame.to_csv(tmp_path / "far.csv", index=False)
    mapping = {"id": "MTMT id", "title": "Cím", "abstract": "Absztrakt", "language": "lang"}
    folders = [str(default_model("ford-tfidf")), str(default_model("ford-minilm"))]
    job = run_job(store.path, create_job(store, params(tmp_path / "far.csv", models=folders, mapping=mapping), "Lib"))
    ids = {r["external_id"]: r["id"] for r in store.db.query("SELECT id, external_id FROM records")}
    hungarian = {ids[f"hu{i}"] for i in range(60)}
    placeholders = {ids[f"x{i}"] for i in range(40)}
    everything = {c: 0.0 for c in store.load_taxonomy("ford").nodes}  # a rule that would accept every record
    for name, group, least in (("ford-tfidf", hungarian, 57), ("ford-minilm", placeholders, 12)):
        report = triage(store, job, name, everything, dry_run=True)
        assert report.other_language == 0  # the file says English: only the model's own measure can tell
        assert report.accepted + report.far_from_training == 300
        assert least <= report.far_from_training <= 100 + 200 * 0.05, (name, report)  # few English titles
    far = _far_ids(store, job, "ford-tfidf", sorted(hungarian))
    assert len(far) >= 57
    assert len(_far_ids(store, job, "ford-minilm", sorted(placeholders))) >= 12
    done = triage(store, job, "ford-tfidf", everything)
    accepted = {r[0] for r in store.db.execute("SELECT record_id FROM annotations WHERE action = 'machine-accept'")}
    assert len(accepted) == done.accepted and len(accepted & hungarian) <= 3


def _far_ids(store, job, model, record_ids):
    from core.jobs.triage import _far_from_training

    return _far_from_training(store, job, model, list(record_ids))


def test_far_from_training_measures_are_fitted_on_left_out_rows(tmp_path):
    """The thresholds come from each training row measured without itself; on held-out rows of the
    same source about 1 in 100 is called far, on another language most."""
    from core.models.familiarity import QUANTILE
    from core.models.kinds.tfidf import build_tfidf
    from core.models.manifest import Manifest

    frame = pd.read_csv(DATA / "corpora" / "cap_nyt_headlines_sample.csv", dtype=str).dropna(subset=["title"])
    texts, codes = frame["title"].tolist(), [[c] for c in frame["cap_major"]]
    base = Manifest(name="far", version="1", taxonomy="cap", codes=(), runtime="", input_fields=("title",))
    build_tfidf(texts[:1500], codes[:1500], tmp_path / "far", base)
    clf = load_classifier(tmp_path / "far")
    info = clf.manifest.calibration["familiarity"]
    assert info["quantile"] == QUANTILE and 0 < info["threshold"] < 1
    held = clf.far_from_training(texts[1500:2500])
    assert held.mean() < 0.05
    danish = pd.read_csv(shared_file("corpora", "cap_dk_local_agenda_items.csv"),
                         dtype=str)["text"].dropna().head(200)
    assert clf.far_from_training(danish.tolist()).mean() > 0.6  # short agenda items: numbers and names are known
    assert clf.far_from_training([]) is None or len(clf.far_from_training([])) == 0


def test_conformal_rule_keeps_its_coverage_on_calibrated_scores():
    import numpy as np

    from core.domain.conformal import conformal_rule

    rng = np.random.default_rng(0)
    rows = []
    for _ in range(4000):  # a calibrated 5-class model: the top code is right with probability p_top
        top = rng.uniform(0.25, 1.0)
        second = rng.uniform(0, min(top, 1 - top))
        right = rng.random() < top
        rows.append((top if right else rng.uniform(0, 1 - top), top, second, int(right)))
    for alpha in (0.05, 0.1, 0.2):
        rule = conformal_rule(rows, alpha)
        assert rule.test_coverage >= 1 - alpha - 0.015  # the guarantee is on coverage, on unseen rows
    assert conformal_rule(rows[:20], 0.01).threshold == float("inf")  # too few records for 99 %: accept nothing


def test_eta_follows_the_recent_rate():
    from core.jobs.lifecycle import JobInfo

    fields = {f: None for f in JobInfo.__dataclass_fields__}
    job = JobInfo(**{**fields, "total": 1000, "done": 400,
                     "checkpoint": {"records_per_s": 100.0, "recent_per_s": 20.0}})
    assert job.eta_seconds == 30.0  # 600 rows left at the recent 20 rows/s, not 6 s at the mean
    job = JobInfo(**{**fields, "total": 1000, "done": 400, "checkpoint": {"records_per_s": 100.0}})
    assert job.eta_seconds == 6.0


def test_a_job_reports_its_import_and_a_cancel_stops_the_import_leaving_nothing(store, tmp_path):
    from core.errors import Cancelled
    from core.jobs.worker import IMPORT_CHUNK, _prepare

    records_file(tmp_path / "big.csv", 3 * IMPORT_CHUNK + 10)
    job_id = create_job(store, params(tmp_path / "big.csv"), "Lib")
    job = run_job(store.path, job_id)
    assert job.status == "done" and job.checkpoint["import_rows"] == 3 * IMPORT_CHUNK + 10
    assert job.checkpoint["import_fraction"] == 1.0 and job.stage == "classifying"
    # cancelled while the file is being imported: it stops at the next step, and no record of it stays
    before = store.db.execute("SELECT count(*) FROM records").fetchone()[0]
    second = create_job(store, params(tmp_path / "big.csv"), "Lib")
    store.update_job(second, status="cancelling")
    with pytest.raises(Cancelled):
        _prepare(store, second, get_job(store, second).params, {})
    assert store.db.execute("SELECT count(*) FROM records").fetchone()[0] == before
    # a cancelled job can be resumed: it imports again and finishes
    store.update_job(second, status="cancelled")
    assert get_job(store, second).resumable
    from core.jobs import retry_job

    retry_job(store, second)
    assert run_job(store.path, second).status == "done"


def test_bulk_and_training_jobs_are_numbered_each_their_own(store, tmp_path):
    from core.jobs.training import create_training_job, training_jobs
    from core.work.learning import TrainOptions

    records_file(tmp_path / "n.csv", 10)
    first = create_job(store, params(tmp_path / "n.csv"), "Lib")
    create_training_job(store, "ford", TrainOptions("tfidf"), tmp_path / "models", "lead")
    second = create_job(store, params(tmp_path / "n.csv"), "Lib")
    assert second == first + 2  # one table of jobs ...
    assert [j.number for j in list_jobs(store)] == [2, 1]  # ... but bulk jobs count 1, 2 for people
    assert [j.number for j in training_jobs(store)] == [1]
    job = run_job(store.path, second)
    assert store.list_batches()[0].imported_by == "bulk job #2"
    assert job.number == 2
