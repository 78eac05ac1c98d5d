"""Reading and writing taxonomy files: CSV/TSV, JSON and SKOS Turtle (Annif's vocabulary format).

CSV columns (header names are case-insensitive):

- ``code`` (required);
- ``parent`` (or ``parents`` / ``parent_code``): empty for a root; several parents separated by ``|``;
- ``name`` and/or ``name_<lang>`` (``name_en``, ``name_hu`` ...): at least one non-empty name;
- ``description`` (optional); any other column (``level`` ...) is ignored.

JSON: ``{"id", "name", "nodes": [{"code", "parents" | "parent", "names" | "name", "description"}]}``
or a nested tree ``[{"code", "name", "children": [...]}]``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from core.domain.taxonomy import NodeSpec, Taxonomy
from core.errors import Problem, TaxonomyError
from core.files.writers import TableWriter

FORMATS = ("csv", "json", "skos")
_PARENT_COLUMNS = ("parent", "parents", "parent_code", "broader")
_DESCRIPTION_COLUMNS = ("description", "description_en", "definition", "scope_note")


def guess_format(filename: str, data: bytes) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix in (".ttl", ".turtle", ".skos", ".rdf"):
        return "skos"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    head = data[:2048].lstrip()
    if head.startswith((b"{", b"[")):
        return "json"
    if b"@prefix" in head or b"skos:" in head:
        return "skos"
    return "csv"


def _decode(data: bytes, filename: str, encoding: str | None) -> str:
    enc = encoding or "utf-8-sig"
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TaxonomyError(
            f"file '{filename}' cannot be read as {enc}: undecodable byte 0x{data[exc.start]:02x} on "
            f"line {line}. Save it as UTF-8, or choose its encoding.",
            [Problem(f"undecodable byte 0x{data[exc.start]:02x}", line)],
        ) from None
    if not text.strip():
        raise TaxonomyError(f"file '{filename}' is empty")
    return text


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-") or "taxonomy"


def read_taxonomy(
    data: bytes,
    filename: str,
    *,
    id: str | None = None,
    name: str | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
) -> Taxonomy:
    """Parse and validate a taxonomy file given as bytes; raises ``TaxonomyError`` naming lines."""
    fmt = fmt or guess_format(filename, data)
    if fmt not in FORMATS:
        raise TaxonomyError(f"unknown taxonomy format '{fmt}'; use one of {', '.join(FORMATS)}")
    text = _decode(data, filename, encoding)
    stem = Path(filename).stem
    meta: dict[str, Any] = {}
    if fmt == "csv":
        specs = _read_csv(text, filename)
    elif fmt == "json":
        specs, meta = _read_json(text, filename)
    else:
        specs, meta = _read_skos(text, filename)
    if not specs:
        raise TaxonomyError(f"file '{filename}' holds no nodes")
    name = name or meta.get("name") or stem
    return Taxonomy(id or meta.get("id") or _slug(name), name, specs, source=filename, version=meta.get("version", ""))


def read_taxonomy_file(path: str | Path, **kwargs: Any) -> Taxonomy:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TaxonomyError(f"cannot read '{path}': {exc.strerror}") from None
    return read_taxonomy(data, path.name, **kwargs)


# ------------------------------------------------------------------------------------- CSV
def _read_csv(text: str, filename: str) -> list[NodeSpec]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=first_line.count)
    if first_line.count(delimiter) == 0:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise TaxonomyError(f"file '{filename}' is empty") from None
    if "code" not in header:
        raise TaxonomyError(
            f"file '{filename}' has no 'code' column (its header is: {', '.join(header) or 'empty'}); "
            "a taxonomy CSV needs at least the columns code, parent and name",
            [Problem("no 'code' column in the header", 1)],
        )
    col = {h: i for i, h in enumerate(header)}
    parent_col = next((col[c] for c in _PARENT_COLUMNS if c in col), None)
    desc_col = next((col[c] for c in _DESCRIPTION_COLUMNS if c in col), None)
    name_cols = {h[5:]: i for h, i in col.items() if h.startswith("name_") and len(h) > 5}
    if "name" in col:
        name_cols.setdefault("en", col["name"])
    if not name_cols:
        raise TaxonomyError(
            f"file '{filename}' has no name column: add 'name' or 'name_<language>' (name_en, name_hu ...)",
            [Problem("no name column in the header", 1)],
        )
    specs: list[NodeSpec] = []
    problems: list[Problem] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(
                Problem(f"expected {len(header)} fields separated by '{delimiter}', found {len(row)}", line)
            )
            continue
        parents = tuple(p for p in re.split(r"[|;]", row[parent_col]) if p.strip()) if parent_col is not None else ()
        specs.append(
            NodeSpec(
                code=row[col["code"]],
                names={lang: row[i] for lang, i in name_cols.items()},
                parents=parents,
                description=row[desc_col] if desc_col is not None else "",
                line=line,
            )
        )
    if problems:
        raise TaxonomyError(f"file '{filename}' has malformed lines", problems)
    return specs


def taxonomy_to_csv(taxonomy: Taxonomy) -> str:
    """The taxonomy in the workbench CSV format (re-importable)."""
    rows = taxonomy.to_rows()
    buf = io.BytesIO()
    with TableWriter(buf, "csv") as out:  # names that look like formulas are neutralised
        out.row(list(rows[0]))
        out.rows(list(r.values()) for r in rows)
    return buf.getvalue().decode("utf-8-sig")


def write_taxonomy_csv(taxonomy: Taxonomy, path: str | Path) -> None:
    Path(path).write_text(taxonomy_to_csv(taxonomy), encoding="utf-8")


# ------------------------------------------------------------------------------------ SKOS out
DEFAULT_URI_BASE = "https://workbench.local/{taxonomy}/"


def uri_base(taxonomy_id: str, base: str | None = None) -> str:
    """The namespace of a taxonomy's concept URIs (``base`` may hold ``{taxonomy}``)."""
    base = (base or DEFAULT_URI_BASE).format(taxonomy=taxonomy_id)
    return base if base.endswith(("/", "#")) else base + "/"


