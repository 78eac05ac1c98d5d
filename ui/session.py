"""Who is working and on what: the browser session's one shared state (every page reads it; the
interface language lives here too, so ``ui.i18n`` reads it without the page helpers)."""

from dataclasses import dataclass

import streamlit as st

SESSION_KEY = "workbench.session"


@dataclass
class Session:
    """Who is working and on what; shared by every page."""

    user: str = ""
    role: str = "expert"
    taxonomy_id: str = "ford"
    lang: str = "en"  # taxonomy names
    ui: str = "en"  # the interface's own texts (ui.i18n)
    signed_in: bool = False  # ``user`` is an account that signed in (not a typed name)


def session() -> Session:
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = Session()
    return st.session_state[SESSION_KEY]


__all__ = ["SESSION_KEY", "Session", "session"]
