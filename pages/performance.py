"""Performance: per-category figures of the models against gold labels, as a bubble chart and
tables (strict, lenient, hierarchical; per level, language and domain; model comparison;
agreement; confusions; trend), with exports; and evaluation of a labelled file."""

import json

import pandas as pd
import streamlit as st

from core.domain.metrics import cross_table, trend
from core.files.records_io import inspect_source
from core.work import charts, confusions
from core.work import performance as perf
from core.work.column_mapping import FIELDS
from ui.common import PageContext, classifier, dataframe, keep, kept, may, open_queue, page_context, plain, show_errors
from ui.i18n import t, translated
from ui.widgets import column_mapping, file_source, score_unscored, table_downloads


def summary_metrics(summary: dict, samples: int, samples_label: str) -> None:
    shown = [(samples_label, f"{samples:,}"), ("F1 (micro)", summary["micro_f1"]), ("Macro F1", summary["macro_f1"]),
             ("Weighted F1", summary["weighted_f1"]), ("Lenient F1", summary["lenient_micro_f1"]),
             ("Hierarchical F1", summary["hierarchical_micro_f1"])]
    for col, (label, value) in zip(st.columns(len(shown)), shown):
        col.metric(t(label), value if isinstance(value, str) else f"{value:.3f}")


@st.cache_data(max_entries=8, show_spinner=False)
def chart_file(spec_json: str, fmt: str) -> bytes:
    """PNG/SVG of a chart, rendered once per chart (rendering takes about a second)."""
    return charts.chart_bytes(json.loads(spec_json), fmt)


def table(frame, key: str, stem: str | None = None) -> None:
    """A table of figures (3 decimals), its headers in the interface's language, with CSV/XLSX
    downloads when ``stem`` is given."""
    frame = frame.rename(columns={c: t(str(c)) for c in frame.columns})
    formats = {c: st.column_config.NumberColumn(c, format="%.3f") for c in frame.columns if frame[c].dtype.kind == "f"}
    dataframe(frame, hide_index=True, width="stretch", column_config=formats, key=key)
    if stem:
        table_downloads(frame, stem, f"{key}.dl")


MANY_BUBBLES = 120


def chart_and_category(ctx: PageContext, main, level: int, good: float, fair: float) -> None:
    tax, lang = ctx.tax, ctx.lang
    data = perf.bubble_data(main.report, tax, level, good=good, fair=fair,
                            predicted_counts=ctx.db.prediction_counts(main.model, main.version), lang=lang)
    groups = list(dict.fromkeys(data["group"]))
    if len(data) > MANY_BUBBLES and len(groups) > 1:  # the deep levels: one field at a time stays readable
        shown = st.multiselect(t("Fields shown"), groups, default=groups[:1], key=f"perf.groups.{level}",
                               help=t("{0:,} categories at this level: choose the fields to draw.").format(len(data)))
        data = data[data["group"].isin(shown or groups[:1])].reset_index(drop=True)
    chart = charts.bubble_chart(data, title=t("{0} {1} · level {2} · F1 green ≥ {3:.2f}, yellow ≥ {4:.2f}, red below, "
                                            "blue: no gold data").format(main.model, main.version, level, good, fair),
                              size_title=t("gold records"), colour_title=t("F1"),
                              bands={b: t(b) for b in perf.BANDS})
    event = st.altair_chart(chart, on_select="rerun", selection_mode="pick", key="perf.chart")
    e1, e2, _ = st.columns([1, 1, 4])
    spec = json.dumps(chart.to_dict())
    e1.download_button(t("Chart PNG"), chart_file(spec, "png"), f"{tax.id}-level{level}.png", "image/png",
                       key="perf.png")
    e2.download_button(t("Chart SVG"), chart_file(spec, "svg"), f"{tax.id}-level{level}.svg", "image/svg+xml",
                       key="perf.svg")

    # a category: clicked in the chart, or chosen here
    try:
        points = event.selection["pick"] if event and event.selection else []
        picked = points[0]["code"] if points else None
    except (KeyError, IndexError, TypeError, AttributeError):
        picked = None
    codes = data["code"].tolist()
    if picked in codes and picked != st.session_state.get("perf.clicked"):  # a click selects its category
        st.session_state["perf.clicked"] = picked
        st.session_state["perf.category"] = picked
    if st.session_state.get("perf.category") not in codes:
        st.session_state.pop("perf.category", None)
    support = dict(zip(data["code"], data["support"]))
    code = st.selectbox(t("Category"), codes, format_func=lambda c: f"{tax.label(c, lang)} · {support.get(c, 0):,} "
                        + t("gold"), key="perf.category")
    row = data.set_index("code").loc[code]
    st.caption(t("Size: gold records of the category · faded: fewer than {0} gold records (uncertain figures) · shape "
                 "and colour: the F1 band.").format(perf.FEW_GOLD))
    st.caption(t("{0} gold records · predicted {1} times · ").format(row['support'], row['predicted'])
               + (f"P {row['precision']:.2f} · R {row['recall']:.2f} · F1 {row['f1']:.2f}"
                  if row["support"] else t("no gold data")))
    hits = perf.records_in_category(main.frame, tax, code)
    if len(hits):
        st.caption(t("{0:,} gold records in or predicted into this category: {1:,} with it as gold, {2:,} more the "
                     "model put there.").format(len(hits), row['support'], len(hits) - row['support']))
        recs = {r["id"]: r for r in ctx.db.records_by_ids(hits["record_id"].tolist()[:200])}
        dataframe([{"id": recs[i]["external_id"], "title": (recs[i]["title"] or recs[i]["abstract"] or "")[:120],
                       "gold": ", ".join(g), "predicted": ", ".join(p)}
                      for i, g, p in zip(hits["record_id"], hits["gold"], hits["pred"]) if i in recs],
                     hide_index=True, width="stretch", key="perf.records")
    if st.button(t("Open these {0:,} records in Annotate").format(
            len(hits)), key="perf.open_annotate", disabled=not len(hits)):
        open_queue(tax.id, perf.category_records_queue(tax, main.model, main.version, code, hits))
        st.switch_page("pages/annotate.py")


