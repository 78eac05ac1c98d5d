"""Project rules checked as tests: pure core, layers that import only downwards, SQL only in the
store, a smoke test per page, nothing unpickled."""

import ast
import re
import sys
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

    assert sorted(p.name for p in (ROOT / "pages").glob("*.py") if p.name != "sign_in.py") == PAGES and len(PAGES) == 10


def test_nothing_is_unpickled():
    for path in list((ROOT / "core").rglob("*.py")) + list((ROOT / "pages").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "pickle.load" not in text and "joblib.load" not in text, path


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "./scripts/test.sh" in readme and "scripts/test.sh" in ci


# lowest first: a module may import from its own layer and the ones before it, never after
LAYERS = (("core/domain",), ("core/files", "core/store"), ("core/models",), ("core/work", "core/jobs"), ("core/cli",),
          ("ui",), ("pages",))


def _layer(dotted_or_path: str) -> int | None:
    path = dotted_or_path.replace(".", "/")
    return next((k for k, group in enumerate(LAYERS) for g in group if path == g or path.startswith(g + "/")), None)


def _modules() -> list[Path]:
    return [*(ROOT / "core").rglob("*.py"), *(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")]


def test_layers_import_only_downwards():
    """domain < files/store < models < work/jobs < cli < ui < pages; imports inside functions count."""
    upward = []
    for path in _modules():
        own = _layer(str(path.relative_to(ROOT).with_suffix("")))
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            upward += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                       if (_layer(n) or -1) > own]
    assert upward == []


SQL = re.compile(r"\.(execute|executemany|executescript|query)\(|\b(SELECT|INSERT INTO|DELETE FROM)\b.+\bFROM\b|"
                 r"\bUPDATE\s+\w+\s+SET\b")


def test_sql_lives_in_the_store():
    """Only core/store speaks SQL (a model runtime's onnxruntime session.run is not SQL)."""
    outside = [f"{path.relative_to(ROOT)}:{k}" for path in [*_modules(), ROOT / "app.py"]
               if "core/store" not in str(path.relative_to(ROOT))
               for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
               if SQL.search(line) and "session.run" not in line]
    assert outside == []


def test_errors_reach_the_page_through_one_path():
    """``st.error`` and ``st.exception`` are called in ``ui.common.show_error`` alone."""
    def calls(node, where, function=""):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("error", "exception")
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "st"):
            yield f"{where}:{node.lineno} in {function or 'the page'}"
        for child in ast.iter_child_nodes(node):
            yield from calls(child, where, function)

    found = [c for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"), ROOT / "app.py"]
             for c in calls(ast.parse(path.read_text(encoding="utf-8")), path.relative_to(ROOT))]
    assert found and all(c.startswith("ui/common.py:") and c.endswith(" in show_error") for c in found), found


def test_interface_and_prompt_languages_are_data():
    """Hungarian texts live in data files (``ui/locales/hu.json``, ``core/models/prompts/llm.json``),
    not in the code: a new language is a new file."""
    import json

    offenders = [str(p.relative_to(ROOT)) for folder in ("ui", "pages", "core") for p in (ROOT / folder).rglob("*.py")
                 if any(ch in p.read_text(encoding="utf-8") for ch in "őűŐŰ") and p.name != "text.py"]
    assert not offenders, offenders
    hu = json.loads((ROOT / "ui" / "locales" / "hu.json").read_text(encoding="utf-8"))
    assert len(hu) > 500 and all(isinstance(v, str) and v for v in hu.values())
    from core.models.llm import PROMPTS

    assert set(PROMPTS["hu"]) == set(PROMPTS["en"])


def test_every_role_gated_action_is_checked_in_the_core():
    """Each action of ``core.domain.access.PERMISSIONS`` is refused by the core itself (the store's
    ``require``, or ``check`` with the role), so a page that forgets to hide a button still refuses;
    the app's stores act as the person at work, the command line's as its account."""
    import re

    from core.domain.access import PERMISSIONS

    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "core").rglob("*.py")
                     if p.name != "access.py")
    checked = set(re.findall(r"require\(\"(\w+)\"\)", text)) | set(re.findall(r"check\([^)]*\"(\w+)\"", text)) | set(
        re.findall(r"acting_user\([^)]*\"(\w+)\"", text))
    assert not set(PERMISSIONS) - checked, sorted(set(PERMISSIONS) - checked)
    common = (ROOT / "ui" / "common.py").read_text(encoding="utf-8")
    assert ".act_as(state.user, state.role)" in common  # every store a page opens acts as its person
    cli = (ROOT / "core" / "cli" / "__init__.py").read_text(encoding="utf-8")
    assert "Store.process_actor = args.acting" in cli
    # a page, fragment or cached function never opens a store that acts as nobody (which would be
    # refused anyway): open_store(), or Store(...).act_as(the person); the taxonomy cache only reads
    readers = {("ui/common.py", "    with Store(db_path) as s:")}
    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"), ROOT / "app.py"]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(r"\bStore\(", line) and ".act_as(" not in line:
                assert (str(path.relative_to(ROOT)), line) in readers, (path.name, line)


def test_the_readme_is_short_and_its_guides_exist():
    """The README says what the workbench is, shows it, gives the two commands and points to the
    guides in docs/, one per reader; every relative link in them resolves."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    assert "./scripts/run.sh" in readme and "./scripts/test.sh" in readme
    links = re.findall(r"\]\(([^)#\s]+)", readme)
    assert {"docs/experts.md", "docs/librarians.md", "docs/leads.md", "docs/administrators.md",
            "docs/developers.md"} <= set(links) and any(link.endswith(".png") for link in links)
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for link in re.findall(r"\]\(([^)#\s]+)", doc.read_text(encoding="utf-8")):
            if "://" not in link:
                assert (doc.parent / link).exists(), (doc.name, link)


def test_no_two_modules_import_each_other():
    """No circles of two: a module that imports another is never imported back by it (imports
    inside functions count; a package importing its own submodules does not)."""
    modules = {}
    for path in [*(ROOT / "core").rglob("*.py"), *(ROOT / "ui").rglob("*.py")]:
        rel = path.relative_to(ROOT).with_suffix("")
        modules[".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)] = path
    edges = {}
    for name, path in modules.items():
        out = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            out |= {t for t in targets if t in modules and t != name}
        edges[name] = out
    circles = sorted({tuple(sorted((a, b))) for a, targets in edges.items() for b in targets
                      if a in edges[b] and not (b.startswith(a + ".") or a.startswith(b + "."))})
    assert circles == [], circles


def test_every_picture_of_the_guides_is_taken_by_a_browser_test():
    """docs/images holds only pictures that scripts/screenshots.py takes from a named browser test,
    and every one of them is shown by a guide."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from screenshots import SHOTS

    images = ROOT / "docs" / "images"
    assert sorted(p.name for p in images.iterdir()) == sorted(SHOTS)
    shown = " ".join(doc.read_text(encoding="utf-8") for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
    for name, (test, _) in SHOTS.items():
        assert f"images/{name}" in shown, name
        file, function = test.split("::")
        assert f"def {function}(" in (ROOT / file).read_text(encoding="utf-8"), test
