"""Accounts from the command line: ``python -m core users add|list|set-role|disable|enable|passwd``,
and the account every other command acts as (``--as NAME``, or the OS user's name)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from core.domain.access import ROLES
from core.settings import Settings
from core.store import Store
from core.store.users import AccountError
from core.work.accounts import command_line_actor, os_user

READ = ""  # any account may run it (without accounts: whoever runs it); it changes nothing gated
WORKER = "worker"  # a job's worker: it runs only a job queued by someone allowed to, for the workspace

# the action each command takes, checked against the acting account's role: every command is listed
# (a test keeps it so), and one that is not is refused
COMMAND_ACTIONS = {
    "import-taxonomy": "import_taxonomy", "import-records": "import_records", "harvest": "import_records",
    "delete-batch": "delete_batch", "classify": "bulk_classify", "resume-job": "bulk_classify",
    "embed": "bulk_classify",
    "train": "train", "promote": "promote", "rollback": "promote", "delete-version": "delete_version",
    "connect-annif": "add_model", "connect-llm": "add_model", "calibrate": "add_model", "combine": "add_model",
    "add-encoder": "add_model", "export-onnx": "add_model",
    "backup": "backup", "restore": "restore",
    "export-training": "export", "export-final": "export", "export-events": "export", "export-taxonomy": "export",
    "write-back": "export",
    "users": READ,  # each of its subcommands checks its own action (the first account: anyone, as admin)
    "evaluate": READ, "kinds": READ, "list": READ, "search": READ, "suggest": READ, "verify": READ,
    "versions": READ,
    "run-job": WORKER, "run-training": WORKER, "run-embedding": WORKER,
}


def resolve_actor(args: argparse.Namespace) -> None:
    """Set ``args.user``, ``args.role`` and ``args.acting`` to the account the command acts as;
    refuse a command the account's role may not run (or one missing from ``COMMAND_ACTIONS``). A
    worker command acts for the workspace (``Store.SYSTEM``) and runs only a job that was queued."""
    from core.domain.access import PermissionDenied

    if args.command not in COMMAND_ACTIONS:
        raise PermissionDenied(f"the command '{args.command}' has no entry in the list of what each command may do")
    action = COMMAND_ACTIONS[args.command]
    if action == WORKER:
        args.acting = (f"{args.command} {getattr(args, 'job', '')}".strip(), Store.SYSTEM)
        return
    named = getattr(args, "as_user", None) or (args.user if getattr(args, "user", "cli") not in ("", "cli") else None)
    db_path = Path(args.db or Settings.from_env().db_path)
    if db_path.exists():
        with Store(db_path) as store:
            user, role = command_line_actor(store, action, named)
    else:  # no workspace yet, so no accounts: the command makes the first one, or needs none
        user, role = (named or "").strip() or os_user() or "cli", "admin"
    if args.command != "users":  # whose --role names the account's new role
        args.user, args.role = user, role
    args.acting = (user, role)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    with Store(args.db or Settings.from_env().db_path) as store:
        if args.users_command == "add" and not store.has_accounts():  # the first account: anyone, as admin
            if args.role != "admin":
                raise AccountError("the first account must be an administrator (--role admin): it creates the others")
            user = store.add_user(args.name, _password(args), "admin", display_name=args.display_name or "",
                                  by=args.name)
            print(f"account '{user.username}' ({user.role}) created; sign-in is now required in the app")
            return 0
        named = getattr(args, "as_user", None)
        if args.users_command == "list":
            who, _ = command_line_actor(store, "view_team", named)
            for u in store.users():
                print(f"{u.username:<24} {u.role:<10} {'disabled' if u.disabled else 'active':<9} "
                      f"{u.display_name:<28} last sign-in {u.last_sign_in[:16] if u.last_sign_in else '-'}")
            return 0
        who, _ = command_line_actor(store, "manage_users", named)
        if args.users_command == "add":
            user = store.add_user(args.name, _password(args), args.role, display_name=args.display_name or "", by=who)
            print(f"account '{user.username}' ({user.role}) created by {who}")
        elif args.users_command == "set-role":
            user = store.set_role(args.name, args.role, by=who)
            print(f"'{user.username}' is now {user.role}")
        elif args.users_command == "disable":
            store.disable_user(args.name, by=who)
            print(f"'{args.name}' is disabled: it can no longer sign in; its labels stay")
        elif args.users_command == "enable":
            store.enable_user(args.name, by=who)
            print(f"'{args.name}' is enabled")
        elif args.users_command == "passwd":
            store.set_password(args.name, _password(args), by=who)
            print(f"password of '{args.name}' changed")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("users", help="accounts: add, list, set-role, disable, enable, passwd (an administrator's "
                                     "work; the first account, an administrator, may be added by anyone)")
    users = p.add_subparsers(dest="users_command", required=True)
    q = users.add_parser("add", help="create an account")
    q.add_argument("name")
    q.add_argument("--role", choices=ROLES, required=True)
    q.add_argument("--display-name", default="")
    q.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    users.add_parser("list", help="every account with its role")
    q = users.add_parser("set-role", help="change an account's role")
    q.add_argument("name")
    q.add_argument("role", choices=ROLES)
    for name, text in (("disable", "stop an account from signing in (its labels stay)"), ("enable", "enable again")):
        q = users.add_parser(name, help=text)
        q.add_argument("name")
    q = users.add_parser("passwd", help="set an account's password")
    q.add_argument("name")
    q.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_users)


__all__ = ["add_parsers", "cmd_users", "resolve_actor"]