@st.cache_data(max_entries=8, show_spinner=False)
def cached_agreement(db_path: str, taxonomy_id: str, taxonomy_key: str, level: int, last_event: int, user: str,  # noqa: ARG001 - cache keys
                     role: str):
    """The team's agreement as ``user`` (``role``) may see it, computed again only when a label or
    the taxonomy changed (seconds with a hundred thousand labels)."""
    from core.store import Store
    from core.work.team import team_agreement

    with Store(db_path).act_as(user, role) as db:
        return team_agreement(db, db.load_taxonomy(taxonomy_id), level)


def agreement_tab(ctx: PageContext, main, level: int) -> None:
    """The experts' agreement with each other: the human ceiling beside the model's F1."""
    tax, lang = ctx.tax, ctx.lang
    last = ctx.db.last_event_id()
    report = cached_agreement(str(ctx.db.path), tax.id, ctx.db.taxonomy_version_key(tax.id), level, last,
                              *ctx.db.acting)
    s = report.summary
    if not s["double_coded"]:
        st.caption(t("No record has labels from two experts yet."))
        return
    shown = [(t("Records coded twice"), f"{s['double_coded']:,}"), (t("Exact agreement"), s["exact_agreement"]),
             (t("Cohen's kappa (mean)"), s["kappa_mean"]), (t("Krippendorff's alpha"), s["alpha"]),
             (t("Alpha, hierarchical"), s["alpha_hierarchical"])]
    for col, (label, value) in zip(st.columns(len(shown)), shown):
        col.metric(label, value if isinstance(value, str) else ("–" if value is None else f"{value:.3f}"))
    w, wo = report.with_suggestions, report.without_suggestions
    st.caption(t("Alpha compares label sets by the Jaccard distance; the hierarchical alpha by the path between "
                 "codes in the taxonomy (siblings disagree less than fields). With suggestions on screen: {0} "
                 "records, alpha {1}; without: {2} records, alpha {3}.").format(
        w["double_coded"], "–" if w["alpha"] is None else f"{w['alpha']:.3f}", wo["double_coded"],
        "–" if wo["alpha"] is None else f"{wo['alpha']:.3f}"))
    st.markdown(t("**Per category: the model's F1 beside the experts' agreement (the human ceiling)**"))
    table(perf.human_ceiling(main.report, report.categories, tax, lang), "perf.ceiling",
          f"{tax.id}-human-ceiling-level{level}")
    st.markdown(t("**Per level**"))
    table(report.by_level, "perf.agreement_levels")
    if may("view_team"):
        st.markdown(t("**Per pair of experts**"))
        table(report.pairs, "perf.pairs")


