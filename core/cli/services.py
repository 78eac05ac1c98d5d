"""Models that run elsewhere, from the command line: connect an Annif project, fit a folder's
calibration on a labelled file, and combine folders into an ensemble."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.arguments import _mapping, _positive
from core.settings import Settings
from core.store import Store


def _taxonomy(args: argparse.Namespace, taxonomy_id: str):
    from core.work.workspace import ensure_builtin_taxonomies

    with Store(args.db or Settings.from_env().db_path) as store:
        ensure_builtin_taxonomies(store)
        return store.load_taxonomy(taxonomy_id)


def _models(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "models", None) or Settings.from_env().models_dir)


def _labelled(args: argparse.Namespace, taxonomy, fields=("title", "abstract", "keywords")):
    from core.files.records_io import inspect_source
    from core.work.performance import labelled_texts

    path = Path(args.file)
    if not path.is_file():
        raise FileNotFoundError(f"'{path}' does not exist")
    mapping = _mapping(args, inspect_source(path, path.name).columns, leave_out=("id",))
    return labelled_texts(path, path.name, mapping, taxonomy, input_fields=fields)


def cmd_connect_annif(args: argparse.Namespace) -> int:
    from core.models.runtimes.annif import connect_annif, read_subject_map

    taxonomy = _taxonomy(args, args.taxonomy)
    subjects = None
    if args.subjects:
        path = Path(args.subjects)
        subjects = read_subject_map(path.read_bytes(), path.name, taxonomy)
        print(f"{path.name}: {len(subjects):,} subjects map to codes of '{taxonomy.id}'")
    folder = _models(args) / args.name
    manifest = connect_annif(folder, url=args.url, project=args.project, taxonomy=taxonomy, level=args.level,
                             subjects=subjects, timeout_s=args.timeout, concurrency=args.concurrency,
                             language=args.language or "", replace_existing=args.replace)
    print(f"connected {folder}: {manifest.training['method']}, {len(manifest.codes)} codes")
    _calibrate_if_asked(args, folder, taxonomy)
    return 0


def cmd_connect_llm(args: argparse.Namespace) -> int:
    from core.models.runtimes.llm import connect_llm

    taxonomy = _taxonomy(args, args.taxonomy)
    folder = _models(args) / args.name
    shortlist = None
    if args.shortlist:
        shortlist = Path(args.shortlist)
        shortlist = shortlist if shortlist.is_dir() else _models(args) / args.shortlist
    manifest = connect_llm(folder, taxonomy=taxonomy, level=args.level, mode=args.mode, url=args.url or "",
                           model=args.model or "", local_model=args.local, shortlist=shortlist, top_k=args.top_k,
                           weight=args.weight, timeout_s=args.timeout, concurrency=args.concurrency,
                           api_key_env=args.api_key_env or "", languages=tuple(args.language or ("en",)),
                           replace_existing=args.replace)
    where = manifest.service.get("url") or "a local model (this machine)"
    print(f"connected {folder}: {manifest.training['method']}; record texts go to {where}")
    _calibrate_if_asked(args, folder, taxonomy)
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from core.models.combining import fit_calibration
    from core.models.manifest import load_manifest

    manifest = load_manifest(args.model)
    taxonomy = _taxonomy(args, args.taxonomy or manifest.taxonomy)
    texts, gold = _labelled(args, taxonomy, manifest.input_fields)
    fitted = fit_calibration(args.model, texts, gold, taxonomy, source=f"labelled rows of {Path(args.file).name}")
    c = fitted.calibration
    print(f"{manifest.name}: temperature {c['temperature']:.3f} fitted on {len(texts):,} rows; "
          f"ECE {c['ece_before']:.3f} -> {c['ece_after']:.3f}")
    return 0


def cmd_combine(args: argparse.Namespace) -> int:
    from core.models.combining import combine
    from core.models.manifest import load_manifest

    taxonomy = _taxonomy(args, args.taxonomy or load_manifest(args.members[0]).taxonomy)
    texts, gold = _labelled(args, taxonomy)
    folder = _models(args) / args.name
    manifest = combine(args.members, texts, gold, taxonomy, folder, replace_existing=args.replace)
    weights = ", ".join(f"{m} {w:.2f}" for m, w in zip(manifest.training["members"], manifest.training["weights"]))
    print(f"wrote {folder}: weights {weights}, fitted on {len(texts):,} labelled rows")
    return 0


def _file_args(p) -> None:
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN",
                   help="map title/abstract/keywords/label to the labelled file's columns (default: guessed)")
    p.add_argument("--guess", action="store_true", help="guess the fields not given with --map")


def _service_args(p, *, timeout: float, concurrency: int) -> None:
    p.add_argument("--file", help="labelled records the model did not train on: fit its calibration on them")
    p.add_argument("--timeout", type=float, default=timeout,
                   help=f"seconds to wait for an answer (default {timeout:g})")
    p.add_argument("--concurrency", type=_positive, default=concurrency,
                   help=f"requests at a time (default {concurrency})")
    p.add_argument("--models", help="models folder (default: $WORKBENCH_MODELS or ./models)")
    p.add_argument("--replace", action="store_true", help="replace a folder of that name")
    _file_args(p)


def _calibrate_if_asked(args: argparse.Namespace, folder: Path, taxonomy) -> None:
    from core.models.combining import fit_calibration

    if not args.file:
        print("not calibrated yet: its scores are not probabilities until 'calibrate' fits them on labelled "
              "records it did not train on", file=sys.stderr)
        return
    texts, gold = _labelled(args, taxonomy)
    fitted = fit_calibration(folder, texts, gold, taxonomy, source=f"labelled rows of {Path(args.file).name}")
    c = fitted.calibration
    print(f"calibrated on {Path(args.file).name}: temperature {c['temperature']:.3f}, "
          f"ECE {c['ece_before']:.3f} -> {c['ece_after']:.3f}")


def add_parsers(sub) -> None:
    p = sub.add_parser("connect-annif", help="a model folder that asks an Annif server's project (an ordinary "
                                             "model: suggestions, bulk jobs, evaluation, ensembles)")
    p.add_argument("name", help="the new folder's name in the models folder")
    p.add_argument("--url", required=True, help="the Annif server, e.g. http://localhost:5000")
    p.add_argument("--project", required=True, help="the Annif project id")
    p.add_argument("--taxonomy", required=True)
    p.add_argument("--level", type=_positive, help="outputs at this level (deeper suggestions count for their "
                                                   "ancestor); default: every code")
    p.add_argument("--subjects", help="the project's vocabulary (SKOS Turtle) or a CSV of uri,code, where its "
                                      "URIs are not the workbench's own")
    p.add_argument("--language", help="the label language to ask for (default: the vocabulary's)")
    _service_args(p, timeout=30.0, concurrency=4)
    p.set_defaults(func=cmd_connect_annif)

    p = sub.add_parser("connect-llm", help="a model folder that asks a generative model (an OpenAI-compatible "
                                           "endpoint or a local causal-LM folder), zero-shot or re-ranking")
    p.add_argument("name", help="the new folder's name in the models folder")
    p.add_argument("--taxonomy", required=True)
    p.add_argument("--mode", choices=("zero-shot", "rerank"), default="zero-shot")
    p.add_argument("--url", help="the endpoint's /v1 root, e.g. http://localhost:8000/v1 (vLLM, llama.cpp, Ollama)")
    p.add_argument("--model", help="the endpoint's model name")
    p.add_argument("--local", help="a transformers causal-LM folder instead of an endpoint (GPU where there is one)")
    p.add_argument("--shortlist", help="the supervised model folder whose top-k is re-ranked (or that shortlists "
                                       "a large taxonomy)")
    p.add_argument("--top-k", type=_positive, default=8, help="candidates a record (default 8, at most 26)")
    p.add_argument("--weight", type=float, default=0.5, help="the LLM's share of a re-ranked score (default 0.5)")
    p.add_argument("--level", type=_positive, help="outputs at this level (zero-shot; default the leaves)")
    p.add_argument("--language", action="append", help="a language the model reads well (repeatable; default en)")
    p.add_argument("--api-key-env", help="the environment variable holding the endpoint's key")
    _service_args(p, timeout=60.0, concurrency=2)
    p.set_defaults(func=cmd_connect_llm)

    p = sub.add_parser("calibrate", help="fit a single-label model folder's temperature on a labelled file it did "
                                         "not train on")
    p.add_argument("model", help="model folder")
    p.add_argument("file", help="CSV/TSV/XLSX/JSONL/Parquet with text columns and a gold-code column")
    p.add_argument("--taxonomy", help="default: the model's")
    _file_args(p)
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("combine", help="an ensemble of model folders (ours, Annif's, an LLM's), weights fitted on "
                                       "a labelled file none of them trained on")
    p.add_argument("name", help="the ensemble's folder name in the models folder")
    p.add_argument("members", nargs="+", help="member model folders")
    p.add_argument("--file", required=True, help="labelled records to fit the weights on")
    p.add_argument("--taxonomy", help="default: the first member's")
    p.add_argument("--models", help="models folder (default: $WORKBENCH_MODELS or ./models)")
    p.add_argument("--replace", action="store_true", help="replace a folder of that name")
    _file_args(p)
    p.set_defaults(func=cmd_combine)


__all__ = ["add_parsers"]
