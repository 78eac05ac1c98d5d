"""Record import from real files: formats, encodings, delimiters, bad rows, all-or-nothing."""

import json

import pandas as pd
import pytest

from core.errors import ImportFailed, InputFileError
from core.files.records_io import detect_encoding, inspect_source, preview
from core.work.column_mapping import guess_mapping
from core.work.records_import import import_records
from tests.conftest import DATA, shared_file

HU_CSV = "azonosító;cím;absztrakt;év;nyelv\nA1;Őszi búza fejlődése;Árpa és búza összehasonlítása;2019;hu\nA2;Műszaki tudományok;Gépészmérnöki kutatás;2020;hu\n"


def test_real_corpus_with_guessed_mapping(store):
    report = import_records(store, DATA / "corpora" / "sci_arxiv_abstracts_sample.csv",
                            label_taxonomy=store.load_taxonomy("ford"))
    assert report.rows_imported == 1410 and not report.problems
    record = store.records(limit=1)[0]
    assert record["external_id"] == "0710.5385" and record["abstract"]
    assert json.loads(record["labels"]) == ["1.3"] and record["label_taxonomy"] == "ford"
    batch = store.list_batches()[0]
    assert batch.status == "complete" and batch.rows_imported == 1410


@pytest.mark.parametrize("encoding", ["cp1250", "iso-8859-2", "utf-8-sig", "utf-8"])
def test_hungarian_csv_in_each_encoding(store, encoding):
    data = HU_CSV.encode(encoding)
    info = inspect_source(data, "hu.csv")
    assert info.delimiter == ";"
    if encoding in ("utf-8", "utf-8-sig"):
        assert info.encoding == encoding
    report = import_records(store, data, "hu.csv")
    assert report.rows_imported == 2
    titles = {r["title"] for r in store.records()}
    assert titles == {"Őszi búza fejlődése", "Műszaki tudományok"}
    assert {r["year"] for r in store.records()} == {2019, 2020}


def test_cp1250_only_letters_are_told_from_iso_8859_2():
    # 'š' is 0x9a in cp1250 (a C1 control in ISO-8859-2); 'ą' is 0xb9 in cp1250 but 0xb1 in ISO-8859-2.
    assert detect_encoding("title\nšance\n".encode("cp1250")) == "cp1250"
    assert detect_encoding("title\nąę śćź\n".encode("iso-8859-2")) == "iso-8859-2"


def test_real_hungarian_corpus(store):
    path = shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv")
    cp = path.read_text(encoding="utf-8").encode("cp1250", errors="replace")
    report = import_records(store, cp, "speeches.csv", label_taxonomy=store.load_taxonomy("cap"))
    assert report.rows_imported == 220
    assert any("ő" in (r["abstract"] or "") for r in store.records(limit=5))


def test_tsv_xlsx_jsonl_parquet_give_the_same_records(store, tmp_path):
    frame = pd.DataFrame({"id": ["r1", "r2", "r3"], "title": ["Alpha", "Béta", "Gamma"],
                          "abstract": ["a", "b", ""], "year": [2001, 2002, 2003], "label": ["1.1", "1.02|5.6", ""]})
    paths = {
        "tsv": tmp_path / "r.tsv", "xlsx": tmp_path / "r.xlsx", "jsonl": tmp_path / "r.jsonl",
        "parquet": tmp_path / "r.parquet",
    }
    frame.to_csv(paths["tsv"], sep="\t", index=False)
    frame.to_excel(paths["xlsx"], index=False)
    frame.to_json(paths["jsonl"], orient="records", lines=True, force_ascii=False)
    frame.to_parquet(paths["parquet"], index=False)
    ford = store.load_taxonomy("ford")
    for fmt, path in paths.items():
        from core.store import Store

        with Store(tmp_path / f"{fmt}.db") as db:
            from core.work.workspace import ensure_builtin_taxonomies

            ensure_builtin_taxonomies(db)
            report = import_records(db, path, label_taxonomy=ford)
            assert report.rows_imported == 3, fmt
            rows = db.records()
            assert [r["external_id"] for r in rows] == ["r1", "r2", "r3"], fmt
            assert rows[1]["title"] == "Béta" and rows[1]["year"] == 2002, fmt
            assert json.loads(rows[1]["labels"]) == ["1.2", "5.6"], fmt


