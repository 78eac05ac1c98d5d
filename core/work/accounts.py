"""Who is acting: signing in to the app, and the account a command-line action is recorded as.

Single-user mode: on localhost, in a workspace without accounts (or with ``WORKBENCH_SIGN_IN=off``),
nobody signs in: the person at the machine types a name and picks a role, as on a desk tool.
Sign-in is required once the workspace has accounts, with ``WORKBENCH_SIGN_IN=required``, and
always when the app serves a network (``WORKBENCH_SERVE=network``), where no setting turns it off.
"""

from __future__ import annotations

import getpass

from core.settings import Settings
from core.store import Store
from core.store.users import User


def sign_in_required(settings: Settings, store: Store) -> bool:
    if settings.serve_network or settings.sign_in == "required":
        return True
    if settings.sign_in == "off":
        return False
    return store.has_accounts()


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return ""


def command_line_actor(store: Store, action: str, named: str | None = None) -> tuple[str, str]:
    """(name, role) a command acts as. Without accounts: ``named`` or the OS user, with every right
    (single-user: whoever can run the command can open the database file anyway). With accounts:
    the account ``named`` (``--as``) or the one named like the OS user, enabled and allowed to
    take ``action``."""
    name = (named or "").strip() or os_user() or "cli"
    if not store.has_accounts():
        return name, "admin"
    user: User = store.acting_user(name, action)
    return user.username, user.role


__all__ = ["command_line_actor", "os_user", "sign_in_required"]
