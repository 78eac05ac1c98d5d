"""Bulk classify: a file of records classified in a background job (it goes on when the tab
closes), with progress, cancel and resume; results for a spreadsheet; triage by confidence."""

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from core.errors import WorkbenchError
from core.files.records_io import inspect_source, preview
from core.jobs import (
    JobParams,
    cancel_job,
    create_job,
    default_thresholds,
    distribution,
    get_job,
    launch,
    list_jobs,
    result_rows,
    triage,
    write_results,
)
from core.models.manifest import load_manifest
from core.models.registry import discover, models_for
from core.work.records_import import FIELDS
from ui.common import column_mapping, session, settings, show_error, store, taxonomy

SELECTED = "bulk.job"

state = session()
cfg = settings()
db = store()
tax = taxonomy(db, state.taxonomy_id)
lang = state.lang
st.title("Bulk classify")
st.caption(f"Classify whole files into {tax.name}. A job runs in its own process: it goes on when you close "
           "the tab, can be cancelled, and resumes where it stopped after a crash or restart.")

models = models_for(discover(cfg.models_dir), tax.id)
names = [m.manifest.name for m in models]
by_name = {m.manifest.name: m for m in models}


def eta(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m {seconds % 60:02d}s"


# --------------------------------------------------------------------------------- new job
with st.expander("New job", expanded=not list_jobs(db, 1)):
    source_kind = st.radio("File", ["upload", "path"], horizontal=True, key="bulk.source_kind",
                           format_func={"upload": "Upload", "path": "A path on this machine (large files)"}.get)
    source_path: Path | None = None
    display_name = ""
    if source_kind == "upload":
        upload = st.file_uploader("Records (CSV, TSV, XLSX, JSONL, Parquet)",
                                  type=["csv", "tsv", "txt", "xlsx", "jsonl", "parquet"], key="bulk.upload")
        if upload is not None:
            uploads = cfg.home / "uploads"
            uploads.mkdir(parents=True, exist_ok=True)
            source_path = uploads / f"{upload.file_id[:8]}-{Path(upload.name).name}"
            if not source_path.exists():
                source_path.write_bytes(upload.getvalue())
            display_name = Path(upload.name).name
    else:
        typed = st.text_input("Path of the file", key="bulk.path")
        if typed.strip():
            candidate = Path(typed.strip()).expanduser()
            if candidate.is_file():
                source_path = candidate
                display_name = candidate.name
            else:
                st.error(f"File problem: '{candidate}' does not exist or is not a file.")
    info = None
    if source_path is not None:
        try:
            info = inspect_source(source_path, display_name)
            st.dataframe(preview(source_path, info, 10), hide_index=True, width="stretch", key="bulk.preview")
        except WorkbenchError as exc:
            show_error(exc)
            info = None
    if info is not None:
        mapping = column_mapping(info.columns, [f for f in FIELDS if f != "label"], "bulk.map", display_name)
        c1, c2, c3, c4 = st.columns(4)
        chosen = c1.multiselect("Models", names, default=names[:1], key="bulk.models")
        top_k = c2.number_input("Codes per record (top-k)", 1, 10, 3, key="bulk.top_k")
        threshold = c3.slider("Leave out codes scoring below", 0.0, 1.0, 0.0, 0.05, key="bulk.threshold")
        level = c4.selectbox("Report at level", ["model's codes", *range(1, tax.depth + 1)], key="bulk.level")
        d1, d2 = st.columns(2)
        on_error = d1.radio("Bad rows", ["skip", "abort"], horizontal=True, key="bulk.on_error",
                            format_func={"skip": "Skip and list them", "abort": "Stop the job"}.get)
        long_texts = d2.radio("Long texts", ["truncate", "chunks"], horizontal=True, key="bulk.long_texts",
                              format_func={"truncate": "Cut at the model's max length",
                                           "chunks": "Read in windows, pool scores"}.get)
        if st.button("Start job", type="primary", key="bulk.start", disabled=not chosen):
            try:
                job_id = create_job(db, JobParams(
                    source=str(source_path), file_name=display_name, mapping=mapping,
                    models=[str(by_name[n].folder) for n in chosen], taxonomy_id=tax.id, top_k=int(top_k),
                    threshold=float(threshold), level=None if level == "model's codes" else int(level),
                    long_texts=long_texts, on_error=on_error), state.user or "anonymous")
                launch(db.path, job_id)
            except WorkbenchError as exc:
                show_error(exc)
            else:
                st.session_state[SELECTED] = job_id
                st.success(f"Job #{job_id} started.")


# ------------------------------------------------------------------------------------ jobs
@st.fragment(run_every=1.0)
def jobs_panel() -> None:
    s = store()
    try:
        jobs = list_jobs(s)
        if not jobs:
            st.info("No jobs yet.")
            return
        st.dataframe([
            {"#": j.id, "file": j.params.file_name, "models": ", ".join(Path(m).name for m in j.params.models),
             "status": j.status, "rows": f"{j.done:,} / {j.total:,}" if j.total else "–",
             "records/s": round(j.records_per_s, 1), "ETA": eta(j.eta_seconds) if j.status == "running" else "",
             "by": j.created_by, "created": j.created_at[:19].replace("T", " ")}
            for j in jobs], hide_index=True, width="stretch", key="bulk.jobs")
        ids = [j.id for j in jobs]
        current = st.session_state.get(SELECTED)
        job_id = st.selectbox("Job", ids, index=ids.index(current) if current in ids else 0, key="bulk.pick",
                              format_func=lambda i: f"#{i} · {next(j.params.file_name for j in jobs if j.id == i)}")
        st.session_state[SELECTED] = job_id
        job = get_job(s, job_id)
        label = {"running": "Classifying", "preparing": "Importing the file", "queued": "Waiting to start",
                 "interrupted": "Interrupted (the worker stopped): resume it", "cancelling": "Cancelling…",
                 "cancelled": "Cancelled", "done": "Done", "failed": "Failed"}[job.status]
        st.progress(job.fraction, text=f"#{job.id} {label} · {job.done:,} of {job.total:,} rows · "
                                       f"{job.records_per_s:,.1f} records/s · ETA {eta(job.eta_seconds)}")
        if job.error:
            st.error(f"{job.error}")
        b1, b2, _ = st.columns([1, 1, 4])
        if b1.button("Cancel", key="bulk.cancel", disabled=job.finished or job.status == "cancelling"):
            cancel_job(s, job.id)
            st.rerun(scope="fragment")
        if b2.button("Resume", key="bulk.resume", disabled=job.status not in ("interrupted", "queued")):
            launch(s.path, job.id)
            time.sleep(0.3)
            st.rerun(scope="fragment")
        # when the chosen job finishes, rerun the whole page once so its results appear
        if job.status == "done" and st.session_state.get("bulk.shown_done") != job.id:
            st.session_state["bulk.shown_done"] = job.id
            st.rerun(scope="app")
    finally:
        s.close()


jobs_panel()

# -------------------------------------------------------------------------------- results
@st.cache_data(max_entries=4, show_spinner="Writing the results file…")
def results_file(db_path: str, job_id: int, fmt: str, stamp: str, lang: str) -> bytes:
    """The results as a file's bytes, written once per finished job and format."""
    import io

    from core.store import Store

    with Store(db_path) as s:
        buf = io.BytesIO()
        write_results(s, get_job(s, job_id), fmt, buf, lang)
        return buf.getvalue()



job_id = st.session_state.get(SELECTED)
if job_id is not None:
    try:
        job = get_job(db, job_id)
    except WorkbenchError:
        job = None
    if job is not None and job.status == "done":
        st.subheader(f"Results of job #{job.id}")
        header, rows = next(result_rows(db, job, lang, chunk_size=50), ([], []))
        st.dataframe(pd.DataFrame(rows, columns=header), hide_index=True, width="stretch", key="bulk.results")
        stem = Path(job.params.file_name).stem + f"-classified-{job.id}"

        c1, c2, _ = st.columns([1, 1, 4])
        c1.download_button("Download CSV", results_file(str(db.path), job.id, "csv", job.updated_at, lang),
                           f"{stem}.csv", "text/csv", key="bulk.csv")
        c2.download_button("Download XLSX", results_file(str(db.path), job.id, "xlsx", job.updated_at, lang),
                           f"{stem}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key="bulk.xlsx")
        model_names = [m["name"] for m in job.models]
        shown_model = st.selectbox("Model", model_names, key="bulk.dist_model") if len(model_names) > 1 \
            else model_names[0]
        counts = distribution(db, job, shown_model)
        if counts:
            chart = pd.DataFrame({"code": list(counts), "records": list(counts.values())})
            chart["category"] = [f"{c} · {tax.name_of(c, lang)}" if c in tax else c for c in chart["code"]]
            st.bar_chart(chart, x="category", y="records", horizontal=True, sort="-records")

        st.subheader("Triage by confidence")
        st.caption("Records whose top code scores at or above its threshold are accepted as machine labels "
                   "(recorded as machine-accepted, never as an expert's); the rest wait in the expert queue on "
                   "the Annotate page, least confident first. Defaults follow each category's held-out precision.")
        model = next((m for m in job.models if m["name"] == shown_model), None)
        manifest = load_manifest(model["folder"]) if model else None
        if manifest is not None:
            defaults = default_thresholds(manifest)
            table = pd.DataFrame({"code": list(defaults),
                                  "name": [tax.name_of(c, lang) if c in tax else c for c in defaults],
                                  "threshold": list(defaults.values())})
            edited = st.data_editor(table, hide_index=True, width="stretch", disabled=["code", "name"],
                                    key=f"bulk.thresholds.{job.id}",
                                    column_config={"threshold": st.column_config.NumberColumn(min_value=0.0,
                                                                                              max_value=1.0,
                                                                                              step=0.05)})
            thresholds = dict(zip(edited["code"], edited["threshold"].astype(float)))
            report = triage(db, job, shown_model, thresholds, dry_run=True)
            st.write(f"With these thresholds: **{report.accepted:,}** machine-accepted, **{report.to_queue:,}** to the "
                     f"expert queue, {report.already_labelled:,} already labelled.")
            if st.button("Apply triage", key="bulk.triage", disabled=not report.accepted):
                done = triage(db, job, shown_model, thresholds)
                st.success(f"{done.accepted:,} records machine-accepted; {done.to_queue:,} wait in the expert queue "
                           f"(Annotate → By import batch #{job.checkpoint.get('batch_id')}).")
db.close()