def concept_uri(taxonomy_id: str, code: str, base: str | None = None) -> str:
    from urllib.parse import quote

    return uri_base(taxonomy_id, base) + quote(str(code), safe="")


def taxonomy_to_skos(taxonomy: Taxonomy, base: str | None = None) -> str:
    """The taxonomy as a SKOS vocabulary in Turtle (what ``annif load-vocab`` reads): a concept
    scheme, and per node a concept with its code as ``skos:notation``, a ``prefLabel`` per
    language, its description as ``skos:definition``, and ``broader`` / ``narrower`` links.
    Re-importable: the workbench reads codes back from the notations."""
    from rdflib import Graph, Literal, URIRef
    from rdflib.namespace import DCTERMS, RDF, SKOS

    graph = Graph()
    graph.bind("skos", SKOS)
    graph.bind("dct", DCTERMS)
    scheme = URIRef(uri_base(taxonomy.id, base).rstrip("/#"))
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, DCTERMS.title, Literal(taxonomy.name, lang="en")))
    uri = {node.code: URIRef(concept_uri(taxonomy.id, node.code, base)) for node in taxonomy}
    for node in taxonomy:
        me = uri[node.code]
        graph.add((me, RDF.type, SKOS.Concept))
        graph.add((me, SKOS.inScheme, scheme))
        graph.add((me, SKOS.notation, Literal(node.code)))
        for lang, name in sorted(node.names.items()):
            if name:
                graph.add((me, SKOS.prefLabel, Literal(name, lang=lang)))
        if node.description:
            graph.add((me, SKOS.definition, Literal(node.description, lang="en")))
        if not node.parents:
            graph.add((me, SKOS.topConceptOf, scheme))
            graph.add((scheme, SKOS.hasTopConcept, me))
        for parent in node.parents:
            graph.add((me, SKOS.broader, uri[parent]))
            graph.add((uri[parent], SKOS.narrower, me))
    return graph.serialize(format="turtle")


# ------------------------------------------------------------------------------------ JSON
def _names_of(item: dict[str, Any]) -> dict[str, str]:
    names = item.get("names")
    if isinstance(names, dict):
        return {str(k): str(v) for k, v in names.items() if v is not None}
    out = {k[5:]: str(v) for k, v in item.items() if k.startswith("name_") and v is not None}
    if item.get("name") is not None:
        out.setdefault("en", str(item["name"]))
    return out


def _parents_of(item: dict[str, Any]) -> tuple[str, ...]:
    value = item.get("parents", item.get("parent"))
    if value is None or value == "":
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return tuple(p for p in re.split(r"[|;]", str(value)) if p.strip())


