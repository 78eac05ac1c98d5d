"""Hostile input: Markdown in record text, paths out of the allowed folders, model manifests that
name files outside their folder, taxonomies with exponentially many paths or thousands of levels,
CSV quirks that used to shift or break columns, and spreadsheet writers fed hostile strings."""

import io
import json
import os
import time
import tomllib

import pandas as pd
import pytest

from core.domain.taxonomy import NodeSpec, Taxonomy
from core.errors import InputFileError
from core.files.paths import confined_file
from core.files.records_io import inspect_source, read_chunks
from core.files.writers import TableWriter
from core.models.manifest import ModelFolderError, load_manifest
from tests.conftest import ROOT

HOSTILE = ["=1+1", "+33 1 23", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "line\nbreak", "quote \" and , comma",
           "NUL\x00here", "bell\x07", "![img](http://127.0.0.1:9/x.png)", "ordinary", "-3.5", "Árvíztűrő tükörfúrógép"]


def test_plain_escapes_markdown():
    from ui.common import plain

    text = plain("![x](http://evil/x.png) **bold** :red[c] $x$\n# heading\n1. item\n- bullet")
    assert "![" not in text and "](" not in text and "**" not in text and ":red[" not in text
    assert "\n\\# heading" in text and "\n1\\. item" in text and "\n\\- bullet" in text
    assert plain("1.2 · Computer and information sciences") == "1.2 · Computer and information sciences"


def test_annotate_shows_a_hostile_title_as_text(workspace_env):
    from streamlit.testing.v1 import AppTest

    from core.settings import Settings
    from core.work.workspace import open_workspace
    from tests.conftest import import_frame

    with open_workspace(Settings.from_env()) as db:
        frame = pd.DataFrame({"id": ["evil-1"], "title": ["![tracker](http://127.0.0.1:9/pixel.png) **Quantum** "
                                                          ":red[fields]"], "ford_l2": ["1.3"]})
        import_frame(db, frame, "evil.csv", {"id": "id", "title": "title", "label": "ford_l2"})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.text_input(key="sidebar.user").input("Anna")
    at.run()
    at.switch_page("pages/annotate.py").run()
    at.selectbox(key="annotate.queue").select("review").run()
    at.text_input(key="annotate.search_records").input("evil-1").run()
    at.button(key="annotate.open").click().run()
    assert not at.exception, at.exception
    shown = [m.value for m in at.markdown] + [c.value for c in at.caption]
    heading = next(v for v in shown if "tracker" in v)
    assert "![" not in heading and "](http" not in heading and "**" not in heading
    assert all("](http" not in v for v in shown)


