r"""Records as library systems export them: MARC21 (binary), MARCXML, RIS, BibTeX and Dublin Core
XML, read into the workbench's record columns.

Each reader yields the file's records as dicts of the columns below, numbered from 1 in the file's
order (a problem names "record N"). Libraries: ``pymarc`` (MARC21 and MARCXML; the reference
Python MARC library, used by library systems' own tooling), ``rispy`` (RIS), ``bibtexparser`` 2
(BibTeX, with its failed-block report; TeX accents such as ``\H{o}`` decoded by ``pylatexenc``),
and ``defusedxml`` for every XML file from a stranger (entity expansion and external entities
refused) with the standard library's ElementTree.

Columns: ``id`` (MARC 001, else the DOI, else 035; RIS ``ID``/``DO``; BibTeX key; DC identifier),
``title``, ``abstract``, ``keywords`` (subjects, "; "-joined), ``language`` (ISO 639-1 where the
file gives a MARC / ISO 639-2 code), ``year``, ``authors``, ``doi`` and ``classification``:
existing classification codes (MARC 084 $a, "; "-joined) with their schemes in ``scheme``
(084 $2), so codes a cataloguer already gave can be imported as labels.
"""

from __future__ import annotations

import io
import re
from typing import Any, Iterator

from core.errors import InputFileError, Problem

LIBRARY_FORMATS = ("marc", "marcxml", "ris", "bibtex", "dc")
COLUMNS = ("id", "title", "abstract", "keywords", "language", "year", "authors", "doi", "classification", "scheme")
MARC_NS = "http://www.loc.gov/MARC21/slim"
DC_NS = "http://purl.org/dc/elements/1.1/"
MAX_BYTES = 2 * 1024 ** 3  # a library export larger than this is split by the library system first
# ISO 639-2 (bibliographic and terminology codes) -> ISO 639-1, for the languages the records come in
LANGUAGES = {"hun": "hu", "eng": "en", "dan": "da", "ger": "de", "deu": "de", "fre": "fr", "fra": "fr", "slo": "sk",
             "slk": "sk", "rum": "ro", "ron": "ro", "pol": "pl", "cze": "cs", "ces": "cs", "spa": "es", "ita": "it",
             "rus": "ru", "lat": "la", "swe": "sv", "nor": "no", "fin": "fi", "dut": "nl", "nld": "nl", "por": "pt",
             "hrv": "hr", "srp": "sr", "slv": "sl", "ukr": "uk", "gre": "el", "ell": "el", "chi": "zh", "zho": "zh",
             "jpn": "ja"}
NAMES = {"hungarian": "hu", "magyar": "hu", "english": "en", "american": "en", "british": "en", "danish": "da",
         "german": "de", "ngerman": "de", "french": "fr", "slovak": "sk", "romanian": "ro", "polish": "pl",
         "czech": "cs", "spanish": "es", "italian": "it", "russian": "ru", "latin": "la"}


def language_code(value: str) -> str:
    """ISO 639-1 for a MARC / ISO 639-2 code or a language's English name (BibTeX ``langid``)."""
    value = (value or "").strip().lower()
    return LANGUAGES.get(value) or NAMES.get(value) or (value if len(value) == 2 else value[:3])


def sniff_xml(head: bytes) -> str | None:
    """``marcxml`` or ``dc`` from the first bytes of an XML file (None: neither)."""
    text = head.decode("utf-8", errors="replace")
    if MARC_NS in text or re.search(r"<(\w+:)?collection\b[^>]*>\s*<(\w+:)?record\b", text) and "<datafield" in text:
        return "marcxml"
    if DC_NS in text or "openarchives.org/OAI/2.0/oai_dc" in text:
        return "dc"
    return None


