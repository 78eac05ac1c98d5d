"""Which queue order saves the most labels: many orders on the Danish CAP learning curve, fast.

    .venv/bin/python bench/bench_queue_orders.py [--seeds 6] [--orders random,diverse,...]
        [--eval-share 0.2] [--retrain-every 0] [--workspace-vocabulary]

``bench_learning.py`` measures the shipped queue through the app's own API (a workspace, the
Annotator, ``train_version``), which takes minutes per curve. This bench replays the same loop
in memory so that many orders and seeds can be compared in seconds, with the same pieces:

- the same data and split: the first 2,000 Danish agenda items (CAP major topics), shuffled with
  seed 0, 500 held out, the other 1,500 the pool; labels in steps of 50 ... 1,000;
- the same model: word 1-2-grams + character 2-5-grams TF-IDF fitted on the training texts, a
  class-balanced linear SVM (``TFIDF_C``), margins through a softmax (temperature 0.25, the value
  the workbench fitted on this corpus);
- the same evaluation withholding: each label goes, once, to the evaluation set or to training by
  the workbench's rule (per category, ``EVAL_SHARE`` of its labels, in hash order of the record);
- weighted F1 on the 500 held-out items after each step.

Orders: ``random``; ``margin`` (least margin first); ``entropy``; ``diverse`` (the Annotate page's
default: least margin within each predicted category, round-robin over categories); ``density``
(``diverse`` ranked by (1 - margin) x similarity to the pool's centroid); ``committee``
(``diverse`` on the mean of word-only, character-only and the full model's scores); ``contrastive``
(records whose prediction differs most from their 10 nearest labelled neighbours').

Prints one JSON line: per order the mean and spread of each step, and the labels at which the
order first reaches random order's 1,000-label F1.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPORA = ROOT.parent / "shared" / "data" / "corpora"

from core.models.kinds.tfidf import TFIDF_C  # noqa: E402
from core.models.tfidf_onnx import SKLEARN_TOKEN_PATTERN  # noqa: E402
from core.work.evaluation_set import EVAL_SHARE  # noqa: E402

STEPS = (50, 100, 250, 500, 750, 1000)
TEMPERATURE = 0.25
ORDERS = ("random", "margin", "entropy", "diverse", "density", "committee", "contrastive")


@functools.lru_cache(maxsize=1)
def load():
    data = pd.read_csv(CORPORA / "cap_dk_local_agenda_items.csv", dtype=str).dropna(subset=["text"]).head(2000)
    data = data.sample(frac=1.0, random_state=0).reset_index(drop=True)
    held, pool = data.iloc[:500], data.iloc[500:].reset_index(drop=True)
    return pool["text"].tolist(), np.array(pool["major_code"]), held["text"].tolist(), held["major_code"].tolist()


def vectorizers(texts, word=True, char=True):
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    parts = []
    if word:
        parts.append(TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=SKLEARN_TOKEN_PATTERN,
                                     sublinear_tf=True, max_features=200_000).fit(texts))
    if char:
        parts.append(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                     min_df=2 if len(texts) > 50 else 1, max_features=300_000).fit(texts))
    return lambda xs: hstack([p.transform(xs) for p in parts]).tocsr()


def softmax(z):
    z = z / TEMPERATURE
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


class Loop:
    def __init__(self, order: str, seed: int, options: dict):
        self.T, self.Y, self.HT, self.HY = load()
        self.order, self.options = order, options
        self.random = [int(i) for i in np.random.default_rng(seed).permutation(len(self.T))]
        self.hash = {i: hashlib.sha256(f"cap:{i}".encode()).hexdigest() for i in range(len(self.T))}
        self.split: dict[int, str] = {}
        self.vocabulary = vectorizers(self.T) if options["workspace_vocabulary"] else None
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.neighbour_space = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                               min_df=2).fit_transform(self.T)

    def assign(self, labelled):
        """The workbench's evaluation-set rule (``core.work.evaluation_set.sync_eval_set``)."""
        total, held = {}, {}
        for r in labelled:
            total[self.Y[r]] = total.get(self.Y[r], 0) + 1
            held[self.Y[r]] = held.get(self.Y[r], 0) + (self.split.get(r) == "eval")
        for r in sorted((r for r in labelled if r not in self.split), key=self.hash.get):
            code = self.Y[r]
            split = "eval" if held.get(code, 0) < int(np.floor(self.options["eval_share"] * total[code] + 0.5)) else "train"
            held[code] = held.get(code, 0) + (split == "eval")
            self.split[r] = split

    def fit(self, rows, word=True, char=True):
        from sklearn.svm import LinearSVC

        texts = [self.T[i] for i in rows]
        features = self.vocabulary if self.vocabulary is not None and word and char else vectorizers(texts, word, char)
        model = LinearSVC(C=TFIDF_C, class_weight="balanced", max_iter=5000).fit(features(texts), self.Y[rows])
        return model, features

    def scores(self, fitted, rows):
        model, features = fitted
        return softmax(model.decision_function(features([self.T[i] for i in rows])))

    def pick(self, fitted, labelled: set, need: int) -> list[int]:
        if self.order == "random" or fitted is None:
            return [i for i in self.random if i not in labelled][:need]
        rest = np.array([i for i in range(len(self.T)) if i not in labelled])
        p = self.scores(fitted, rest)
        classes = fitted[0].classes_
        if self.order == "committee":
            train = [i for i in labelled if self.split.get(i) == "train"]
            p = (p + self.scores(self.fit(train, char=False), rest) + self.scores(self.fit(train, word=False), rest)) / 3
        top = np.sort(p, 1)
        margin = top[:, -1] - top[:, -2]
        predicted = classes[p.argmax(1)]
        if self.order == "margin":
            return list(rest[np.argsort(margin, kind="stable")[:need]])
        if self.order == "entropy":
            return list(rest[np.argsort((p * np.log(p + 1e-12)).sum(1), kind="stable")[:need]])
        if self.order == "contrastive":
            lab = np.array(sorted(labelled))
            near = self.neighbour_space[rest] @ self.neighbour_space[lab].T
            mean = self.scores(fitted, lab)[np.argsort(-near.toarray(), 1)[:, :10]].mean(1)
            kl = (mean * np.log((mean + 1e-9) / (p + 1e-9))).sum(1)
            return list(rest[np.argsort(-kl, kind="stable")[:need]])
        urgency = 1 - margin
        if self.order == "density":
            x = self.neighbour_space[rest]
            urgency = urgency * np.asarray(x @ np.asarray(x.sum(0)).ravel()).ravel() / len(rest)
        # round-robin over predicted categories, most urgent first within each (the "diverse" order)
        rank: dict[str, int] = {}
        keys = []
        for j in np.argsort(-urgency, kind="stable"):
            keys.append((rank.get(predicted[j], 0), -urgency[j], j))
            rank[predicted[j]] = rank.get(predicted[j], 0) + 1
        keys.sort()
        return [int(rest[k[2]]) for k in keys[:need]]

    def curve(self) -> list[float]:
        from sklearn.metrics import f1_score

        labelled: list[int] = []
        fitted, out = None, []
        every = self.options["retrain_every"]
        for step in STEPS:
            while len(labelled) < step:
                need = min(every or step, step - len(labelled))
                labelled += [int(i) for i in self.pick(fitted, set(labelled), need)]
                self.assign(labelled)
                fitted = self.fit([i for i in labelled if self.split[i] == "train"])
            model, features = fitted
            out.append(float(f1_score(self.HY, model.predict(features(self.HT)), average="weighted",
                                      zero_division=0)))
        return out


