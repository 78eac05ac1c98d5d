"""Training data: the experts' labels as files for training, with a stratified split."""

import datetime as dt

import streamlit as st

from core.work.final_codes import PROVENANCE, final_codes, final_codes_bytes
from core.work.training_data import FORMATS, ExportFilter, category_counts, labelled_frame, split, to_bytes
from ui.common import dataframe, page_context, plain, show_errors
from ui.i18n import t, translated
from ui.widgets import XLSX_MIME

with page_context() as ctx:
    state, db, tax = ctx.state, ctx.db, ctx.tax
    st.title(t("Training data"))
    st.caption(t("Labels in {0} as training files. Each record's current label per annotator is derived from the "
                 "event log (undone actions excluded; rejected records carry no label).").format(plain(t(tax.name))))

    c1, c2, c3 = st.columns(3)
    annotators = c1.multiselect(t("Annotators (none chosen: everyone)"), db.annotators(tax.id),
                                key="training.annotators")
    dates = c2.date_input(t("Labelled between"), value=(), key="training.dates",
                          help=t("Leave empty for all time; choose a start and an end day."))
    level = c3.selectbox(t("Cut codes at level"), ["as labelled", *range(1, tax.depth + 1)], key="training.level",
                         format_func=lambda v: t(v) if isinstance(v, str) else str(v))
    c4, c5, c6 = st.columns(3)
    per_record = c4.radio(t("Rows"), ["latest", "all"], key="training.per_record",
                          format_func={"latest": t("One per record (latest label)"),
                                       "all": t("One per record and annotator")}.get)
    include_machine = c5.checkbox(t("Include machine-accepted labels"), key="training.machine")
    include_imported = c6.checkbox(t("Include labels from imported files"), key="training.imported")
    s1, s2, s3 = st.columns(3)
    validation = s1.slider(t("Validation share"), 0.0, 0.4, 0.1, 0.05, key="training.validation")
    test = s2.slider(t("Test share"), 0.0, 0.4, 0.1, 0.05, key="training.test")
    seed = s3.number_input(t("Random seed"), 0, 10**6, 0, key="training.seed")

    since = until = ""
    if isinstance(dates, (list, tuple)) and len(dates) == 2:
        since, until = dates[0].isoformat(), dates[1].isoformat()
    elif isinstance(dates, dt.date):
        since = dates.isoformat()
    frame = labelled_frame(db, tax, ExportFilter(
        tax.id, annotators=tuple(annotators), since=since, until=until,
        level=None if level == "as labelled" else int(level), include_machine=include_machine,
        include_imported=include_imported, per_record=per_record), lang=state.lang)
    frame = split(frame, validation=validation, test=test, seed=int(seed))

    if frame.empty:
        st.info(t("No labels match these filters yet. Label records on the Annotate page."))
    else:
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(t("Rows"), f"{len(frame):,}")
        m2.metric(t("Records"), f"{frame['record_id'].nunique():,}")
        m3.metric(t("Categories"), f"{frame['codes'].explode().nunique():,}")
        m4.metric(t("Annotators"), f"{frame['annotator'].nunique():,}")
        st.markdown(t("**Examples per category**"))
        dataframe(category_counts(frame, tax, lang=state.lang), hide_index=True, width="stretch",
                     key="training.counts")
        fmt = st.selectbox(t("Format"), list(FORMATS), format_func=translated(FORMATS).get, key="training.format")
        ext = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet", "hf": "zip"}[fmt]
        mime = {"csv": "text/csv", "jsonl": "application/jsonl", "parquet": "application/octet-stream",
                "hf": "application/zip"}[fmt]
        st.download_button(t("Download {0}").format(FORMATS[fmt]), data=to_bytes(frame, fmt),
                           file_name=f"{tax.id}-training-{dt.date.today().isoformat()}-log-"
                                     f"{db.chain_head()[:12] or 'empty-log'}.{ext}", mime=mime,
                           key="training.download", type="primary")
        with st.expander(t("Preview")):
            dataframe(frame.head(50), hide_index=True, width="stretch", key="training.preview")

    st.divider()
    st.subheader(t("Final codes for the catalogue"))
    st.caption(t("Every record's final code with where it comes from: an expert's label before a machine-accepted "
               "one, before the label it was imported with."))
    final = final_codes(db, tax, lang=state.lang)
    if final.empty:
        st.caption(t("No record has a code yet."))
    else:
        counts = final["provenance"].value_counts()
        st.write(" · ".join(f"{counts.get(p, 0):,} {t(p)}" for p in PROVENANCE))
        head = db.chain_head()[:12] or "empty-log"  # the file name carries the log's chain head
        stem = f"{tax.id}-final-codes-{dt.date.today().isoformat()}-log-{head}"
        f1, f2, f3, _ = st.columns([1, 1, 1, 3])
        f1.download_button("CSV", final_codes_bytes(final, "csv"), f"{stem}.csv", "text/csv", key="training.final.csv")
        f2.download_button("XLSX", final_codes_bytes(final, "xlsx"), f"{stem}.xlsx", XLSX_MIME,
                           key="training.final.xlsx")
        f3.download_button(t("JSONL"), final_codes_bytes(final, "jsonl"), f"{stem}.jsonl", "application/jsonl",
                           key="training.final.jsonl")
        with st.expander(t("Write the codes back into the library system's export (MARC21, MARCXML, RIS, BibTeX)")):
            st.caption(t("Upload the file as it was imported: each record gets its final codes (MARC: an 084 field "
                         "per code with the scheme and where the code comes from; RIS and BibTeX: keywords); every "
                         "other field stays as it was."))
            original = st.file_uploader(t("The original export"), type=["mrc", "marc", "xml", "ris", "bib"],
                                        key="training.writeback.file")
            if original is not None:
                from core.work.final_codes import write_back

                with show_errors():
                    data, changed, fmt = write_back(db, tax, original.getvalue(), original.name)
                    st.write(t("{0:,} records of {1} get their final codes.").format(changed, plain(original.name)))
                    st.download_button(t("Download {0}").format(original.name), data, f"coded-{original.name}",
                                       "application/octet-stream", key="training.writeback.download")
