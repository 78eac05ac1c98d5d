"""The learning loop from the command line: train a version, list versions, promote, roll back,
delete, fill the embedding cache, and the training job's worker."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.arguments import _positive
from core.settings import Settings
from core.store import Store


def _open(args: argparse.Namespace) -> tuple[Store, Path]:
    from core.work.workspace import ensure_builtin_taxonomies

    settings = Settings.from_env()
    store = Store(args.db or settings.db_path)
    ensure_builtin_taxonomies(store)
    return store, Path(getattr(args, "models", None) or settings.models_dir)


def _figures(summary: dict | None) -> str:
    if not summary:
        return "no evaluation records yet"
    return ", ".join(f"{k} {v:.3f}" for k, v in summary.items() if k not in ("samples",) and isinstance(v, float))


def cmd_train(args: argparse.Namespace) -> int:
    import time
    from dataclasses import replace

    from core.work.learning import LearningError, TrainOptions, train_version
    from core.work.one_click import FINETUNE_MOST, finetuned_for, one_click

    if args.kind is not None and args.fast:
        raise LearningError("--fast picks the one-click recipe's fast twin: leave out --kind (or name the kind "
                            "and its settings, e.g. --kind ensemble --set head.encoder=e5-fast)")
    if args.finetuned and (args.kind is not None or args.fast):
        raise LearningError("--finetuned picks the fine-tuned mix: leave out --kind and --fast (or name the kind and "
                            "its settings, e.g. --kind ensemble --set members=tfidf+finetune "
                            "--set finetune.encoder=multilingual-e5-small)")
    if args.kind is None and (args.set or args.ray or args.workers):
        raise LearningError("name the kind (--kind) to change its settings; without --kind, train trains the "
                            "one-click recipe (what the Retrain button trains)")
    params = _settings(args) if args.kind else {}
    store, models = _open(args)
    with store:
        shown = {"stage": "", "at": 0.0}

        def progress(stage: str, fraction: float) -> None:
            head = stage.split(" · ")[0]  # "epoch 2/6 · step 30/120": a line per epoch, or every 10 s
            if head != shown["stage"] or time.time() - shown["at"] > 10:
                shown.update(stage=head, at=time.time())
                print(f"  {fraction:4.0%} {stage}", flush=True)

        taxonomy = store.load_taxonomy(args.taxonomy)
        if args.kind is None:  # the one-click recipe, on the labels it reads
            chosen = one_click(store, taxonomy, fast=args.fast)
            if args.finetuned:
                chosen = finetuned_for(store, taxonomy)
                if chosen is None:
                    raise LearningError(
                        f"the fine-tuned mix is for long texts mostly in languages other than English, at most "
                        f"{FINETUNE_MOST:,} labelled records (where it was measured): these labels call for "
                        f"{one_click(store, taxonomy).recipe}")
            print(f"recipe: {chosen.recipe} ({chosen.why()}); on {chosen.used()}", flush=True)
            if chosen.minutes:
                print(f"  fine-tuning takes about {max(1.0, chosen.minutes):.0f} minutes here", flush=True)
            if args.fast and chosen.options == one_click(store, taxonomy).options:
                print("  it runs no transformer: the one-click recipe is its own fast twin", flush=True)
            options = replace(chosen.options, include_machine=args.include_machine, language=args.language or "",
                              level=args.level, name=args.name or "", leave_out_flagged=args.leave_out_flagged or 0.0,
                              workers=args.workers or 1, ray=args.ray or "")
        else:
            options = TrainOptions(args.kind, args.include_imported, args.include_machine, args.language or "",
                                   args.level, args.name or "", params=params,
                                   leave_out_flagged=args.leave_out_flagged or 0.0, workers=args.workers or 1,
                                   ray=args.ray or "")
        report = train_version(store, taxonomy, models, options, by=args.user,
                               compare=Path(args.compare) if args.compare else None, progress=progress)
    print(f"v{report.number} {report.folder}: trained on {report.examples:,} labelled records in "
          f"{report.seconds:.1f} s; evaluation set: {report.eval_records:,} records")
    for entry in report.manifest.training.get("curve") or []:
        start = (f"training loss {entry['train_loss']:.4f}" if entry.get("train_loss") is not None else
                 entry.get("start") or "start")
        print(f"  epoch {entry['epoch']}: {start}" + (
            f", validation macro F1 {entry['val_macro_f1']:.3f}" if entry.get("val_macro_f1") is not None else "")
            + (" (kept)" if entry["epoch"] == report.manifest.training.get("best_epoch") else ""))
    if report.before:
        print(f"  before  {report.manifest.evaluation.get('before_model')}: {_figures(report.before.get('summary'))}")
    print(f"  after   {report.folder.name}: {_figures(report.after.get('summary'))}")
    from core.work.verdicts import report_lines

    for line in report_lines(report.after, report.cross_validated, report.verdict):
        print(f"  {line}")
    return 0


def _settings(args: argparse.Namespace) -> dict:
    """The kind's recipe changes: ``--set NAME=VALUE`` (repeatable)."""
    from core.models import kinds
    from core.work.learning import LearningError

    params = {}
    for item in args.set or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise LearningError(f"--set takes NAME=VALUE, not '{item}'")
        params[name.strip()] = value.strip()
    try:
        kinds.get(args.kind).recipe(params)  # a clear message before any record is read
    except ValueError as exc:
        raise LearningError(str(exc)) from None
    return params


