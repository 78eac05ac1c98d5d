"""Hostile and broken input, table-driven: record files, taxonomy files and model folders. Each case
asserts what the message names (row, line, column, file) and that nothing was written. With the
command-line cases of test_cli_arguments.py and the files of test_records_import.py, the
workbench is checked against more than sixty distinct bad inputs."""

import json

import pytest

from core.errors import WorkbenchError
from core.files.taxonomy_io import read_taxonomy
from core.models.runtimes import load_classifier
from core.work.records_import import import_records

# (file name, content, import options, words the message must contain)
RECORD_FILES = [
    ("semicolons.csv", b"id;title\n1;a\n", {"delimiter": ",", "mapping": {"id": "id", "title": "title"}},
     ["delimiter wrong"]),
    ("nofield.csv", b"id,title\n1,a\n", {"mapping": {"id": "id", "colour": "title"}}, ["unknown field", "colour"]),
    ("nocolumn.csv", b"id,title\n1,a\n", {"mapping": {"title": "Titel"}}, ["no column 'Titel'"]),
    ("notext.csv", b"id,year\n1,2001\n", {"mapping": {"id": "id", "year": "year"}}, ["text column"]),
    ("dupheader.csv", b"id,title,title\n1,a,b\n", {}, ["appears twice"]),
    ("noheader.csv", b",,\n1,a,b\n", {}, ["no header row"]),
    ("blank.csv", b"\n\n\n", {}, ["blank lines"]),
    ("badyear.csv", b"id,title,year\n1,a,20x1\n", {}, ["row 2", "not a year"]),
    ("emptyid.csv", b"id,title\n,a\n", {}, ["row 2", "empty id"]),
    ("repeat.csv", b"id,title\n1,a\n1,b\n", {}, ["row 3", "repeats row 2"]),
    ("emptytext.csv", b"id,title\n1,\n", {}, ["row 2", "no text"]),
    ("latin2.csv", "id,title\n1,Árvíz\n".encode("iso-8859-2"), {"encoding": "utf-8"}, ["line 2", "not valid utf-8"]),
    ("objects.jsonl", b'{"id": "1", "title": "a"}\n[1, 2]\n', {}, ["line 2"]),
    ("notjson.jsonl", b"id,title\n1,a\n", {}, ["line 1"]),
    ("fake.xlsx", b"PK\x03\x04 not a workbook", {}, ["not a readable .xlsx"]),
    ("fake.parquet", b"PAR1 not parquet", {}, ["not a readable Parquet"]),
    ("labels.csv", b"id,title,label\n1,a,1.2\n", {}, ["label column", "which taxonomy"]),
    ("unknown.txt.zip", b"PK\x03\x04", {"fmt": "zip"}, ["unknown format 'zip'"]),
    ("header.csv", b"id,title\n", {}, ["no records"]),
    ("quote.csv", b'id,title\n1,"never closed\n2,x\n', {}, ["well-formed"]),
]


@pytest.mark.parametrize("name, data, options, words", RECORD_FILES, ids=[c[0] for c in RECORD_FILES])
def test_bad_record_files(store, name, data, options, words):
    with pytest.raises(WorkbenchError) as info:
        import_records(store, data, name, **options)
    message = str(info.value)
    assert all(w in message for w in words), message
    assert store.count_records() == 0 and not store.list_batches()


TAXONOMY_FILES = [
    ("dup.csv", "code,parent,name_en\nA,,Alpha\nA,,Again\n", ["line 3", "duplicate code 'A'", "line 2"]),
    ("orphan.csv", "code,parent,name_en\nA,,Alpha\nB,Z,Beta\n", ["line 3", "unknown parent 'Z'"]),
    ("cycle.csv", "code,parent,name_en\nA,B,Alpha\nB,A,Beta\n", ["cycle"]),
    ("self.csv", "code,parent,name_en\nA,A,Alpha\n", ["its own parent"]),
    ("noname.csv", "code,parent,name_en\nA,,\n", ["line 2", "empty name"]),
    ("nocode.csv", "code,parent,name_en\n,,Alpha\n", ["line 2", "empty code"]),
    ("nocolumns.csv", "identifier,title\nA,Alpha\n", ["code"]),
    ("empty.csv", "", ["empty"]),
    ("bad.json", "{not json", ["JSON"]),
    ("list.json", '[{"code": "A"}]', ["name"]),
    ("bad.ttl", "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<a> skos:broader", ["Turtle"]),
    ("latin2.csv", "code,parent,name_en\nA,,Árvíz\n".encode("iso-8859-2"), ["line 2"]),
]


@pytest.mark.parametrize("name, content, words", TAXONOMY_FILES, ids=[c[0] for c in TAXONOMY_FILES])
def test_bad_taxonomy_files(store, name, content, words):
    before = {t.id for t in store.list_taxonomies()}
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    with pytest.raises(WorkbenchError) as info:
        store.save_taxonomy(read_taxonomy(data, name, encoding="utf-8" if isinstance(content, bytes) else None))
    message = str(info.value) + " ".join(str(p) for p in info.value.problems)
    assert all(w.lower() in message.lower() for w in words), message
    assert {t.id for t in store.list_taxonomies()} == before


def _manifest(**fields):
    base = {"name": "m", "version": "1", "taxonomy": "ford", "codes": ["1.1", "5.2"], "runtime": "onnx-text"}
    return json.dumps({**base, **fields})


MODEL_FOLDERS = [  # (files in the folder, words)
    ({}, ["neither workbench.json nor config.json"]),
    ({"model.pt": b"\x80\x04pickle"}, ["pickled checkpoints are never loaded"]),
    ({"workbench.json": "{not json"}, ["cannot be read"]),
    ({"workbench.json": "[1, 2]"}, ["JSON object"]),
    ({"workbench.json": json.dumps({"name": "m"})}, ["lacks", "version", "codes"]),
    ({"workbench.json": _manifest(runtime="tensorflow")}, ["unknown runtime 'tensorflow'"]),
    ({"workbench.json": _manifest()}, ["model.onnx", "missing"]),
    ({"workbench.json": _manifest(), "model.onnx": b"not an onnx graph"}, ["not a loadable ONNX model"]),
    ({"workbench.json": _manifest(files={"onnx": "../outside.onnx"})}, ["outside the model folder"]),
    ({"workbench.json": _manifest(files=["model.onnx"])}, ["'files' must map"]),
    ({"config.json": json.dumps({"id2label": {"0": "A"}}), "label_map.json": json.dumps({"1": "x"})},
     ["does not map every output label"]),
    ({"workbench.json": _manifest(runtime="transformers")}, ["has no model.safetensors"]),
]


@pytest.mark.parametrize("files, words", MODEL_FOLDERS, ids=[f"folder{i}" for i in range(len(MODEL_FOLDERS))])
def test_bad_model_folders(tmp_path, files, words):
    folder = tmp_path / "model"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(WorkbenchError) as info:
        load_classifier(folder)
    assert all(w in str(info.value) for w in words), str(info.value)
