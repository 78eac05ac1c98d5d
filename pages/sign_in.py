"""Sign in: required once the workspace has accounts, and always when the app serves a network."""

import streamlit as st

from core.errors import WorkbenchError
from ui.common import open_store, show_error, start_signed_in
from ui.i18n import t

st.title(t("Subject classification workbench"))
with open_store() as db:
    has_accounts = db.has_accounts()
if not has_accounts:
    st.warning(t("This workbench serves a network and has no accounts yet. An administrator creates the first one "
                 "on the server: `python -m core users add NAME --role admin`."))
    st.stop()

st.subheader(t("Sign in"))
with st.form("sign_in", clear_on_submit=False):
    name = st.text_input(t("Account name"), key="sign_in.name", autocomplete="username")
    password = st.text_input(t("Password"), type="password", key="sign_in.password", autocomplete="current-password")
    submitted = st.form_submit_button(t("Sign in"), type="primary")
if submitted:
    try:
        with open_store() as db:
            user = db.sign_in(name, password)
    except WorkbenchError as exc:
        show_error(exc)
    else:
        start_signed_in(user)
        st.session_state.pop("sign_in.password", None)
        st.rerun()
st.caption(t("Forgot your password? An administrator sets a new one (Accounts page, or "
             "`python -m core users passwd NAME`)."))
