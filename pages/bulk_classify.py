"""Bulk classify: a file of records classified in a background job (it goes on when the tab
closes), with progress, cancel and resume; results for a spreadsheet; triage by confidence."""

import io
import math
import time
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from core import jobs
from core.errors import NotFound, WorkbenchError
from core.files.records_io import inspect_source, preview
from core.models.manifest import load_manifest
from core.models.registry import discover
from core.models.services import destination
from core.store import Store
from core.work.column_mapping import FIELDS
from core.work.suggesting import language_name
from ui.common import PageContext, dataframe, may, not_allowed, open_store, page_context, plain, show_error, show_errors
from ui.i18n import t
from ui.widgets import XLSX_MIME, clear_file_source, collection_choice, column_mapping, file_source

SELECTED = "bulk.job"
FORM_KEYS = ("bulk.upload", "bulk.path", "bulk.source_kind", "bulk.map", "bulk.models", "bulk.collection",
             "bulk.route", "bulk.route_taxonomies", "bulk.fast")
STARTED = "bulk.started"
SELECT_NEXT = "bulk.select_next"
JOB_STATUS = {"running": "Classifying", "preparing": "Importing the file", "queued": "Waiting to start",
              "interrupted": "Interrupted (the worker stopped): resume it", "cancelling": "Cancelling…",
              "cancelled": "Cancelled", "done": "Done", "failed": "Failed"}


