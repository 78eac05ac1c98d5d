"""Commands on taxonomies and records: import, harvest, list, search, export, write back."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.arguments import _date, _delimiter, _mapping, _positive, _share
from core.cli.common import _store
from core.files.records_io import ENCODINGS, FORMATS, inspect_source
from core.files.taxonomy_io import read_taxonomy_file
from core.work.column_mapping import FIELDS
from core.work.records_import import import_records


def cmd_import_taxonomy(args: argparse.Namespace) -> int:
    taxonomy = read_taxonomy_file(args.file, id=args.id, name=args.name, encoding=args.encoding)
    with _store(args) as store:
        store.save_taxonomy(taxonomy, replace=args.replace)
    print(f"taxonomy '{taxonomy.id}' ({taxonomy.name}): {len(taxonomy)} nodes, depth {taxonomy.depth}, "
          f"languages {', '.join(taxonomy.languages)}")
    return 0


def cmd_export_taxonomy(args: argparse.Namespace) -> int:
    from core.files.taxonomy_io import taxonomy_to_csv, taxonomy_to_skos

    with _store(args) as store:
        taxonomy = store.load_taxonomy(args.taxonomy)
    text = taxonomy_to_skos(taxonomy, args.uri_base) if args.format == "skos" else taxonomy_to_csv(taxonomy)
    Path(args.output).write_text(text, encoding="utf-8")
    print(f"wrote taxonomy '{taxonomy.id}' ({len(taxonomy)} nodes) as {args.format} to {args.output}")
    return 0


def cmd_import_records(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    path = Path(args.file)
    info = inspect_source(path, path.name, fmt=args.format, encoding=args.encoding, delimiter=args.delimiter,
                          sheet=args.sheet)
    mapping = _mapping(args, info.columns)
    print(f"{info.name}: {info.format}" + (f", {info.encoding}, delimiter {info.delimiter!r}" if info.encoding else "")
          + "; mapping: " + ", ".join(f"{f}←{c}" for f, c in mapping.items() if c), file=sys.stderr)
    with _store(args) as store:
        label_taxonomy = store.load_taxonomy(args.label_taxonomy) if args.label_taxonomy else None
        bar = tqdm(total=100, desc="importing", file=sys.stderr, disable=args.quiet,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix} [{elapsed}<{remaining}]")

        def progress(rows: int, fraction: float) -> None:
            bar.update(round(fraction * 100) - bar.n)
            bar.set_postfix_str(f"{rows:,} rows")

        try:
            report = import_records(
                store, path, path.name, mapping=mapping, fmt=info.format, encoding=info.encoding or None,
                delimiter=info.delimiter or None, sheet=info.sheet or None,
                on_error="skip" if args.skip_bad_rows else "abort",
                label_taxonomy=label_taxonomy, imported_by=args.user, progress=progress,
                collection=args.collection, on_changed="update" if args.update_changed else "stop",
                skip_duplicates=args.skip_duplicates, add_codes=args.add_codes,
                default_language=args.language or "", default_domain=args.domain or "",
            )
        finally:
            bar.close()
    print(report.summary())
    for item in (report.problems + report.warnings)[:20]:
        print(f"  - {item}")
    return 0


def cmd_harvest(args: argparse.Namespace) -> int:
    from core.work.harvesting import harvest_and_import

    def progress(count: int) -> None:
        if not args.quiet:
            print(f"harvested {count:,} records", file=sys.stderr)

    with _store(args) as store:
        label_taxonomy = store.load_taxonomy(args.label_taxonomy) if args.label_taxonomy else None
        harvest, report = harvest_and_import(
            store, args.endpoint, label_taxonomy=label_taxonomy, imported_by=args.user,
            collection=args.collection or "", update_changed=args.update_changed, metadata_prefix=args.prefix,
            set_=args.set, from_=args.from_date, until=args.until, max_records=args.max_records, progress=progress)
    print(f"{harvest.count:,} records harvested from {args.endpoint}; " + report.summary())
    for item in (report.problems + report.warnings)[:20]:
        print(f"  - {item}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        if args.what == "taxonomies":
            for t in store.list_taxonomies():
                kind = "built-in" if t.builtin else "imported"
                print(f"{t.id}\t{t.name}\t{t.node_count} nodes\tdepth {t.depth}\t{kind}")
        elif args.what == "batches":
            for b in store.list_batches():
                print(f"#{b.id}\t{b.file_name}\t{b.status}\t{b.rows_imported} imported\t{b.rows_skipped} skipped"
                      f"\t{b.started_at}")
        elif args.what == "records":
            for r in store.records(limit=args.limit):
                print(f"{r['external_id']}\t{(r['title'] or r['abstract'] or '')[:80]}")
        else:
            for table, count in store.stats().items():
                print(f"{table}\t{count}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    with _store(args) as store:
        taxonomy = store.load_taxonomy(args.taxonomy)
    from core.domain.search import search

    for hit in search(taxonomy, args.query, limit=args.limit, lang=args.lang):
        print(f"{hit.code}\t{hit.score:.0f}\t{taxonomy.path_label(hit.code, args.lang)}")
    return 0


def cmd_export_training(args: argparse.Namespace) -> int:
    from core.work.training_data import ExportFilter, category_counts, labelled_frame, split, write

    with _store(args) as store:
        taxonomy = store.load_taxonomy(args.taxonomy)
        frame = labelled_frame(store, taxonomy, ExportFilter(
            taxonomy.id, annotators=tuple(args.annotator or ()), since=args.since or "", until=args.until or "",
            level=args.level, include_machine=args.include_machine, include_imported=args.include_imported,
            per_record=args.rows))
        head = store.chain_head()
    frame = split(frame, validation=args.validation, test=args.test, seed=args.seed)
    if args.only_split:
        frame = frame[frame["split"] == args.only_split]
    if frame.empty:
        print("no labels match these filters; nothing written", file=sys.stderr)
        return 1
    path = write(frame, args.format, args.output)
    print(category_counts(frame, taxonomy).drop(columns=["path"]).to_string(index=False))
    print(f"wrote {len(frame):,} rows ({frame['record_id'].nunique():,} records) to {path}; "
          f"annotation log chain head {head or '-'}")
    return 0


def cmd_write_back(args: argparse.Namespace) -> int:
    from core.work.final_codes import write_back

    original = Path(args.original)
    with _store(args) as store:
        data, changed, fmt = write_back(store, store.load_taxonomy(args.taxonomy), original.read_bytes(),
                                        original.name, collection=args.collection)
    Path(args.output).write_bytes(data)
    print(f"{changed:,} records of {original.name} ({fmt}) got their final codes; written to {args.output}")
    return 0


def cmd_export_final(args: argparse.Namespace) -> int:
    from core.work.final_codes import final_codes, write_final_codes

    with _store(args) as store:
        frame = final_codes(store, store.load_taxonomy(args.taxonomy), collection=args.collection, lang=args.lang)
        head = store.chain_head()
    write_final_codes(frame, args.output)
    counts = frame["provenance"].value_counts().to_dict()
    print(f"{len(frame):,} records' final codes written to {args.output} ("
          + ", ".join(f"{counts.get(p, 0):,} {p}" for p in ("expert", "machine", "imported"))
          + f"); annotation log chain head {head or '-'}")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("import-taxonomy", help="import a taxonomy from CSV, JSON or SKOS Turtle")
    p.add_argument("file")
    p.add_argument("--id")
    p.add_argument("--name")
    p.add_argument("--encoding")
    p.add_argument("--replace", action="store_true", help="replace a stored taxonomy with the same id")
    p.set_defaults(func=cmd_import_taxonomy)

    p = sub.add_parser("export-taxonomy", help="write a taxonomy as CSV or as a SKOS Turtle vocabulary (for "
                                               "annif load-vocab)")
    p.add_argument("taxonomy")
    p.add_argument("output")
    p.add_argument("--format", choices=("skos", "csv"), default="skos")
    p.add_argument("--uri-base", help="concept URIs' namespace; may hold {taxonomy} "
                                      "(default https://workbench.local/{taxonomy}/)")
    p.set_defaults(func=cmd_export_taxonomy)

    p = sub.add_parser("import-records", help="import records from CSV/TSV/XLSX/JSONL/Parquet, MARC21 (.mrc), "
                                              "MARCXML or Dublin Core (.xml), RIS, BibTeX")
    p.add_argument("file")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN",
                   help=f"map a field ({', '.join(FIELDS)}) to a column; repeatable. "
                        "Without --map the columns are guessed")
    p.add_argument("--guess", action="store_true", help="guess the fields not given with --map")
    p.add_argument("--format", choices=FORMATS)
    p.add_argument("--encoding", choices=ENCODINGS)
    p.add_argument("--delimiter", type=_delimiter, help="one character (tab: \\t)")
    p.add_argument("--sheet", help="XLSX: the sheet with the records (default: the first)")
    p.add_argument("--label-taxonomy", help="taxonomy id the label column's codes belong to")
    p.add_argument("--language", help="language for rows without one")
    p.add_argument("--domain", help="domain for rows without one")
    p.add_argument("--skip-bad-rows", action="store_true", help="leave bad rows out instead of failing the import")
    p.add_argument("--collection", help="add to this collection (created if new); default: a new collection "
                                        "named after the file, so nothing is merged silently")
    p.add_argument("--update-changed", action="store_true",
                   help="an id stored in the collection with other text: update the record (default: stop)")
    p.add_argument("--skip-duplicates", action="store_true",
                   help="leave out rows whose exact text a record of another collection has")
    p.add_argument("--add-codes", action="store_true",
                   help="an id stored in the collection with the same text: give the record the file's codes (it "
                        "keeps its text and import)")
    p.add_argument("--user", default="cli")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_import_records)

    p = sub.add_parser("harvest", help="harvest records from an OAI-PMH endpoint (Dublin Core or MARCXML) and "
                                       "import them; nothing is written unless the whole harvest arrives")
    p.add_argument("endpoint", help="the endpoint's http(s) address")
    p.add_argument("--set", help="a set spec")
    p.add_argument("--from", dest="from_date", help="records changed from this day (YYYY-MM-DD)")
    p.add_argument("--until", help="records changed until this day (YYYY-MM-DD)")
    p.add_argument("--prefix", default="oai_dc", choices=("oai_dc", "marc21", "marcxml"), help="metadata format")
    p.add_argument("--max-records", type=int)
    p.add_argument("--label-taxonomy", help="MARCXML: import the 084 codes as labels of this taxonomy")
    p.add_argument("--collection", help="default: oai-<host>[-<set>]; harvesting again adds only new records")
    p.add_argument("--update-changed", action="store_true", help="a record changed since the last harvest: update it")
    p.add_argument("--user", default="cli")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_harvest)

    p = sub.add_parser("list", help="list what is stored")
    p.add_argument("what", choices=("taxonomies", "batches", "records", "stats"))
    p.add_argument("--limit", type=_positive, default=20)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("search", help="search a taxonomy by code or name")
    p.add_argument("taxonomy")
    p.add_argument("query")
    p.add_argument("--limit", type=_positive, default=10)
    p.add_argument("--lang", default="en")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("export-training", help="write the experts' labels as training data with a split")
    p.add_argument("taxonomy")
    p.add_argument("output", help="file to write (a new folder for --format hf)")
    p.add_argument("--format", choices=("csv", "jsonl", "parquet", "hf", "annif-tsv", "annif-jsonl"),
                   default="parquet", help="annif-tsv / annif-jsonl: an Annif training corpus whose subject URIs "
                                           "are those of export-taxonomy's SKOS file")
    p.add_argument("--only-split", choices=("train", "validation", "test"), help="write only this split's rows")
    p.add_argument("--annotator", action="append", help="only this annotator's labels; repeatable")
    p.add_argument("--since", type=_date, help="labelled on or after (YYYY-MM-DD)")
    p.add_argument("--until", type=_date, help="labelled up to and including (YYYY-MM-DD)")
    p.add_argument("--level", type=_positive, help="cut codes at this level")
    p.add_argument("--rows", choices=("latest", "all"), default="latest",
                   help="one row per record (latest label) or per record and annotator")
    p.add_argument("--include-machine", action="store_true", help="include machine-accepted labels")
    p.add_argument("--include-imported", action="store_true", help="include labels from imported files")
    p.add_argument("--validation", type=_share, default=0.1)
    p.add_argument("--test", type=_share, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_export_training)

    p = sub.add_parser("export-final", help="every record's final code with its provenance (expert > machine > "
                                            "imported), for the catalogue")
    p.add_argument("taxonomy")
    p.add_argument("output", help=".csv or .xlsx (for spreadsheets) or .jsonl")
    p.add_argument("--collection", help="only this collection's records")
    p.add_argument("--lang", default="en", help="language of the code names")
    p.set_defaults(func=cmd_export_final)

    p = sub.add_parser("write-back", help="the library system's export (MARC21, MARCXML, RIS, BibTeX, DC) with each "
                                          "record's final codes added (MARC 084 $a code $2 scheme $q provenance; "
                                          "RIS / BibTeX keywords), every other field kept")
    p.add_argument("taxonomy")
    p.add_argument("original", help="the file as it was imported")
    p.add_argument("output")
    p.add_argument("--collection", help="the collection it was imported into (needed where ids repeat)")
    p.set_defaults(func=cmd_write_back)