def records(data: bytes, fmt: str, name: str) -> Iterator[dict[str, str]]:
    """The file's records as column dicts (see the module's docstring)."""
    if len(data) > MAX_BYTES:
        raise InputFileError(f"'{name}' is larger than {MAX_BYTES // 1024 ** 3} GB: split the export")
    if fmt == "marc":
        yield from _marc(data, name)
    elif fmt == "marcxml":
        yield from _marcxml(data, name)
    elif fmt == "ris":
        yield from _ris(data, name)
    elif fmt == "bibtex":
        yield from _bibtex(data, name)
    elif fmt == "dc":
        yield from _dublin_core(data, name)
    else:
        raise InputFileError(f"unknown library format '{fmt}'; use one of {', '.join(LIBRARY_FORMATS)}")


def _bad(name: str, number: int, message: str) -> InputFileError:
    return InputFileError(f"'{name}' record {number}: {message}", [Problem(message, number, unit="record")])


def _joined(values) -> str:
    out: list[str] = []
    for v in values:
        v = re.sub(r"\s+", " ", str(v or "")).strip()
        if v and v not in out:
            out.append(v)
    return "; ".join(out)


def _strip_isbd(value: str) -> str:
    """A MARC title's trailing ISBD punctuation (" /", " :", " ;", ".") removed."""
    return re.sub(r"\s*[/:;,.=]\s*$", "", (value or "").strip())


# ------------------------------------------------------------------------------------- MARC
def _marc(data: bytes, name: str) -> Iterator[dict[str, str]]:
    from pymarc import MARCReader

    reader = MARCReader(io.BytesIO(data), to_unicode=True, force_utf8=True, utf8_handling="strict")
    number = 0
    for record in reader:
        number += 1
        if record is None:
            exc = reader.current_exception
            raise _bad(name, number, f"not a readable MARC21 record ({type(exc).__name__}: {exc})"[:300])
        yield _marc_columns(record)
    if number == 0:
        raise InputFileError(f"'{name}' holds no MARC21 records")


def _marcxml(data: bytes, name: str) -> Iterator[dict[str, str]]:
    from defusedxml import ElementTree as DET

    try:
        root = DET.fromstring(data, forbid_dtd=True)
    except Exception as exc:  # noqa: BLE001 - defusedxml's refusals and ElementTree's ParseError
        raise InputFileError(f"'{name}' is not well-formed MARCXML ({type(exc).__name__}: {exc})"[:400]) from None
    found = [el for el in root.iter() if _local(el.tag) == "record" and any(
        _local(c.tag) in ("controlfield", "datafield", "leader") for c in el)]
    if not found:
        raise InputFileError(f"'{name}' holds no MARCXML records")
    for number, element in enumerate(found, start=1):
        try:
            yield _marc_columns(_marc_record(element))
        except (ValueError, KeyError) as exc:
            raise _bad(name, number, f"not a readable MARCXML record ({exc})") from None


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _marc_record(element):
    """A pymarc Record from a MARCXML ``record`` element."""
    from pymarc import Field, Indicators, Record, Subfield

    record = Record(force_utf8=True)
    for child in element:
        tag = _local(child.tag)
        if tag == "leader":
            record.leader = (child.text or "").ljust(24)[:24]
        elif tag == "controlfield":
            record.add_field(Field(tag=child.get("tag", ""), data=child.text or ""))
        elif tag == "datafield":
            subfields = [Subfield(code=s.get("code", ""), value=s.text or "") for s in child
                         if _local(s.tag) == "subfield"]
            record.add_field(Field(tag=child.get("tag", ""), indicators=Indicators(child.get("ind1", " ") or " ",
                                                                                    child.get("ind2", " ") or " "),
                                   subfields=subfields))
    return record


