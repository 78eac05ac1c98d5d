"""Records as library systems export them: MARC21, MARCXML, RIS, BibTeX and Dublin Core files,
written by the formats' own libraries (pymarc, rispy) or by hand as a library system writes
them, imported through the same path as a CSV, and broken files refused with the record named and
nothing written."""

import io

import pytest

from core.errors import InputFileError
from core.store import Store
from core.work.records_import import import_records

TITLE_HU = "A magyar költségvetés és az adópolitika"


def marc_records():
    from pymarc import Field, Indicators, Record, Subfield

    out = []
    for k, (title, abstract, lang, codes) in enumerate([
            (TITLE_HU + " /", "Az Országgyűlés elfogadta a költségvetést.", "hun", ["5.2", "5.6"]),
            ("Quantum field theory on curved backgrounds :", "We study renormalisation.", "eng", ["1.3"])]):
        record = Record(force_utf8=True)
        record.leader = "00000nam a2200000 a 4500"
        record.add_field(Field(tag="001", data=f"mtmt{k + 1}"))
        record.add_field(Field(tag="008", data=f"240101s2023    hu            000 0 {lang} d"))
        record.add_field(Field(tag="024", indicators=Indicators("7", " "),
                               subfields=[Subfield("a", f"10.1000/x{k}"), Subfield("2", "doi")]))
        for code in codes:
            record.add_field(Field(tag="084", indicators=Indicators(" ", " "),
                                   subfields=[Subfield("a", code), Subfield("2", "frascati")]))
        record.add_field(Field(tag="100", indicators=Indicators("1", " "), subfields=[Subfield("a", "Kovács, Anna")]))
        record.add_field(Field(tag="245", indicators=Indicators("1", "0"), subfields=[Subfield("a", title)]))
        record.add_field(Field(tag="520", indicators=Indicators(" ", " "), subfields=[Subfield("a", abstract)]))
        record.add_field(Field(tag="650", indicators=Indicators(" ", "4"), subfields=[Subfield("a", "adózás")]))
        out.append(record)
    return out


def marc21_bytes() -> bytes:
    return b"".join(r.as_marc() for r in marc_records())


def marcxml_bytes() -> bytes:
    from pymarc import XMLWriter

    buffer = io.BytesIO()
    writer = XMLWriter(buffer)
    for record in marc_records():
        writer.write(record)
    writer.close(close_fh=False)
    return buffer.getvalue()


RIS = """TY  - JOUR
ID  - ris1
TI  - A magyar költségvetés és az adópolitika
AB  - Az Országgyűlés elfogadta a költségvetést.
KW  - adózás
KW  - költségvetés
LA  - hun
PY  - 2023
AU  - Kovács, Anna
DO  - 10.1000/r1
ER  -

TY  - JOUR
ID  - ris2
TI  - Quantum field theory on curved backgrounds
AB  - We study renormalisation.
PY  - 2021
ER  -
""".replace("ER  -\n", "ER  - \n")  # the end tag as RIS writes it, with its trailing space

BIBTEX = """@article{kovacs2023,
  title = {A magyar k{\\"o}lts{\\'e}gvet{\\'e}s and {T}ax policy},
  abstract = {Az Orsz\\'aggy\\H{u}l\\'es elfogadta.},
  keywords = {ad\\'oz\\'as; budget},
  year = {2023},
  author = {Kovács, Anna and Nagy, Béla},
  langid = {hungarian},
}

@inproceedings{qft2021,
  title = {Quantum field theory on curved backgrounds},
  year = 2021,
}
"""

DUBLIN_CORE = """<?xml version="1.0" encoding="UTF-8"?>
<records xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <oai_dc:dc>
    <dc:identifier>oai:repo:1</dc:identifier>
    <dc:title>A magyar költségvetés és az adópolitika</dc:title>
    <dc:description>Az Országgyűlés elfogadta a költségvetést.</dc:description>
    <dc:subject>adózás</dc:subject>
    <dc:language>hun</dc:language>
    <dc:date>2023-05-01</dc:date>
    <dc:creator>Kovács, Anna</dc:creator>
  </oai_dc:dc>
  <oai_dc:dc>
    <dc:identifier>oai:repo:2</dc:identifier>
    <dc:title>Quantum field theory on curved backgrounds</dc:title>
  </oai_dc:dc>
</records>
"""


@pytest.mark.parametrize("name, data", [
    ("export.mrc", marc21_bytes), ("export.xml", marcxml_bytes), ("export.ris", lambda: RIS.encode()),
    ("export.bib", lambda: BIBTEX.encode()), ("export-dc.xml", lambda: DUBLIN_CORE.encode())])
