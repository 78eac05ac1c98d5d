"""Triage at a precision target: per-category thresholds against today's one conformal rate and
against one threshold for all categories, on records no rule was fitted on. Prints one JSON line.

    .venv/bin/python bench/bench_thresholds.py [--seeds 3] [--target 0.95] [--only ford,cap,danish]

Each split (the stratified 80/20 splits of ``bench_defaults.py`` for FORD level 2 and CAP major
topics with MiniLM vectors; Danish agenda items, 80/20, multilingual-e5-small vectors) trains the
recipe the loop trains (``tfidf+head``, weights and temperature on out-of-fold predictions). Every
rule is fitted on what the model's manifest carries (the held-out rows of its out-of-fold
predictions, as triage reads them) and measured on the 20 % test records:

- ``per_category``: each category's lowest threshold from which its precision (shrunk towards all
  categories' at the same score) stays at the target (``core.domain.thresholds``);
- ``one_threshold``: the lowest threshold from which all categories together stay at the target;
- ``conformal``: today's split-conformal rule at miscoverage 1 - target (accepted when the
  prediction set is a single code).

Figures per rule: the share of test records accepted, their precision, and the categories that
accept anything; ``ratio_accepted`` is per_category's accepted share over conformal's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_multilingual import corpora  # noqa: E402

from core.domain.conformal import conformal_rule  # noqa: E402
from core.domain.thresholds import accepted_figures, fit_thresholds, lowest_threshold  # noqa: E402
from core.files.shipped import cap_training_set, ford_training_set  # noqa: E402
from core.models.encoder import E5_NAME, ENCODER_NAME, corpus_vectors, ensure_encoder  # noqa: E402
from core.models.kinds.ensemble import build_ensemble  # noqa: E402
from core.models.kinds.head import build_head  # noqa: E402
from core.models.kinds.tfidf import build_tfidf  # noqa: E402
from core.models.manifest import Manifest  # noqa: E402
from core.models.runtimes import load_classifier  # noqa: E402
from core.work.thresholds import from_manifest  # noqa: E402


def rules_on_split(texts, codes, vectors, train, test, encoder, base, seed: int, target: float) -> dict:
    labels = [[codes[i]] for i in train]
    tmp = Path(tempfile.mkdtemp(prefix="thresholds-bench-"))
    try:
        t = build_tfidf([texts[i] for i in train], labels, tmp / "t", replace(base, name="t"), seed=seed)
        h = build_head(vectors[train], labels, tmp / "h", replace(base, name="h"), encoder, seed=seed)
        build_ensemble([(tmp / "t", *t), (tmp / "h", *h)], labels, tmp / "e", replace(base, name="e"))
        clf = load_classifier(tmp / "e")
        scores = clf.scores_from_vectors(vectors[test], [texts[i] for i in test])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    manifest = clf.manifest
    order = np.argsort(-scores, axis=1)
    tops = [manifest.codes[k] for k in order[:, 0]]
    top = scores[np.arange(len(test)), order[:, 0]]
    second = scores[np.arange(len(test)), order[:, 1]]
    right = [tops[j] == codes[i] for j, i in enumerate(test)]
    fit_tops, fit_scores, fit_right = from_manifest(manifest)
    out = {"fitted_on": len(fit_tops), "test": len(test), "top1_accuracy": round(float(np.mean(right)), 4)}
    per_category = fit_thresholds(fit_tops, fit_scores, fit_right, target, codes=manifest.codes)
    one = lowest_threshold(np.asarray(fit_scores), np.asarray(fit_right), target)
    for name, thresholds in (("per_category", {c: th.threshold for c, th in per_category.items()}),
                             ("one_threshold", {c: one for c in manifest.codes})):
        taken = [s >= thresholds.get(c, np.inf) for c, s in zip(tops, top)]
        figures = accepted_figures(tops, top, right, thresholds)
        figures.update(per_category_precision(tops, taken, right, target))
        out[name] = figures
    rule = conformal_rule(manifest.calibration["conformal_rows"], 1 - target)
    taken = [rule.accepts(float(a), float(b)) for a, b in zip(top, second)]
    k = sum(taken)
    ok = sum(1 for x, r in zip(taken, right) if x and r)
    out["conformal"] = {"records": len(test), "accepted": k, "accept_share": k / len(test),
                        "precision": ok / k if k else None, "errors": k - ok,
                        **per_category_precision(tops, taken, right, target)}
    return out


def per_category_precision(tops, taken, right, target: float, least: int = 10) -> dict:
    """Categories that accepted a test record; of those with ``least`` or more accepted, the
    lowest precision and how many fell more than 5 points under the target."""
    per: dict[str, list[int]] = {}
    for code, x, r in zip(tops, taken, right):
        if x:
            per.setdefault(code, [0, 0])
            per[code][0] += 1
            per[code][1] += int(r)
    measured = [ok / n for n, ok in per.values() if n >= least]
    return {"categories_accepting": len(per), "lowest_category_precision": round(min(measured), 4) if measured else None,
            "categories_under_target": sum(1 for p in measured if p < target - 0.05)}


def mean_of(runs: list[dict]) -> dict:
    out: dict = {"top1_accuracy": round(float(np.mean([r["top1_accuracy"] for r in runs])), 4)}
    for name in ("per_category", "one_threshold", "conformal"):
        share = [r[name]["accept_share"] for r in runs]
        precision = [r[name]["precision"] for r in runs if r[name]["precision"] is not None]
        out[name] = {"accept_share": round(float(np.mean(share)), 4),
                     "precision": round(float(np.mean(precision)), 4) if precision else None,
                     "errors": int(sum(r[name]["errors"] for r in runs)),
                     "accepted": int(sum(r[name]["accepted"] for r in runs)),
                     "categories_accepting": round(float(np.mean([r[name]["categories_accepting"] for r in runs])), 1),
                     "lowest_category_precision": min((r[name]["lowest_category_precision"] for r in runs
                                                       if r[name]["lowest_category_precision"] is not None),
                                                      default=None),
                     "categories_under_target": int(sum(r[name]["categories_under_target"] for r in runs))}
    conformal = out["conformal"]["accept_share"]
    out["ratio_accepted"] = round(out["per_category"]["accept_share"] / conformal, 2) if conformal else None
    return out


def splits(taxonomy: str, texts, codes, seeds: int, encoder: Path, target: float, encoder_name: str) -> dict:
    from sklearn.model_selection import train_test_split

    vectors = corpus_vectors(encoder, texts)
    base = Manifest(name="m", version="1", taxonomy=taxonomy, codes=(), runtime="", input_fields=("title",))
    runs = []
    for seed in range(seeds):
        stratify = codes if min(Counter(codes).values()) >= 2 else None
        train, test = train_test_split(np.arange(len(texts)), test_size=0.2, random_state=seed, stratify=stratify)
        runs.append(rules_on_split(texts, codes, vectors, train, test, encoder, base, seed, target))
    return {"records": len(texts), "encoder": encoder_name, **mean_of(runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--only", default="ford,cap,danish")
    args = parser.parse_args()
    wanted = set(filter(None, args.only.split(",")))
    out: dict = {"bench": "thresholds", "target": args.target, "seeds": args.seeds}
    minilm = ensure_encoder(ROOT / "models", ENCODER_NAME)
    for name, loader in (("ford", ford_training_set), ("cap", cap_training_set)):
        if name in wanted:
            data = loader()
            out[name] = splits(name, list(data.texts), [str(c) for c in data.codes], args.seeds, minilm,
                               args.target, "all-MiniLM-L6-v2")
            print(json.dumps({name: out[name]}), file=sys.stderr, flush=True)
    for name in ("danish", "hungarian"):
        if name in wanted:
            texts, codes = corpora()[name]
            out[name] = splits("cap", list(texts), [str(c) for c in codes], args.seeds,
                               ensure_encoder(ROOT / "models", E5_NAME), args.target, "multilingual-e5-small")
            print(json.dumps({name: out[name]}), file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