def test_wrong_delimiter_is_explained(store):
    data = b"id;title;abstract\n1;Alpha;a\n2;Beta;b\n"
    with pytest.raises(InputFileError) as info:
        import_records(store, data, "semi.csv", delimiter=",", mapping={"id": "id", "title": "title"})
    assert "is the delimiter wrong?" in str(info.value)
    assert info.value.problems[0].column == "id"
    assert store.count_records() == 0


def test_missing_mapped_column(store):
    with pytest.raises(InputFileError, match="no column 'abstract_text'"):
        import_records(store, b"id,title\n1,x\n", "m.csv", mapping={"id": "id", "abstract": "abstract_text"})


def test_duplicate_ids_abort_and_write_nothing(store):
    rows = ["id,title"] + [f"r{i},Title {i}" for i in range(1, 12001)] + ["r5,Again", "r11000,Again too"]
    data = ("\n".join(rows) + "\n").encode()
    with pytest.raises(ImportFailed) as info:
        import_records(store, data, "dups.csv", chunk_size=5000)
    lines = [(p.line, p.message) for p in info.value.problems]
    assert lines == [(12002, "id 'r5' repeats row 6"), (12003, "id 'r11000' repeats row 11001")]
    assert store.count_records() == 0 and store.list_batches() == []


def test_bad_rows_skipped_when_asked(store):
    data = b"id,title,year\n1,Alpha,2001\n,No id,2002\n3,,2003\n4,Delta,someday\n5,Epsilon,1999\n"
    report = import_records(store, data, "bad.csv", on_error="skip")
    assert report.rows_imported == 2 and report.rows_skipped == 3
    assert [(p.line, p.column) for p in report.problems] == [(3, "id"), (4, None), (5, "year")]
    assert "not a year" in report.problems[2].message
    stored = store.list_batches()[0]
    assert stored.rows_skipped == 3 and len(stored.problems) == 3


def test_reimport_into_the_same_collection_adds_only_new_rows(store):
    data = b"id,title\n1,Alpha\n2,Beta\n"
    first = import_records(store, data, "a.csv")
    assert first.collection == "a"
    report = import_records(store, data + b"3,Gamma\n", "b.csv", collection="a")
    assert report.rows_imported == 1 and report.already_stored == 2 and len(report.linked) == 2
    assert store.count_records() == 3
    again = import_records(store, data, "a-again.csv", collection="a")  # nothing new: no empty batch is kept
    assert again.rows_imported == 0 and again.batch_id is None and len(store.list_batches()) == 2


def test_ids_are_per_collection_and_never_link_other_text(store):
    """Two sources both have a record 681: a new file is a new collection, never the old records."""
    import_records(store, b"id,title\n681,Tax credit for small business\n", "headlines.csv")
    report = import_records(store, "id,title\n681,A magyar mezőgazdaság helyzete\n".encode(), "speeches.csv")
    assert report.rows_imported == 1 and report.collection == "speeches"
    titles = {r["collection"]: r["title"] for r in store.records()}
    assert titles == {"headlines": "Tax credit for small business", "speeches": "A magyar mezőgazdaság helyzete"}
    assert import_records(store, b"id,title\n1,x\n", "headlines.csv").collection == "headlines (2)"


def test_an_id_stored_with_other_text_stops_or_updates(store):
    ford = store.load_taxonomy("ford")
    import_records(store, b"id,title,label\nm1,Old title,1.2\n", "mtmt.csv", label_taxonomy=ford)
    record_id = store.records()[0]["id"]
    store.save_predictions("m", "1", "ford", [(record_id, [("1.2", 0.9)], 0.8, 0.1)])
    changed = b"id,title,label\nm1,New title,5.2\n"
    with pytest.raises(ImportFailed) as info:
        import_records(store, changed, "mtmt2.csv", collection="mtmt", label_taxonomy=ford)
    assert "stored in collection 'mtmt' with another text" in info.value.problems[0].message
    assert info.value.problems[0].line == 2 and store.records()[0]["title"] == "Old title"
    report = import_records(store, changed, "mtmt2.csv", collection="mtmt", label_taxonomy=ford, on_changed="update")
    assert report.rows_updated == 1 and report.rows_imported == 0 and store.count_records() == 1
    record = store.record(record_id)
    assert record["title"] == "New title" and json.loads(record["labels"]) == ["5.2"]
    assert store.ranked_predictions([record_id], "m", "1") == {}  # the old text's predictions are gone


