"""Workspace maintenance from the command line: verify the annotation log's hash chain, back up
and restore the workspace, export the log."""

from __future__ import annotations

import argparse
import sys

from core.cli.arguments import _positive
from core.settings import Settings
from core.store import Store


def _store(args: argparse.Namespace) -> Store:
    return Store(args.db or Settings.from_env().db_path)


def cmd_verify(args: argparse.Namespace) -> int:
    with _store(args) as store:
        report = store.verify_events()
    if report.intact:
        print(f"{report.events:,} events, chain intact, head {report.head or '(empty log)'}")
        return 0
    print(f"the event log is broken at event {report.broken_at} (of {report.events:,}): an event was changed, "
          "removed or inserted after it was written", file=sys.stderr)
    return 2


def cmd_backup(args: argparse.Namespace) -> int:
    with _store(args) as store:
        report = store.backup(args.target)
    print(f"backed up to {args.target} ({report.events:,} events, chain head {report.head or '-'}; "
          f"recorded in {args.target}.chain.json)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    db_path = args.db or Settings.from_env().db_path
    report = Store.restore(args.backup, db_path)
    print(f"restored {args.backup} into {db_path} ({report.events:,} events, chain intact); the replaced "
          "workspace was kept beside it as .before-restore-*.bak")
    return 0


def cmd_export_events(args: argparse.Namespace) -> int:
    import json

    with _store(args) as store, open(args.output, "w", encoding="utf-8") as out:
        count = 0
        for event in store.event_log():
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
            count += 1
        report = store.verify_events()
        out.write(json.dumps({"chain_head": report.head, "events": count, "intact": report.intact}) + "\n")
    print(f"{count:,} events written to {args.output} (chain head {report.head or '-'})")
    return 0


def cmd_delete_batch(args: argparse.Namespace) -> int:
    with _store(args) as store:
        deleted = store.delete_batch(args.batch, args.user, getattr(args, "role", "lead"))
    print(f"import #{args.batch} deleted: {deleted:,} records are tombstones now (each deletion is in the log)")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("verify", help="check the annotation log's hash chain (exit 2 if it was tampered with)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("backup", help="a consistent copy of the workspace while it runs, with the log's chain head")
    p.add_argument("target", help="new database file to write (TARGET.chain.json is written beside it)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the workspace with a backup whose log is intact (stop the app first)")
    p.add_argument("backup")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("delete-batch", help="delete an import batch: its records leave queues, exports and figures "
                                            "(tombstones keep the log's references)")
    p.add_argument("batch", type=_positive)
    p.add_argument("--user", default="cli")
    p.set_defaults(func=cmd_delete_batch)

    p = sub.add_parser("export-events", help="the annotation log as JSONL, with its chain head as the last line")
    p.add_argument("output")
    p.set_defaults(func=cmd_export_events)
