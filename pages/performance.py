"""Performance: per-category figures of the models against gold labels, as a bubble chart and
tables (strict, lenient, hierarchical; per level, language and domain; model comparison;
agreement; confusions; trend), with exports; and evaluation of a labelled file."""

import json

import streamlit as st

from core.domain.labels import QueueSpec
from core.domain.metrics import cross_table, trend
from core.errors import WorkbenchError
from core.files.records_io import inspect_source
from core.files.writers import table_bytes
from core.models.registry import discover, estimated_seconds, models_for
from core.work.annotation import Queue, score_records
from core.work.performance import (
    GOLD_SOURCES,
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
)
from core.work.records_import import FIELDS
from ui.common import classifier, column_mapping, session, settings, show_error, store, taxonomy

state = session()
cfg = settings()
db = store()
tax = taxonomy(db, state.taxonomy_id)
lang = state.lang
st.title("Performance")
st.caption(f"{tax.name}: where the models are good, mediocre or bad, and where there is no gold data.")

models = models_for(discover(cfg.models_dir), tax.id)
names = [m.manifest.name for m in models]
by_name = {m.manifest.name: m for m in models}


def downloads(frame, stem: str, key: str) -> None:
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button("CSV", table_bytes(frame, "csv"), f"{stem}.csv", "text/csv", key=f"{key}.csv")
    c2.download_button("XLSX", table_bytes(frame, "xlsx", stem), f"{stem}.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{key}.xlsx")


def summary_metrics(summary: dict, samples: int, samples_label: str) -> None:
    shown = [(samples_label, f"{samples:,}"), ("F1 (micro)", summary["micro_f1"]), ("Macro F1", summary["macro_f1"]),
             ("Weighted F1", summary["weighted_f1"]), ("Lenient F1", summary["lenient_micro_f1"]),
             ("Hierarchical F1", summary["hierarchical_micro_f1"])]
    for col, (label, value) in zip(st.columns(len(shown)), shown):
        col.metric(label, value if isinstance(value, str) else f"{value:.3f}")


@st.cache_data(max_entries=8, show_spinner=False)
def chart_file(spec_json: str, fmt: str) -> bytes:
    """PNG/SVG of a chart, rendered once per chart (rendering takes about a second)."""
    return chart_bytes(json.loads(spec_json), fmt)


def percent_columns(frame):
    return {c: st.column_config.NumberColumn(c, format="%.3f") for c in frame.columns
            if frame[c].dtype.kind == "f"}


tab_ws, tab_file = st.tabs(["This workspace", "Evaluate a labelled file"])

