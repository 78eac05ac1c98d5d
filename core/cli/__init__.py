"""Command line: ``python -m core <command>``.

    python -m core import-taxonomy FILE [--id ID] [--name NAME] [--replace]
    python -m core import-records FILE [--map field=column ...] [--label-taxonomy ID] [--skip-bad-rows]
    python -m core list {taxonomies,batches,records,stats}
    python -m core search TAXONOMY QUERY

The workspace is the one the app uses (``WORKBENCH_HOME`` / ``WORKBENCH_DB``), or ``--db PATH``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core.cli.accounts import add_parsers as add_account_parsers
from core.cli.accounts import resolve_actor
from core.cli.arguments import _date, _delimiter, _mapping, _positive, _score, _share
from core.cli.learning import add_parsers as add_learning_parsers
from core.cli.maintenance import cmd_backup, cmd_delete_batch, cmd_export_events, cmd_restore, cmd_verify
from core.cli.services import add_parsers as add_service_parsers
from core.errors import WorkbenchError
from core.files.records_io import ENCODINGS, inspect_source
from core.files.taxonomy_io import read_taxonomy_file
from core.settings import Settings
from core.store import Store
from core.work.records_import import FIELDS, import_records
from core.work.workspace import ensure_builtin_taxonomies


def _store(args: argparse.Namespace) -> Store:
    settings = Settings.from_env()
    store = Store(args.db or settings.db_path)
    ensure_builtin_taxonomies(store)
    return store


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
    from urllib.parse import urlparse

    from core.files.oai import harvest_file

    def progress(count: int) -> None:
        if not args.quiet:
            print(f"harvested {count:,} records", file=sys.stderr)

    data, count = harvest_file(args.endpoint, metadata_prefix=args.prefix, set_=args.set, from_=args.from_date,
                               until=args.until, max_records=args.max_records, progress=progress)
    name = f"oai-{urlparse(args.endpoint).hostname or 'endpoint'}{'-' + args.set if args.set else ''}.jsonl"
    mapping = {"id": "id", "title": "title", "abstract": "abstract", "keywords": "keywords", "language": "language",
               "year": "year"}
    with _store(args) as store:
        label_taxonomy = store.load_taxonomy(args.label_taxonomy) if args.label_taxonomy else None
        if label_taxonomy is not None:
            mapping["label"] = "classification"
        report = import_records(store, data, name, mapping=mapping, fmt="jsonl", label_taxonomy=label_taxonomy,
                                imported_by=args.user, collection=args.collection or name.rsplit(".", 1)[0],
                                on_changed="update" if args.update_changed else "stop")
    print(f"{count:,} records harvested from {args.endpoint}; " + report.summary())
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


def cmd_export_onnx(args: argparse.Namespace) -> int:
    from core.models.export import export_onnx

    samples = [line.strip() for line in Path(args.samples).read_text(encoding="utf-8").splitlines() if line.strip()] \
        if args.samples else DEFAULT_SAMPLES
    report = export_onnx(args.source, args.target, samples, int8=not args.no_int8)
    print(f"wrote {report.folder}: {report.summary()} ({len(samples)} sample texts)")
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    from core.models.runtimes import load_classifier
    from core.models.scoring import suggest

    clf = load_classifier(args.model, threads=args.threads, long_texts=args.long_texts)
    with _store(args) as store:
        taxonomy = store.load_taxonomy(args.taxonomy or clf.manifest.taxonomy)
    for rank in suggest(clf, [args.text], taxonomy, top_k=args.top_k, level=args.level)[0]:
        print(f"{rank.rank}\t{rank.score:.3f}\t{rank.code}\t{taxonomy.path_label(rank.code)}")
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


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json as _json

    from core.files.writers import table_bytes
    from core.models.runtimes import load_classifier
    from core.work.performance import evaluate_file

    clf = load_classifier(args.model, threads=args.threads)
    with _store(args) as store:
        taxonomy = store.load_taxonomy(args.taxonomy or clf.manifest.taxonomy)
    path = Path(args.file)
    if not path.is_file():
        print(f"File problem: '{path}' does not exist", file=sys.stderr)
        return 2
    mapping = _mapping(args, inspect_source(path, path.name).columns, leave_out=("id",))
    report, _ = evaluate_file(clf, taxonomy, path, path.name, mapping, level=args.level)
    s = report.summary
    print(f"{clf.manifest.name} {clf.manifest.version} on {path.name}: {report.samples:,} rows"
          + (f" ({s['rows_without_known_gold']:,} without a known gold code, left out)"
             if s.get("rows_without_known_gold") else "")
          + (f" ({s['rows_without_text']:,} without text, left out)" if s.get("rows_without_text") else ""))
    for label, key in (("strict micro F1", "micro_f1"), ("strict macro F1", "macro_f1"),
                       ("strict weighted F1", "weighted_f1"), ("lenient micro F1", "lenient_micro_f1"),
                       ("hierarchical micro F1", "hierarchical_micro_f1")):
        print(f"  {label:24} {s[key]:.4f}")
    table = report.categories.drop(columns=["lenient_credit_pred", "lenient_credit_true"])
    if args.csv:
        Path(args.csv).write_bytes(table_bytes(table, "csv"))
        print(f"per-category table: {args.csv}")
    if args.json:
        Path(args.json).write_text(_json.dumps(report.to_json_dict(), ensure_ascii=False, indent=1, default=str),
                                   encoding="utf-8")
        print(f"full report: {args.json}")
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from core.jobs import classify_file
    from core.models.runtimes import load_classifier
    from core.work.routing import Route, language_summary

    source = Path(args.input)
    if not source.is_file():
        print(f"File problem: '{source}' does not exist", file=sys.stderr)
        return 2
    if not args.model and not args.route:
        print("Usage problem: give --model FOLDER (every row to each model) or --route TAXONOMY (each row to "
              "the model for its language)", file=sys.stderr)
        return 2
    if args.route and (args.model or args.ray):
        print("Usage problem: --route chooses the models itself; leave out --model and --ray", file=sys.stderr)
        return 2
    routes, counts, workspace = None, {}, None
    if args.route:
        models_dir = Path(args.models_dir or Settings.from_env().models_dir)
        workspace = _store(args)  # its models in use serve the languages (open while the file is read)
        try:
            taxonomies = [workspace.load_taxonomy(t) for t in dict.fromkeys(args.route)]
            routes = [Route(t.id, models_dir, fast=args.fast) for t in taxonomies]
            for route in routes:  # which model serves rows of unknown language: checked before any row is read
                route.folder_name("", workspace)
        except BaseException:
            workspace.close()
            raise
        classifiers = []
    else:
        classifiers = [load_classifier(m, threads=args.threads, long_texts=args.long_texts) for m in args.model]
        with _store(args) as store:  # each model into its own taxonomy (--taxonomy: for models that name none)
            loaded = {t: store.load_taxonomy(t) for t in {c.manifest.taxonomy or args.taxonomy for c in classifiers}
                      if t}
        if len(loaded) < len({c.manifest.taxonomy or args.taxonomy for c in classifiers}):
            print("Model problem: a model names no taxonomy; give --taxonomy", file=sys.stderr)
            return 2
        taxonomies = [loaded[c.manifest.taxonomy or args.taxonomy] for c in classifiers]
    try:
        info = inspect_source(source, source.name, fmt=args.format, encoding=args.encoding, delimiter=args.delimiter)
        mapping = _mapping(args, info.columns, leave_out=("label",))
    except BaseException:
        if workspace is not None:
            workspace.close()
        raise
    if args.ray:
        from core.jobs.ray import classify_on_ray

        start = time.perf_counter()
        rows = classify_on_ray([source], args.output, args.model, taxonomies, mapping, top_k=args.top_k,
                               threshold=args.threshold, level=args.level, fmt=args.format,
                               encoding=args.encoding, delimiter=args.delimiter,
                               workers=args.ray_workers, address=args.ray_address,
                               out_format="parquet" if args.output.endswith("parquet") else "csv")
        seconds = time.perf_counter() - start
        print(f"{rows:,} rows classified on Ray into {args.output}/ in {seconds:,.1f} s")
        return 0
    bar = tqdm(total=100, unit="%", disable=args.quiet, bar_format="{l_bar}{bar}| {postfix}")

    def progress(rows: int, fraction: float) -> None:
        bar.n = round(fraction * 100, 1)
        bar.set_postfix_str(f"{rows:,} rows")

    start = time.perf_counter()
    try:
        rows = classify_file(classifiers, taxonomies, source, source.name, mapping, args.output, top_k=args.top_k,
                             threshold=args.threshold, level=args.level, fmt=args.format, encoding=args.encoding,
                             delimiter=args.delimiter, chunk_size=args.chunk, progress=progress, routes=routes,
                             counts=counts, long_texts=args.long_texts, store=workspace)
    finally:
        if workspace is not None:
            workspace.close()
    bar.close()
    seconds = time.perf_counter() - start
    print(f"{rows:,} rows classified into {args.output} in {seconds:,.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)")
    for line in language_summary(counts):
        per = "; ".join(f"{t}: {', '.join(f'{m} ({n:,})' for m, n in v['models'].items())}"
                        + (f", mean confidence {v['mean_confidence']:.2f}" if v["mean_confidence"] is not None else "")
                        for t, v in line["taxonomies"].items())
        print(f"  {line['language']}: {line['rows']:,} rows · {per}")
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


def cmd_run_job(args: argparse.Namespace) -> int:
    from core.jobs import run_job

    job = run_job(args.db or Settings.from_env().db_path, args.job)
    print(f"job #{job.id}: {job.status}, {job.done:,} of {job.total:,} rows")
    return 0 if job.status in ("done", "cancelled") else 1


DEFAULT_SAMPLES = [
    "Quantum field theory and the renormalization group",
    "The effect of minimum wages on youth unemployment",
    "A randomised trial of statins in elderly patients with heart failure",
    "Voting behaviour of members of parliament after electoral reform",
    "Soil microbial communities under organic farming",
    "Deep convolutional networks for image segmentation",
    "Medieval manuscripts and the history of the book",
    "A bill to amend the Internal Revenue Code to extend tax credits",
]


def build_parser() -> argparse.ArgumentParser:
    called = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    parser = argparse.ArgumentParser(prog="workbench" if called == "workbench" else "python -m core",
                                     description="Subject-classification workbench")
    parser.add_argument("--db", type=Path, help="workspace database (default: $WORKBENCH_DB or workspace/workbench.db)")
    parser.add_argument("--as", dest="as_user", metavar="ACCOUNT",
                        help="the account to act as (default: the one named like the OS user); once the workspace has "
                             "accounts, each command is recorded as that account and checked against its role")
    sub = parser.add_subparsers(dest="command", required=True)

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
    p.add_argument("--format", choices=("csv", "tsv", "xlsx", "jsonl", "parquet", "marc", "marcxml", "ris", "bibtex",
                                        "dc"))
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

    p = sub.add_parser("export-onnx", help="export a transformers classifier folder to ONNX (fp32 + int8)")
    p.add_argument("source", help="folder with config.json, tokenizer files, model.safetensors (+ workbench.json)")
    p.add_argument("target", help="new folder to write")
    p.add_argument("--samples", help="a text file, one sample text a line, for the agreement report")
    p.add_argument("--no-int8", action="store_true")
    p.set_defaults(func=cmd_export_onnx)

    p = sub.add_parser("suggest", help="ranked suggestions for one text from a model folder")
    p.add_argument("model")
    p.add_argument("text")
    p.add_argument("--taxonomy", help="default: the model's")
    p.add_argument("--top-k", type=_positive, default=5)
    p.add_argument("--level", type=_positive, help="report codes cut at this level")
    p.add_argument("--threads", type=_positive, help="CPU threads (default: $WORKBENCH_THREADS or every core)")
    p.add_argument("--long-texts", choices=("truncate", "chunks"), default="truncate",
                   help="cut texts at the model's max length, or read them in overlapping windows and pool")
    p.set_defaults(func=cmd_suggest)

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

    p = sub.add_parser("evaluate", help="run a model over a labelled file and report strict, lenient and "
                                        "hierarchical figures per category")
    p.add_argument("model", help="model folder")
    p.add_argument("file", help="CSV/TSV/XLSX/JSONL/Parquet with text columns and a gold-code column")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN",
                   help="map title/abstract/keywords/label/language/domain to columns (default: guessed)")
    p.add_argument("--guess", action="store_true", help="guess the fields not given with --map")
    p.add_argument("--taxonomy", help="default: the model's")
    p.add_argument("--level", type=_positive, help="evaluate codes cut at this level")
    p.add_argument("--threads", type=_positive)
    p.add_argument("--csv", help="write the per-category table here")
    p.add_argument("--json", help="write the whole report (summary, per category, confusions, groups) here")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("classify", help="classify a file into an output file (CSV or XLSX), streaming")
    p.add_argument("input", help="CSV/TSV/XLSX/JSONL/Parquet of records")
    p.add_argument("output", help="CSV or .xlsx to write: the input's columns + top-k codes, names, scores")
    p.add_argument("--model", action="append", help="model folder; repeat for several models")
    p.add_argument("--route", action="append", metavar="TAXONOMY",
                   help="each row to the model that serves its language (given by a language column, else "
                        "detected) in this taxonomy; repeat for several taxonomies (instead of --model)")
    p.add_argument("--fast", action="store_true", help="with --route: a fast-tier model where one reads the language")
    p.add_argument("--models-dir", help="with --route: the model folders to choose from (default: WORKBENCH_MODELS)")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN", help="map title/abstract/keywords to columns")
    p.add_argument("--guess", action="store_true", help="guess the fields not given with --map")
    p.add_argument("--taxonomy", help="for models that name none (each model classifies into its own)")
    p.add_argument("--top-k", type=_positive, default=3)
    p.add_argument("--threshold", type=_score, default=0.0)
    p.add_argument("--level", type=_positive, help="report codes at this level of the hierarchy")
    p.add_argument("--format", choices=("csv", "tsv", "xlsx", "jsonl", "parquet", "marc", "marcxml", "ris", "bibtex",
                                        "dc"))
    p.add_argument("--encoding", choices=ENCODINGS)
    p.add_argument("--delimiter", type=_delimiter, help="one character (tab: \\t)")
    p.add_argument("--chunk", type=_positive, default=2000, help="rows per chunk (memory stays bounded by it)")
    p.add_argument("--threads", type=_positive)
    p.add_argument("--long-texts", choices=("truncate", "chunks"), default="truncate")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--ray", action="store_true",
                   help="run on Ray (output: a new folder of part files; a name ending in 'parquet' writes Parquet)")
    p.add_argument("--ray-address", help="an existing Ray cluster ('auto' on a node, or ray://head:10001); "
                                         "default: a local Ray instance")
    p.add_argument("--ray-workers", type=_positive, default=2, help="model workers (each loads the model once)")
    p.set_defaults(func=cmd_classify)

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

    p = sub.add_parser("run-job", help="run or resume a bulk classification job of the workspace (the app starts "
                                       "these itself)")
    p.add_argument("job", type=int)
    p.set_defaults(func=cmd_run_job)

    p = sub.add_parser("verify", help="check the annotation log's hash chain (exit 2 if it was tampered with)")
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("backup", help="a consistent copy of the workspace while it runs, with the log's chain head")
    p.add_argument("target", help="new database file to write (TARGET.chain.json is written beside it)")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="replace the workspace with a backup whose log is intact (stop the app first)")
    p.add_argument("backup")
    p.set_defaults(func=cmd_restore)
    add_learning_parsers(sub)
    add_service_parsers(sub)
    add_account_parsers(sub)
    p = sub.add_parser("delete-batch", help="delete an import batch: its records leave queues, exports and figures "
                                            "(tombstones keep the log's references)")
    p.add_argument("batch", type=_positive)
    p.add_argument("--user", default="cli")
    p.set_defaults(func=cmd_delete_batch)
    p = sub.add_parser("export-events", help="the annotation log as JSONL, with its chain head as the last line")
    p.add_argument("output")
    p.set_defaults(func=cmd_export_events)

    p = sub.add_parser("search", help="search a taxonomy by code or name")
    p.add_argument("taxonomy")
    p.add_argument("query")
    p.add_argument("--limit", type=_positive, default=10)
    p.add_argument("--lang", default="en")
    p.set_defaults(func=cmd_search)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        resolve_actor(args)
        Store.process_actor = getattr(args, "acting", None)  # the core checks each gated action against it too
        return args.func(args)
    except WorkbenchError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written, a full disk
        where = f" '{exc.filename}'" if exc.filename else ""
        print(f"File problem{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    finally:
        Store.process_actor = None