def test_library_exports_import_like_any_file(tmp_path, name, data):
    with Store(tmp_path / "w.db") as db:
        report = import_records(db, data(), name)
        assert report.rows_imported == 2 and not report.problems, report.problems
        rows = list(db.db.query("SELECT external_id, title, abstract, keywords, language, year FROM records "
                                "ORDER BY id"))
    first, second = rows
    assert first["title"] in (TITLE_HU, "A magyar költségvetés and Tax policy"), first
    assert second["title"] == "Quantum field theory on curved backgrounds"
    assert first["language"] == "hu" and first["year"] == 2023, first
    assert "adózás" in first["keywords"] and first["abstract"].startswith("Az Országgyűlés"), first


def test_marc_keeps_its_084_codes_as_importable_labels(tmp_path):
    from core.files.library_formats import records

    rows = list(records(marc21_bytes(), "marc", "export.mrc"))
    assert [r["id"] for r in rows] == ["mtmt1", "mtmt2"]
    assert rows[0]["classification"] == "5.2; 5.6" and rows[0]["scheme"] == "frascati"
    assert rows[0]["doi"] == "10.1000/x0" and rows[0]["authors"] == "Kovács, Anna"
    assert rows[0]["title"] == TITLE_HU  # the ISBD " /" is gone
    with Store(tmp_path / "w.db") as db:
        from core.work.workspace import ensure_builtin_taxonomies

        ensure_builtin_taxonomies(db)
        ford = db.load_taxonomy("ford")
        report = import_records(db, marcxml_bytes(), "export.xml", label_taxonomy=ford,
                                mapping={"id": "id", "title": "title", "abstract": "abstract", "label": "classification",
                                         "language": "language"})
        assert report.rows_imported == 2
        labels = {r["external_id"]: r["codes"] for r in db.imported_label_rows("ford")}
        assert labels == {"mtmt1": '["5.2", "5.6"]', "mtmt2": '["1.3"]'}, labels


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<collection xmlns="http://www.loc.gov/MARC21/slim"><record><datafield tag="245" ind1=" " ind2=" ">
<subfield code="a">&lol3;</subfield></datafield></record></collection>"""


@pytest.mark.parametrize("name, data, expected", [
    ("cut.mrc", lambda: marc21_bytes()[:-40], "record 2"),
    ("bomb.xml", lambda: BILLION_LAUGHS, "not well-formed MARCXML"),
    ("half.ris", lambda: RIS.rsplit("ER  -", 1)[0].encode(), "record 2: the record has no end line"),
    ("broken.bib", lambda: (BIBTEX + "\n@article{bad, title = {no end\n").encode(), "record 3"),
    ("nothing.xml", lambda: b"<?xml version='1.0'?><records><x/></records>", "cannot tell"),
    # hostile sizes: a 5 MB BibTeX field (its TeX decoding would run for minutes), a RIS record of
    # 100,000 keyword lines: each refused in seconds, naming the record and the limit
    ("huge-field.bib", lambda: (BIBTEX + "@article{huge, title = {" + "x\\'e" * 1_250_000 + "}}\n").encode(),
     "record 3: the field 'title' holds 5,000,000 characters"),
    ("many-lines.ris", lambda: (RIS + "TY  - JOUR\nTI  - t\n" + "KW  - k\n" * 100_000 + "ER  - \n").encode(),
     "record 3: the record holds"),
])
def test_a_broken_library_file_is_refused_naming_the_record_and_nothing_is_written(tmp_path, name, data, expected):
    import time

    started = time.perf_counter()
    with Store(tmp_path / "w.db") as db:
        with pytest.raises(InputFileError) as caught:
            report = import_records(db, data(), name)
            if report.problems:  # a reader's problem is reported like a bad CSV row
                raise InputFileError(str(report.problems[0]))
        assert expected in str(caught.value), str(caught.value)
        assert db.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0
    assert time.perf_counter() - started < 30  # an answer, not a hang


def labelled_workspace(tmp_path, data: bytes, name: str):
    """The file imported with its codes as FORD labels where it has them; an expert then labels
    the second record 1.2."""
    from core.work.annotation import Annotator
    from core.work.workspace import ensure_builtin_taxonomies

    db = Store(tmp_path / "w.db")
    ensure_builtin_taxonomies(db)
    ford = db.load_taxonomy("ford")
    mapping = {"id": "id", "title": "title", "abstract": "abstract"}
    if name.endswith((".mrc", ".xml")):
        mapping["label"] = "classification"
    import_records(db, data, name, label_taxonomy=ford, mapping=mapping)
    second = db.db.execute("SELECT id FROM records ORDER BY id").fetchall()[1][0]
    Annotator(db, "Kovács Klára", "expert", ford).correct(second, ["1.2"], ())
    return db, ford


def fields_besides_084(record) -> list[str]:
    return [str(f) for f in record.fields if f.tag != "084"]


@pytest.mark.parametrize("name, data", [("export.mrc", marc21_bytes), ("export.xml", marcxml_bytes)])
def test_final_codes_go_back_into_marc_as_084_fields_and_nothing_else_changes(tmp_path, name, data):
    from pymarc import MARCReader

    from core.files.library_formats import _local, _marc_record
    from core.work.final_codes import write_back

    original = data()
    db, ford = labelled_workspace(tmp_path, original, name)
    with db:
        out, changed, fmt = write_back(db, ford, original, name)
    assert changed == 2 and fmt == ("marc" if name.endswith(".mrc") else "marcxml")
    if fmt == "marc":
        before, after = list(MARCReader(original, to_unicode=True)), list(MARCReader(out, to_unicode=True))
    else:
        from defusedxml import ElementTree as DET

        def parsed(raw):
            return [_marc_record(el) for el in DET.fromstring(raw).iter() if _local(el.tag) == "record"]
        before, after = parsed(original), parsed(out)
    assert [fields_besides_084(r) for r in after] == [fields_besides_084(r) for r in before]
    first, second = ([(f.get_subfields("a")[0], f.get_subfields("2")[0], f.get_subfields("q")[0])
                      for f in r.get_fields("084")] for r in after)
    assert first == [("5.2", "frascati", "imported: (imported file)"), ("5.6", "frascati", "imported: (imported file)")]
    assert second == [("1.2", "frascati", "expert: Kovács Klára")]  # the expert's code replaces the imported 1.3


def test_final_codes_go_back_into_ris_and_bibtex_as_keywords(tmp_path):
    from core.files.library_formats import records
    from core.work.final_codes import write_back

    db, ford = labelled_workspace(tmp_path, RIS.encode(), "export.ris")
    with db:
        out, changed, _ = write_back(db, ford, RIS.encode(), "export.ris")
    assert changed == 1
    text = out.decode()
    assert [ln for ln in text.splitlines() if not ln.startswith("KW  - frascati:")] == RIS.splitlines()
    assert "KW  - frascati:1.2\nER  -" in text
    assert [r["keywords"] for r in records(out, "ris", "back.ris")] == ["adózás; költségvetés", "frascati:1.2"]

    (tmp_path / "bib").mkdir()
    db, ford = labelled_workspace(tmp_path / "bib", BIBTEX.encode(), "export.bib")
    with db:
        out, changed, _ = write_back(db, ford, BIBTEX.encode(), "export.bib")
    back = list(records(out, "bibtex", "back.bib"))
    assert changed == 1 and back[1]["keywords"] == "frascati:1.2"
    assert [r["title"] for r in back] == [r["title"] for r in records(BIBTEX.encode(), "bibtex", "export.bib")]
    assert back[0]["keywords"] == "adózás; budget"


def test_write_back_on_the_command_line(tmp_path):
    from tests.test_cli import cli

    (tmp_path / "export.mrc").write_bytes(marc21_bytes())
    out = cli("import-records", str(tmp_path / "export.mrc"), "--label-taxonomy", "ford", "--map", "id=id",
              "--map", "title=title", "--map", "label=classification", "--quiet", db=tmp_path / "w.db")
    assert out.returncode == 0, out.stderr
    out = cli("write-back", "ford", str(tmp_path / "export.mrc"), str(tmp_path / "back.mrc"), db=tmp_path / "w.db")
    assert out.returncode == 0, out.stderr
    assert "2 records of export.mrc (marc) got their final codes" in out.stdout
    broken = tmp_path / "cut.mrc"
    broken.write_bytes(marc21_bytes()[:-40])
    out = cli("write-back", "ford", str(broken), str(tmp_path / "x.mrc"), db=tmp_path / "w.db")
    assert out.returncode != 0 and "record 2" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "x.mrc").exists()


def test_final_codes_go_back_into_dublin_core_as_subjects(tmp_path):
    from core.files.library_formats import records
    from core.work.final_codes import write_back

    db, ford = labelled_workspace(tmp_path, DUBLIN_CORE.encode(), "export-dc.xml")
    with db:
        out, changed, fmt = write_back(db, ford, DUBLIN_CORE.encode(), "export-dc.xml")
    back = list(records(out, "dc", "back.xml"))
    before = list(records(DUBLIN_CORE.encode(), "dc", "export-dc.xml"))
    assert fmt == "dc" and changed == 1
    assert back[1]["keywords"] == "frascati:1.2" and back[0] == before[0]
    assert {k: v for k, v in back[1].items() if k != "keywords"} == {k: v for k, v in before[1].items()
                                                                      if k != "keywords"}
