"""The learning loop, measured: learning curves (queue order vs random order), cross-validated
Hungarian figures, and the loop's timings. Prints one JSON line.

    .venv/bin/python bench/bench_learning.py [--seeds 3] [--quick]

- Danish municipal agenda items (2,000, CAP major topics): a fixed held-out set of 500; from the
  other 1,500 a simulated expert (the corpus's own codes replayed as corrections through the
  app's Annotator) labels records in the queue's order (the Annotate page's default ``diverse``
  order: least confident first within each predicted category, round-robin over categories; and
  plain least-margin first), scored by the current version, or in random order, in steps
  of 50 ... 1,000; after each step the workspace trains a TF-IDF version (``train_version``: the
  workspace's own evaluation set takes 20 % of the labels) and it is scored on the 500.
- Hungarian speeches (220): 5-fold cross-validated weighted F1 of TF-IDF, head and ensemble.
- Timings: a head on 5,000 labels from the click (cache empty, cache full); TF-IDF on 50,000
  titles; building a 300,000-record cache and re-scoring all 300,000 with a new head; next-record
  latency of the Annotate path with and without a training job running (baseline: without).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPORA = ROOT.parent / "shared" / "data" / "corpora"

from core.domain.labels import QueueSpec  # noqa: E402
from core.models.runtimes import load_classifier  # noqa: E402
from core.store import Store  # noqa: E402

Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspaces
from core.work.annotation import Annotator, Queue, model_view, score_records  # noqa: E402
from core.work.learning import TrainOptions, train_version  # noqa: E402
from core.work.records_import import import_records  # noqa: E402
from core.work.workspace import ensure_builtin_taxonomies  # noqa: E402

STEPS = (50, 100, 250, 500, 750, 1000)


def weighted_f1(clf, texts, gold) -> float:
    from sklearn.metrics import f1_score

    scores = clf.predict_scores(texts)
    pred = [clf.manifest.codes[i] for i in scores.argmax(1)]
    return float(f1_score(gold, pred, average="weighted", zero_division=0))


def workspace(folder: Path, frame: pd.DataFrame, text: str, language: str) -> tuple[Store, dict]:
    frame[["id", text]].to_csv(folder / "in.csv", index=False)
    store = Store(folder / "ws.db")
    ensure_builtin_taxonomies(store)
    import_records(store, folder / "in.csv", "in.csv", mapping={"id": "id", "title": text},
                   default_language=language, on_error="skip")
    ids = {r["external_id"]: r["id"] for r in store.db.query("SELECT id, external_id FROM records")}
    return store, ids


def curve(order: str, seed: int, data: pd.DataFrame, held: pd.DataFrame) -> list[float]:
    """Weighted F1 on ``held`` after each step; ``order``: "random" or a queue order."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store, ids = workspace(tmp, data, "text", "da")
        cap = store.load_taxonomy("cap")
        ann = Annotator(store, "sim", "expert", cap)
        code_of = {ids[e]: c for e, c in zip(data["id"], data["major_code"]) if e in ids}
        rng = np.random.default_rng(seed)
        random_order = [int(r) for r in rng.permutation(sorted(code_of))]
        labelled, figures, clf = set(), [], None
        for step in STEPS:
            need = step - len(labelled)
            if order != "random" and clf is not None:
                spec = QueueSpec(taxonomy_id=cap.id, order=order,
                                 model_name=clf.manifest.name, model_version=clf.manifest.version)
                candidates = [r for r in store.queue_ids(spec, limit=need * 3) if r not in labelled]
                chosen = candidates[:need]
                if len(chosen) < need:
                    chosen += [r for r in random_order if r not in labelled and r not in chosen][:need - len(chosen)]
            else:
                chosen = [r for r in random_order if r not in labelled][:need]
            for rid in chosen:
                ann.correct(rid, [code_of[rid]], ())
                labelled.add(rid)
            report = train_version(store, cap, tmp / "models", TrainOptions("tfidf", seed=seed))
            clf = load_classifier(report.folder)
            figures.append(weighted_f1(clf, held["text"].tolist(), held["major_code"].tolist()))
            if order != "random":
                pool = [r for r in code_of if r not in labelled]
                score_records(store, clf, cap, pool)
        store.close()
        return figures