def confusions_tab(ctx: PageContext, main, level: int) -> None:
    """Which categories the model confuses: the top pairs and the matrix, per language; a cell
    clicked (or chosen) lists its records and opens them in Annotate."""
    tax, lang = ctx.tax, ctx.lang
    languages = sorted({str(x) for x in main.frame["language"] if str(x)})
    c1, _ = st.columns([1, 3])
    language = c1.selectbox(t("Language"), ["", *languages], key="perf.confusion_language",
                            format_func=lambda x: x or t("all languages"))
    frame, report = confusions.for_language(main.frame, main.report, tax, level, language, lang)
    st.markdown(t("**Most confused pairs** (gold → predicted; share: of the gold category's records)"))
    table(perf.named_confusions(report, tax, lang), "perf.confused", f"{tax.id}-confused-pairs-level{level}")
    cells = confusions.confusion_matrix_cells(report, tax, lang)
    if cells.empty:
        st.caption(t("No data."))
        return
    chart = charts.confusion_chart(cells, title=t("{0} {1} · level {2}: gold down, predicted across").format(
        main.model, main.version, level), gold_title=t("gold"), predicted_title=t("predicted"),
        share_title=t("share of the gold category"))
    event = st.altair_chart(chart, on_select="rerun", selection_mode="cell", key="perf.confusion_chart")
    if len(cells["gold"].unique()) >= confusions.MATRIX_MAX:
        st.caption(t("The {0} categories the model misses most are drawn.").format(confusions.MATRIX_MAX))
    table(cells, "perf.matrix", f"{tax.id}-confusion-matrix-level{level}")
    ranked = cells.sort_values(["count"], ascending=False)
    keys = [f"{g}\t{p}" for g, p in zip(ranked["gold"], ranked["predicted"])]
    names = {f"{g}\t{p}": f"{gl} → {pl} · {n:,}" for g, p, gl, pl, n in zip(
        ranked["gold"], ranked["predicted"], ranked["gold label"], ranked["predicted label"], ranked["count"])}
    try:
        points = event.selection["cell"] if event and event.selection else []
        picked = f"{points[0]['gold']}\t{points[0]['predicted']}" if points else None
    except (KeyError, IndexError, TypeError, AttributeError):
        picked = None
    if picked in keys and picked != st.session_state.get("perf.cell_clicked"):  # a click selects its cell
        st.session_state["perf.cell_clicked"] = picked
        st.session_state["perf.cell"] = picked
    if st.session_state.get("perf.cell") not in keys:
        st.session_state.pop("perf.cell", None)
    cell = st.selectbox(t("Cell"), keys, format_func=names.get, key="perf.cell")
    gold, predicted = cell.split("\t")
    hits = confusions.confusion_records(frame, tax, level, gold, predicted)
    recs = {r["id"]: r for r in ctx.db.records_by_ids(hits["record_id"].tolist()[:200])}
    dataframe([{"id": recs[i]["external_id"], "title": (recs[i]["title"] or recs[i]["abstract"] or "")[:120],
                "gold": ", ".join(g), "predicted": ", ".join(p)}
               for i, g, p in zip(hits["record_id"], hits["gold"], hits["pred"]) if i in recs],
              hide_index=True, width="stretch", key="perf.cell_records")
    if st.button(t("Open these {0:,} records in Annotate").format(len(hits)), key="perf.open_cell",
                 disabled=not len(hits)):
        open_queue(tax.id, confusions.confusion_queue(tax, main.model, main.version, gold, hits))
        st.switch_page("pages/annotate.py")


@st.cache_data(max_entries=8, show_spinner=False)
def cached_verdicts(db_path: str, taxonomy_id: str, last_event: int, user: str, role: str):  # noqa: ARG001 - cache keys
    """The experts' verdicts, read again only when an event was added (every event's suggestions
    are parsed: seconds with a hundred thousand labels)."""
    from core.store import Store
    from core.work.expert_verdicts import verdict_table

    with Store(db_path).act_as(user, role) as db:
        return verdict_table(db, taxonomy_id)


