"""Subject-classification workbench: the router (page config, sidebar, navigation)."""

import streamlit as st

from ui.common import ROLES, session, store

st.set_page_config(page_title="Subject classification workbench", page_icon="🗂️", layout="wide")

state = session()
db = store()
try:
    taxonomies = {t.id: t.name for t in db.list_taxonomies()}
finally:
    db.close()

# The widgets' keys hold the values (seeded once from the session object), so every page and
# every rerun sees the same choice.
if state.taxonomy_id not in taxonomies:
    state.taxonomy_id = next(iter(taxonomies), "")
for key, value in (("sidebar.user", state.user), ("sidebar.role", state.role),
                   ("sidebar.taxonomy", state.taxonomy_id), ("sidebar.lang", state.lang)):
    if key not in st.session_state:
        st.session_state[key] = value
if st.session_state["sidebar.taxonomy"] not in taxonomies:
    st.session_state["sidebar.taxonomy"] = state.taxonomy_id

with st.sidebar:
    st.markdown("### Who is working")
    st.text_input("Your name", key="sidebar.user", placeholder="e.g. Kovács Anna")
    st.selectbox("Role", list(ROLES), format_func=ROLES.get, key="sidebar.role")
    st.selectbox("Active taxonomy", list(taxonomies), format_func=taxonomies.get, key="sidebar.taxonomy")
    st.radio("Names in", ["en", "hu"], horizontal=True, key="sidebar.lang")
state.user = st.session_state["sidebar.user"].strip()
state.role = st.session_state["sidebar.role"]
state.taxonomy_id = st.session_state["sidebar.taxonomy"]
state.lang = st.session_state["sidebar.lang"]

pages = {
    "Work": [
        st.Page("pages/annotate.py", title="Annotate", icon="✍️", default=True),
        st.Page("pages/bulk_classify.py", title="Bulk classify", icon="📦"),
        st.Page("pages/performance.py", title="Performance", icon="📊"),
    ],
    "Set-up": [
        st.Page("pages/taxonomies.py", title="Taxonomies", icon="🌳"),
        st.Page("pages/models.py", title="Models", icon="🧠"),
        st.Page("pages/import_records.py", title="Import", icon="📥"),
    ],
}
st.navigation(pages).run()