# ------------------------------------------------------------------------------- workspace
with tab_ws:
    c1, c2, c3 = st.columns(3)
    chosen = c1.multiselect("Models (the first one is charted)", names, default=names[:1], key="perf.models")
    source = c2.selectbox("Gold labels", list(GOLD_SOURCES), format_func=GOLD_SOURCES.get, key="perf.gold")
    experts = c3.multiselect("Only these experts' labels", db.annotators(tax.id), key="perf.experts")
    c4, c5, c6 = st.columns(3)
    level = c4.selectbox("Level", list(range(1, tax.depth + 1)), index=min(1, tax.depth - 1), key="perf.level")
    good = c5.slider("Green from F1", 0.0, 1.0, 0.8, 0.05, key="perf.good")
    fair = c6.slider("Yellow from F1", 0.0, 1.0, 0.6, 0.05, key="perf.fair")

    gold = gold_frame(db, tax, source=source, annotators=tuple(experts))
    if not chosen:
        st.info("No model for this taxonomy is chosen." if names else "No model for this taxonomy is installed.")
    elif gold.empty:
        st.info("No gold labels yet: label records on the Annotate page, or import records with their labels "
                "(choose 'Labels in imported files' above).")
    else:
        results = []
        for name in chosen:
            m = by_name[name]
            result = model_result(db, tax, gold, m.manifest.name, m.manifest.version,
                                  multi_label=m.manifest.multi_label, level=level, lang=lang)
            if result.unscored:
                seconds = estimated_seconds(m.manifest, len(result.unscored))
                st.caption(f"{len(result.unscored):,} gold records are not scored by {name} yet (about {seconds:,.0f} s).")
                if st.button(f"Score them with {name}", key=f"perf.score.{name}"):
                    bar = st.progress(0.0, text="Scoring…")
                    try:
                        score_records(db, classifier(str(m.folder)), tax, result.unscored,
                                      progress=lambda d, t: bar.progress(d / t, text=f"Scored {d:,} of {t:,}"))
                    except WorkbenchError as exc:
                        show_error(exc)
                    else:
                        st.rerun()
            results.append(result)
        main = results[0]
        if main.frame.empty:
            st.warning(f"{main.model} has scored none of the {len(gold):,} gold records yet.")
        else:
            summary_metrics(main.report.summary, main.report.samples, "Gold records")

            try:
                data = bubble_data(main.report, tax, level, good=good, fair=fair,
                                   predicted_counts=db.prediction_counts(main.model, main.version), lang=lang)
            except WorkbenchError as exc:
                show_error(exc)
                data = None
            if data is not None:
                chart = bubble_chart(data, title=f"{main.model} {main.version} · level {level} · F1 green ≥ {good:.2f}, "
                                                 f"yellow ≥ {fair:.2f}, red below, blue: no gold data")
                event = st.altair_chart(chart, on_select="rerun", selection_mode="pick", key="perf.chart")
                e1, e2, _ = st.columns([1, 1, 4])
                spec = json.dumps(chart.to_dict())
                e1.download_button("Chart PNG", chart_file(spec, "png"), f"{tax.id}-level{level}.png", "image/png",
                                   key="perf.png")
                e2.download_button("Chart SVG", chart_file(spec, "svg"), f"{tax.id}-level{level}.svg",
                                   "image/svg+xml", key="perf.svg")

                # a category: clicked in the chart, or chosen here
                picked = None
                try:
                    points = event.selection["pick"] if event and event.selection else []
                    picked = points[0]["code"] if points else None
                except (KeyError, IndexError, TypeError, AttributeError):
                    picked = None
                codes = data["code"].tolist()
                code = st.selectbox("Category", codes, index=codes.index(picked) if picked in codes else 0,
                                    format_func=lambda c: f"{c} · {tax.name_of(c, lang)}", key="perf.category")
                row = data.set_index("code").loc[code]
                st.caption(f"{row['support']} gold records · predicted {row['predicted']} times · "
                           + (f"P {row['precision']:.2f} · R {row['recall']:.2f} · F1 {row['f1']:.2f}"
                              if row["support"] else "no gold data"))
                subtree = {code, *tax.descendants(code)}
                hits = main.frame[[bool(subtree & set(g)) or bool(subtree & set(p))
                                   for g, p in zip(main.frame["gold"], main.frame["pred"])]]
                if len(hits):
                    recs = {r["id"]: r for r in db.records_by_ids(hits["record_id"].tolist()[:200])}
                    st.dataframe([{"id": recs[i]["external_id"], "title": (recs[i]["title"] or recs[i]["abstract"] or "")[:120],
                                   "gold": ", ".join(g), "predicted": ", ".join(p)}
                                  for i, g, p in zip(hits["record_id"], hits["gold"], hits["pred"]) if i in recs],
                                 hide_index=True, width="stretch", key="perf.records")

                def open_in_annotate(code=code, model=main):
                    m_ = by_name[model.model]
                    s_ = store()
                    try:
                        spec = QueueSpec(tax.id, status="any", order="margin", model_name=m_.manifest.name,
                                         model_version=m_.manifest.version,
                                         predicted_codes=tuple(c for c in [code, *tax.descendants(code)]))
                        st.session_state["annotate.queue"] = Queue.build(s_, spec)
                    finally:
                        s_.close()

                if st.button("Open this category's records in Annotate", key="perf.open_annotate"):
                    open_in_annotate()
                    st.switch_page("pages/annotate.py")

            t1, t2, t3, t4, t5, t6, t7 = st.tabs(["Per category", "Per level", "Language × domain", "Models",
                                                  "Agreement", "Confusions", "Trend"])
            with t1:
                table = main.report.categories.drop(columns=["lenient_credit_pred", "lenient_credit_true"])
                st.dataframe(table, hide_index=True, width="stretch", column_config=percent_columns(table),
                             key="perf.categories")
                downloads(table, f"{tax.id}-per-category-level{level}", "perf.dl.categories")
            with t2:
                levels = per_level_table(main.frame, tax)
                st.dataframe(levels, hide_index=True, width="stretch", column_config=percent_columns(levels),
                             key="perf.levels")
                downloads(levels, f"{tax.id}-per-level", "perf.dl.levels")
            with t3:
                cross = cross_table(main.frame["gold"].tolist(), main.frame["pred"].tolist(),
                                    main.frame["language"].tolist(), main.frame["domain"].tolist(), tax, level=level)
                st.caption("Weighted F1 per language (rows) and domain (columns)")
                if cross.empty:
                    st.caption("No data.")
                else:
                    st.dataframe(cross.reset_index(names="language"), hide_index=True, width="stretch",
                                 key="perf.cross")
                    downloads(cross.reset_index(names="language"), f"{tax.id}-language-domain", "perf.dl.cross")
                for key, part in main.report.groups.items():
                    st.markdown(f"**Per {key}**")
                    st.dataframe(part, hide_index=True, width="stretch", column_config=percent_columns(part),
                                 key=f"perf.group.{key}")
            with t4:
                comparison = comparison_table(results)
                st.dataframe(comparison, hide_index=True, width="stretch", column_config=percent_columns(comparison),
                             key="perf.comparison")
                downloads(comparison, f"{tax.id}-models-level{level}", "perf.dl.models")
            with t5:
                st.markdown("**Expert vs model, per category (Cohen's kappa)**")
                kappa = expert_model_kappa(main.frame, tax, level, lang)
                st.dataframe(kappa, hide_index=True, width="stretch", column_config=percent_columns(kappa),
                             key="perf.kappa")
                downloads(kappa, f"{tax.id}-kappa-level{level}", "perf.dl.kappa")
                st.markdown("**Expert vs expert** (records labelled by both)")
                pairs = expert_expert_agreement(db, tax, level)
                if pairs.empty:
                    st.caption("No record has labels from two experts yet.")
                else:
                    st.dataframe(pairs, hide_index=True, width="stretch", key="perf.pairs")
            with t6:
                confused = main.report.confused.copy()
                if not confused.empty:
                    confused["gold name"] = [tax.name_of(c, lang) if c in tax else c for c in confused["gold"]]
                    confused["predicted name"] = [tax.name_of(c, lang) if c in tax else c for c in confused["predicted"]]
                st.dataframe(confused, hide_index=True, width="stretch", key="perf.confused")
            with t7:
                freq = st.radio("Per", ["D", "W", "M"], index=1, horizontal=True, key="perf.freq",
                                format_func={"D": "day", "W": "week", "M": "month"}.get)
                over_time = trend(main.frame["gold"].tolist(), main.frame["pred"].tolist(),
                                  main.frame["labelled_at"].tolist(), tax, freq=freq, level=level)
                if len(over_time) > 1:
                    st.line_chart(over_time.set_index("period")[["period_micro_f1", "cumulative_micro_f1"]])
                st.dataframe(over_time, hide_index=True, width="stretch", key="perf.trend")