def expert_verdicts(ctx: PageContext, results) -> None:
    """The experts' three-way verdicts on the suggestions they saw, per model version, beside F1."""
    st.markdown(t("**Experts' verdicts on the suggestions they saw**"))
    st.caption(t("Right: the expert's label holds the code. Not the best: the expert marked it relevant but chose "
                 "another. Wrong: neither. \"First\" is the suggestion the card leads with; \"shown\" counts every "
                 "suggestion on the card. F1 is measured on the gold labels above, at this level."))
    from core.work.expert_verdicts import beside_f1

    verdicts = beside_f1(cached_verdicts(str(ctx.db.path), ctx.tax.id, ctx.db.last_event_id(), ctx.state.user,
                                         ctx.state.role),
                         {(r.model, r.version): r.report.summary.get("micro_f1", 0.0) for r in results})
    if verdicts.empty:
        st.caption(t("No verdicts yet: they come from labels saved on the Annotate page with suggestions on the card."))
    else:
        table(verdicts, "perf.verdicts", f"{ctx.tax.id}-expert-verdicts")


def thresholds_tab(ctx: PageContext, main) -> None:
    """Precision against coverage per category on the gold records, the thresholds that reach the
    lead's target, and keeping them for triage and the Annotate card."""
    from core.domain.thresholds import MIN_RECORDS, TARGETS, accepted_figures, fit_thresholds, precision_curve
    from core.work import thresholds as th

    tax, lang = ctx.tax, ctx.lang
    st.caption(t("Per category: how precise the top code is when only records scoring at least a threshold are "
                 "accepted, and what share of the category's records that is. A category's threshold is the lowest "
                 "from which precision stays at the target; one with fewer than {0} records takes the threshold of "
                 "all categories together; where the target is never reached, nothing is accepted.").format(
                     MIN_RECORDS))
    kept("perf.target", tax.id, list(TARGETS), default=0.95)
    target = st.select_slider(t("Precision target"), list(TARGETS), key="perf.target", on_change=keep,
                              args=("perf.target", tax.id), format_func=lambda v: f"{v:.0%}")
    tops, scores, right = th.from_frame(main.frame, tax)
    fitted = fit_thresholds(tops, scores, right, target)
    if not fitted:
        st.caption(t("No data."))
        return
    figures = accepted_figures(tops, scores, right, {c: f.threshold for c, f in fitted.items()})
    st.markdown(t("At these thresholds **{0:,}** of the {1:,} gold records ({2:.0%}) have a confident suggestion, "
                  "precision **{3}**; the others show \"no confident suggestion\". Measured on the records the "
                  "thresholds were fitted on, so it reads a little high.").format(
        figures["accepted"], figures["records"], figures["accept_share"],
        "–" if figures["precision"] is None else f"{figures['precision']:.3f}"))
    table(th.threshold_table(fitted, tax, lang), "perf.thresholds", f"{tax.id}-thresholds-{main.model}")
    codes = sorted(fitted, key=lambda c: -fitted[c].records)
    code = st.selectbox(t("Curve of"), codes, key="perf.curve_code",
                        format_func=lambda c: f"{c} · {tax.name_of(c, lang) if c in tax else c} ({fitted[c].records})")
    curve = precision_curve(tops, scores, right)
    curve = curve[curve["code"].eq(code)]
    if len(curve):
        chosen = fitted[code].threshold
        st.altair_chart(charts.precision_coverage_chart(curve, target, None if chosen == float("inf") else chosen,
                                                        x_title=t("share of the category's records accepted"),
                                                        y_title=t("precision of the accepted")),
                        key="perf.precision_coverage")
    if st.button(t("Keep these thresholds for {0} {1}").format(plain(main.model), plain(main.version)),
                 key="perf.keep_thresholds", disabled=not may("triage")):
        th.save(ctx.db, tax.id, main.model, main.version, fitted, target=target,
                by=ctx.state.user or "anonymous", basis=f"{len(tops):,} gold records")
        st.success(t("Kept: triage starts from these thresholds, and the Annotate card says \"no confident "
                     "suggestion\" under them."))
    kept_now = th.saved(ctx.db, tax.id, main.model, main.version)
    if kept_now:
        st.caption(t("Kept for triage and the Annotate card: target {0:.0%}, by {1} on {2}.").format(
            kept_now["target"], plain(kept_now["by"]), kept_now["at"][:10]))


