"""Start: what the workbench is for, who is working, the three roles and where each starts, what
the workspace holds, and the next step."""

import streamlit as st

from core.models.build_progress import read_progress
from core.work.workspace import workspace_summary
from ui.common import ROLES, dataframe, page_context, plain, session, signed_in_account
from ui.i18n import t

ROLE_START = {
    "expert": ("pages/annotate.py", "Annotate",
               "Work through a queue of records: accept a suggestion, correct it in the hierarchy browser, "
               "or reject it. Every action is kept, with who made it and what was shown."),
    "librarian": ("pages/bulk_classify.py", "Bulk classify",
                  "Classify a file of bibliographic records (tens or hundreds of thousands of rows) in the "
                  "background; download the results; let confident suggestions through and send the rest "
                  "to the experts."),
    "lead": ("pages/performance.py", "Performance",
             "See each category's precision, recall and F1 against the gold labels; train a new model "
             "version from the experts' corrections on the Models page, compare it, promote it."),
    "admin": ("pages/accounts.py", "Accounts",
              "Create the team's accounts and give each its role: experts label, librarians import and "
              "bulk-classify, leads assign work, check quality and decide which model is used."),
}


@st.fragment(run_every=5)
def model_build(models_dir) -> None:
    """The default models building in the background: how far, and what is usable already."""
    progress = read_progress(models_dir)
    if progress is None or (progress.finished and not progress.error):
        return
    ready = [n for n in progress.planned if n in progress.done]
    if progress.error:
        st.warning(t("The build of the default models stopped: {0}. Models already built work; "
                     "start the workbench again to go on (log: {1}).").format(plain(progress.error),
                                                                               plain(str(models_dir / "build.log"))))
    elif not progress.running:
        st.warning(t("The build of the default models stopped before it finished ({0} of {1} ready). Start the "
                     "workbench again (scripts/run.sh) to go on.").format(len(ready), len(progress.planned)))
    else:
        now = f" · {plain(progress.current)}" if progress.current else ""
        st.progress(progress.fraction, text=t("Default models: {0} of {1} ready; the rest build in the background"
                                              "{2}").format(len(ready), len(progress.planned), now))
        st.caption(t("Suggestions use the models ready now (the lexical ones first); each model is used as soon as "
                     "it is built. {0}").format(plain(progress.detail)))


def set_name() -> None:
    session().user = st.session_state["start.user"].strip()


def set_role() -> None:
    session().role = st.session_state["start.role"]


with page_context(needs_taxonomy=False) as ctx:
    state = session()
    st.title(t("Subject classification workbench"))
    st.markdown(t("Suggests subject codes for bibliographic records from two schemes, the OECD **FORD** fields "
                  "of science and the **CAP** policy topics, lets experts correct them, and turns every "
                  "correction into training data for a better model, measured before and after."))
    model_build(ctx.cfg.models_dir)

    st.subheader(t("Who is working"))
    shown = state.user
    if state.signed_in:
        account = signed_in_account(ctx.db)
        shown = account.shown if account is not None else state.user  # the person's name, not the login
        st.markdown(t("Signed in as **{user}**, {role}.").format(user=plain(shown), role=t(ROLES[state.role])))
    else:
        st.session_state["start.user"] = state.user
        st.session_state["start.role"] = state.role
        c1, c2 = st.columns(2)
        c1.text_input(t("Your name"), key="start.user", on_change=set_name, placeholder=t("e.g. Kovács Anna"),
                      help=t("Every label records who made it. The same field is in the sidebar."))
        roles = {r: t(n) for r, n in ROLES.items()}  # translated now: a format_func runs outside the script too
        c2.selectbox(t("Role"), list(ROLES), format_func=roles.get, key="start.role", on_change=set_role)
        st.caption(t("Single-user mode: nobody signs in. A team creates accounts on the Accounts page; then "
                     "everyone signs in and each role does its own work."))

    st.subheader(t("Where each role starts"))
    for role, (page, title, text) in ROLE_START.items():
        with st.container(border=True):
            st.page_link(page, label=f"{t(ROLES[role])}: {t(title)}", icon=":material/arrow_forward:")
            st.caption(t(text))

    st.subheader(t("This workspace"))
    summary = workspace_summary(ctx.db)
    names = {x.id: t(x.name) for x in ctx.db.list_taxonomies()}
    st.markdown(t("**{records}** records · **{taxonomies}** taxonomies · **{jobs}** bulk jobs").format(
        records=f"{summary['records']:,}", taxonomies=len(names), jobs=f"{summary['jobs']:,}"))
    for taxonomy_id, name in names.items():
        experts, in_files = summary["expert_labelled"].get(taxonomy_id, 0), summary["file_labelled"].get(taxonomy_id, 0)
        if experts or in_files:
            st.caption(t("{name}: {experts} records labelled by experts, {in_files} with a label in the imported "
                         "file").format(name=plain(name), experts=f"{experts:,}", in_files=f"{in_files:,}"))
    if summary["batches"]:
        with st.expander(t("Imported files ({n})").format(n=len(summary["batches"]))):
            dataframe([{"file": f, "collection": c, "records": n} for f, c, n in summary["batches"]],
                         hide_index=True, width="stretch", key="start.batches")

    st.subheader(t("Next step"))
    page, title, _ = ROLE_START[state.role]
    if not state.user:
        st.info(t("Enter your name above: a queue opens only once the workbench knows who is labelling."))
    elif not summary["records"]:
        st.info(t("The workspace has no records yet: import a file."))
        st.page_link("pages/import_records.py", label=t("Import records"), icon=":material/upload_file:")
    else:
        st.success(t("{user}, as {role}: go on to {page}.").format(user=plain(shown),
                                                                   role=t(ROLES[state.role]).lower(), page=t(title)))
        st.page_link(page, label=t(title), icon=":material/arrow_forward:")
