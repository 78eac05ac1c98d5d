"""Accounts: who may sign in, with which role (an administrator's page); everyone changes their own
password here."""

import streamlit as st

from core.domain.access import ROLES as ACCOUNT_ROLES
from core.errors import WorkbenchError
from ui.common import ROLES, dataframe, may, not_allowed, page_context, plain, show_error, start_signed_in
from ui.i18n import t


def roles_shown() -> dict[str, str]:
    return {r: t(ROLES[r]) for r in ACCOUNT_ROLES}


def new_account_form(db, by: str, *, first: bool) -> None:
    roles = roles_shown()
    with st.form("accounts.add", clear_on_submit=False):  # a failed try keeps what was typed
        c1, c2, c3 = st.columns(3)
        name = c1.text_input(t("Account name"), key="accounts.name", help=t("What the person types to sign in; "
                                                                            "every label they make records it."))
        display = c2.text_input(t("Full name (shown)"), key="accounts.display", placeholder=t("e.g. Kovács Anna"))
        role = c3.selectbox(t("Role"), list(roles), format_func=roles.get, key="accounts.role",
                            index=list(roles).index("admin") if first else 0, disabled=first)
        p1, p2 = st.columns(2)
        password = p1.text_input(t("Password (at least 8 characters)"), type="password", key="accounts.password",
                                 autocomplete="new-password")
        again = p2.text_input(t("Password again"), type="password", key="accounts.again", autocomplete="new-password")
        if st.form_submit_button(t("Create the account"), type="primary"):
            if password != again:
                show_error(t("The two passwords differ."))
                return
            try:
                user = db.add_user(name, password, "admin" if first else role, display_name=display,
                                   by=name.strip() if first else by)
            except WorkbenchError as exc:
                show_error(exc)
                return
            if first:  # the person who made the first account is signed in as it
                start_signed_in(user)
            st.session_state["accounts.flash"] = t("Account '{0}' created ({1}).").format(user.username,
                                                                                         roles[user.role])
            for key in ("accounts.name", "accounts.display", "accounts.password", "accounts.again"):
                st.session_state.pop(key, None)  # created: the form starts empty for the next one
            st.rerun()


def manage(db, by: str) -> None:
    roles = roles_shown()
    users = db.users()
    dataframe([{t("account"): u.username, t("name"): u.display_name, t("role"): roles[u.role],
                   t("status"): t("disabled") if u.disabled else t("active"),
                   t("last sign-in"): (u.last_sign_in or "")[:16].replace("T", " ")} for u in users],
                 hide_index=True, width="stretch", key="accounts.table")
    st.subheader(t("Add an account"))
    new_account_form(db, by, first=False)
    st.subheader(t("Change an account"))
    names = [u.username for u in users]
    c1, c2 = st.columns([1, 2])
    chosen = c1.selectbox(t("Account"), names, key="accounts.chosen")
    user = next(u for u in users if u.username == chosen)
    with c2:
        r1, r2 = st.columns([2, 1])
        role = r1.selectbox(t("Role"), list(roles), index=list(roles).index(user.role), format_func=roles.get,
                            key=f"accounts.set_role.{chosen}")
        try:
            if r2.button(t("Set role"), key="accounts.set_role", disabled=role == user.role):
                db.set_role(chosen, role, by=by)
                st.session_state["accounts.flash"] = t("'{0}' is now {1}.").format(chosen, roles[role])
                st.rerun()
            if user.disabled:
                if st.button(t("Enable"), key="accounts.enable"):
                    db.enable_user(chosen, by=by)
                    st.rerun()
            elif st.button(t("Disable (the account can no longer sign in; its labels stay)"), key="accounts.disable",
                           disabled=chosen == by):
                db.disable_user(chosen, by=by)
                st.rerun()
            p1, p2 = st.columns([2, 1])
            password = p1.text_input(t("New password"), type="password", key="accounts.reset",
                                     autocomplete="new-password")
            if p2.button(t("Set password"), key="accounts.reset_button", disabled=not password):
                db.set_password(chosen, password, by=by)
                st.session_state["accounts.flash"] = t("Password of '{0}' set.").format(chosen)
                st.rerun()
        except WorkbenchError as exc:
            show_error(exc)
    with st.expander(t("Account changes")):
        dataframe(db.account_events()[-500:][::-1], hide_index=True, width="stretch", key="accounts.log")


def own_password(db, user: str) -> None:
    st.subheader(t("Your password"))
    with st.form("accounts.own", clear_on_submit=True):
        current = st.text_input(t("Current password"), type="password", key="accounts.current",
                                autocomplete="current-password")
        new = st.text_input(t("New password"), type="password", key="accounts.new", autocomplete="new-password")
        again = st.text_input(t("Password again"), type="password", key="accounts.new_again",
                              autocomplete="new-password")
        if st.form_submit_button(t("Change my password")):
            try:
                db.sign_in(user, current)
                if new != again:
                    show_error(t("The two passwords differ."))
                    return
                db.set_password(user, new, by=user)
                st.success(t("Your password is changed."))
            except WorkbenchError as exc:
                show_error(exc)


with page_context(needs_taxonomy=False) as ctx:
    db, state = ctx.db, ctx.state
    st.title(t("Accounts"))
    flash = st.session_state.pop("accounts.flash", None)
    if flash:
        st.success(plain(flash))
    if not db.has_accounts():
        st.markdown(t("This workspace has no accounts: it runs in **single-user mode**, where the person at this "
                      "machine types a name and picks a role. Create the first account, an administrator, to make "
                      "the workbench a team's: from then on everyone signs in, each label records the signed-in "
                      "account, and each role may do only its own work. Labels made before keep their typed names."))
        new_account_form(db, state.user, first=True)
    else:
        if not state.signed_in:
            st.info(t("Sign-in is switched off for this session (WORKBENCH_SIGN_IN=off)."))
        if may("manage_users") and state.signed_in:
            manage(db, state.user)
        else:
            not_allowed("manage_users")
        if state.signed_in:
            own_password(db, state.user)