def cmd_kinds(_args: argparse.Namespace) -> int:
    """The kinds a version can be trained as, and each one's settings with their defaults."""
    from core.models import kinds

    for kind in kinds.all_kinds():
        print(f"{kind.name}: {kind.help} (runtime {kind.runtime})")
        for f in kind.fields:
            choices = f" [{' | '.join(map(str, f.choices))}]" if f.choices else ""
            print(f"  --set {f.name}={f.default}{choices}  {f.help}")
    return 0


def cmd_add_encoder(args: argparse.Namespace) -> int:
    """Copy a checked transformers encoder folder into the models folder for the finetune kind."""
    from core.models.tunable_encoders import add_encoder

    models = Path(args.models or Settings.from_env().models_dir)
    target = add_encoder(models, Path(args.folder), args.name or "")
    print(f"encoder {target.name} added ({target}); train with: train TAXONOMY --kind finetune "
          f"--set encoder={target.name}")
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    from core.work.serving import in_use
    from core.work.verdicts import figure_line
    from core.work.versions import current_figures, list_versions

    store, models = _open(args)
    with store:
        promoted = in_use(store, args.taxonomy)
        print("in use: " + (", ".join(f"{lang or 'all languages'}: {name}" for lang, name in promoted.items())
                            or "the default model (nothing promoted)"))
        versions = list_versions(store, args.taxonomy, models)
        records, now = current_figures(store, store.load_taxonomy(args.taxonomy), versions, models)
        print(f"micro F1 today: on the {records:,} records of today's evaluation set; when trained: on the set of then")
        for v in versions:
            summary = (v.figures.get("eval_set") or {}).get("summary") or {}
            figures = now.get(v.folder) or {}
            today = figures.get("summary") or {}
            mark = " [in use" + (f": {', '.join(x or 'all' for x in v.promoted_for)}]" if v.promoted_for else "")
            print(f"v{v.number:<3} {v.folder:<32} {v.kind:<9} parent {v.parent or '-':<22} {v.examples:>7,} records "
                  f"micro F1 today {today.get('micro_f1', 0):.3f} when trained {summary.get('micro_f1', 0):.3f}  "
                  f"{v.size_mb:7.1f} MB  {v.created_at[:16]}" + (mark if v.promoted_for else ""))
            print(f"     today: {figure_line(figures)}")
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    from core.work.versions import promote

    store, models = _open(args)
    with store:
        flagged = promote(store, store.load_taxonomy(args.taxonomy), args.folder, models, args.user,
                          language=args.language or "", accept_drops=args.accept_drops)
    if flagged and not args.accept_drops:
        print("not promoted: F1 drops by more than noise on the evaluation set in " + "; ".join(
            f"{f['code']} {f.get('name', '')} ({f['f1_before']:.2f} -> {f['f1_after']:.2f})" for f in flagged)
            + " (--accept-drops to promote anyway)")
        return 1
    print(f"{args.folder} is the model in use for {args.taxonomy}"
          + (f" ({args.language})" if args.language else ""))
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from core.work.versions import rollback

    store, models = _open(args)
    with store:
        target = rollback(store, args.taxonomy, models, args.user, language=args.language or "")
    print(f"{args.taxonomy}: back to {target or 'the default model'}")
    return 0


def cmd_delete_version(args: argparse.Namespace) -> int:
    from core.work.versions import delete_version, list_versions

    store, models = _open(args)
    with store:
        match = [v for v in list_versions(store, args.taxonomy, models) if f"v{v.number}" == args.version
                 or v.folder == args.version]
        if not match:
            print(f"no kept version '{args.version}' of {args.taxonomy}")
            return 2
        delete_version(store, match[0].id, models, args.user)
    print(f"{match[0].folder} deleted ({match[0].size_mb:.1f} MB); its lineage and figures are kept")
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    from core.models.runtimes import load_classifier
    from core.work.embeddings import cache_key, fill_cache

    store, models = _open(args)
    with store:
        clf = load_classifier(models / args.model)
        if cache_key(clf) is None:
            print(f"'{args.model}' has no sentence encoder: nothing to keep")
            return 2
        done = fill_cache(store, clf, limit=args.limit,
                          progress=lambda d, _total: print(f"  {d:,} encoded", flush=True))
        print(f"{done:,} records encoded; {store.embedding_count(cache_key(clf)):,} kept for {cache_key(clf)}")
    return 0


def cmd_run_embedding(args: argparse.Namespace) -> int:
    from core.jobs.embedding import run_embedding_fill

    job = run_embedding_fill(args.db or Settings.from_env().db_path, args.job)
    print(f"embedding job #{job.id}: {job.status}, {job.done:,} records encoded {job.error}")
    return 0 if job.status in ("done", "cancelled") else 1


