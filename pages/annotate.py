"""Annotate: the expert's workspace (suggestions, hierarchy browser, corrections with provenance)."""

import streamlit as st

from ui.common import ROLES, session, store

state = session()
db = store()
st.title("Annotate")
st.caption(f"{ROLES[state.role]} {state.user or '(enter your name in the sidebar)'}")
st.info(
    "The annotation queue comes next: records ordered by how unsure the model is, its ranked "
    "suggestions with full hierarchy paths, a hierarchy browser to correct them, and keyboard "
    "shortcuts. Every action will be stored with its provenance as new training data."
)
total = db.count_records()
st.metric("Records in this workspace", f"{total:,}")
query = st.text_input("Find records by title, abstract or id", key="annotate.query")
rows = db.records(limit=25, search=query.strip() or None)
st.dataframe(
    [
        {"id": r["external_id"], "title": (r["title"] or r["abstract"] or "")[:140], "language": r["language"],
         "domain": r["domain"], "year": r["year"], "existing labels": r["labels"] or ""}
        for r in rows
    ],
    hide_index=True, width="stretch", key="annotate.records",
)
db.close()