def test_a_file_adds_its_codes_to_stored_records_which_keep_their_batch(store):
    """The same file again, now with its code column: "add the file's codes to the stored
    records" gives them the codes (counted, listed as an import of its own), the records stay in
    their first batch with their text and predictions; without it, nothing changes and the rows
    are counted as stored already."""
    ford, cap = store.load_taxonomy("ford"), store.load_taxonomy("cap")
    first = import_records(store, b"id,title\nm1,Alpha study\nm2,Beta study\nm3,Gamma study\n", "mtmt.csv")
    ids = {r["external_id"]: r["id"] for r in store.records()}
    store.save_predictions("m", "1", "ford", [(ids["m1"], [("1.2", 0.9)], 0.8, 0.1)])
    coded = b"id,title,label\nm1,Alpha study,1.2\nm2,Beta study,5.2\nm3,Gamma study,\n"
    plain = import_records(store, coded, "mtmt-coded.csv", collection="mtmt", label_taxonomy=ford)
    assert plain.already_stored == 3 and plain.codes_added == 0 and plain.batch_id is None
    assert not store.imported_label_rows("ford")
    report = import_records(store, coded, "mtmt-coded.csv", collection="mtmt", label_taxonomy=ford, add_codes=True)
    assert (report.codes_added, report.rows_imported, report.already_stored) == (2, 0, 1)
    assert "codes added to stored records" in report.summary() and report.batch_id is not None
    assert {r["external_id"]: json.loads(r["codes"]) for r in store.imported_label_rows("ford")} == {
        "m1": ["1.2"], "m2": ["5.2"]}
    assert {r["batch_id"] for r in store.records()} == {first.batch_id}  # the records stay where they were
    assert store.ranked_predictions([ids["m1"]], "m", "1")  # their text did not change: predictions stay
    batch = store.batch(report.batch_id)
    assert batch.codes_added == 2 and batch.rows_imported == 0 and batch.status == "complete"
    # the same codes again change nothing; another taxonomy's codes do not replace a record's own
    again = import_records(store, coded, "mtmt-coded.csv", collection="mtmt", label_taxonomy=ford, add_codes=True)
    assert again.codes_added == 0 and again.already_stored == 3 and again.batch_id is None
    other = import_records(store, b"id,title,label\nm1,Alpha study,7\n", "cap.csv", collection="mtmt",
                           label_taxonomy=cap, add_codes=True)
    assert other.codes_added == 0 and "keeps the ford codes" in other.warnings[0].message
    assert other.warnings[0].line == 2 and json.loads(store.record(ids["m1"])["labels"]) == ["1.2"]


def test_files_without_ids_get_stable_ids_from_their_text(store):
    data = b"title\nAlpha study\nBeta study\nAlpha study\n"  # an exact duplicate inside the file
    first = import_records(store, data, "noid.csv")
    ids = sorted(r["external_id"] for r in store.records())
    assert first.rows_imported == 3 and len(set(ids)) == 3 and any(i.endswith("-2") for i in ids)
    extended = import_records(store, data + b"Gamma study\n", "noid-v2.csv", collection="noid")
    assert extended.rows_imported == 1 and extended.already_stored == 3 and store.count_records() == 4
    # the same texts as a new collection: reported as duplicates of another collection, or skipped
    dup = import_records(store, data, "copy.csv")
    assert dup.rows_imported == 3 and dup.duplicates_elsewhere == 3
    skipped = import_records(store, data + b"Delta study\n", "copy2.csv", skip_duplicates=True)
    assert skipped.rows_imported == 1 and skipped.duplicates_elsewhere == 3 and skipped.rows_skipped == 3


BAD_FILES = [  # (file name, bytes, error, message, line the error names)
    ("empty.csv", b"", InputFileError, "empty", None),
    ("header_only.csv", b"id,title\n", ImportFailed, "no records", None),
    ("bad.csv", b'id,title\n1,"unterminated\n2,x,y,z\n', InputFileError, "not a well-formed CSV", None),
    ("bad.jsonl", b'{"id": "1", "title": "a"}\n{"id": 2, title}\n', InputFileError, "line 2", 2),
    ("bad.xlsx", b"PK\x03\x04 not really a zip", InputFileError, "not a readable .xlsx", None),
    ("bad.parquet", b"not parquet", InputFileError, "not a readable Parquet", None),
]


