"""Every CLI command validates its arguments and fails with one line naming what is wrong (exit
status 2), never a traceback, and writes nothing."""

import pytest

from core.cli import main
from core.store import Store
from tests.conftest import write_dummy_models


@pytest.fixture
def env(tmp_path):
    models = write_dummy_models(tmp_path / "models")
    (tmp_path / "ok.csv").write_text("id,title,label\n1,Labour economics,5.2\n2,Quantum optics,1.3\n")
    (tmp_path / "cycle.csv").write_text("code,parent,name_en\nA,B,Alpha\nB,A,Beta\n")
    return tmp_path, str(models / "ford-dummy")


CASES = [  # (arguments, what the message must say); {d}: the test folder, {m}: a model folder
    (["classify", "{d}/ok.csv", "{d}/out.csv", "--model", "{m}", "--top-k", "0"], "must be at least 1"),
    (["classify", "{d}/ok.csv", "{d}/out.csv", "--model", "{m}", "--chunk", "-5"], "must be at least 1"),
    (["classify", "{d}/ok.csv", "{d}/out.csv", "--model", "{m}", "--delimiter", ";;"], "one character"),
    (["classify", "{d}/ok.csv", "{d}/out.csv", "--model", "{m}", "--threshold", "1.5"], "between 0 and 1"),
    (["classify", "{d}/ok.csv", "{d}/out.csv", "--model", "{m}", "--level", "7"], "level 7 is not a level"),
    (["classify", "{d}/missing.csv", "{d}/out.csv", "--model", "{m}"], "does not exist"),
    (["classify", "{d}/ok.csv", "{d}/no/such/folder/out.csv", "--model", "{m}"], "File problem"),
    (["classify", "{d}/ok.csv", "{d}/out.csv", "--model", "{d}/nowhere"], "is not a folder"),
    (["classify", "{d}/ok.csv", "{d}/out.csv", "--model", "{m}", "--map", "title=Title"], "no column 'Title'"),
    (["suggest", "{m}", "some text", "--level", "3"], "level 3 is not a level"),
    (["suggest", "{m}", "some text", "--top-k", "ten"], "not a whole number"),
    (["export-training", "ford", "{d}/out.csv", "--since", "2026-13-40"], "not a date"),
    (["export-training", "ford", "{d}/out.csv", "--validation", "1.2"], "between 0 and 1"),
    (["export-training", "ford", "{d}/out.csv", "--level", "5"], "level 5 is not a level"),
    (["export-training", "nope", "{d}/out.csv"], "no taxonomy with id 'nope'"),
    (["evaluate", "{m}", "{d}/missing.csv"], "does not exist"),
    (["evaluate", "{m}", "{d}/ok.csv", "--level", "0"], "must be at least 1"),
    (["import-records", "{d}/missing.csv"], "File problem"),
    (["import-records", "{d}/ok.csv", "--quiet"], "which taxonomy"),
    (["import-records", "{d}/ok.csv", "--label-taxonomy", "nope", "--quiet"], "no taxonomy with id 'nope'"),
    (["import-taxonomy", "{d}/cycle.csv"], "cycle"),
    (["search", "nope", "physics"], "no taxonomy with id 'nope'"),
    (["search", "ford", "physics", "--limit", "0"], "must be at least 1"),
    (["run-job", "999"], "no job #999"),
    (["train", "cap", "--finetuned", "--kind", "tfidf"], "--finetuned picks the fine-tuned mix"),
    (["train", "cap", "--finetuned", "--models", "{d}/models"], "the fine-tuned mix is for long texts"),
    (["list", "everything"], "invalid choice"),
]


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in CASES])
def test_bad_arguments_fail_in_one_line_and_write_nothing(env, capsys, args, message):
    folder, model = env
    argv = ["--db", str(folder / "w.db")] + [a.format(d=folder, m=model) for a in args]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusal
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert "Traceback" not in err
    assert not (folder / "out.csv").exists() and not list(folder.glob(".*partial"))
    if (folder / "w.db").exists():
        with Store(folder / "w.db") as db:
            assert db.count_records() == 0 and not db.list_batches()


def test_every_command_has_an_example_that_parses():
    """Each command's --help ends with an example, and each example is a command line the parser
    takes as it is."""
    import shlex

    from core.cli import build_parser
    from core.cli.reference import EXAMPLES, subcommands

    parser = build_parser()
    assert set(EXAMPLES) == set(subcommands(parser))
    for name, lines in EXAMPLES.items():
        assert "example" in (subcommands(parser)[name].epilog or ""), name
        for line in lines:
            words = shlex.split(line, comments=True)
            assert words[0] == "workbench", line
            args = parser.parse_args(words[1:])
            assert args.command == name, line


def test_the_command_reference_is_written_from_the_parsers(tmp_path):
    """docs/commands.md is what scripts/command_reference.py writes today (run it after changing a
    command)."""
    from core.cli.reference import REFERENCE, write_reference

    fresh = write_reference(tmp_path / "commands.md").read_text(encoding="utf-8")
    assert REFERENCE.read_text(encoding="utf-8") == fresh, "docs/commands.md is stale: run scripts/command_reference.py"
