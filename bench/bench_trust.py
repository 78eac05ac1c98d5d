"""Do the learning loop's figures tell the truth? Prints one JSON line.

    .venv/bin/python bench/bench_trust.py [--splits 5] [--kind tfidf] [--labelled 110 | 50,110,176]

The Hungarian pre-agenda speeches (220, CAP major topics), as a collection arrives: for each of
``--splits`` random splits, a workspace imports ``--labelled`` speeches (default 110, half) **with**
their CAP codes,
an expert confirms 20 of them, and a lead trains a version on the imported and expert labels.
The workspace holds out its own stratified evaluation set (a fifth of the labels) and reports
the version's micro F1 on it with a 95 % bootstrap interval, and the recipe's cross-validated
micro F1 on its training records (also with an interval). The same version is then run on the
other speeches, which no part of the workspace has seen: its F1 there is the truth the
figures should agree with. Reported per split and in summary: records held out, each figure,
its interval, whether the unseen F1 lies inside it, and the interval's width; and the figure the
lead reads first by the rule of ``core.work.verdicts`` (cross-validated while the evaluation set is
small, with the span of both intervals as where the F1 on new records likely lies) and whether
the unseen F1 lies inside it.

Also: the figures of the previous behaviour's trap, a version scored on its own training
records (what the Performance page showed before training records were left out).
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

from core.domain.metrics import evaluate, intervals  # noqa: E402
from core.models.runtimes import load_classifier  # noqa: E402
from core.models.scoring import predicted_codes, rank  # noqa: E402
from core.store import Store  # noqa: E402

Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspaces
from core.work.annotation import Annotator  # noqa: E402
from core.work.learning import TrainOptions, train_version  # noqa: E402
from core.work.records_import import import_records  # noqa: E402
from core.work.verdicts import likely_range, small_eval_reason  # noqa: E402
from core.work.workspace import ensure_builtin_taxonomies  # noqa: E402


def speeches() -> pd.DataFrame:
    frame = pd.read_csv(CORPORA / "cap_hu_pre_agenda_speeches_sample.csv", dtype=str, keep_default_na=False)
    frame["title"] = frame["agenda_item_title"].str.strip('"')
    return frame


def f1_on(clf, taxonomy, texts: list[str], gold: list[str]) -> tuple[float, list[float]]:
    ranked = rank(clf.manifest, clf.predict_scores(texts), taxonomy, top_k=3)
    predicted = [predicted_codes(r, clf.manifest.multi_label) for r in ranked]
    truth = [[g] for g in gold]
    return float(evaluate(truth, predicted, taxonomy).summary["micro_f1"]), intervals(truth, predicted)["micro_f1"]


def one_split(frame: pd.DataFrame, seed: int, kind: str, work: Path, labelled: int = 110) -> dict:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    mine, unseen = frame.iloc[order[:labelled]], frame.iloc[order[labelled:]]
    with Store(work / f"ws{seed}.db") as store:
        ensure_builtin_taxonomies(store)
        cap = store.load_taxonomy("cap")
        import_records(store, mine.to_csv(index=False).encode(), "speeches.csv", label_taxonomy=cap,
                       mapping={"id": "text_id", "title": "title", "abstract": "text", "label": "cap_major"})
        ids = {r["external_id"]: r["id"] for r in store.db.query("SELECT id, external_id FROM records")}
        expert = Annotator(store, "expert", "expert", cap)
        for external_id, code in list(zip(mine["text_id"], mine["cap_major"]))[:20]:
            expert.correct(ids[external_id], [code], ())
        start = time.perf_counter()
        report = train_version(store, cap, work / f"models{seed}",
                               TrainOptions(kind, include_imported=True, seed=seed), by="lead")
        seconds = time.perf_counter() - start
        clf = load_classifier(report.folder)
        reader = clf.manifest
        texts = [reader.text_of({"title": t, "abstract": a}) for t, a in zip(unseen["title"], unseen["text"])]
        truth_f1, truth_interval = f1_on(clf, cap, texts, unseen["cap_major"].tolist())
        trained = [reader.text_of({"title": t, "abstract": a}) for t, a in zip(mine["title"], mine["text"])]
        own_f1, _ = f1_on(clf, cap, trained, mine["cap_major"].tolist())  # includes its training records
    held = report.after
    cv = report.cross_validated or {}
    low, high = held["intervals"]["micro_f1"]
    cv_low, cv_high = cv["intervals"]["micro_f1"]
    # the figure the lead reads first, by the rule every screen uses (core.work.verdicts)
    small = small_eval_reason(int(held["records"]), len(set(mine["cap_major"])))
    lead_low, lead_high = likely_range(held, cv) if small and cv else (low, high)
    return {"seed": seed, "labels": len(mine), "trained_on": report.examples, "held_out": report.eval_records,
            "eval_f1": held["summary"]["micro_f1"], "eval_interval": [low, high],
            "cv_records": cv.get("records"), "cv_f1": cv["summary"]["micro_f1"], "cv_interval": [cv_low, cv_high],
            "unseen_records": len(unseen), "unseen_f1": round(truth_f1, 4), "unseen_interval": truth_interval,
            "unseen_inside_eval_interval": bool(low <= truth_f1 <= high),
            "unseen_inside_cv_interval": bool(cv_low <= truth_f1 <= cv_high),
            "lead_figure": "cross-validated" if small and cv else "evaluation",
            "unseen_inside_lead_interval": bool(lead_low <= truth_f1 <= lead_high),
            "f1_on_its_own_labelled_records": round(own_f1, 4), "train_seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--kind", default="tfidf", choices=("tfidf", "head", "ensemble"))
    parser.add_argument("--labelled", default="110", help="speeches the workspace imports with labels (the rest "
                                                          "stay unseen); several, comma-separated: 50,110,176")
    args = parser.parse_args()
    frame = speeches()
    out = [summary(frame, args.kind, args.splits, int(n)) for n in args.labelled.split(",")]
    print(json.dumps(out[0] if len(out) == 1 else {"bench": "trust", "kind": args.kind, "splits": args.splits,
                                                   "by_labels": out}))


def summary(frame: pd.DataFrame, kind: str, splits: int, labelled: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_split(frame, seed, kind, Path(tmp), labelled) for seed in range(splits)]
    mean = lambda key: round(float(np.mean([r[key] for r in runs])), 4)  # noqa: E731
    return {
        "bench": "trust", "kind": kind, "splits": splits, "labelled": labelled,
        "lead_figure": sorted({r["lead_figure"] for r in runs}),
        "unseen_inside_lead_interval": sum(r["unseen_inside_lead_interval"] for r in runs),
        "held_out_mean": mean("held_out"), "eval_f1_mean": mean("eval_f1"), "cv_f1_mean": mean("cv_f1"),
        "unseen_f1_mean": mean("unseen_f1"), "own_records_f1_mean": mean("f1_on_its_own_labelled_records"),
        "eval_interval_width_mean": round(float(np.mean([r["eval_interval"][1] - r["eval_interval"][0]
                                                         for r in runs])), 4),
        "cv_interval_width_mean": round(float(np.mean([r["cv_interval"][1] - r["cv_interval"][0] for r in runs])), 4),
        "unseen_inside_eval_interval": sum(r["unseen_inside_eval_interval"] for r in runs),
        "unseen_inside_cv_interval": sum(r["unseen_inside_cv_interval"] for r in runs),
        "runs": runs}


if __name__ == "__main__":
    main()
