"""Project rules checked as tests: pure core, a smoke test per page, nothing unpickled."""

import ast
from pathlib import Path

from tests.conftest import ROOT


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_streamlit():
    offenders = [p.name for p in (ROOT / "core").rglob("*.py") if "streamlit" in _imports(p)]
    assert offenders == []


def test_every_page_has_a_smoke_test():
    from tests.test_pages import PAGES

    assert PAGES == sorted(p.name for p in (ROOT / "pages").glob("*.py") if p.name != "sign_in.py") and len(PAGES) == 10


def test_nothing_is_unpickled():
    for path in list((ROOT / "core").rglob("*.py")) + list((ROOT / "pages").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "pickle.load" not in text and "joblib.load" not in text, path


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "./scripts/test.sh" in readme and "scripts/test.sh" in ci
