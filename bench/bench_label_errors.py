"""Labels that look wrong, measured: 10 % of a corpus's training labels are replaced by a random
other code, then confident learning (``core.work.label_quality.flag_labels``) ranks the labels.

Per corpus (NYT headlines with CAP major topics, MAG titles with FORD fields; a stratified 80/20
split), one JSON line: precision and recall of the flagging in the top 10 % and 20 % of the ranking
and of the whole flagged set, and the held-out weighted F1 of TF-IDF + logistic regression trained
on the clean labels, on the noisy ones, on the noisy ones less the flagged, and after the flagged
labels are fixed (the gold code as the simulated expert's answer), and less only the worst-ranked
flags, 5 % and 10 % of the labels (the training option ``leave_out_flagged``).

    .venv/bin/python bench/bench_label_errors.py [--rows 4000] [--noise 0.1] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPORA = {"nyt": ("cap_nyt_headlines_sample.csv", "title", "cap_major"),
           "mag": ("sci_mag_paper_titles_dev.csv", "title", "ford_l2")}


def f1_of(train_texts, train_codes, test_texts, test_codes) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                          LogisticRegression(C=10.0, max_iter=2000)).fit(train_texts, train_codes)
    return round(float(f1_score(test_codes, model.predict(test_texts), average="weighted")), 4)


def run(name: str, rows: int, noise: float, seed: int) -> dict:
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from core.work.label_quality import flag_labels

    file, text, label = CORPORA[name]
    frame = pd.read_csv(ROOT / "data" / "corpora" / file, dtype=str, keep_default_na=False)
    frame = frame[(frame[text].str.strip() != "") & (frame[label] != "")]
    counts = frame[label].value_counts()
    frame = frame[frame[label].map(counts) >= 20]
    frame = frame.sample(n=min(rows, len(frame)), random_state=seed)
    train, test = train_test_split(frame, test_size=0.2, random_state=seed, stratify=frame[label])
    texts, gold = train[text].tolist(), train[label].tolist()
    codes = sorted(set(gold))
    rng = np.random.default_rng(seed)
    wrong = rng.permutation(len(gold))[: int(round(noise * len(gold)))]
    noisy = list(gold)
    for i in wrong:
        noisy[i] = rng.choice([c for c in codes if c != gold[i]])
    started = time.perf_counter()
    ranked, _, _ = flag_labels(texts, noisy, seed=seed)
    seconds = time.perf_counter() - started
    truth = set(int(i) for i in wrong)

    def pr(flagged) -> dict:
        flagged = set(int(i) for i in flagged)
        hit = len(flagged & truth)
        return {"flagged": len(flagged), "precision": round(hit / len(flagged), 3) if flagged else None,
                "recall": round(hit / len(truth), 3)}

    out = {"corpus": name, "train": len(texts), "test": len(test), "codes": len(codes), "noise": noise,
           "wrong_labels": len(truth), "flagging_s": round(seconds, 1),
           "top_10pct": pr(ranked[: len(texts) // 10]), "top_20pct": pr(ranked[: len(texts) // 5]),
           "all_flagged": pr(ranked)}
    test_texts, test_codes = test[text].tolist(), test[label].tolist()
    flagged = set(int(i) for i in ranked)
    keep = [i for i in range(len(texts)) if i not in flagged]
    fixed = [gold[i] if i in flagged else noisy[i] for i in range(len(texts))]
    out["f1_clean"] = f1_of(texts, gold, test_texts, test_codes)
    out["f1_noisy"] = f1_of(texts, noisy, test_texts, test_codes)
    out["f1_flagged_left_out"] = f1_of([texts[i] for i in keep], [noisy[i] for i in keep], test_texts, test_codes)
    out["f1_flagged_fixed"] = f1_of(texts, fixed, test_texts, test_codes)
    for share in (0.05, 0.1):  # the training option: only the worst-ranked flags, a share of the labels
        worst = set(int(i) for i in ranked[: int(share * len(texts))])
        kept = [i for i in range(len(texts)) if i not in worst]
        out[f"f1_worst_{int(share * 100)}pct_left_out"] = f1_of([texts[i] for i in kept], [noisy[i] for i in kept],
                                                               test_texts, test_codes)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=sorted(CORPORA))
    args = parser.parse_args()
    for name in [args.only] if args.only else CORPORA:
        print(json.dumps(run(name, args.rows, args.noise, args.seed)), flush=True)


if __name__ == "__main__":
    main()