def run(job):
    order, seed, options = job
    return Loop(order, seed, options).curve()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--orders", default=",".join(ORDERS))
    parser.add_argument("--eval-share", type=float, default=EVAL_SHARE)
    parser.add_argument("--retrain-every", type=int, default=0, help="labels between retrainings (0: at each step)")
    parser.add_argument("--workspace-vocabulary", action="store_true",
                        help="fit the TF-IDF vocabulary on every pool text instead of the training texts")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    options = {"eval_share": args.eval_share, "retrain_every": args.retrain_every,
               "workspace_vocabulary": args.workspace_vocabulary}
    orders = args.orders.split(",")
    if "random" not in orders:
        orders = ["random", *orders]
    result = {"bench": "queue_orders", "steps": list(STEPS), "seeds": args.seeds, **options, "orders": {}}
    with Pool(args.processes) as pool:
        for order in orders:
            runs = np.array(pool.map(run, [(order, s, options) for s in range(args.seeds)]))
            result["orders"][order] = {"mean": [round(float(x), 4) for x in runs.mean(0)],
                                       "spread": [round(float(x), 4) for x in runs.std(0)]}
    goal = result["orders"]["random"]["mean"][-1]
    for order, figures in result["orders"].items():
        reach = [s for s, v in zip(STEPS, figures["mean"]) if v >= goal]
        figures["labels_to_reach_random_1000"] = reach[0] if reach else None
        figures["f1_at_750_minus_random_1000"] = round(figures["mean"][STEPS.index(750)] - goal, 4)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