def _marc_columns(record) -> dict[str, str]:
    def values(tag: str, *codes: str) -> list[str]:
        return [v for f in record.get_fields(tag) for v in f.get_subfields(*codes)]

    control = {f.tag: f.data for f in record.fields if f.is_control_field()}
    title = " ".join(_strip_isbd(v) for v in values("245", "a", "b") if v)
    doi = next((v for f in record.get_fields("024") for v in f.get_subfields("a")
                if "doi" in " ".join(f.get_subfields("2")).lower() or v.lower().startswith("10.")), "")
    fixed = control.get("008", "")
    language = language_code(fixed[35:38]) if len(fixed) >= 38 and fixed[35:38].strip() else ""
    language = language or language_code(next(iter(values("041", "a")), ""))
    year = fixed[7:11] if len(fixed) >= 11 and fixed[7:11].isdigit() else ""
    if not year:
        match = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", " ".join(values("260", "c") + values("264", "c")))
        year = match.group(1) if match else ""
    classification = [(v.strip(), " ".join(f.get_subfields("2")).strip()) for f in record.get_fields("084")
                      for v in f.get_subfields("a") if v.strip()]
    return {"id": (control.get("001") or doi or next(iter(values("035", "a")), "")).strip(),
            "title": title,
            "abstract": _joined(values("520", "a")),
            "keywords": _joined(values("650", "a") + values("653", "a")),
            "language": language,
            "year": year,
            "authors": _joined(values("100", "a") + values("700", "a")),
            "doi": doi,
            "classification": _joined(code for code, _ in classification),
            "scheme": _joined(scheme for _, scheme in classification)}