def test_typed_paths_stay_in_their_folders(tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "secret"
    inbox.mkdir()
    outside.mkdir()
    (inbox / "ok.csv").write_text("id,title\n1,a\n")
    (outside / "passwd.csv").write_text("x\n")
    os.symlink(outside / "passwd.csv", inbox / "link.csv")
    assert confined_file("ok.csv", [inbox]) == (inbox / "ok.csv").resolve()
    for typed in (str(outside / "passwd.csv"), "../secret/passwd.csv", "link.csv", "/etc/passwd"):
        with pytest.raises(InputFileError, match="outside the folders"):
            confined_file(typed, [inbox])
    with pytest.raises(InputFileError, match="does not exist"):
        confined_file("missing.csv", [inbox])


@pytest.mark.parametrize("name", ["../model.onnx", "/etc/passwd", "sub/../../x.onnx", "link.onnx"])
def test_a_manifest_cannot_name_files_outside_its_folder(tmp_path, name):
    folder = tmp_path / "m"
    folder.mkdir()
    os.symlink(tmp_path, folder / "link.onnx")
    (folder / "workbench.json").write_text(json.dumps({
        "name": "m", "version": "1", "taxonomy": "ford", "codes": ["1.1"], "runtime": "onnx-text",
        "files": {"onnx": name}}))
    with pytest.raises(ModelFolderError, match="outside the model folder"):
        load_manifest(folder)


def test_import_page_reads_paths_only_from_the_inbox(workspace_env, tmp_path):
    from streamlit.testing.v1 import AppTest

    outside = tmp_path / "elsewhere.csv"
    outside.write_text("id,title\nz1,Secret\n")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/import_records.py").run()
    at.radio(key="import.source_kind").set_value("path").run()
    at.text_input(key="import.path").input(str(outside)).run()
    assert not at.exception
    assert at.error and "outside the folders" in at.error[0].value
    assert not any(b.key == "import.run" for b in at.button)
    (workspace_env / "inbox" / "mine.csv").write_text("id,title\nz1,Allowed\n")
    at.text_input(key="import.path").input("mine.csv").run()
    assert not at.exception and any(b.key == "import.run" for b in at.button)


def test_the_app_listens_on_localhost_by_default():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "localhost"


def test_a_dag_with_a_million_paths_is_bounded():
    # 41 levels of two nodes, each with both nodes of the level above as parents: 2^40 paths to the last
    specs = [NodeSpec("a0", {"en": "a0"}), NodeSpec("b0", {"en": "b0"})]
    for i in range(1, 41):
        parents = (f"a{i - 1}", f"b{i - 1}")
        specs += [NodeSpec(f"a{i}", {"en": f"a{i}"}, parents), NodeSpec(f"b{i}", {"en": f"b{i}"}, parents)]
    tax = Taxonomy("dag", "DAG", specs)
    start = time.perf_counter()
    paths = tax.paths("a40")
    assert len(paths) == 20 and all(len(p) == 41 for p in paths) and len({tuple(n.code for n in p) for p in paths}) == 20
    assert tax.path_count("a40") == 2 ** 40 and tax.path_count("a0") == 1
    assert time.perf_counter() - start < 1.0
    assert paths[0][0].code == "a0" and [n.code for n in tax.path("a40")] == [n.code for n in paths[0]]


def test_a_thousand_level_chain():
    specs = [NodeSpec("n0", {"en": "root"})] + [NodeSpec(f"n{i}", {"en": f"level {i}"}, (f"n{i - 1}",))
                                                  for i in range(1, 1500)]
    tax = Taxonomy("chain", "Chain", specs)
    assert tax.depth == 1500 and len(tax.paths("n1499")) == 1 and len(tax.ancestors("n1499")) == 1499
    assert tax.cut("n1499", 3) == "n2" and tax.path_count("n1499") == 1


@pytest.mark.parametrize("data, columns, first", [
    (b"id,title,year\n1,Economics of labour,2001,\n2,Physics,2002,\n", ("id", "title", "year"),
     {"id": "1", "title": "Economics of labour", "year": "2001"}),  # a trailing delimiter shifted every column
    ("id,title\n1,Árvíztűrő\n".encode("utf-16"), ("id", "title"), {"id": "1", "title": "Árvíztűrő"}),
    ("id;title\n1;Tükörfúrógép\n".encode("utf-32"), ("id", "title"), {"id": "1", "title": "Tükörfúrógép"}),
    (b"id,title\r1,Alpha\r2,Beta\r", ("id", "title"), {"id": "1", "title": "Alpha"}),  # CR-only line endings
    (b"id,title\n1," + b"x" * 400_000 + b"\n", ("id", "title"), {"id": "1", "title": "x" * 400_000}),
])
def test_csv_quirks_keep_columns_in_place(data, columns, first):
    info = inspect_source(data, "quirk.csv")
    assert info.columns == columns
    (rows, cols), *_ = list(read_chunks(data, info))
    assert {c: cols[c][0] for c in columns} == first


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_writers_round_trip_hostile_strings(tmp_path, fmt):
    path = tmp_path / f"out.{fmt}"
    with TableWriter(path, fmt) as out:
        out.row(["text", "=header"])
        out.rows([[s, i] for i, s in enumerate(HOSTILE)])
    assert not list(tmp_path.glob(".*partial"))
    if fmt == "csv":
        back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    else:
        back = pd.read_excel(path, dtype=str, keep_default_na=False)
    assert list(back.columns) == ["text", "'=header" if fmt == "csv" else "=header"] and len(back) == len(HOSTILE)
    for written, original in zip(back["text"], HOSTILE):
        expected = original
        if fmt == "xlsx":  # control characters replaced; the standard library's XML reads a CR back as LF
            from openpyxl.xml import LXML  # (openpyxl on lxml, installed with the OAI-PMH client, keeps it)

            expected = original.replace("\x00", "\ufffd").replace("\x07", "\ufffd")
            expected = expected if LXML else expected.replace("\r", "\n")
        formula_like = original.startswith(("=", "+", "@", "\t", "\r")) or (original.startswith("-")
                                                                             and original != "-3.5")
        if formula_like and fmt == "csv":
            assert written == "'" + expected, original  # neutralised: differs only by the apostrophe
        else:  # XLSX: exactly the text, held as a quote-prefixed string cell (checked below)
            assert written == expected, original
    if fmt == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path).active
        cells = {c.value: c for c in sheet["A"][1:]}
        for original in HOSTILE:
            if original.startswith(("=", "@")):
                cell = cells[original]
                assert cell.data_type == "s" and cell.quotePrefix, original  # text, never a formula


def test_a_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "results.csv"
    with pytest.raises(RuntimeError), TableWriter(path, "csv") as out:
        out.row(["a"])
        raise RuntimeError("disk full")
    assert not path.exists() and not list(tmp_path.iterdir())


def test_writer_to_a_file_object():
    buf = io.BytesIO()
    with TableWriter(buf, "csv") as out:
        out.row(["=x"])
    assert buf.getvalue().decode("utf-8-sig").strip() == "'=x"
