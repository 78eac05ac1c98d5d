"""Taxonomies: browse the hierarchy, search it, see a node's path and description, import a file."""

import streamlit as st

from core.errors import WorkbenchError
from core.files.taxonomy_io import read_taxonomy, taxonomy_to_csv
from ui.common import session, show_error, store, taxonomy

BROWSE_KEY = "taxonomies.current"  # {taxonomy_id: code or None}
MAX_CHILD_BUTTONS = 60

state = session()
db = store()
st.title("Taxonomies")

infos = {t.id: t for t in db.list_taxonomies()}
if not infos:
    st.info("No taxonomy is stored yet: import one below.")
else:
    tax = taxonomy(db, state.taxonomy_id)
    info = infos[tax.id]
    lang = state.lang
    st.caption(f"{info.name} · {'built-in' if info.builtin else 'imported'} · {info.source}")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Nodes", f"{len(tax):,}")
    c2.metric("Levels", tax.depth)
    c3.metric("Leaves", f"{len(tax.leaves()):,}")
    c4.metric("Languages", ", ".join(tax.languages))

    current_by_tax = st.session_state.setdefault(BROWSE_KEY, {})
    current = current_by_tax.get(tax.id)
    if current is not None and current not in tax:
        current = None

    def open_node(code):
        st.session_state[BROWSE_KEY][tax.id] = code

    # ----------------------------------------------------------------------------- search
    query = st.text_input("Search by code or name (any language, accents and typos forgiven)",
                          key="taxonomies.query", placeholder="e.g. 1.02, számítástudomány, enviromental")
    if query.strip():
        hits = tax.search(query, limit=25, lang=lang)
        if not hits:
            st.warning(f"Nothing in {info.name} matches '{query}'.")
        else:
            st.dataframe(
                [
                    {"code": h.code, "name": h.name, "path": tax.path_label(h.code, lang),
                     "matched": h.matched, "score": round(h.score)}
                    for h in hits
                ],
                hide_index=True,
                width="stretch",
                key="taxonomies.results",
            )
            choice = st.selectbox(
                "Open a result",
                [h.code for h in hits],
                format_func=lambda c: f"{c} · {tax.name_of(c, lang)}",
                key="taxonomies.open_hit",
            )
            st.button("Open", on_click=open_node, args=(choice,), key="taxonomies.open")

    # ----------------------------------------------------------------------------- browse
    st.subheader("Browse")
    crumbs = st.columns(min(tax.depth + 1, 8))
    crumbs[0].button("All", on_click=open_node, args=(None,), key="crumb.root")
    if current is not None:
        for i, node in enumerate(tax.path(current)[:-1], start=1):
            crumbs[min(i, len(crumbs) - 1)].button(
                f"{node.code} · {node.name(lang)}"[:40], on_click=open_node, args=(node.code,), key=f"crumb.{node.code}"
            )
        node = tax.node(current)
        st.markdown(f"#### {node.code} · {node.name(lang)}")
        st.write(tax.path_label(current, lang))
        other_paths = tax.paths(current)[1:]
        if other_paths:
            st.caption("Also under: " + "; ".join(" › ".join(n.name(lang) for n in p) for p in other_paths))
        st.write(f"Level {tax.level(current)} · {len(tax.descendants(current)):,} nodes below")
        names = {k: v for k, v in node.names.items()}
        if len(names) > 1:
            st.write(" · ".join(f"**{k}**: {v}" for k, v in names.items()))
        if node.description:
            st.info(node.description)
    children = tax.children(current)
    if children:
        st.write(f"{'Children' if current else 'Top level'} ({len(children)}):")
        cols = st.columns(3)
        for i, child in enumerate(children[:MAX_CHILD_BUTTONS]):
            cols[i % 3].button(
                f"{child.code} · {child.name(lang)}"[:70], on_click=open_node, args=(child.code,),
                key=f"child.{child.code}", width="stretch",
            )
        if len(children) > MAX_CHILD_BUTTONS:
            st.caption(f"… and {len(children) - MAX_CHILD_BUTTONS} more: use the search to reach them.")
    elif current is not None:
        st.caption("A leaf: no children.")

    st.download_button(
        "Download this taxonomy as CSV",
        data=taxonomy_to_csv(tax),
        file_name=f"{tax.id}.csv",
        mime="text/csv",
        key="taxonomies.download",
    )

# --------------------------------------------------------------------------------- import
st.divider()
st.subheader("Import a taxonomy")
st.caption("CSV (code, parent, name_en, name_hu…, description; several parents separated by '|'), "
           "JSON (a node list or a nested tree) or SKOS Turtle (.ttl, as Annif uses).")
upload = st.file_uploader("Taxonomy file", type=["csv", "tsv", "txt", "json", "ttl"], key="taxonomies.upload")
c1, c2 = st.columns(2)
new_name = c1.text_input("Name", key="taxonomies.new_name", placeholder="default: the file name")
new_id = c2.text_input("Id (short, unique)", key="taxonomies.new_id", placeholder="default: from the name")
replace = st.checkbox("Replace a stored taxonomy with the same id", key="taxonomies.replace")
if st.button("Import taxonomy", disabled=upload is None, key="taxonomies.import"):
    try:
        imported = read_taxonomy(upload.getvalue(), upload.name, id=new_id.strip() or None, name=new_name.strip() or None)
        db.save_taxonomy(imported, replace=replace)
    except WorkbenchError as exc:
        show_error(exc)
    else:
        st.success(f"Imported '{imported.name}' ({imported.id}): {len(imported):,} nodes, {imported.depth} levels.")
db.close()
