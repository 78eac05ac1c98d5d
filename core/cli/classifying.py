"""Commands that run models: suggest, evaluate, classify a file, the bulk job's worker and
resume, export a transformers folder to ONNX."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core.cli.arguments import _delimiter, _mapping, _positive, _score
from core.cli.common import _store
from core.errors import WorkbenchError
from core.files.records_io import ENCODINGS, FORMATS, inspect_source
from core.settings import Settings
from core.store import Store


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
    within = [c for part in (args.within or []) for c in part.split(",") if c.strip()]
    if within and args.route:
        print("Usage problem: --within limits chosen models; a routed run (--route) cannot be limited",
              file=sys.stderr)
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
        if within:  # every model's taxonomy holds the codes, and every model has a code within them
            from core.models.limits import check_limit, normal_limit

            for clf, tax in zip(classifiers, taxonomies):
                within = list(normal_limit(tax, within))
                check_limit(clf.manifest, tax, within)
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
                               workers=args.ray_workers, address=args.ray_address, within=within,
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
                             counts=counts, long_texts=args.long_texts, store=workspace, within=within)
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


def cmd_run_job(args: argparse.Namespace) -> int:
    from core.jobs import get_job, run_job

    db_path = args.db or Settings.from_env().db_path
    with Store(db_path) as store:
        waiting = get_job(store, args.job)
    if waiting.resumable:  # a stopped job goes on only when someone allowed to resumes it
        raise WorkbenchError(f"job #{waiting.number} is {waiting.status}: resume it with `workbench resume-job "
                             f"{args.job}` or on the Bulk classify page")
    job = run_job(db_path, args.job)
    print(f"job #{job.id}: {job.status}, {job.done:,} of {job.total:,} rows")
    return 0 if job.status in ("done", "cancelled") else 1


def cmd_resume_job(args: argparse.Namespace) -> int:
    from core.jobs import resume_job

    with _store(args) as store:
        pid = resume_job(store, args.job)
    print(f"job #{args.job} goes on in a worker process (pid {pid}); the Bulk classify page shows its progress")
    return 0


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


def add_parsers(sub) -> None:
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
    p.add_argument("--within", action="append", metavar="CODE",
                   help="suggest only within this node and everything below it (scores renormalised there); "
                        "repeat or separate by commas for several")
    p.add_argument("--format", choices=FORMATS)
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

    p = sub.add_parser("run-job", help="the worker of a queued bulk classification job (the app and resume-job "
                                       "start it)")
    p.add_argument("job", type=int)
    p.set_defaults(func=cmd_run_job)

    p = sub.add_parser("resume-job", help="go on with an interrupted, cancelled or failed bulk job from its "
                                          "checkpoint, in a worker process (the rows done stay done)")
    p.add_argument("job", type=int)
    p.set_defaults(func=cmd_resume_job)

    p = sub.add_parser("export-onnx", help="export a transformers classifier folder to ONNX (fp32 + int8)")
    p.add_argument("source", help="folder with config.json, tokenizer files, model.safetensors (+ workbench.json)")
    p.add_argument("target", help="new folder to write")
    p.add_argument("--samples", help="a text file, one sample text a line, for the agreement report")
    p.add_argument("--no-int8", action="store_true")
    p.set_defaults(func=cmd_export_onnx)
