"""Subject-classification workbench: the router (page config, sidebar, navigation)."""

import streamlit as st

from core.work.accounts import sign_in_required
from ui.common import (
    ROLES,
    open_store,
    plain,
    publish_session,
    restore_choices,
    restore_session,
    session,
    settings,
    sign_out,
    signed_in_account,
)
from ui.i18n import t

st.set_page_config(page_title="Subject classification workbench", page_icon="ui/icon.png", layout="wide")

# a desktop tool's proportions: less empty space above the page and a smaller page title, so the
# Annotate card fits a 900-pixel-high window
st.markdown("<style>[data-testid=\"stMainBlockContainer\"], .block-container {padding-top: 2.2rem; "
            "padding-bottom: 2rem;} h1 {font-size: 1.9rem !important; padding-top: 0.2rem !important;} "
            # the Annotate card: suggestion buttons a little lower, and in a short window (a 1280×720
            # laptop) the title smaller and the text excerpt clamped, so suggestions and actions stay in view
            ".st-key-annotate-suggestions {gap: 0.3rem !important;} "
            ".st-key-annotate-suggestions button {min-height: 2.2rem; padding-top: 0.2rem; padding-bottom: 0.2rem;} "
            "@media (max-height: 800px) {[data-testid=\"stMainBlockContainer\"], .block-container "
            "{padding-top: 1.2rem;} h1 {font-size: 1.5rem !important;} h3 {font-size: 1.25rem !important;} "
            ".st-key-annotate-excerpt p {display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; "
            "overflow: hidden;} .st-key-annotate-suggestions button {min-height: 1.9rem;} "
            ".st-key-annotate-who {display: none;}}</style>",
            unsafe_allow_html=True)

state = session()
with open_store() as db:
    taxonomies = {x.id: t(x.name) for x in db.list_taxonomies()}
    signing = sign_in_required(settings(), db)
    restore_session(signing)  # a reload starts where the person left off
    account = signed_in_account(db) if signing else None

# The session object is the source of truth: each run seeds the sidebar widgets from it, and their
# on_change callbacks copy a new choice back, so the choice survives page switches (Streamlit
# drops a widget's own state when the page changes).
if state.taxonomy_id not in taxonomies:
    state.taxonomy_id = next(iter(taxonomies), "")
FIELDS = {"sidebar.user": "user", "sidebar.role": "role", "sidebar.taxonomy": "taxonomy_id", "sidebar.lang": "lang",
          "sidebar.ui": "ui"}


def remember(key):
    value = st.session_state[key]
    setattr(state, FIELDS[key], value.strip() if isinstance(value, str) and key == "sidebar.user" else value)
    if key == "sidebar.user":
        restore_choices()


for key, attr in FIELDS.items():
    st.session_state[key] = getattr(state, attr)

if signing and not state.signed_in:  # nothing but the sign-in page until someone signs in
    with st.sidebar:
        st.radio(t("Interface"), ["en", "hu"], horizontal=True, key="sidebar.ui", on_change=remember,
                 args=("sidebar.ui",), format_func={"en": "English", "hu": "magyar"}.get)
    st.navigation([st.Page("pages/sign_in.py", title=t("Sign in"), icon=":material/login:", default=True)],
                  position="hidden").run()
    st.stop()

with st.sidebar:
    st.markdown(f"### {t('Who is working')}")
    if signing:
        st.markdown(f"**{plain(account.shown)}** · {t(ROLES[state.role])}")
        st.button(t("Sign out"), key="sidebar.sign_out", on_click=sign_out, icon=":material/logout:")
    else:
        st.text_input(t("Your name"), key="sidebar.user", placeholder=t("e.g. Kovács Anna"), on_change=remember,
                      args=("sidebar.user",))
        roles = {r: t(n) for r, n in ROLES.items()}  # translated now: a format_func runs outside the script too
        st.selectbox(t("Role"), list(ROLES), format_func=roles.get, key="sidebar.role", on_change=remember,
                     args=("sidebar.role",))
    st.selectbox(t("Active taxonomy"), list(taxonomies), format_func=taxonomies.get, key="sidebar.taxonomy",
                 on_change=remember, args=("sidebar.taxonomy",))
    c1, c2 = st.columns(2)
    c1.radio(t("Names in"), ["en", "hu"], horizontal=True, key="sidebar.lang", on_change=remember,
             args=("sidebar.lang",))
    c2.radio(t("Interface"), ["en", "hu"], horizontal=True, key="sidebar.ui", on_change=remember,
             args=("sidebar.ui",), format_func={"en": "English", "hu": "magyar"}.get)

publish_session(signing)
pages = {
    t("Work"): [
        st.Page("pages/start.py", title=t("Start"), icon=":material/home:", default=True),
        st.Page("pages/annotate.py", title=t("Annotate"), icon=":material/edit_note:"),
        st.Page("pages/training_data.py", title=t("Training data"), icon=":material/dataset:"),
        st.Page("pages/bulk_classify.py", title=t("Bulk classify"), icon=":material/inventory_2:"),
        st.Page("pages/performance.py", title=t("Performance"), icon=":material/monitoring:"),
        st.Page("pages/team.py", title=t("Team"), icon=":material/groups:"),
    ],
    t("Set-up"): [
        st.Page("pages/taxonomies.py", title=t("Taxonomies"), icon=":material/account_tree:"),
        st.Page("pages/models.py", title=t("Models"), icon=":material/model_training:"),
        st.Page("pages/import_records.py", title=t("Import"), icon=":material/upload_file:"),
        st.Page("pages/accounts.py", title=t("Accounts"), icon=":material/group:"),
    ],
}
st.navigation(pages).run()