def danish(seeds: int) -> dict:
    """Curves for the Annotate page's default queue order ("queue"), plain least-margin first
    ("margin") and random order, on the same seeds."""
    data = pd.read_csv(CORPORA / "cap_dk_local_agenda_items.csv", dtype=str).dropna(subset=["text"]).head(2000)
    data = data.sample(frac=1.0, random_state=0).reset_index(drop=True)
    held, pool = data.iloc[:500], data.iloc[500:].reset_index(drop=True)
    out = {}
    default = QueueSpec.__dataclass_fields__["order"].default
    for name, order in (("queue", default), ("margin", "margin"), ("random", "random")):
        runs = np.array([curve(order, s, pool, held) for s in range(seeds)])
        out[name] = {"order": order, "mean": [round(float(x), 4) for x in runs.mean(0)],
                     "spread": [round(float(x), 4) for x in runs.std(0)]}
    q, r = np.array(out["queue"]["mean"]), np.array(out["random"]["mean"])
    out["steps"] = list(STEPS)
    out["queue_above_random_from_250"] = bool(np.all(q[2:] > r[2:]))
    reach = [s for s, v in zip(STEPS, q) if v >= r[-1]]
    out["queue_labels_to_reach_random_1000"] = reach[0] if reach else None
    return out


def hungarian() -> dict:
    from sklearn.model_selection import StratifiedKFold

    from core.models.encoder import Encoder, ensure_encoder
    from core.models.kinds.ensemble import build_ensemble
    from core.models.kinds.head import build_head
    from core.models.kinds.tfidf import build_tfidf
    from core.models.manifest import Manifest

    data = pd.read_csv(CORPORA / "cap_hu_pre_agenda_speeches_sample.csv", dtype=str).dropna(subset=["text"])
    texts = (data["agenda_item_title"].fillna("").str.strip('"') + ". " + data["text"]).tolist()
    codes = data["cap_major"].astype(str).tolist()
    encoder_dir = ensure_encoder(ROOT / "models")
    vectors = Encoder(encoder_dir).embed(texts)
    scores: dict[str, list[float]] = {"tfidf": [], "head": [], "ensemble": []}
    counts = pd.Series(codes).value_counts()
    strat = [c if counts[c] >= 5 else "rare" for c in codes]
    for k, (train, test) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(texts, strat)):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            base = Manifest("hu", "1", "cap", (), "", input_fields=("title",))
            y = [[codes[i]] for i in train]
            t = build_tfidf([texts[i] for i in train], y, tmp / "t", base)
            h = build_head(vectors[train], y, tmp / "h", base, encoder_dir)
            build_ensemble([(tmp / "t", *t), (tmp / "h", *h)], y, tmp / "e", base)
            gold = [codes[i] for i in test]
            for name in scores:
                scores[name].append(weighted_f1(load_classifier(tmp / name[0]), [texts[i] for i in test], gold))
    return {name: round(float(np.mean(v)), 4) for name, v in scores.items()}