def cmd_run_training(args: argparse.Namespace) -> int:
    from core.jobs.training import run_training

    job = run_training(args.db or Settings.from_env().db_path, args.job)
    print(f"training job #{job.id}: {job.status} {job.error}")
    return 0 if job.status in ("done", "cancelled") else 1


def add_parsers(sub) -> None:
    p = sub.add_parser("train", help="train a new model version from the workspace's labels, evaluated on the "
                                     "taxonomy's evaluation set beside the model in use")
    p.add_argument("taxonomy")
    from core.models import kinds

    p.add_argument("--kind", choices=kinds.names(),
                   help="; ".join(f"{k}: {kinds.get(k).help}" for k in kinds.names()) + " (default: the one-click "
                        "recipe the Retrain button trains, on expert labels and imported codes; `kinds` lists each "
                        "kind's settings)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="change a setting of the kind's recipe (repeatable), e.g. --set epochs=4")
    p.add_argument("--ray", metavar="ADDRESS", help="train on this Ray cluster (finetune; ray://host:10001 or "
                                                    "host:6379; 'local' starts one here)")
    p.add_argument("--workers", type=_positive, help="data-parallel training workers (finetune, Ray Train)")
    p.add_argument("--fast", action="store_true",
                   help="without --kind: the one-click recipe's fast twin, for bulk jobs that ask for the fast tier "
                        "(no transformer at run time: TF-IDF + a head on the multilingual encoder's static vectors)")
    p.add_argument("--finetuned", action="store_true",
                   help="without --kind: TF-IDF + the multilingual encoder fine-tuned, the Models page's alternative "
                        "to the one-click recipe for long texts, mostly not English, at most 1,000 labelled records "
                        "(compare the two versions' evaluation-set verdicts)")
    p.add_argument("--name", help="the new model folder's name (default <taxonomy>-v<N>-<kind>)")
    p.add_argument("--include-imported", action="store_true", help="train on the labels of imported files too "
                                                                  "(the one-click recipe always does)")
    p.add_argument("--include-machine", action="store_true", help="train on machine-accepted labels too")
    p.add_argument("--leave-out-flagged", type=float, metavar="SHARE",
                   help="with imported labels: leave out the worst-ranked labels that look wrong and no one has "
                        "reviewed, at most this share of the labels (e.g. 0.05; default: none)")
    p.add_argument("--language", help="only records in this language (the model declares it)")
    p.add_argument("--level", type=_positive, help="cut codes at this level first")
    p.add_argument("--compare", help="a model folder to measure beside it (default: the model in use)")
    p.add_argument("--user", default="cli", help="who trains (recorded with the version)")
    p.add_argument("--models", help="models folder (default: $WORKBENCH_MODELS or ./models)")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("kinds", help="the kinds a version can be trained as, with their settings")
    p.set_defaults(func=cmd_kinds)
    p = sub.add_parser("add-encoder", help="add a transformers encoder folder (config.json, tokenizer, "
                                           "model.safetensors; no remote code) to fine-tune from")
    p.add_argument("folder")
    p.add_argument("--name", help="its name in the models folder (default: the folder's name)")
    p.add_argument("--models")
    p.set_defaults(func=cmd_add_encoder)
    p = sub.add_parser("versions", help="the model versions of a taxonomy, their figures and the model in use")
    p.add_argument("taxonomy")
    p.add_argument("--models")
    p.set_defaults(func=cmd_versions)
    p = sub.add_parser("promote", help="make a model folder the taxonomy's model in use (gated by the evaluation set)")
    p.add_argument("taxonomy")
    p.add_argument("folder")
    p.add_argument("--language", help="only for records in this language")
    p.add_argument("--accept-drops", action="store_true", help="promote even where categories' F1 drops")
    p.add_argument("--user", default="cli")
    p.add_argument("--models")
    p.set_defaults(func=cmd_promote)
    p = sub.add_parser("rollback", help="go back to the model in use before the current one")
    p.add_argument("taxonomy")
    p.add_argument("--language")
    p.add_argument("--user", default="cli")
    p.add_argument("--models")
    p.set_defaults(func=cmd_rollback)
    p = sub.add_parser("delete-version", help="delete a version's folder (not promoted, not an ensemble member)")
    p.add_argument("taxonomy")
    p.add_argument("version", help="vN or the folder name")
    p.add_argument("--user", default="cli")
    p.add_argument("--models")
    p.set_defaults(func=cmd_delete_version)
    p = sub.add_parser("embed", help="keep the encoder vectors of stored records for an encoder model (background)")
    p.add_argument("model", help="a model folder with a sentence encoder (head or ensemble)")
    p.add_argument("--limit", type=_positive)
    p.add_argument("--models")
    p.set_defaults(func=cmd_embed)
    p = sub.add_parser("run-training", help="run a training job of the workspace (the app starts this itself)")
    p.add_argument("job", type=int)
    p.set_defaults(func=cmd_run_training)
    p = sub.add_parser("run-embedding", help="fill the embedding cache (the app starts this itself, at low priority)")
    p.add_argument("job", type=int)
    p.set_defaults(func=cmd_run_embedding)