# -------------------------------------------------------------------------------------- RIS
def _text(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1250"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputFileError(f"'{name}' is neither UTF-8 nor Windows-1250 text")


# RIS and BibTeX set no size on a record or a field (MARC does: 99,999 bytes a record): a record of
# a library export is a few kilobytes, so what is far larger is refused at once, not parsed for minutes
MAX_FIELD_CHARS = 100_000
MAX_RECORD_CHARS = 1_000_000
MAX_RECORD_LINES = 5_000


def _ris(data: bytes, name: str) -> Iterator[dict[str, str]]:
    import rispy

    text = _text(data, name)
    starts = [m.start() for m in re.finditer(r"(?m)^TY  - ", text)]
    if not starts:
        raise InputFileError(f"'{name}' holds no RIS records (none starts with 'TY  - ')")
    for number, (start, end) in enumerate(zip(starts, starts[1:] + [len(text)]), start=1):
        block = text[start:end]
        if len(block) > MAX_RECORD_CHARS or block.count("\n") > MAX_RECORD_LINES:
            raise _bad(name, number, f"the record holds {len(block):,} characters in {block.count(chr(10)):,} lines; "
                                     f"a record may hold at most {MAX_RECORD_CHARS:,} characters and "
                                     f"{MAX_RECORD_LINES:,} lines")
        if not re.search(r"(?m)^ER  -", block):
            raise _bad(name, number, "the record has no end line 'ER  -'")
        try:
            entries = rispy.loads(block, skip_unknown_tags=True)
        except Exception as exc:  # noqa: BLE001 - rispy raises plain IOError / ValueError subclasses
            raise _bad(name, number, f"not a readable RIS record ({exc})"[:300]) from None
        if not entries:
            raise _bad(name, number, "not a readable RIS record")
        entry = entries[0]

        def first(*keys: str) -> str:
            for key in keys:
                value = entry.get(key)
                if isinstance(value, list):
                    value = value[0] if value else ""
                if value:
                    return str(value).strip()
            return ""

        year = re.search(r"\b(\d{4})\b", first("year", "publication_year", "date"))
        yield {"id": first("id", "doi", "accession_number") or "",
               "title": first("title", "primary_title", "translated_title"),
               "abstract": first("abstract", "notes_abstract"),
               "keywords": _joined(entry.get("keywords") or []),
               "language": language_code(first("language")),
               "year": year.group(1) if year else "",
               "authors": _joined((entry.get("authors") or []) + (entry.get("first_authors") or [])),
               "doi": first("doi"), "classification": "", "scheme": ""}


# ----------------------------------------------------------------------------------- BibTeX
def _bibtex(data: bytes, name: str) -> Iterator[dict[str, str]]:
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware

    text = _text(data, name)
    library = bibtexparser.parse_string(text)  # linear in the file's size; the TeX decoding is not
    if library.failed_blocks:
        block = library.failed_blocks[0]
        line = getattr(block, "start_line", None)
        where = f" near line {line + 1}" if isinstance(line, int) else ""
        number = sum(1 for e in library.entries if getattr(e, "start_line", 0) < (line or 0)) + 1
        raise _bad(name, number, f"not a readable BibTeX entry{where} ({getattr(block, 'error', '')})"[:300])
    if not library.entries:
        raise InputFileError(f"'{name}' holds no BibTeX entries")
    for number, entry in enumerate(library.entries, start=1):
        for key, field in entry.fields_dict.items():
            if len(str(field.value)) > MAX_FIELD_CHARS:
                raise _bad(name, number, f"the field '{key[:40]}' holds {len(str(field.value)):,} characters; a field "
                                         f"may hold at most {MAX_FIELD_CHARS:,}")
    library = LatexDecodingMiddleware().transform(library)  # TeX accents (\H{o} and the like) on fields of bounded size
    for entry in library.entries:
        fields = {k.lower(): _detex(str(v.value)) for k, v in entry.fields_dict.items()}
        year = re.search(r"\b(\d{4})\b", fields.get("year", "") or fields.get("date", ""))
        yield {"id": entry.key, "title": fields.get("title", ""), "abstract": fields.get("abstract", ""),
               "keywords": _joined(re.split(r"[;,]", fields.get("keywords", ""))),
               "language": language_code(fields.get("langid", "") or fields.get("language", "")),
               "year": year.group(1) if year else "",
               "authors": _joined(fields.get("author", "").split(" and ")), "doi": fields.get("doi", ""),
               "classification": "", "scheme": ""}


def _detex(value: str) -> str:
    """Braces left after decoding removed ({W}orld -> World), spaces collapsed."""
    return re.sub(r"\s+", " ", value.replace("{", "").replace("}", "")).strip()


# ------------------------------------------------------------------------------ Dublin Core
def _dublin_core(data: bytes, name: str) -> Iterator[dict[str, str]]:
    from defusedxml import ElementTree as DET

    try:
        root = DET.fromstring(data, forbid_dtd=True)
    except Exception as exc:  # noqa: BLE001 - the parser's own error types
        raise InputFileError(f"'{name}' is not well-formed Dublin Core XML ({type(exc).__name__}: {exc})"[:400]) \
            from None
    found = [el for el in root.iter() if any(str(c.tag).startswith(f"{{{DC_NS}}}") for c in el)]
    if not found:
        raise InputFileError(f"'{name}' holds no Dublin Core records (no dc: elements)")
    for element in found:
        yield dublin_core_columns(element)


def dublin_core_columns(element, identifier: str = "") -> dict[str, str]:
    """The columns of one element holding ``dc:`` children (an ``oai_dc:dc``), ``identifier``: the
    OAI identifier where harvested."""
    values: dict[str, list[str]] = {}
    for child in element:
        tag = str(child.tag)
        if tag.startswith(f"{{{DC_NS}}}") and (child.text or "").strip():
            values.setdefault(tag.split("}", 1)[1], []).append(child.text.strip())
    ids = values.get("identifier", [])
    doi = next((v.split("doi.org/", 1)[-1] for v in ids if "doi.org/" in v or v.startswith("10.")), "")
    year = re.search(r"\b(\d{4})\b", " ".join(values.get("date", [])))
    return {"id": identifier or (ids[0] if ids else ""), "title": _joined(values.get("title", [])),
            "abstract": _joined(values.get("description", [])), "keywords": _joined(values.get("subject", [])),
            "language": language_code(next(iter(values.get("language", [])), "")),
            "year": year.group(1) if year else "", "authors": _joined(values.get("creator", [])), "doi": doi,
            "classification": "", "scheme": ""}


__all__ = ["COLUMNS", "LIBRARY_FORMATS", "dublin_core_columns", "language_code", "records", "sniff_xml"]
