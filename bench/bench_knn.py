"""The ``knn`` kind (the nearest labelled records' codes, weighted by similarity), alone and as an
ensemble member, against today's recipes on the same splits. Prints one JSON line.

    .venv/bin/python bench/bench_knn.py [--seeds 3] [--folds 5] [--only ford,cap,danish,hungarian] [--grid]

- FORD level 2 (arXiv, WOS, MAG) and CAP major topics (US bills, NYT headlines): the stratified
  80/20 splits of ``bench_defaults.py`` (``--seeds``), MiniLM vectors; macro and weighted F1;
- Danish agenda items (2,000) and Hungarian speeches (220), CAP major topics: the 5 stratified folds
  of ``bench_multilingual.py``, multilingual-e5-small vectors; weighted F1.

Models, each the workspace's kind as the loop trains it: ``tfidf``, ``head``, ``knn``,
``tfidf+head`` (today's ensemble recipe), ``tfidf+knn`` and ``tfidf+head+knn`` (weights fitted on
out-of-fold predictions; the knn's are leave-one-out). ``gain`` is each model's figure minus
``tfidf+head``'s, in points. ``--grid``: the knn alone for k in 5, 10, 20, 40 and width in 0.02,
0.05, 0.1 (weighted F1), to choose its defaults.
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

from core.files.shipped import cap_training_set, ford_training_set  # noqa: E402
from core.models.encoder import E5_NAME, ENCODER_NAME, corpus_vectors, ensure_encoder  # noqa: E402
from core.models.kinds.ensemble import build_ensemble  # noqa: E402
from core.models.kinds.head import build_head  # noqa: E402
from core.models.kinds.knn import build_knn  # noqa: E402
from core.models.kinds.tfidf import build_tfidf  # noqa: E402
from core.models.manifest import Manifest  # noqa: E402
from core.models.runtimes import load_classifier  # noqa: E402

MODELS = ("tfidf", "head", "knn", "tfidf+head", "tfidf+knn", "tfidf+head+knn")


def predicted(folder: Path, texts: list[str], vectors: np.ndarray) -> list[str]:
    clf = load_classifier(folder)
    scores = clf.scores_from_vectors(vectors, texts)
    return [clf.manifest.codes[i] for i in scores.argmax(1)]


def fit_all(texts, codes, vectors, train, test, encoder, base, seed: int, grid: bool) -> dict[str, list[str]]:
    labels = [[codes[i]] for i in train]
    held, held_vectors = [texts[i] for i in test], vectors[test]
    tmp = Path(tempfile.mkdtemp(prefix="knn-bench-"))
    try:
        t = build_tfidf([texts[i] for i in train], labels, tmp / "t", replace(base, name="t"), seed=seed)
        h = build_head(vectors[train], labels, tmp / "h", replace(base, name="h"), encoder, seed=seed)
        k = build_knn(vectors[train], labels, tmp / "k", replace(base, name="k"), encoder, seed=seed)
        out = {"tfidf": predicted(tmp / "t", held, held_vectors), "head": predicted(tmp / "h", held, held_vectors),
               "knn": predicted(tmp / "k", held, held_vectors)}
        for name, members in (("tfidf+head", [("t", t), ("h", h)]), ("tfidf+knn", [("t", t), ("k", k)]),
                              ("tfidf+head+knn", [("t", t), ("h", h), ("k", k)])):
            build_ensemble([(tmp / m, *trained) for m, trained in members], labels, tmp / name,
                           replace(base, name=name.replace("+", "-")))
            out[name] = predicted(tmp / name, held, held_vectors)
        if grid:
            for neighbours in (5, 10, 20, 40):
                for width in (0.02, 0.05, 0.1):
                    name = f"knn_k{neighbours}_w{width}"
                    build_knn(vectors[train], labels, tmp / name, replace(base, name="g"), encoder, seed=seed,
                              k=neighbours, width=width)
                    out[name] = predicted(tmp / name, held, held_vectors)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def summary(scores: dict[str, list[float]]) -> dict:
    means = {n: round(float(np.mean(v)), 4) for n, v in scores.items()}
    return {"mean": means, "sd": {n: round(float(np.std(v)), 4) for n, v in scores.items()},
            "gain": {n: round(100 * (v - means["tfidf+head"]), 1) for n, v in means.items()}}


def splits_80_20(taxonomy: str, data, seeds: int, encoder: Path, grid: bool) -> dict:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    texts, codes = list(data.texts), [str(c) for c in data.codes]
    vectors = corpus_vectors(encoder, texts)
    base = Manifest(name="m", version="1", taxonomy=taxonomy, codes=(), runtime="", input_fields=("title",))
    macro: dict[str, list[float]] = {}
    weighted: dict[str, list[float]] = {}
    for seed in range(seeds):
        stratify = codes if min(Counter(codes).values()) >= 2 else None
        train, test = train_test_split(np.arange(len(texts)), test_size=0.2, random_state=seed, stratify=stratify)
        gold = [codes[i] for i in test]
        for name, pred in fit_all(texts, codes, vectors, train, test, encoder, base, seed, grid).items():
            macro.setdefault(name, []).append(float(f1_score(gold, pred, average="macro", zero_division=0)))
            weighted.setdefault(name, []).append(float(f1_score(gold, pred, average="weighted", zero_division=0)))
    return {"records": len(texts), "encoder": "all-MiniLM-L6-v2", "macro_f1": summary(macro),
            "weighted_f1": summary(weighted)}


def folds(texts, codes, n_folds: int, encoder: Path, grid: bool) -> dict:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    vectors = corpus_vectors(encoder, texts)
    base = Manifest(name="m", version="1", taxonomy="cap", codes=(), runtime="", input_fields=("title",))
    counts = Counter(codes)
    strata = [c if counts[c] >= n_folds else "rare" for c in codes]
    weighted: dict[str, list[float]] = {}
    for k, (train, test) in enumerate(StratifiedKFold(n_folds, shuffle=True, random_state=0).split(texts, strata)):
        gold = [codes[i] for i in test]
        for name, pred in fit_all(texts, codes, vectors, train, test, encoder, base, k, grid).items():
            weighted.setdefault(name, []).append(float(f1_score(gold, pred, average="weighted", zero_division=0)))
    return {"records": len(texts), "encoder": "multilingual-e5-small", "weighted_f1": summary(weighted)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", default="ford,cap,danish,hungarian")
    parser.add_argument("--grid", action="store_true", help="also the knn alone over k and width")
    args = parser.parse_args()
    wanted = set(filter(None, args.only.split(",")))
    minilm, e5 = ensure_encoder(ROOT / "models", ENCODER_NAME), ensure_encoder(ROOT / "models", E5_NAME)
    out: dict = {"bench": "knn", "seeds": args.seeds, "folds": args.folds}
    for name, loader in (("ford", ford_training_set), ("cap", cap_training_set)):
        if name in wanted:
            out[name] = splits_80_20(name, loader(), args.seeds, minilm, args.grid)
            print(json.dumps({name: out[name]}), file=sys.stderr, flush=True)
    sets = corpora()
    for name in ("danish", "hungarian"):
        if name in wanted:
            out[name] = folds(*sets[name], args.folds, e5, args.grid)
            print(json.dumps({name: out[name]}), file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
