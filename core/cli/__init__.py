"""Command line: ``workbench <command>`` (or ``python -m core <command>``); each area's commands
live in their own module (records, classifying, learning, services, maintenance, accounts), every
command has an example (``reference.EXAMPLES``), and ``docs/commands.md`` is written from them.

The workspace is the one the app uses (``WORKBENCH_HOME`` / ``WORKBENCH_DB``), or ``--db PATH``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli import accounts, classifying, learning, maintenance, records, services
from core.cli.accounts import resolve_actor
from core.cli.reference import add_examples
from core.errors import WorkbenchError
from core.store import Store


def build_parser() -> argparse.ArgumentParser:
    called = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    parser = argparse.ArgumentParser(prog="workbench" if called == "workbench" else "python -m core",
                                     description="Subject-classification workbench")
    parser.add_argument("--db", type=Path, help="workspace database (default: $WORKBENCH_DB or workspace/workbench.db)")
    parser.add_argument("--as", dest="as_user", metavar="ACCOUNT",
                        help="the account to act as (default: the one named like the OS user); once the workspace has "
                             "accounts, each command is recorded as that account and checked against its role")
    sub = parser.add_subparsers(dest="command", required=True)

    for area in (records, classifying, learning, services, maintenance, accounts):
        area.add_parsers(sub)
    add_examples(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    before = Store.process_actor
    try:
        resolve_actor(args)
        Store.process_actor = args.acting  # the core checks each gated action against it too
        return args.func(args)
    except WorkbenchError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written, a full disk
        where = f" '{exc.filename}'" if exc.filename else ""
        print(f"File problem{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    finally:
        Store.process_actor = before
