"""Import: load a file of records (CSV/TSV/XLSX/JSONL/Parquet, MARC21/MARCXML/RIS/BibTeX/Dublin Core)
or harvest them from an OAI-PMH endpoint, map the columns, preview, import."""

import streamlit as st

from core.files.records_io import DELIMITERS, ENCODINGS, FORMATS, inspect_source, preview
from core.work.column_mapping import FIELDS
from core.work.records_import import import_records
from ui.common import dataframe, may, not_allowed, page_context, plain, show_errors, taxonomy
from ui.i18n import t
from ui.widgets import backup_section, collection_choice, column_mapping, file_source


def collection_language(db) -> None:
    """A librarian sets a collection's language: detection guesses from the text, they know."""
    collections = db.collections()
    if not collections or not may("import_records"):
        return
    with st.expander(t("Set the language of a collection")):
        c1, c2, c3, c4 = st.columns([2, 1, 2, 1], vertical_alignment="bottom")
        chosen = c1.selectbox(t("Collection"), list(collections), key="import.lang_collection",
                              format_func=lambda c: f"{c} " + t("({0:,} records)").format(collections[c]))
        shares = db.collection_languages(chosen) if chosen else {}
        now_in = ", ".join(f"{k} {v:,}" for k, v in sorted(shares.items(), key=lambda kv: -kv[1]))
        c1.caption(t("Now: {0}").format(now_in or t("no language known")))
        language = c2.text_input(t("Language (ISO code)"), key="import.lang_code", max_chars=8,
                                 placeholder="hu").strip().lower()
        only = c3.checkbox(t("Only records whose language is unknown"), key="import.lang_only_unknown", value=True)
        if c4.button(t("Set"), key="import.lang_set", disabled=not chosen or len(language) not in (2, 3)
                     or not language.isalpha()):
            with show_errors():
                changed = db.set_collection_language(chosen, language, only_unknown=only)
                st.success(t("{0:,} records of {1} are now in language {2}.").format(changed, chosen, language))


