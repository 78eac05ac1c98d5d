"""What every page shares: the typed session object, cached resources (workspace set-up,
taxonomies, models), the page context, and the one place that turns errors into messages.

A page is written as

    with page_context() as ctx:
        ... widgets, calling core with ctx.db, ctx.tax, ctx.models ...

The context opens the workspace store for this run and closes it however the run ends (a
finished script, ``st.stop()``, ``st.rerun()``, an error); a ``WorkbenchError`` that reaches it
is shown as a message, never as a traceback. Inside, ``with show_errors():`` shows a smaller
step's error and lets the rest of the page draw.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import streamlit as st

from core.domain.access import ROLE_NAMES, allowed
from core.domain.taxonomy import Taxonomy
from core.errors import Problem, WorkbenchError
from core.models.registry import InstalledModel, discover, models_for
from core.settings import Settings
from core.store import Store
from core.work.serving import in_use
from core.work.workspace import open_workspace
from ui.i18n import t
from ui.session import Session, session

ROLES = dict(ROLE_NAMES)  # expert, librarian, lead, admin
QUEUES_KEY = "workbench.queues"  # the open Annotate queue of each taxonomy
KEPT_KEY = "workbench.per_taxonomy"  # widget choices kept per taxonomy


QUEUE_SETTING = "open_queue:"  # + the person's name and the taxonomy: the queue open on Annotate


def open_queue(taxonomy_id: str, queue=None):
    """The Annotate queue kept open for a taxonomy (with ``queue``: keep that one). A new browser
    session (a reload) finds the person's queue as they left it, at the same record."""
    queues = st.session_state.setdefault(QUEUES_KEY, {})
    if queue is not None:
        queues[taxonomy_id] = queue
        save_queue(taxonomy_id)
    elif taxonomy_id not in queues and session().user and not st.session_state.get(f"{QUEUES_KEY}.{taxonomy_id}"):
        st.session_state[f"{QUEUES_KEY}.{taxonomy_id}"] = True  # looked up once per session
        from core.work.annotation import Queue

        with open_store() as db:
            saved = db.setting(f"{QUEUE_SETTING}{session().user.casefold()}:{taxonomy_id}", None)
        try:
            if saved:
                queues[taxonomy_id] = Queue.from_dict(saved)
        except (KeyError, TypeError, ValueError):
            pass  # a queue kept by an older release: the person opens a new one
    return queues.get(taxonomy_id)


def save_queue(taxonomy_id: str) -> None:
    """Keep the open queue (its records and the cursor) for the person, after each move."""
    queue = st.session_state.get(QUEUES_KEY, {}).get(taxonomy_id)
    user = session().user
    if queue is None or not user:
        return
    with open_store() as db:
        db.set_setting(f"{QUEUE_SETTING}{user.casefold()}:{taxonomy_id}", queue.to_dict())


def kept(key: str, taxonomy_id: str, options=None, default=None) -> None:
    """Before drawing widget ``key``: give it the value chosen for this taxonomy (switching
    taxonomy and back, or another page and back, finds each taxonomy's own choices). Pair with
    ``on_change=keep, args=(key, taxonomy_id)``. ``options``: a restored value (each value of a
    list) must be one of them; ``default``: the value when nothing is kept (then give the widget
    no default of its own)."""
    values = st.session_state.setdefault(KEPT_KEY, {}).get(taxonomy_id, {})
    marker = f"{KEPT_KEY}.{key}"

    def valid(value) -> bool:
        if options is None:
            return True
        return all(v in options for v in value) if isinstance(value, list) else value in options

    if key not in st.session_state or st.session_state.get(marker) != taxonomy_id:
        st.session_state[marker] = taxonomy_id
        if key in values and valid(values[key]):
            st.session_state[key] = values[key]
        elif default is not None:
            st.session_state[key] = default
        else:
            st.session_state.pop(key, None)


def keep(key: str, taxonomy_id: str) -> None:
    st.session_state.setdefault(KEPT_KEY, {}).setdefault(taxonomy_id, {})[key] = st.session_state.get(key)
    save_choices()


CHOICES_SETTING = "ui_choices:"  # + the person's name: their kept choices, so a reload keeps them


