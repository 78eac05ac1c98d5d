"""Taxonomies: browse the hierarchy, search it, see a node's path and description, import a file."""

import streamlit as st

from core.files.taxonomy_io import read_taxonomy, taxonomy_to_csv
from core.work.team import MAX_SCOPE_NOTE, labelled_before_note, save_scope_note, scope_notes
from ui.common import dataframe, may, not_allowed, page_context, plain, show_errors, taxonomy
from ui.i18n import t
from ui.widgets import Browser


def scope_note_section(ctx, tax, code: str) -> None:
    """The node's scope note (the guideline experts label by): shown to all, edited by leads, each
    save a new version; the records labelled with the node before the last change can be opened."""
    note = scope_notes(ctx.db, tax).get(code)
    if note is not None:
        st.info(plain(note.text))
        if note.source == "workspace":
            st.caption(t("Scope note by {0}, {1}").format(plain(note.by), note.at[:16].replace("T", " ")))
    if not may("edit_scope_notes"):
        return
    with st.expander(t("Edit the scope note") if note else t("Write a scope note")):
        text = st.text_area(t("Scope note"), value=note.text if note else "", key=f"taxonomies.note.{tax.id}.{code}",
                            max_chars=MAX_SCOPE_NOTE, height=120)
        if st.button(t("Save the scope note"), key="taxonomies.note_save", disabled=text.strip() == (note.text if note
                                                                                                   else "")):
            with show_errors():
                save_scope_note(ctx.db, tax, code, text, by=ctx.state.user or ctx.state.role, role=ctx.state.role)
                st.rerun()
        history = ctx.db.scope_note_history(tax.id, code)
        if history:
            dataframe(history, hide_index=True, width="stretch", key="taxonomies.note_history")
        again = labelled_before_note(ctx.db, tax, code)
        if again:
            st.caption(t("{0:,} records were labelled with this node (or one below it) before its scope note last "
                         "changed.").format(len(again)))
            if st.button(t("Open them in Annotate"), key="taxonomies.recheck"):
                from core.domain.labels import QueueSpec
                from core.store import now
                from core.work.annotation import Queue
                from ui.common import open_queue

                open_queue(tax.id, Queue(QueueSpec(taxonomy_id=tax.id, status="labelled", order="import"), again,
                                         len(again), now()))
                st.switch_page("pages/annotate.py")


with page_context(needs_taxonomy=False) as ctx:
    st.title(t("Taxonomies"))
    infos = {t.id: t for t in ctx.db.list_taxonomies()}
    if not infos:
        st.info(t("No taxonomy is stored yet: import one below."))
    else:
        tax = taxonomy(ctx.db, ctx.state.taxonomy_id if ctx.state.taxonomy_id in infos else next(iter(infos)))
        info, lang = infos[tax.id], ctx.lang
        st.caption(f"{plain(t(info.name))} · {t('built-in') if info.builtin else t('imported')} · "
                   f"{plain(t(info.source))}")
        c1, c2, c3, c4 = st.columns(4)
        c1.metric(t("Nodes"), f"{len(tax):,}")
        c2.metric(t("Levels"), tax.depth)
        c3.metric(t("Leaves"), f"{len(tax.leaves()):,}")
        c4.metric(t("Languages"), ", ".join(tax.languages))

        browser = Browser(tax, lang, "taxonomies")
        browser.search(t("Search by code or name (any language, accents and typos forgiven)"), limit=25, table=True)

        st.subheader(t("Browse"))
        browser.breadcrumb()
        current = browser.current
        if current is not None:
            node = tax.node(current)
            st.markdown(f"#### {plain(node.code)} · {plain(node.name(lang))}")
            st.markdown(plain(tax.path_label(current, lang)))
            other_paths, count = tax.paths(current)[1:], tax.path_count(current)
            if other_paths:
                more = f" … and {count - 1 - len(other_paths):,} more paths" if count > len(other_paths) + 1 else ""
                st.caption("Also under: " + plain("; ".join(" › ".join(n.name(lang) for n in p) for p in other_paths))
                           + more)
            st.write(t("Level {0} · {1:,} nodes below").format(tax.level(current), len(tax.descendants(current))))
            if len(node.names) > 1:
                st.markdown(" · ".join(f"**{plain(k)}**: {plain(v)}" for k, v in node.names.items()))
            scope_note_section(ctx, tax, current)
        if tax.children(current):
            st.write((t("Children ({0}):") if current else t("Top level ({0}):")).format(len(tax.children(current))))
            browser.children(columns=3, limit=60)
        elif current is not None:
            st.caption(t("A leaf: no children."))

        st.download_button(t("Download this taxonomy as CSV"), data=taxonomy_to_csv(tax), file_name=f"{tax.id}.csv",
                           mime="text/csv", key="taxonomies.download")

    # ----------------------------------------------------------------------------- import
    st.divider()
    st.subheader(t("Import a taxonomy"))
    st.caption(t("CSV (`code`, `parent`, `name_en`, `name_hu`…, `description`; several parents separated by '|'), "
               "JSON (a node list or a nested tree) or SKOS Turtle (.ttl, as Annif uses)."))
    upload = st.file_uploader(t("Taxonomy file"), type=["csv", "tsv", "txt", "json", "ttl"], key="taxonomies.upload")
    c1, c2 = st.columns(2)
    new_name = c1.text_input(t("Name"), key="taxonomies.new_name", placeholder=t("default: the file name"))
    new_id = c2.text_input(t("Id (short, unique)"), key="taxonomies.new_id", placeholder=t("default: from the name"))
    replace = st.checkbox(t("Replace a stored taxonomy with the same id"), key="taxonomies.replace")
    if not may("import_taxonomy"):
        not_allowed("import_taxonomy")
    if st.button(t("Import taxonomy"), disabled=upload is None or not may("import_taxonomy"), key="taxonomies.import"):
        with show_errors():
            imported = read_taxonomy(upload.getvalue(), upload.name, id=new_id.strip() or None,
                                     name=new_name.strip() or None)
            ctx.db.save_taxonomy(imported, replace=replace)
            st.success(t("Imported '{0}' ({1}): {2:,} nodes, {3} levels.").format(
                    plain(imported.name), plain(imported.id), len(imported), imported.depth))