# ------------------------------------------------------------------------ labelled file
with tab_file:
    st.caption("A file with text columns and a column of gold codes (several separated by '|' or ';'): the model "
               "classifies every row and the figures come back as a table (CSV, XLSX, JSON).")
    model_name = st.selectbox("Model", names or ["(no model for this taxonomy)"], key="perf.file_model")
    upload = st.file_uploader("Labelled file", type=["csv", "tsv", "txt", "xlsx", "jsonl", "parquet"],
                              key="perf.upload")
    if upload is not None and model_name in by_name:
        try:
            info = inspect_source(upload.getvalue(), upload.name)
        except WorkbenchError as exc:
            show_error(exc)
            info = None
        if info is not None:
            mapping = column_mapping(info.columns, [f for f in FIELDS if f != "id"], "perf.map")
            file_level = st.selectbox("Level", ["as labelled", *range(1, tax.depth + 1)], key="perf.file_level")
            if st.button("Evaluate", type="primary", key="perf.evaluate"):
                try:
                    with st.spinner("Classifying the file…"):
                        report, _ = evaluate_file(classifier(str(by_name[model_name].folder)), tax, upload.getvalue(),
                                                  upload.name, mapping,
                                                  level=None if file_level == "as labelled" else int(file_level),
                                                  lang=lang)
                except WorkbenchError as exc:
                    show_error(exc)
                else:
                    s = report.summary
                    summary_metrics(s, report.samples, "Rows evaluated")
                    if s.get("rows_without_known_gold"):
                        st.warning(f"{s['rows_without_known_gold']:,} row(s) had no gold code of {tax.name} "
                                   "and were left out.")
                    table = report.categories.drop(columns=["lenient_credit_pred", "lenient_credit_true"])
                    st.dataframe(table, hide_index=True, width="stretch", column_config=percent_columns(table),
                                 key="perf.file_table")
                    stem = f"{tax.id}-{model_name}-evaluation"
                    d1, d2, d3, _ = st.columns([1, 1, 1, 3])
                    d1.download_button("CSV", table_bytes(table, "csv"), f"{stem}.csv", "text/csv", key="perf.file.csv")
                    d2.download_button("XLSX", table_bytes(table, "xlsx", "per category"), f"{stem}.xlsx",
                                       key="perf.file.xlsx")
                    d3.download_button("JSON", table_bytes(table, "json"), f"{stem}.json", "application/json",
                                       key="perf.file.json")
db.close()