def save_choices() -> None:
    """Keep the person's choices in the workspace (a browser reload, or the next day, finds them)."""
    user = session().user
    if not user:
        return
    import json

    choices = json.loads(json.dumps(st.session_state.get(KEPT_KEY, {}), default=str))
    with open_store() as db:
        db.set_setting(CHOICES_SETTING + user.casefold(), choices)


def restore_session(signing: bool) -> None:
    """A new browser session (a reload) starts where the person left off: name, role, taxonomy and
    languages from the address (the app writes them there), and their kept choices from the
    workspace. Where sign-in is required, the address never names who works or their role."""
    state = session()
    if st.session_state.get("workbench.restored"):
        return
    st.session_state["workbench.restored"] = True
    params = st.query_params
    if not signing:
        state.user = (params.get("user") or state.user)[:100]
        state.role = params.get("role") if params.get("role") in ROLES else state.role
    state.taxonomy_id = params.get("taxonomy") or state.taxonomy_id
    state.lang = params.get("names") if params.get("names") in ("en", "hu") else state.lang
    state.ui = params.get("ui") if params.get("ui") in ("en", "hu") else state.ui
    restore_choices()


def restore_choices() -> None:
    """The person's kept choices from the workspace (once a name is known)."""
    user = session().user
    if not user:
        return
    with open_store() as db:
        saved = db.setting(CHOICES_SETTING + user.casefold(), None)
    if isinstance(saved, dict):
        st.session_state[KEPT_KEY] = {**saved, **st.session_state.get(KEPT_KEY, {})}


def publish_session(signing: bool) -> None:
    """Write who works and on what into the address, so a reload keeps it."""
    state = session()
    wanted = {"taxonomy": state.taxonomy_id, "names": state.lang, "ui": state.ui}
    if not signing:
        wanted.update(user=state.user, role=state.role)
    for key, value in wanted.items():
        if value and st.query_params.get(key) != value:
            st.query_params[key] = value
        elif not value and key in st.query_params:
            del st.query_params[key]


def start_signed_in(user) -> None:
    """The session is now ``user``'s (an account that signed in); queues of whoever was here go."""
    state = session()
    state.user, state.role, state.signed_in = user.username, user.role, True
    st.session_state.pop(QUEUES_KEY, None)


def sign_out() -> None:
    state = session()
    state.signed_in, state.user = False, ""
    st.session_state.pop(QUEUES_KEY, None)


def signed_in_account(db):
    """The signed-in account, read again on every run (a new role or a disabled account counts at
    once, without signing in again); None when nobody is signed in, and the session forgets an
    account that is gone or disabled."""
    from core.errors import NotFound

    state = session()
    if not state.signed_in:
        return None
    try:
        user = db.user(state.user)
    except NotFound:
        user = None
    if user is None or user.disabled:
        sign_out()
        return None
    state.role = user.role
    return user


def may(action: str) -> bool:
    """Whether the person working may take ``action`` (core.domain.access); the core checks again."""
    return allowed(session().role, action)


def not_allowed(action: str) -> None:
    """Say that this part of the page is for other roles."""
    from core.domain.access import PERMISSIONS

    roles = ", ".join(t(ROLES[r]).lower() for r in ROLES if r in PERMISSIONS[action])
    st.caption(t("For these roles: {0}.").format(roles))


def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource(show_spinner="Preparing the workspace…")
def _initialise(db_path: str, demo: bool) -> bool:
    """Create the database, store the built-in taxonomies and the demo records, resume
    interrupted bulk jobs and start the background embedding fill, once per process."""
    from core.jobs import resume_interrupted

    current = Settings.from_env()
    with open_workspace(replace(current, db_path=Path(db_path), demo=demo)) as store:
        resume_interrupted(store)  # bulk jobs whose worker died with the machine or the app go on
        if current.background_embed:
            from core.jobs.embedding import start_embedding_fill

            start_embedding_fill(store, current.models_dir)  # the embedding cache fills itself, at low priority
    return True


def open_store() -> Store:
    """A store for this script run, callback or fragment (SQLite connections are never shared
    across reruns or threads); use it as ``with open_store() as db:``."""
    cfg = settings()
    _initialise(str(cfg.db_path), cfg.demo)
    state = session()  # the core checks each role-gated action against the person at work
    return Store(cfg.db_path).act_as(state.user, state.role)