def detail_tabs(ctx: PageContext, main, results, level: int) -> None:
    tax, lang, frame = ctx.tax, ctx.lang, main.frame
    t1, t2, t3, t4, t5, t6, t7, t8, t9 = st.tabs([t(x) for x in (
        "Per category", "Per level", "Language × domain", "Models", "Agreement", "Confusions", "Trend", "Calibration",
        "Thresholds")])
    with t1:
        table(main.report.categories.drop(columns=["lenient_credit_pred", "lenient_credit_true"]), "perf.categories",
              f"{tax.id}-per-category-level{level}")
    with t2:
        table(perf.per_level_table(frame, tax), "perf.levels", f"{tax.id}-per-level")
    with t3:
        cross = cross_table(frame["gold"].tolist(), frame["pred"].tolist(), frame["language"].tolist(),
                            frame["domain"].tolist(), tax, level=level)
        st.caption(t("Weighted F1 per language (rows) and domain (columns)"))
        if cross.empty:
            st.caption(t("No data."))
        else:
            table(cross.reset_index(names="language"), "perf.cross", f"{tax.id}-language-domain")
        for key, part in main.report.groups.items():
            st.markdown(t("**Per {0}**").format(t(key)))
            table(part, f"perf.group.{key}")
    with t4:
        table(perf.comparison_table(results), "perf.comparison", f"{tax.id}-models-level{level}")
        expert_verdicts(ctx, results)
    with t5:
        agreement_tab(ctx, main, level)
        st.markdown(t("**Expert vs model, per category (Cohen's kappa)**"))
        table(perf.expert_model_kappa(frame, tax, level, lang), "perf.kappa", f"{tax.id}-kappa-level{level}")
    with t6:
        confusions_tab(ctx, main, level)
    with t7:
        kept("perf.freq", tax.id, ["D", "W", "M"], default="W")
        freq = st.radio(t("Per"), ["D", "W", "M"], horizontal=True, key="perf.freq", on_change=keep,
                        args=("perf.freq", tax.id), format_func={"D": t("day"), "W": t("week"), "M": t("month")}.get)
        over_time = trend(frame["gold"].tolist(), frame["pred"].tolist(), frame["labelled_at"].tolist(), tax,
                          freq=freq, level=level)
        if len(over_time) > 1:
            st.altair_chart(charts.trend_chart(over_time), key="perf.trend_chart")
        table(over_time, "perf.trend")
    with t8:
        st.caption(t("Does a confidence of 80 % mean right 8 times in 10? Each point is a bin of the models' top-1 "
                   "confidence on the gold records: on the dashed line, confidence means what it says."))
        rows = []
        for r in results:
            bins, ece = perf.reliability(r.frame, tax)
            rows.append({"model": r.model, "version": r.version, "records": len(r.frame),
                         "expected calibration error": ece})
            if r is main and not bins.empty:
                st.altair_chart(charts.reliability_chart(bins, x_title=t("mean confidence in the bin"),
                                                       y_title=t("share correct")), key="perf.reliability")
                table(bins, "perf.reliability_table")
        table(pd.DataFrame(rows), "perf.ece")
    with t9:
        thresholds_tab(ctx, main)