@pytest.mark.parametrize("name, data, error, message, line", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_and_nothing_is_written(store, name, data, error, message, line):
    with pytest.raises(error, match=message) as info:
        import_records(store, data, name)
    if line is not None:
        assert info.value.problems[0].line == line
    assert store.count_records() == 0


def test_undecodable_utf8_names_the_line(store):
    data = "id,title\n1,Alpha\n2,Béta\n".encode("cp1250")
    with pytest.raises(InputFileError) as info:
        import_records(store, data, "x.csv", encoding="utf-8")
    assert info.value.problems[0].line == 3


def test_guess_mapping_on_hungarian_headers():
    mapping = guess_mapping(["Azonosító", "Cím", "Absztrakt", "Kulcsszavak", "Nyelv", "Év", "FORD"])
    assert mapping == {"id": "Azonosító", "title": "Cím", "abstract": "Absztrakt", "keywords": "Kulcsszavak",
                       "language": "Nyelv", "domain": None, "year": "Év", "label": "FORD"}


def test_preview_shows_first_rows():
    info = inspect_source(DATA / "corpora" / "cap_nyt_headlines_sample.csv", "nyt.csv")
    rows = preview(DATA / "corpora" / "cap_nyt_headlines_sample.csv", info, n=5)
    assert len(rows) == 5 and rows[0]["row"] == "2" and rows[0]["id"] == "1"


def test_progress_is_reported(store):
    data = ("id,title\n" + "".join(f"{i},t{i}\n" for i in range(20000))).encode()
    seen = []
    import_records(store, data, "p.csv", chunk_size=5000, progress=lambda n, f: seen.append((n, f)))
    assert [n for n, _ in seen] == [5000, 10000, 15000, 20000]
    assert seen[-1][1] == pytest.approx(1.0)


def test_labels_mostly_unknown_to_the_taxonomy_stop_the_import(store):
    data = (DATA / "corpora" / "cap_nyt_headlines_sample.csv").read_bytes()
    # CAP majors 1-6 are also FORD fields: the rest are not
    with pytest.raises(ImportFailed, match=r"2,578 of 3,084 labels .* are not FORD fields of science .*: is the taxonomy right"):
        import_records(store, data, "nyt.csv", label_taxonomy=store.load_taxonomy("ford"))
    assert store.count_records() == 0 and not store.list_batches()
    report = import_records(store, data, "nyt.csv", label_taxonomy=store.load_taxonomy("ford"), on_error="skip")
    assert report.rows_imported == 3084 and report.warnings  # skip mode: imported, labels left out and listed


def test_a_long_import_commits_in_chunks_invisibly_and_leaves_nothing_when_it_fails(store, tmp_path):
    """Other sessions write and read while an import runs; they never see its records until it
    completes; a file that fails at its end leaves nothing behind."""
    from core.domain.labels import Event
    from core.store import Store

    import_records(store, b"id,title\nold1,Earlier record\n", "old.csv")
    old_id = store.records()[0]["id"]
    rows = b"".join(f"n{i},Record {i}\n".encode() for i in range(3000))
    seen = []

    def meanwhile(done, fraction):
        with Store(store.path, timeout=2) as other:  # a second session, between two chunks
            seen.append(other.count_records())
            other.add_event(Event(old_id, "ford", f"Eva{done}", "expert", "correct", ("1.2",)))

    report = import_records(store, b"id,title\n" + rows, "big.csv", chunk_size=500, progress=meanwhile)
    assert report.rows_imported == 3000 and seen == [1] * 6 and store.count_records() == 3001
    with pytest.raises(ImportFailed, match="bad row"):
        import_records(store, b"id,title\n" + rows.replace(b"n0,", b"m0,") + b"late,\n", "bad-end.csv",
                       chunk_size=500)
    assert store.count_records() == 3001 and len(store.list_batches()) == 2
    assert store.db.execute("SELECT count(*) FROM records").fetchone()[0] == 3001  # no pending rows either


def test_an_import_whose_process_died_is_removed_at_the_next_start(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from core.settings import Settings
    from core.store import Store
    from core.work.workspace import open_workspace
    from tests.conftest import ROOT

    db = tmp_path / "ws.db"
    path = tmp_path / "huge.csv"
    path.write_bytes(b"id,title\n" + b"".join(f"r{i},Record {i}\n".encode() for i in range(400_000)))
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from core.store import Store; "
            f"from core.work.records_import import import_records; "
            f"import_records(Store({str(db)!r}).act_as('lib', 'librarian'), {str(path)!r}, chunk_size=2000)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 60
    while time.time() < deadline:
        time.sleep(0.2)
        if db.exists():
            with Store(db) as s:
                if s.db.execute("SELECT count(*) FROM records WHERE deleted_at = 'importing'").fetchone()[0]:
                    break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store(db) as s:
        assert s.count_records() == 0 and [b.status for b in s.list_batches()] == ["importing"]
    with open_workspace(Settings(tmp_path, db, tmp_path / "models", demo=False)) as s:
        assert s.db.execute("SELECT count(*) FROM records").fetchone()[0] == 0 and not s.list_batches()


def test_xlsx_sheet_choice(store, tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["exported from MTMT", "2026-11-01"]}).to_excel(writer, sheet_name="About", index=False)
        pd.DataFrame({"id": ["a1", "a2"], "title": ["Alpha", "Beta"]}).to_excel(writer, sheet_name="Records",
                                                                                 index=False)
    info = inspect_source(path, path.name)
    assert info.sheets == ("About", "Records") and info.sheet == "About" and info.columns == ("note",)
    with pytest.raises(InputFileError, match="no sheet 'Data'; its sheets are: About, Records"):
        import_records(store, path, path.name, sheet="Data")
    report = import_records(store, path, path.name, sheet="Records")
    assert report.rows_imported == 2 and sorted(r["title"] for r in store.records()) == ["Alpha", "Beta"]


def test_xlsx_formulas_never_computed_are_reported(store, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "title", "year"])
    sheet.append(["a1", "Alpha", "=2000+1"])  # written by a program: no computed value is stored
    sheet.append(["a2", "Beta", 2002])
    book.save(tmp_path / "formulas.xlsx")
    report = import_records(store, tmp_path / "formulas.xlsx", "formulas.xlsx")
    assert report.rows_imported == 2
    assert any("C2" in w.message and "never computed" in w.message for w in report.warnings)