def _read_json(text: str, filename: str) -> tuple[list[NodeSpec], dict[str, Any]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaxonomyError(
            f"file '{filename}' is not valid JSON: {exc.msg} on line {exc.lineno}, column {exc.colno}",
            [Problem(exc.msg, exc.lineno)],
        ) from None
    meta: dict[str, Any] = {}
    specs: list[NodeSpec] = []
    problems: list[Problem] = []

    def visit(item: Any, parent: str | None, where: str) -> None:
        if not isinstance(item, dict) or "code" not in item:
            problems.append(Problem(f"{where} is not an object with a 'code'"))
            return
        parents = _parents_of(item) or ((parent,) if parent is not None else ())
        specs.append(NodeSpec(str(item["code"]), _names_of(item), parents, str(item.get("description") or "")))
        for j, child in enumerate(item.get("children") or []):
            visit(child, str(item["code"]), f"{where} › child {j + 1}")

    if isinstance(doc, dict):
        meta = {k: str(doc[k]) for k in ("id", "name", "version") if doc.get(k)}
        items = doc.get("nodes", doc.get("children"))
        if not isinstance(items, list):
            raise TaxonomyError(f"file '{filename}': expected a list under 'nodes'")
    elif isinstance(doc, list):
        items = doc
    else:
        raise TaxonomyError(f"file '{filename}': expected an object with 'nodes' or a list of nodes")
    for i, item in enumerate(items):
        visit(item, None, f"node {i + 1}")
    if problems:
        raise TaxonomyError(f"file '{filename}' has malformed nodes", problems)
    return specs, meta


# ------------------------------------------------------------------------------------ SKOS
def _read_skos(text: str, filename: str) -> tuple[list[NodeSpec], dict[str, Any]]:
    from rdflib import Graph, URIRef
    from rdflib.namespace import DCTERMS, RDF, SKOS

    graph = Graph()
    try:
        graph.parse(data=text, format="turtle")
    except Exception as exc:  # noqa: BLE001 - rdflib raises several parser exception types
        message = str(exc).strip().splitlines()
        line_match = re.search(r"line (\d+)", str(exc))
        raise TaxonomyError(
            f"file '{filename}' is not valid Turtle: {message[0] if message else type(exc).__name__}",
            [Problem(" ".join(message)[:300], int(line_match.group(1)) if line_match else None)],
        ) from None

    concepts = set(graph.subjects(RDF.type, SKOS.Concept)) | set(graph.subjects(SKOS.prefLabel, None))
    concepts -= set(graph.subjects(RDF.type, SKOS.ConceptScheme))

    def code_of(uri: Any) -> str:
        notation = graph.value(uri, SKOS.notation)
        if notation is not None:
            return str(notation)
        text_uri = str(uri)
        return re.split(r"[/#]", text_uri.rstrip("/#"))[-1]

    codes = {uri: code_of(uri) for uri in concepts}
    parents: dict[Any, list[str]] = {uri: [] for uri in concepts}
    for uri in concepts:
        for broader in graph.objects(uri, SKOS.broader):
            parents[uri].append(codes.get(broader, str(broader)))
        for narrower in graph.objects(uri, SKOS.narrower):
            if narrower in parents and codes[uri] not in parents[narrower]:
                parents[narrower].append(codes[uri])
    specs = []
    for uri in sorted(concepts, key=lambda u: codes[u]):
        names: dict[str, str] = {}
        for label in graph.objects(uri, SKOS.prefLabel):
            lang = getattr(label, "language", None) or "en"
            names.setdefault(lang, str(label))
        description = ""
        for prop in (SKOS.definition, SKOS.scopeNote):
            values = list(graph.objects(uri, prop))
            if values:
                english = [v for v in values if getattr(v, "language", None) in (None, "en")]
                description = str((english or values)[0])
                break
        specs.append(NodeSpec(codes[uri], names, tuple(dict.fromkeys(parents[uri])), description))
    meta: dict[str, Any] = {}
    for scheme in graph.subjects(RDF.type, SKOS.ConceptScheme):
        title = graph.value(scheme, DCTERMS.title) or graph.value(scheme, SKOS.prefLabel)
        if title:
            meta["name"] = str(title)
        if isinstance(scheme, URIRef):
            meta.setdefault("version", "")
    return specs, meta