def eta(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m {seconds % 60:02d}s"


def service_model(folder) -> str:
    """Where a model folder sends record texts ("" for a model that runs here)."""
    try:
        service = load_manifest(Path(folder)).service
    except WorkbenchError:
        return ""
    return destination(service["url"]) if service.get("url") else ""


def job_models(ctx: PageContext) -> dict[str, tuple[Path, str]]:
    """{model name: (folder, taxonomy name)}: the active taxonomy's models first (the one in use
    leading), then every other stored taxonomy's installed models."""
    names = {x.id: t(x.name) for x in ctx.db.list_taxonomies()}
    offered = {m.manifest.name: (m.folder, ctx.tax.name) for m in ctx.models}
    for m in discover(ctx.cfg.models_dir):
        if m.manifest is not None and m.manifest.taxonomy in names and m.manifest.name not in offered:
            offered[m.manifest.name] = (m.folder, names[m.manifest.taxonomy])
    return offered


def new_job(ctx: PageContext) -> None:
    source_path, name = file_source("bulk", "Records (CSV, TSV, XLSX, JSONL, Parquet)",
                                    save_to=ctx.cfg.home / "uploads")
    if source_path is None:
        return
    info = inspect_source(source_path, name)
    dataframe(preview(source_path, info, 10), hide_index=True, width="stretch", key="bulk.preview")
    mapping = column_mapping(info.columns, [f for f in FIELDS if f != "label"], "bulk.map", name)
    route = st.toggle(t("Each row by the model for its language"), key="bulk.route",
                      help=t("For a file of records in several languages (e.g. Hungarian and English): each row goes "
                             "to the model that serves its language on the Annotate cards (the language column, else "
                             "detected), in one pass; the results name the model that scored each row."))
    c1, c2, c3, c4 = st.columns(4)
    offered = job_models(ctx)
    if route:
        names = {x.id: t(x.name) for x in ctx.db.list_taxonomies()}
        routed = c1.multiselect(t("Taxonomies"), list(names), default=[ctx.tax.id], key="bulk.route_taxonomies",
                                format_func=names.get)
        fast = c1.checkbox(t("Fast tier where one reads the language"), key="bulk.fast",
                           help=t("A model without a transformer at run time, for very large files; rows in a "
                                  "language no fast model reads go to the model that serves it."))
        chosen = []
        plan_routes(ctx, source_path, info, mapping, routed, fast)
    else:
        routed, fast = [], False
        chosen = c1.multiselect(t("Models"), list(offered), default=list(offered)[:1], key="bulk.models",
                                format_func=lambda n: f"{n} · {offered[n][1]}",
                                help=t("Models of several taxonomies may run in one job (e.g. FORD and CAP): each "
                                       "writes its own taxonomy's codes, and models on the same encoder read each "
                                       "record once."))
    top_k = c2.number_input(t("Codes per record (top-k)"), 1, 10, 3, key="bulk.top_k")
    threshold = c3.slider(t("Leave out codes scoring below"), 0.0, 1.0, 0.0, 0.05, key="bulk.threshold")
    level = c4.selectbox(t("Report at level"), ["model's codes", *range(1, ctx.tax.depth + 1)], key="bulk.level")
    within = [] if routed else st.multiselect(
        t("Suggest only within (nodes and everything below them)"), [n.code for n in ctx.tax], key="bulk.within",
        format_func=lambda c: ctx.tax.path_label(c, ctx.lang), placeholder=t("the whole taxonomy"),
        help=t("The {0} models' scores are renormalised within these parts of the tree; triage and its conformal "
               "sets are computed within them, and each machine label names the limit.").format(plain(t(ctx.tax.name))))
    d1, d2 = st.columns(2)
    on_error = d1.radio(t("Bad rows"), ["skip", "abort"], horizontal=True, key="bulk.on_error",
                        format_func={"skip": t("Skip and list them"), "abort": t("Stop the job")}.get)
    long_texts = d2.radio(t("Long texts"), ["truncate", "chunks"], horizontal=True, key="bulk.long_texts",
                          format_func={"truncate": t("Cut at the model's max length"),
                                       "chunks": t("Read in windows, pool scores")}.get)
    collection, _ = collection_choice(ctx.db, "bulk", name, allow_update=False)
    remote = [n for n in chosen if service_model(offered[n][0])]
    if remote:
        st.info(t("{0} ask(s) a model running elsewhere ({1}): its speed is not known in advance.").format(
            ", ".join(plain(n) for n in remote), ", ".join(plain(service_model(offered[n][0])) for n in remote)))
        if st.button(t("Measure the time on 5 rows"), key="bulk.measure"):
            with show_errors():
                est = jobs.estimate_job(source_path, name, mapping, [str(offered[n][0]) for n in chosen], sample=5)
                st.session_state["bulk.estimate"] = (name, tuple(chosen), est)
        kept = st.session_state.get("bulk.estimate")
        if kept and kept[0] == name and kept[1] == tuple(chosen):
            est = kept[2]
            st.write(t("Measured: about **{0}** for {1}{2:,} rows ({3}).").format(
                eta(est.seconds), "" if est.rows_exact else "~", est.rows,
                ", ".join(f"{plain(m)} {r:,.1f} records/s" for m, r in est.records_per_s.items())))
    if not may("bulk_classify"):
        not_allowed("bulk_classify")
    if st.button(t("Start job"), type="primary", key="bulk.start",
                 disabled=not (chosen or routed) or not may("bulk_classify")):
        with show_errors():
            job_id = jobs.create_job(ctx.db, jobs.JobParams(
                source=str(source_path), file_name=name, mapping=mapping,
                models=[str(offered[n][0]) for n in chosen], taxonomy_id=ctx.tax.id, top_k=int(top_k),
                threshold=float(threshold), level=None if level == "model's codes" else int(level),
                long_texts=long_texts, on_error=on_error, collection=collection or "", route=list(routed),
                models_dir=str(ctx.cfg.models_dir) if routed else "", fast=bool(fast), within=list(within)),
                ctx.state.user or "anonymous")
            jobs.launch(ctx.db.path, job_id)
            st.session_state[SELECTED] = job_id
            st.session_state[SELECT_NEXT] = job_id  # the jobs panel selects it on its next run
            # the form empties: a filled form after Start invites a duplicate job
            for key in [k for k in st.session_state if str(k).startswith(FORM_KEYS)]:
                del st.session_state[key]
            clear_file_source("bulk")
            st.session_state[STARTED] = jobs.get_job(ctx.db, job_id).number
            st.rerun()


def plan_routes(ctx: PageContext, source_path, info, mapping: dict, taxonomies: list[str], fast: bool) -> None:
    """Which model will read the rows of each language seen in the file's first rows."""
    if not taxonomies:
        return
    with show_errors():
        plan = jobs.route_plan(ctx.db, source_path, info, mapping, taxonomies, ctx.cfg.models_dir, fast=fast)
        dataframe([{t("language"): t(language_name(p["language"])) if p["language"] else t("other or unknown"),
                       t("rows among the first"): p["rows"], **{tax: p["models"][tax] for tax in taxonomies}}
                      for p in plan], hide_index=True, width="stretch", key="bulk.route_plan")
        if fast:
            for p in plan:
                for tax in taxonomies:
                    if p["rows"] and not p["fast"][tax]:
                        st.caption(t("No fast-tier {0} model reads {1}: those rows go to {2}, which runs a "
                                     "transformer (slower). A lead trains one on the Models page (\"Train the fast "
                                     "twin\") or with `workbench train {0} --fast`.").format(
                            tax, t(language_name(p["language"])) if p["language"] else t("other or unknown"),
                            plain(p["models"][tax])))


def skipped_rows(s, job) -> None:
    """File rows the job did not classify, each with its reason; the counts add up to the file's rows."""
    batch = s.batch(int(job.checkpoint["batch_id"])) if job.checkpoint.get("batch_id") is not None else None
    if batch is None or batch.rows_read <= job.total:
        return
    left = batch.rows_read - job.total
    with st.expander(t("{0:,} of the file's {1:,} rows were not classified: {2:,} classified + {0:,} left out. "
                       "Why, row by row").format(left, batch.rows_read, job.total)):
        dataframe([{"problem": p} for p in batch.problems], hide_index=True, width="stretch",
                     key="bulk.skipped")
        if len(batch.problems) < left:
            st.caption(t("The first {0:,} reasons are listed; the import's report on the Import page has the "
                         "same list.").format(len(batch.problems)))


@st.fragment(run_every=1.0)
def jobs_panel(taxonomy_id: str) -> None:
    """The jobs of the taxonomy chosen in the sidebar (routed jobs that classify into it too), or of
    every taxonomy on request, with the chosen one's progress and its Cancel / Resume."""
    with open_store() as s:
        listed = jobs.list_jobs(s)
        every = st.toggle(t("Jobs of every taxonomy"), key="bulk.every_taxonomy")
        if not every:
            listed = [j for j in listed if j.params.taxonomy_id == taxonomy_id or taxonomy_id in (j.params.route or [])]
        if not listed:
            st.info(t("No jobs yet."))
            return
        dataframe([
            {"#": j.number, "file": j.params.file_name,
             "models": ", ".join(Path(m).name for m in j.params.models) or t("by language: {0}").format(
                 ", ".join(j.params.route)),
             "status": j.status, "rows": f"{j.done:,} / {j.total:,}" if j.total else "–",
             "records/s": round(j.records_per_s, 1), "ETA": eta(j.eta_seconds) if j.status == "running" else "",
             "by": j.created_by, "created": j.created_at[:19].replace("T", " ")}
            for j in listed], hide_index=True, width="stretch", key="bulk.jobs")
        ids = [j.id for j in listed]
        started = st.session_state.pop(SELECT_NEXT, None)
        if started in ids:  # a job just started becomes the selected one
            st.session_state["bulk.pick"] = started
        current = st.session_state.get(SELECTED)
        numbers = {j.id: j.number for j in listed}
        job_id = st.selectbox(t("Job"), ids, index=ids.index(current) if current in ids else 0, key="bulk.pick",
                              format_func=lambda i: f"#{numbers[i]} · "
                                                    f"{next(j.params.file_name for j in listed if j.id == i)}")
        st.session_state[SELECTED] = job_id
        job = next(j for j in listed if j.id == job_id)
        if job.status == "preparing":  # the file is read and stored first: its own progress
            fraction = float(job.checkpoint.get("import_fraction") or 0.0)
            st.progress(min(fraction, 1.0), text=t("#{0} Importing the file · {1:,} rows read ({2:.0%})").format(
                job.number, int(job.checkpoint.get("import_rows") or 0), fraction))
        else:
            stage = t(" · loading the models") if job.stage == "loading the models" and job.status == "running" else ""
            waiting = job.status in ("running", "queued", "preparing")  # a finished or stopped job has no ETA
            st.progress(job.fraction, text=t("#{0} {1} · {2:,} of {3:,} rows · {4:,.1f} records/s").format(
                job.number, t(JOB_STATUS[job.status]), job.done, job.total, job.records_per_s)
                + (" · " + t("ETA {0}").format(eta(job.eta_seconds)) if waiting else "") + stage)
        if job.error:
            show_error(plain(job.error))
        skipped_rows(s, job)
        if job.checkpoint.get("errors"):
            st.warning(t("{0:,} record(s) could not be classified: their rows carry an error cell in the results; the "
                         "job went on.").format(job.checkpoint['errors']))
        b1, b2, _ = st.columns([1, 1, 4])
        if b1.button(t("Cancel"), key="bulk.cancel",
                     disabled=job.finished or job.status == "cancelling" or not may("bulk_classify"),
                     help=t("Stops at the next step (within seconds); the rows done stay done, and Resume goes on "
                            "from there.")):
            jobs.cancel_job(s, job.id)
            st.rerun(scope="fragment")
        if b2.button(t("Resume"), key="bulk.resume", disabled=not job.resumable or not may("bulk_classify"),
                     help=t("Go on from where the job stopped (interrupted, cancelled or failed): the rows done "
                            "stay done.")):
            with show_errors():
                jobs.resume_job(s, job.id)
            time.sleep(0.3)
            st.rerun(scope="fragment")
    # when the chosen job finishes, rerun the whole page once so its results appear
    if job.status == "done" and st.session_state.get("bulk.shown_done") != job.id:
        st.session_state["bulk.shown_done"] = job.id
        st.rerun(scope="app")


@st.cache_data(max_entries=4, show_spinner="Writing the results file…")
def results_file(db_path: str, job_id: int, fmt: str, stamp: str, lang: str, user: str, role: str) -> bytes:  # noqa: ARG001 - the cache key
    """The results as a file's bytes, written once per finished job, format and person."""
    with Store(db_path).act_as(user, role) as s:
        buf = io.BytesIO()
        jobs.write_results(s, jobs.get_job(s, job_id), fmt, buf, lang)
        return buf.getvalue()


def send_rows(ctx: PageContext, job) -> None:
    """The job's imported rows into another taxonomy's Annotate queues (a FORD job's records coded
    for CAP too)."""
    batch = job.checkpoint.get("batch_id")
    if batch is None:
        return
    others = [x for x in ctx.db.list_taxonomies() if x.id != ctx.db.batch_taxonomy(int(batch))]
    if not others:
        return
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    target = c1.selectbox(t("Send this job's records to the Annotate queues of"), [x.id for x in others],
                          format_func={x.id: t(x.name) for x in others}.get, key=f"bulk.send_to.{job.id}")
    if c2.button(t("Send"), key=f"bulk.send.{job.id}", disabled=not may("bulk_classify")):
        sent = ctx.db.send_batch_to(int(batch), target, ctx.state.user or "anonymous")
        name = next(t(x.name) for x in others if x.id == target)
        st.toast((t("Import #{0} is now in the queues of {1} (Annotate → By import batch).") if sent else
                  t("Import #{0} is in the queues of {1} already.")).format(batch, name))



def threshold_editor(db, job, model: dict, tax, lang: str) -> dict[str, float]:
    """Per-category thresholds for triage, editable for this run: those a lead kept on the
    Performance page for the version, else fitted at a precision target on its held-out records,
    else from its held-out precision per category. An empty cell accepts nothing of that category."""
    from core.domain.thresholds import TARGETS
    from core.work import thresholds as th

    manifest = load_manifest(model["folder"])
    target = st.select_slider(t("Precision target"), list(TARGETS), value=0.95, key=f"bulk.target.{job.id}",
                              format_func=lambda v: f"{v:.0%}")
    start, source = th.for_triage(db, model["taxonomy"], manifest, target)
    if source == "kept":
        kept_now = th.saved(db, model["taxonomy"], manifest.name, manifest.version)
        st.caption(t("The thresholds a lead kept for this version on the Performance page (target {0:.0%}, by {1} on "
                     "{2}): change them here for this run, or there for good.").format(
            kept_now["target"], plain(kept_now["by"]), kept_now["at"][:10]))
    elif source == "held-out":
        st.caption(t("Fitted at this target on the records the version held out from its training: the lowest score "
                     "from which each category's precision stays at the target. An empty cell: the target is never "
                     "reached, nothing of that category is accepted."))
    else:
        start = jobs.default_thresholds(manifest)
        st.caption(t("This version keeps no held-out top codes: thresholds from each category's held-out precision "
                     "(the more precise, the lower)."))
    codes = list(dict.fromkeys([*manifest.codes, *start]))
    table = pd.DataFrame({"code": codes, "name": [tax.name_of(c, lang) if c in tax else c for c in codes],
                          "threshold": [None if math.isinf(start.get(c, math.inf)) else round(start[c], 4)
                                        for c in codes]})
    edited = st.data_editor(table, hide_index=True, width="stretch", disabled=["code", "name"],
                            key=f"bulk.thresholds.{job.id}.{source}.{target}",
                            column_config={"threshold": st.column_config.NumberColumn(min_value=0.0, max_value=1.0,
                                                                                      step=0.05)})
    return {c: (math.inf if pd.isna(v) else float(v)) for c, v in zip(edited["code"], edited["threshold"])}


def results(ctx: PageContext, job) -> None:
    db, lang = ctx.db, ctx.lang
    taxonomies = jobs.job_taxonomies(db, job)
    st.subheader(t("Results of job #{0}").format(job.number))
    if job.params.within:
        from core.models.limits import describe

        limit_tax = db.load_taxonomy(job.params.taxonomy_id)
        st.caption(t("Within: {0}").format(plain(describe(limit_tax, job.params.within, lang))))
    header, rows = next(jobs.result_rows(db, job, lang, chunk_size=50, verify=False), ([], []))  # downloads verify
    dataframe(pd.DataFrame(rows, columns=header), hide_index=True, width="stretch", key="bulk.results")
    stem = Path(job.params.file_name).stem + f"-classified-{job.id}"
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button(t("Download CSV"), results_file(str(db.path), job.id, "csv", job.updated_at, lang, *db.acting),
                       f"{stem}.csv", "text/csv", key="bulk.csv")
    c2.download_button(t("Download XLSX"), results_file(str(db.path), job.id, "xlsx", job.updated_at, lang, *db.acting),
                       f"{stem}.xlsx", XLSX_MIME, key="bulk.xlsx")
    if job.params.route and job.by_language:
        dataframe([{t("language"): t(language_name(r["language"])) if r["language"] != "unknown" else t("unknown"),
                       t("rows"): r["rows"],
                       **{f"{tax} · " + t("model"): ", ".join(f"{m} ({n:,})" for m, n in v["models"].items())
                          for tax, v in r["taxonomies"].items()},
                       **{f"{tax} · " + t("mean confidence"): v["mean_confidence"]
                          for tax, v in r["taxonomies"].items()}}
                      for r in job.by_language], hide_index=True, width="stretch", key="bulk.by_language")
    names = [m["name"] for m in job.models]
    if not names:
        return
    shown_model = st.selectbox(t("Model"), names, key="bulk.dist_model",
                               format_func=lambda n: f"{n} · {taxonomies[n].name}") if len(names) > 1 else names[0]
    tax = taxonomies[shown_model]
    counts = jobs.distribution(db, job, shown_model)
    if counts:
        chart = pd.DataFrame({"code": list(counts), "records": list(counts.values())})
        chart["category"] = [tax.label(c, lang) if c in tax else c for c in chart["code"]]
        st.altair_chart(alt.Chart(chart).mark_bar().encode(
            # every bar named, in full (Vega hides labels it thinks overlap)
            y=alt.Y("category:N", sort="-x", title=None, axis=alt.Axis(labelLimit=0, labelOverlap=False)),
            x=alt.X("records:Q", title="records"), tooltip=["code", "category", "records"],
        ).properties(height=max(160, 22 * len(chart)), width="container"), key="bulk.distribution")

    send_rows(ctx, job)
    st.subheader(t("Triage by confidence"))
    st.caption(t("Records the model is sure of are accepted as machine labels (recorded as machine-accepted, never as "
               "an expert's); the rest wait in the expert queue on the Annotate page. Records in a language the "
               "model was not trained for always go to the experts."))
    model = next((m for m in job.models if m["name"] == shown_model), None)
    if model is None:
        return
    mode = st.radio(t("Rule"), ["conformal", "thresholds"], horizontal=True, key=f"bulk.triage_mode.{job.id}",
                    format_func={"conformal": t("With a guarantee (conformal)"),
                                 "thresholds": t("Per-category thresholds")}.get)
    rule = None
    if mode == "conformal":
        alpha = st.select_slider(t("Allowed error (miscoverage)"), [0.01, 0.02, 0.05, 0.1, 0.2], value=0.05,
                                 format_func=lambda a: f"{a:.0%}", key=f"bulk.alpha.{job.id}")
        report, rule = jobs.conformal_triage(db, job, shown_model, alpha, dry_run=True)
        if rule is None:
            st.warning(t("{0} carries no held-out records to calibrate a guarantee on (a zero-shot or multi-label "
                         "model): it machine-accepts nothing. Use per-category thresholds, or a trained "
                         "version.").format(plain(shown_model)))
        else:
            error = (f"{rule.measured_error:.1%}" if rule.measured_error is not None else "–")
            st.caption(t("A record is accepted when its {0:.0%} prediction set is a single code: every code but its "
                         "top one scores below the set's cut-off, {1:.3f} (a cut-off, not a confidence). On {2:,} "
                         "held-out records used neither for "
                         "training nor for calibration, the sets held the right code for {3:.1%} (the guarantee: at "
                         "least {4:.0%}), {5:.0%} would be accepted, with a measured error of **{6}** (calibrated on "
                         "{7:,} others).").format(
                1 - alpha, rule.threshold, rule.test_records, rule.test_coverage or 0, 1 - alpha,
                rule.test_accept_share, error, rule.calibration_records))
        thresholds = {}
    else:
        thresholds = threshold_editor(db, job, model, tax, lang)
        report = jobs.triage(db, job, shown_model, thresholds, default=math.inf, dry_run=True)
    st.write(t("With this rule: **{0:,}** machine-accepted, **{1:,}** to the expert queue, {2:,} already "
               "labelled.").format(report.accepted, report.to_queue, report.already_labelled)
             + (" " + t("{0:,} record(s) are in a language the model was not trained for: they go to the experts, "
                        "never machine-accepted.").format(report.other_language) if report.other_language else "")
             + (" " + t("{0:,} confident record(s) lie far from the model's training data (too few known words, or "
                        "no similar training record): they go to the experts.").format(report.far_from_training)
                if report.far_from_training else "")
             + (" " + t("**{0:,}** of the accepted disagree with the label in the file.").format(
                 report.disagree_with_file) if report.disagree_with_file else ""))
    if report.accepted:
        with st.expander(t("Preview: per category, and a sample of what would be accepted")):
            dataframe([{"code": c, "name": tax.name_of(c, lang) if c in tax else c, "accepted": a, "to experts": q}
                          for c, (a, q) in sorted(report.per_code.items(), key=lambda kv: -kv[1][0])],
                         hide_index=True, width="stretch", key="bulk.triage_codes")
            records = {r["id"]: r for r in db.records_by_ids([rid for rid, _ in report.sample])}
            dataframe([{"record": records.get(rid, {}).get("external_id", rid),
                           "title": (records.get(rid, {}).get("title") or "")[:120],
                           "code": code, "name": tax.name_of(code, lang) if code in tax else code}
                          for rid, code in report.sample], hide_index=True, width="stretch", key="bulk.triage_sample")
    t1, t2, _ = st.columns([1, 1, 3])
    if t1.button(t("Apply triage"), key="bulk.triage", disabled=not report.accepted or not may("triage")):
        done = (jobs.triage(db, job, shown_model, {}, rule=rule) if rule is not None
                else jobs.triage(db, job, shown_model, thresholds, default=math.inf))
        batch = job.checkpoint.get("batch_id")
        st.success(t("{0:,} records machine-accepted; {1:,} wait in the expert queue (Annotate → By import batch "
                     "#{2}).").format(done.accepted, done.to_queue, batch) if batch is not None else
                   t("{0:,} records machine-accepted; {1:,} wait in the expert queue.").format(done.accepted,
                                                                                              done.to_queue))
    if t2.button(t("Undo this model's triage"), key="bulk.undo_triage", disabled=not may("triage")):
        undone = jobs.undo_triage(db, job, shown_model, ctx.state.user or "anonymous")
        st.success(t("{0:,} machine-accepted labels undone (each by an undo event); those records wait in the expert "
                     "queue again.").format(undone))


with page_context() as ctx:
    st.title(t("Bulk classify"))
    st.caption(t("Classify whole files into {0}. A job runs in its own process: it goes on when you close the tab, "
                 "can be cancelled, and resumes where it stopped after a crash or restart.").format(
                         plain(t(ctx.tax.name))))
    started = st.session_state.pop(STARTED, None)
    if started is not None:
        st.toast(t("Job #{0} started: its progress is below.").format(started), icon=":material/play_arrow:")
    with st.expander(t("New job"), expanded=not jobs.list_jobs(ctx.db, 1)), show_errors():
        new_job(ctx)
    jobs_panel(ctx.tax.id)
    job_id = st.session_state.get(SELECTED)
    if job_id is not None:
        try:
            job = jobs.get_job(ctx.db, job_id)
        except NotFound:
            job = None
        if job is not None and (job.status == "done" or (job.finished and job.done)):
            if job.status != "done":
                st.info(t("Job #{0} is {1}: these are its partial results ({2:,} of {3:,} rows classified; the rest "
                          "have empty cells). Retry it to finish.").format(job.number, job.status, job.done, job.total))
            results(ctx, job)
