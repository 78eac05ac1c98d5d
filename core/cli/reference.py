"""An example for every command (shown by ``--help``), and the command reference in
``docs/commands.md``, written from the parsers themselves (``scripts/command_reference.py``; a
test fails when the file is stale)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXAMPLES: dict[str, list[str]] = {
    "import-taxonomy": ["workbench import-taxonomy mtmt_fields.csv --id mtmt --name 'MTMT fields'"],
    "export-taxonomy": ["workbench export-taxonomy ford ford.ttl --format skos"],
    "import-records": ["workbench import-records mtmt_export.csv --guess --label-taxonomy ford",
                       "workbench import-records catalogue.mrc --map label=classification --label-taxonomy ford"],
    "harvest": ["workbench harvest http://localhost:8080/oai --set theses --from 2024-01-01 --prefix marc21"],
    "list": ["workbench list batches --limit 5"],
    "search": ["workbench search ford 'kemia' --lang hu"],
    "export-training": ["workbench export-training ford labels.csv --validation 0.1 --test 0.1"],
    "export-final": ["workbench export-final ford final_codes.xlsx --collection mtmt_export"],
    "write-back": ["workbench write-back ford catalogue.mrc catalogue_coded.mrc"],
    "suggest": ["workbench suggest models/ford-tfidf 'Soil microbial communities under organic farming' --top-k 3"],
    "evaluate": ["workbench evaluate models/cap-tfidf labelled.csv --map title=headline --map label=cap_major "
                 "--csv per_category.csv"],
    "classify": ["workbench classify mtmt_export.csv classified.xlsx --model models/ford-ensemble --top-k 3",
                 "workbench classify mixed_export.csv routed.csv --route cap --fast   # each row by its language"],
    "run-job": ["workbench run-job 12   # the app and resume-job start it"],
    "resume-job": ["workbench resume-job 12"],
    "export-onnx": ["workbench export-onnx my-finetuned-bert my-finetuned-bert-onnx"],
    "train": ["workbench train cap   # the one-click recipe",
              "workbench train cap --fast   # its fast twin, for bulk jobs in the fast tier",
              "workbench train cap --finetuned   # long Hungarian texts: TF-IDF + the multilingual encoder fine-tuned",
              "workbench train ford --kind finetune --set epochs=4 --language hu"],
    "kinds": ["workbench kinds"],
    "add-encoder": ["workbench add-encoder ~/encoders/huBERT --name hubert"],
    "versions": ["workbench versions cap"],
    "promote": ["workbench promote cap cap-v3-ensemble --language hu"],
    "rollback": ["workbench rollback cap --language hu"],
    "delete-version": ["workbench delete-version cap v2"],
    "embed": ["workbench embed ford-minilm --limit 10000"],
    "run-training": ["workbench run-training 7   # the app starts it"],
    "run-embedding": ["workbench run-embedding 3   # the app starts it"],
    "connect-annif": ["workbench connect-annif cap-annif --url http://localhost:5000 --project cap-svc --taxonomy cap "
                      "--level 1"],
    "connect-llm": ["workbench connect-llm cap-llm --taxonomy cap --url http://localhost:8000/v1 --model qwen "
                    "--mode rerank --shortlist models/cap-tfidf"],
    "calibrate": ["workbench calibrate models/cap-annif held_out.csv --map title=headline --map label=cap_major"],
    "combine": ["workbench combine cap-mix models/cap-tfidf models/cap-annif --file held_out.csv "
                "--map title=headline --map label=cap_major"],
    "verify": ["workbench verify"],
    "backup": ["workbench backup /backups/workbench-2026-12-06.db"],
    "restore": ["workbench restore /backups/workbench-2026-12-06.db"],
    "delete-batch": ["workbench delete-batch 4"],
    "export-events": ["workbench export-events events.jsonl"],
    "users": ["workbench users add kovacs.klara --role expert", "workbench --as admin users set-role toth lead"],
}


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return dict(next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices)


def add_examples(parser: argparse.ArgumentParser) -> None:
    """Each command's ``--help`` ends with its examples."""
    for name, command in subcommands(parser).items():
        lines = EXAMPLES.get(name, [])
        if lines:
            command.epilog = "example" + ("s" if len(lines) > 1 else "") + ":\n" + "\n".join(f"  {x}" for x in lines)
            command.formatter_class = argparse.RawDescriptionHelpFormatter


def helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a.help or "" for a in sub._choices_actions}


def markdown(parser: argparse.ArgumentParser) -> str:
    """The command reference: every command's purpose, its ``--help`` and its examples."""
    out = ["# Command reference", "",
           "Written from the commands themselves (`scripts/command_reference.py` writes this file; a test fails "
           "when it is stale). Every command runs as `workbench COMMAND` after the set-up, or as "
           "`python -m core COMMAND`; `--db PATH` names the workspace and `--as ACCOUNT` the account to act as "
           "(before the command).", ""]
    described = helps(parser)
    for name, command in sorted(subcommands(parser).items()):
        out += [f"## {name}", "", described.get(name, "").rstrip(".") + ".", "", "```text",
                command.format_help().replace("python -m core", "workbench").rstrip(), "```", ""]
    return "\n".join(out)


REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "commands.md"


def write_reference(path: Path = REFERENCE) -> Path:
    import os

    from core.cli import build_parser

    called, sys.argv[0] = sys.argv[0], "workbench"  # the name the reference speaks of
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # the same line breaks on every machine
    try:
        path.write_text(markdown(build_parser()), encoding="utf-8")
    finally:
        sys.argv[0] = called
        if columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = columns
    return path