@st.cache_resource(max_entries=16)
def _taxonomy(db_path: str, taxonomy_id: str, version_key: str) -> Taxonomy:  # noqa: ARG001 - the cache key
    with Store(db_path) as s:
        return s.load_taxonomy(taxonomy_id)


def taxonomy(db: Store, taxonomy_id: str) -> Taxonomy:
    """The stored taxonomy, cached until it changes."""
    return _taxonomy(str(db.path), taxonomy_id, db.taxonomy_version_key(taxonomy_id))


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def _classifier(folder: str, stamp: float, long_texts: str):  # noqa: ARG001 - the cache key
    from core.models.runtimes import load_classifier

    return load_classifier(folder, long_texts=long_texts)


def classifier(folder: str | Path, *, long_texts: str = "truncate"):
    """A loaded model, cached until its manifest changes. ``long_texts``: "truncate" or "chunks"."""
    from core.models.manifest import MANIFEST_FILE

    manifest = Path(folder) / MANIFEST_FILE
    return _classifier(str(folder), manifest.stat().st_mtime if manifest.exists() else 0.0, long_texts)


_MARKDOWN_INLINE = re.compile(r"([\\`*_{}\[\]()!|<>~$:^&])")
# block syntax at a line's start: quote, heading, bullet, setext underline, ordered list item
_MARKDOWN_LINE_START = re.compile(r"^(\s*\d*)(>|[#+\-=.)](?=\s|$))", re.MULTILINE)


def plain(text: object) -> str:
    """Text from a record, file or taxonomy, escaped so Markdown shows it as written: no image a
    browser would fetch, no link, emphasis, colour or formula directive, heading or list."""
    escaped = _MARKDOWN_INLINE.sub(r"\\\1", "" if text is None else str(text))
    return _MARKDOWN_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def show_error(exc: WorkbenchError | str) -> None:
    """The one way a page shows an error: a ``WorkbenchError`` (its prefix and message in the
    interface language where translated, the message escaped, its individual problems by
    row/line/column as a table), or a page's own message (``str``, already translated; user data
    in it escaped by the caller with ``plain``)."""
    if isinstance(exc, str):
        st.error(exc)
        return
    st.error(f"{t(exc.prefix)}: {plain(t(exc.message))}")
    if exc.problems:
        dataframe([_problem_row(p) for p in exc.problems], hide_index=True, width="stretch")


def _problem_row(problem: Problem) -> dict[str, object]:
    return {problem.unit: problem.line, "column": problem.column or "", "problem": problem.message}


@contextmanager
def show_errors() -> Iterator[None]:
    """Run a step; a ``WorkbenchError`` becomes a message and the step's remaining lines are skipped."""
    try:
        yield
    except WorkbenchError as exc:
        show_error(exc)


@dataclass
class PageContext:
    """A page's run: who works (``state``), the settings, the store, the active taxonomy and the
    models installed for it."""

    state: Session
    cfg: Settings
    db: Store
    tax: Taxonomy | None
    models: list[InstalledModel] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.state.lang

    @property
    def model_names(self) -> list[str]:
        return [m.manifest.name for m in self.models]

    def model(self, name: str) -> InstalledModel | None:
        return next((m for m in self.models if m.manifest.name == name), None)


@contextmanager
def page_context(*, needs_taxonomy: bool = True) -> Iterator[PageContext]:
    from core.work.accounts import sign_in_required

    state, cfg = session(), settings()
    db = open_store()
    if sign_in_required(cfg, db) and signed_in_account(db) is None:  # the router shows only the sign-in page
        db.close()
        st.warning(t("Sign in first."))
        st.stop()
    try:
        tax = taxonomy(db, state.taxonomy_id) if needs_taxonomy else None
        promoted = in_use(db, tax.id).get("", "") if tax is not None else ""
        models = models_for(discover(cfg.models_dir), tax.id, promoted) if tax is not None else []
        yield PageContext(state, cfg, db, tax, models)
    except WorkbenchError as exc:
        show_error(exc)
    finally:
        db.close()


def dataframe(data, **options):
    """``st.dataframe`` in the interface language (``ui.i18n.table``): every table of the app goes
    through here."""
    from ui.i18n import column_config, table

    if "column_config" in options:
        options["column_config"] = column_config(options["column_config"])
    return st.dataframe(table(data), **options)