def workspace_tab(ctx: PageContext) -> None:
    tax, names = ctx.tax, ctx.model_names
    c1, c2, c3 = st.columns(3)
    # every choice here is kept per taxonomy, across visits to other pages
    kept("perf.models", tax.id, names, default=names[:1])
    chosen = c1.multiselect(t("Models (the first one is charted)"), names, key="perf.models", on_change=keep,
                            args=("perf.models", tax.id))
    kept("perf.gold", tax.id, list(perf.GOLD_SOURCES), default=perf.default_gold_source(ctx.db, tax))
    source = c2.selectbox(t("Gold labels"), list(perf.GOLD_SOURCES), format_func=translated(perf.GOLD_SOURCES).get,
                          key="perf.gold",
                          on_change=keep, args=("perf.gold", tax.id))
    annotators = ctx.db.annotators(tax.id)
    kept("perf.experts", tax.id, annotators, default=[])
    experts = c3.multiselect(t("Only these experts' labels"), annotators, key="perf.experts", on_change=keep,
                             args=("perf.experts", tax.id))
    gold = perf.gold_frame(ctx.db, tax, source=source, annotators=tuple(experts))
    c4, c5, c6 = st.columns(3)
    levels = list(range(1, tax.depth + 1))
    kept("perf.level", tax.id, levels, default=perf.default_level(gold, tax))
    level = c4.selectbox(t("Level"), levels, key="perf.level", on_change=keep, args=("perf.level", tax.id))
    kept("perf.good", tax.id, default=0.8)
    good = c5.slider(t("Green from F1"), 0.0, 1.0, step=0.05, key="perf.good", on_change=keep,
                     args=("perf.good", tax.id))
    kept("perf.fair", tax.id, default=0.6)
    fair = c6.slider(t("Yellow from F1"), 0.0, 1.0, step=0.05, key="perf.fair", on_change=keep,
                     args=("perf.fair", tax.id))

    if not chosen:
        st.info("No model for this taxonomy is chosen." if names else "No model for this taxonomy is installed.")
        return
    if gold.empty:
        st.info(t("No gold labels yet: label records on the Annotate page, or import records with their labels "
                "(choose 'Labels in imported files' above)."))
        return
    results = []
    for name in chosen:
        m = ctx.model(name)
        result = perf.model_result(ctx.db, tax, gold, m.manifest.name, m.manifest.version,
                                   multi_label=m.manifest.multi_label, level=level, lang=ctx.lang, folder=m.folder,
                                   manifest=m.manifest)
        score_unscored(ctx.db, m, tax, result.unscored, "gold records", f"perf.score.{name}", auto=True)
        results.append(result)
    main = results[0]
    for r in results:
        if not r.trained_check:
            st.caption(":orange[" + t("{0} keeps no fingerprints of its training texts: these figures may include "
                                      "records it was trained on.").format(plain(r.model)) + "]")
        elif r.left_out_trained:
            st.caption(t("{0:,} gold record(s) left out: {1} was trained on their text, so its figures there would "
                         "say nothing about new records.").format(r.left_out_trained, plain(r.model)))
    if main.frame.empty:
        if main.left_out_trained and not main.unscored:
            st.warning(t("Every gold record is one {0} was trained on: there is nothing to measure it on yet. Label "
                         "records it has not seen.").format(plain(main.model)))
            return
        st.warning(t("{0} has scored none of the {1:,} gold records yet.").format(plain(main.model), len(gold)))
        return
    summary_metrics(main.report.summary, main.report.samples, "Gold records")
    with show_errors():
        chart_and_category(ctx, main, level, good, fair)
    detail_tabs(ctx, main, results, level)


def file_tab(ctx: PageContext) -> None:
    tax = ctx.tax
    st.caption(t("A file with text columns and a column of gold codes (several separated by '|' or ';'): the model "
               "classifies every row and the figures come back as a table (CSV, XLSX, JSON)."))
    model_name = st.selectbox(t("Model"), ctx.model_names or ["(no model for this taxonomy)"], key="perf.file_model")
    source, name = file_source("perf", "Labelled file", allow_path=False)
    if source is None or ctx.model(model_name) is None:
        return
    info = inspect_source(source, name)
    mapping = column_mapping(info.columns, [f for f in FIELDS if f != "id"], "perf.map")
    file_level = st.selectbox(t("Level"), ["as labelled", *range(1, tax.depth + 1)], key="perf.file_level",
                              format_func=lambda v: t(v) if isinstance(v, str) else str(v))
    if not st.button(t("Evaluate"), type="primary", key="perf.evaluate"):
        return
    with st.spinner(t("Classifying the file…")):
        report, _ = perf.evaluate_file(classifier(ctx.model(model_name).folder), tax, source, name, mapping,
                                  level=None if file_level == "as labelled" else int(file_level), lang=ctx.lang)
    summary_metrics(report.summary, report.samples, "Rows evaluated")
    if report.summary.get("rows_without_known_gold"):
        st.warning(t("{0:,} row(s) had no gold code of {1} and were left out.").format(
                report.summary['rows_without_known_gold'], plain(t(tax.name))))
    if report.summary.get("rows_in_training_data"):
        st.warning(t("{0:,} of the {1:,} evaluated rows are texts {2} was trained on: its figures on them are "
                     "optimistic. Evaluate on records it has not seen.").format(
                             report.summary['rows_in_training_data'], report.samples, plain(model_name)))
    if report.summary.get("rows_without_text"):
        st.warning(t("{0:,} row(s) had no text for the model and were left out.").format(
                report.summary['rows_without_text']))
    frame = report.categories.drop(columns=["lenient_credit_pred", "lenient_credit_true"])
    table(frame, "perf.file_table")
    table_downloads(frame, f"{tax.id}-{model_name}-evaluation", "perf.file", json=True)


with page_context() as ctx:
    st.title(t("Performance"))
    st.caption(t("{0}: where the models are good, mediocre or bad, and where there is no gold data.").format(
            plain(t(ctx.tax.name))))
    tab_ws, tab_file = st.tabs([t("This workspace"), t("Evaluate a labelled file")])
    with tab_ws, show_errors():
        workspace_tab(ctx)
    with tab_file, show_errors():
        file_tab(ctx)
