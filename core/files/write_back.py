"""Final codes back into the library system's own export: the file as it was imported, each
record (matched by the id the importer read) given its codes, every other field kept: MARC21 /
MARCXML an 084 field per code ($a the code, $2 the scheme, $q the provenance), RIS and BibTeX
keywords, Dublin Core subjects."""

from __future__ import annotations

import io
import re

from core.errors import InputFileError
from core.files.library_formats import (
    DC_NS,
    MARC_NS,
    _bad,
    _bibtex,
    _local,
    _marc_columns,
    _marc_record,
    _ris,
    _text,
    dublin_core_columns,
)

WRITE_BACK_FORMATS = ("marc", "marcxml", "ris", "bibtex", "dc")
Codes = dict[str, list[tuple[str, str]]]  # record id -> [(code, provenance)]


def write_back(data: bytes, fmt: str, name: str, codes: Codes, scheme: str) -> tuple[bytes, int]:
    """The original export ``data`` with each record's codes added (records matched by the id the
    importer read), every other field kept: MARC21 / MARCXML get an 084 field per code ($a the
    code, $2 ``scheme``, $q the provenance), replacing earlier 084 fields of the same scheme; RIS
    and BibTeX get ``scheme:code`` keywords, Dublin Core ``dc:subject`` elements of the same form.
    Returns the new file and the number of records changed."""
    if fmt not in WRITE_BACK_FORMATS:
        raise InputFileError(f"codes are written back into {', '.join(WRITE_BACK_FORMATS)} files, not '{fmt}'")
    if fmt == "marc":
        return _marc_back(data, name, codes, scheme)
    if fmt == "marcxml":
        return _marcxml_back(data, name, codes, scheme)
    if fmt == "ris":
        return _ris_back(data, name, codes, scheme)
    if fmt == "dc":
        return _dublin_core_back(data, name, codes, scheme)
    return _bibtex_back(data, name, codes, scheme)


def _dublin_core_back(data: bytes, name: str, codes: Codes, scheme: str) -> tuple[bytes, int]:
    import xml.etree.ElementTree as ET

    from defusedxml import ElementTree as DET

    try:
        root = DET.fromstring(data, forbid_dtd=True)
    except Exception as exc:  # noqa: BLE001 - the parser's own error types
        raise InputFileError(f"'{name}' is not well-formed Dublin Core XML ({type(exc).__name__}: {exc})"[:400]) \
            from None
    changed = 0
    for element in [el for el in root.iter() if any(str(c.tag).startswith(f"{{{DC_NS}}}") for c in el)]:
        found = codes.get(dublin_core_columns(element)["id"])
        if not found:
            continue
        for child in [c for c in element if c.tag == f"{{{DC_NS}}}subject" and (c.text or "").startswith(f"{scheme}:")]:
            element.remove(child)
        for code, _ in found:
            ET.SubElement(element, f"{{{DC_NS}}}subject").text = f"{scheme}:{code}"
        changed += 1
    ET.register_namespace("dc", DC_NS)
    ET.register_namespace("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc/")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), changed


def _marc_084(record, found: list[tuple[str, str]], scheme: str) -> None:
    from pymarc import Field, Indicators, Subfield

    for field in record.get_fields("084"):
        if " ".join(field.get_subfields("2")).strip().lower() == scheme.lower():
            record.remove_field(field)
    for code, provenance in found:
        record.add_ordered_field(Field(tag="084", indicators=Indicators(" ", " "), subfields=[
            Subfield("a", code), Subfield("2", scheme), Subfield("q", provenance)]))


def _marc_back(data: bytes, name: str, codes: Codes, scheme: str) -> tuple[bytes, int]:
    from pymarc import MARCReader

    out, changed = [], 0
    reader = MARCReader(io.BytesIO(data), to_unicode=True, force_utf8=True, utf8_handling="strict")
    for number, record in enumerate(reader, start=1):
        if record is None:
            raise _bad(name, number, f"not a readable MARC21 record ({reader.current_exception})"[:300])
        found = codes.get(_marc_columns(record)["id"])
        if found:
            _marc_084(record, found, scheme)
            changed += 1
        out.append(record.as_marc())
    return b"".join(out), changed


def _marcxml_back(data: bytes, name: str, codes: Codes, scheme: str) -> tuple[bytes, int]:
    import xml.etree.ElementTree as ET

    from defusedxml import ElementTree as DET

    try:
        root = DET.fromstring(data, forbid_dtd=True)
    except Exception as exc:  # noqa: BLE001 - the parser's own error types
        raise InputFileError(f"'{name}' is not well-formed MARCXML ({type(exc).__name__}: {exc})"[:400]) from None
    changed = 0
    for element in [el for el in root.iter() if _local(el.tag) == "record"]:
        found = codes.get(_marc_columns(_marc_record(element))["id"])
        if not found:
            continue
        prefix = element.tag[:-len("record")]  # "{namespace}" or ""
        for field in [c for c in element if _local(c.tag) == "datafield" and c.get("tag") == "084"]:
            if any(_local(s.tag) == "subfield" and s.get("code") == "2" and (s.text or "").strip().lower() ==
                   scheme.lower() for s in field):
                element.remove(field)
        position = next((k for k, c in enumerate(element) if _local(c.tag) == "datafield" and c.get("tag", "") > "084"),
                        len(element))
        for code, provenance in reversed(found):
            field = ET.Element(f"{prefix}datafield", {"tag": "084", "ind1": " ", "ind2": " "})
            for sub, value in (("a", code), ("2", scheme), ("q", provenance)):
                ET.SubElement(field, f"{prefix}subfield", {"code": sub}).text = value
            element.insert(position, field)
        changed += 1
    ET.register_namespace("", MARC_NS)
    ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), changed


def _ris_back(data: bytes, name: str, codes: Codes, scheme: str) -> tuple[bytes, int]:
    """Keyword lines added before each matched record's end line; every other byte kept."""
    text = _text(data, name)
    ids = [r["id"] for r in _ris(data, name)]
    parts = re.split(r"(?m)(?=^TY  - )", text)
    head, blocks = (parts[0], parts[1:]) if parts and not parts[0].startswith("TY  - ") else ("", parts)
    changed = 0
    for k, (block, record_id) in enumerate(zip(blocks, ids)):
        found = codes.get(record_id)
        if not found:
            continue
        newline = "\r\n" if "\r\n" in block else "\n"
        lines = "".join(f"KW  - {scheme}:{code}{newline}" for code, _ in found)
        blocks[k] = re.sub(r"(?m)^ER  -", lambda m: lines + m.group(0), block, count=1)
        changed += 1
    return (head + "".join(blocks)).encode("utf-8"), changed


def _bibtex_back(data: bytes, name: str, codes: Codes, scheme: str) -> tuple[bytes, int]:
    import bibtexparser
    from bibtexparser.model import Field

    list(_bibtex(data, name))  # refuses a broken file as the importer does
    library = bibtexparser.parse_string(_text(data, name))
    changed = 0
    for entry in library.entries:
        found = codes.get(entry.key)
        if not found:
            continue
        present = entry.fields_dict.get("keywords")
        words = [w.strip() for w in re.split(r"[;,]", str(present.value) if present else "") if w.strip()
                 and not w.strip().startswith(f"{scheme}:")]
        entry.set_field(Field("keywords", "; ".join(words + [f"{scheme}:{code}" for code, _ in found])))
        changed += 1
    return bibtexparser.write_string(library).encode("utf-8"), changed


__all__ = ["Codes", "WRITE_BACK_FORMATS", "write_back"]