with page_context(needs_taxonomy=False) as ctx:
    db, state = ctx.db, ctx.state
    st.title(t("Import records"))
    st.caption(t("Bibliographic records or political texts: CSV/TSV (encoding and delimiter detected), XLSX, "
               "JSONL or Parquet, or as library systems export them: MARC21 (.mrc), MARCXML or Dublin Core (.xml), "
               "RIS, BibTeX. An import either completes or writes nothing."))
    source, name = file_source("import", "Records file")
    with st.expander(t("Or harvest from an OAI-PMH endpoint (a library system, a repository)")):
        from core.files.oai import PREFIXES
        from core.work.harvesting import harvest_records

        h1, h2, h3 = st.columns([3, 1, 1])
        endpoint = h1.text_input(t("Endpoint address"), key="import.oai.url", placeholder="https://…/oai")
        prefix = h2.selectbox(t("Metadata format"), PREFIXES, key="import.oai.prefix")
        oai_set = h3.text_input(t("Set (optional)"), key="import.oai.set")
        h4, h5 = st.columns(2)
        since = h4.text_input(t("Changed from (YYYY-MM-DD, optional)"), key="import.oai.from")
        until = h5.text_input(t("Changed until (YYYY-MM-DD, optional)"), key="import.oai.until")
        if st.button(t("Harvest"), key="import.oai.run", disabled=not endpoint.strip() or not may("import_records")):
            with show_errors(), st.spinner(t("Harvesting…")):
                harvest = harvest_records(db, endpoint, metadata_prefix=prefix, set_=oai_set.strip() or None,
                                          from_=since.strip() or None, until=until.strip() or None)
                st.session_state["import.oai.file"] = (harvest.data, harvest.file_name)
                st.success(t("{0:,} records harvested: map and import them below.").format(harvest.count))
    if source is None and "import.oai.file" in st.session_state:
        source, name = st.session_state["import.oai.file"]

    with st.expander(t("Reading options (detected automatically)")):
        c1, c2, c3 = st.columns(3)
        fmt = c1.selectbox(t("Format"), ["auto", *FORMATS], key="import.format")
        encoding = c2.selectbox(t("Encoding"), ["auto", *ENCODINGS], key="import.encoding")
        delimiter = c3.selectbox(t("Delimiter"), ["auto", *DELIMITERS], key="import.delimiter",
                                 format_func=lambda d: {"\t": "tab", "auto": "auto"}.get(d, d))

    if source is not None:
        info = inspect_source(source, name, fmt=None if fmt == "auto" else fmt,
                              encoding=None if encoding == "auto" else encoding,
                              delimiter=None if delimiter == "auto" else delimiter,
                              sheet=st.session_state.get(f"import.sheet.{name}"))
        if len(info.sheets) > 1:
            st.selectbox(t("Sheet"), info.sheets, key=f"import.sheet.{name}",
                         help=t("The workbook has several sheets: choose the one with the records."))
        rows = preview(source, info, n=10)
        detected = f"{info.format.upper()}, {len(info.columns)} columns"
        if info.encoding:
            detected += f", encoding {info.encoding}"
        if info.delimiter:
            detected += f", delimiter {'tab' if info.delimiter == chr(9) else repr(info.delimiter)}"
        st.markdown(f"**{plain(name)}**: {plain(detected)}")
        dataframe(rows, hide_index=True, width="stretch", key="import.preview")

        st.subheader(t("Column mapping"))
        mapping = column_mapping(info.columns, FIELDS, "import.map", name)

        taxonomies = {"": "Any taxonomy", **{x.id: t(x.name) for x in db.list_taxonomies()}}
        c1, c2, c3 = st.columns(3)
        label_tax = c1.selectbox(t("Records for taxonomy"), list(taxonomies), format_func=taxonomies.get, index=None,
                                 placeholder=t("Choose (labels are checked against it)"), key="import.label_taxonomy",
                                 help=t("The annotation queues of other taxonomies leave these records out; label "
                                      "codes in the file are checked against it."))
        default_language = c2.text_input(t("Language for rows without one"), key="import.language",
                                         placeholder=t("en, hu…"))
        default_domain = c3.text_input(t("Domain for rows without one"), key="import.domain")
        collection, on_changed = collection_choice(db, "import", name)
        add_codes = False
        if mapping["label"] and collection in db.collections():
            add_codes = st.checkbox(
                t("Add the file's codes to the records stored already"), key="import.add_codes",
                help=t("Rows whose id is stored in this collection with the same text give that record the file's "
                       "codes; the record keeps its text, its import and its predictions."))
        d1, d2 = st.columns(2)
        on_error = d1.radio(t("When a row is bad"), ["abort", "skip"], horizontal=True, key="import.on_error",
                            format_func={"abort": t("Import nothing and list the bad rows"),
                                         "skip": t("Skip bad rows and import the rest")}.get)
        skip_duplicates = d2.checkbox(t("Leave out rows whose text another collection has"), key="import.skip_dups")

        if label_tax is None:
            st.caption(t("Choose the taxonomy these records are for (or 'Any taxonomy') to import them."))
        elif mapping["label"] and not label_tax:
            st.warning(t("The file has a label column: choose the taxonomy its codes belong to."))
        if not may("import_records"):
            not_allowed("import_records")
        if st.button(t("Import"), type="primary", key="import.run",
                     disabled=label_tax is None or bool(mapping["label"] and not label_tax)
                     or not may("import_records")):
            bar = st.progress(0.0, text=t("Importing…"))
            with show_errors():
                try:
                    report = import_records(
                        db, source, name, mapping=mapping, fmt=info.format, encoding=info.encoding or None,
                        delimiter=info.delimiter or None, sheet=info.sheet or None, on_error=on_error,
                        label_taxonomy=taxonomy(db, label_tax) if label_tax else None,
                        default_language=default_language.strip().lower(), default_domain=default_domain.strip(),
                        imported_by=state.user or "anonymous", collection=collection, on_changed=on_changed,
                        skip_duplicates=skip_duplicates, add_codes=add_codes,
                        progress=lambda done, fraction: bar.progress(min(1.0, fraction),
                                                                     text=t("Importing… {0:,} rows read").format(done)))
                finally:
                    bar.empty()
                st.success(report.summary())
                notes = report.problems + report.warnings
                if notes:
                    st.warning(t("{0} row(s) left out or with notes:").format(len(notes)))
                    dataframe([{p.unit: p.line, "column": p.column or "", "note": p.message} for p in notes],
                                 hide_index=True, width="stretch", key="import.notes")

    st.divider()
    st.subheader(t("Imports in this workspace"))
    batches = db.list_batches()
    if batches:
        dataframe([{"#": b.id, "file": b.file_name, "collection": b.collection, "format": b.format,
                       "status": b.status,
                       "imported": b.rows_imported, "codes added": b.codes_added, "skipped": b.rows_skipped,
                       "by": b.imported_by,
                       "finished": b.finished_at[:19].replace("T", " ")} for b in batches],
                     hide_index=True, width="stretch", key="import.batches")
        st.caption(t("{0:,} records in all.").format(db.count_records()))
        collection_language(db)
        live = [b for b in batches if b.status != "deleted"]
        if live and may("delete_batch"):
            with st.expander(t("Delete an import")):
                st.caption(t("Its records leave every queue, export and chart; their predictions and bulk results go. "
                           "The annotation log is never edited: each deletion is an event of its own."))
                e1, e2, e3 = st.columns([2, 1, 1], vertical_alignment="bottom")
                target = e1.selectbox(t("Import"), [b.id for b in live], key="import.delete_batch",
                                      format_func=lambda i: next(
                                          f"#{b.id} {b.file_name} " + t("({0:,} records)").format(b.rows_imported)
                                          for b in live if b.id == i))
                sure = e2.checkbox(t("Yes, delete it"), key="import.delete_sure")
                if e3.button(t("Delete"), key="import.delete", disabled=not sure):
                    with show_errors():
                        n = db.delete_batch(int(target), state.user or state.role, state.role)
                        st.success(t("Import #{0} deleted: {1:,} records.").format(target, n))
    else:
        st.caption(t("Nothing imported yet."))

    st.divider()
    backup_section(db, ctx.cfg.home, "import")