def test_merged_cells_and_ids_differing_only_in_case_are_reported(store, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in (["id", "title", "domain"], ["MT-1", "Alpha", "science"], ["mt-1", "Beta", ""], ["MT-3", "Gamma", ""]):
        sheet.append(row)
    sheet.merge_cells("C2:C4")  # "science" for three rows, visually
    book.save(tmp_path / "merged.xlsx")
    report = import_records(store, tmp_path / "merged.xlsx", "merged.xlsx")
    assert report.rows_imported == 3
    notes = " ".join(w.message for w in report.warnings)
    assert "merged cells C2:C4" in notes and "'MT-1', 'mt-1'" in notes


def test_short_headlines_get_their_collections_language_and_a_librarian_can_set_it(store):
    """Detected alone, one short English headline in nine reads as Danish, Spanish, Estonian... or
    unknown; weighed by its collection's languages, nearly all are English, while the Hungarian
    titles of a mixed file keep theirs. A librarian sets a collection's language outright."""
    from tests.conftest import corpus

    nyt = corpus("cap_nyt_headlines_sample.csv")
    hu = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str)
    frame = pd.DataFrame({"id": [f"n{i}" for i in range(len(nyt))] + list(hu["text_id"]),
                          "title": list(nyt["title"]) + list(hu["agenda_item_title"].str.strip('"'))})
    report = import_records(store, frame.to_csv(index=False).encode(), "mixed.csv")
    rows = store.db.execute("SELECT external_id, language FROM records WHERE batch_id = ?", [report.batch_id])
    language = dict(rows.fetchall())
    english = [language[f"n{i}"] for i in range(len(nyt))]
    hungarian = [language[i] for i in hu["text_id"]]
    assert english.count("en") / len(english) >= 0.97, pd.Series(english).value_counts().head()
    assert hungarian.count("hu") / len(hungarian) >= 0.95
    from core.domain.language import detect_languages

    assert detect_languages(list(nyt["title"])).count("en") / len(nyt) < 0.93  # what detection alone gives
    assert store.set_collection_language("mixed", "en", only_unknown=True) == english.count("") + hungarian.count("")
    assert store.set_collection_language("mixed", "hu") == len(frame) - hungarian.count("hu")  # the others
    assert store.collection_languages("mixed") == {"hu": len(frame)}