def timings(quick: bool) -> dict:
    out = {}
    kept = tempfile.TemporaryDirectory()  # the trained versions, used again by the re-scoring step
    models = Path(kept.name) / "models"
    mag = pd.read_csv(CORPORA / "sci_mag_paper_titles_dev.csv", dtype=str).dropna(subset=["title"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = 5000
        frame = pd.concat([mag] * (n // len(mag) + 1)).head(n).reset_index(drop=True)
        frame["id"] = [f"r{i}" for i in range(n)]
        frame["title"] = frame["title"] + [f" ({i % 7})" for i in range(n)]
        store, ids = workspace(tmp, frame, "title", "en")
        ford = store.load_taxonomy("ford")
        ann = Annotator(store, "sim", "expert", ford)
        for e, c in zip(frame["id"], frame["ford_l2"]):
            ann.correct(ids[e], [c], ())
        import os
        import shutil

        # a workspace's models folder has the shared encoder (the set-up exports it): link it in
        shutil.copytree(ROOT / "models" / ".encoders", models / ".encoders", copy_function=os.link)
        start = time.perf_counter()
        train_version(store, ford, models, TrainOptions("head"))
        out["head_5000_labels_cache_empty_s"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        head = train_version(store, ford, models, TrainOptions("head"))
        out["head_5000_labels_cache_full_s"] = round(time.perf_counter() - start, 1)
        # the Annotate path, with and without a training job running beside it
        queue = Queue.build(store, QueueSpec(taxonomy_id="ford", status="any", order="import"), limit=400)
        clf = load_classifier(ROOT / "models" / "ford-tfidf")
        lat = Annotator(store, "lat", "expert", ford)

        def next_records(k: int) -> list[float]:
            times = []
            for _ in range(k):
                t0 = time.perf_counter()
                record = store.record(queue.current)
                view = model_view(clf, ford, record, top_k=9, store=store)
                lat.accept(record["id"], view.suggestions[0], view.suggestions)
                queue.next_open(store, "lat")
                times.append(time.perf_counter() - t0)
            return times

        quiet = next_records(60)
        from core.jobs.training import create_training_job, launch_training, training_jobs

        job = create_training_job(store, "ford", TrainOptions("ensemble"), models, "bench")
        launch_training(store.path, job)
        time.sleep(3)
        busy = next_records(60)
        while not training_jobs(store)[0].finished:
            time.sleep(0.5)
        out["next_record_p95_ms_idle"] = round(float(np.percentile(quiet, 95)) * 1000, 1)
        out["next_record_p95_ms_training"] = round(float(np.percentile(busy, 95)) * 1000, 1)
        out["next_record_p95_ratio"] = round(out["next_record_p95_ms_training"] / out["next_record_p95_ms_idle"], 2)
        store.close()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = 50_000
        frame = pd.concat([mag] * (n // len(mag) + 1)).head(n).reset_index(drop=True)
        frame["id"] = [f"t{i}" for i in range(n)]
        store, ids = workspace(tmp, frame, "title", "en")
        ford = store.load_taxonomy("ford")
        ann = Annotator(store, "sim", "expert", ford)
        with store.write():
            for e, c in zip(frame["id"], frame["ford_l2"]):
                ann.correct(ids[e], [c], ())
        start = time.perf_counter()
        train_version(store, ford, tmp / "models", TrainOptions("tfidf"))
        out["tfidf_50000_titles_s"] = round(time.perf_counter() - start, 1)
        store.close()
    rows = 30_000 if quick else 300_000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frame = pd.concat([mag] * (rows // len(mag) + 1)).head(rows).reset_index(drop=True)
        frame["id"] = [f"c{i}" for i in range(rows)]
        store, ids = workspace(tmp, frame, "title", "en")
        ford = store.load_taxonomy("ford")
        clf = load_classifier(head.folder)
        from core.work.embeddings import fill_cache

        start = time.perf_counter()
        fill_cache(store, clf, batch=20_000)
        out["cache_build_records"] = rows
        out["cache_build_s"] = round(time.perf_counter() - start, 1)
        out["cache_unique_texts"] = int(frame["title"].nunique())
        start = time.perf_counter()
        score_records(store, clf, ford, sorted(ids.values()), chunk=20_000)
        out["rescore_with_head_s"] = round(time.perf_counter() - start, 1)
        store.close()
    kept.cleanup()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=("danish", "hungarian", "timings"))
    args = parser.parse_args()
    result = {"bench": "learning"}
    if args.only in (None, "hungarian"):
        result["hungarian_5fold_weighted_f1"] = hungarian()
    if args.only in (None, "timings"):
        result["timings"] = timings(args.quick)
    if args.only in (None, "danish"):
        result["danish_curve_weighted_f1"] = danish(1 if args.quick else args.seeds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
