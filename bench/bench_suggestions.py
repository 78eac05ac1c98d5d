"""Suggestions everywhere, measured: zero-shot against supervised on the shipped corpora, calibration,
and the time to score one record against every node. Prints one JSON line.

    .venv/bin/python bench/bench_suggestions.py [--seeds 3]

- FORD level 2 (arXiv, WOS, MAG) and CAP major topics (US bills, NYT headlines): on 3 stratified
  80/20 splits (the defaults' split), a head on the mean-pooled MiniLM vectors (the default
  ``<t>-minilm``) trained on the 80 %, and the zero-shot models (FORD, FORD + SciNoBo rolled up to
  level 2, CAP) whose temperature is fitted on the 80 %; macro and weighted F1 per source on the
  20 %, and the zero-shot's expected calibration error before / after its temperature.
- FORD + SciNoBo cascade (the head chooses the level-2 branch, zero-shot ranks the nodes below,
  weight chosen on a split of the 80 % the head did not train on), rolled up to level 2.
- Time to score one record against all 1,198 FORD + SciNoBo nodes: p50 / p95 from a kept vector
  (the embedding cache) and with the record encoded (a title; a title + abstract).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.files.shipped import builtin_taxonomy, cap_training_set, ford_training_set  # noqa: E402
from core.models.encoder import Encoder, corpus_vectors, ensure_encoder  # noqa: E402
from core.models.kinds.head import build_head  # noqa: E402
from core.models.manifest import Manifest  # noqa: E402
from core.models.runtimes import load_classifier  # noqa: E402
from core.models.scoring import rank  # noqa: E402


def sources_of(data) -> np.ndarray:
    return np.array([name for name, n in data.sources.items() for _ in range(n)])


def f1s(gold, pred) -> dict:
    from sklearn.metrics import f1_score

    return {"macro_f1": round(float(f1_score(gold, pred, average="macro", zero_division=0)), 4),
            "weighted_f1": round(float(f1_score(gold, pred, average="weighted", zero_division=0)), 4)}


def top_at(clf, taxonomy, vectors, level: int) -> list[str]:
    scores = clf.scores_from_vectors(vectors)
    return [r[0].code if r else "" for r in rank(clf.manifest, scores, taxonomy, top_k=1, level=level)]


def compare(name: str, data, taxonomies: list[str], encoder_dir: Path, seeds: int) -> dict:
    from sklearn.model_selection import train_test_split

    from core.models.zeroshot import build_zero_shot

    vectors = corpus_vectors(encoder_dir, data.texts)
    codes = np.array(data.codes)
    src = sources_of(data)
    per: dict[str, dict[str, list]] = {}
    calib: dict[str, list] = {}
    weights: list[float] = []
    counts = {c: int((codes == c).sum()) for c in set(codes)}
    stratify = codes if min(counts.values()) >= 2 else None  # as the defaults' own held-out split
    for seed in range(seeds):
        train, test = train_test_split(np.arange(len(codes)), test_size=0.2, random_state=seed, stratify=stratify)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            base = Manifest("m", "1", name, (), "", input_fields=("title", "abstract", "keywords"))
            build_head(vectors[train], [[c] for c in codes[train]], tmp / "head", base, encoder_dir, seed=seed)
            models = {"head": (load_classifier(tmp / "head"), builtin_taxonomy(name))}
            for tid in taxonomies:
                taxonomy = builtin_taxonomy(tid)
                manifest = build_zero_shot(taxonomy, tmp / tid, Manifest(f"{tid}-zs", "1", tid, (), ""), encoder_dir,
                                           calibration=(vectors[train], list(codes[train])))
                models[f"zero-shot {tid}"] = (load_classifier(tmp / tid), taxonomy)
                calib.setdefault(tid, []).append((manifest.calibration.get("ece_before"),
                                                  manifest.calibration.get("ece_after"),
                                                  manifest.calibration.get("temperature")))
            if "ford-deep" in taxonomies:  # the level-2 head chooses the branch, zero-shot ranks below
                from core.models.cascade import build_cascade

                inner, outer = train_test_split(train, test_size=0.2, random_state=seed)
                build_head(vectors[inner], [[c] for c in codes[inner]], tmp / "inner", base, encoder_dir, seed=seed)
                deep = builtin_taxonomy("ford-deep")
                build_cascade(deep, tmp / "head", tmp / "ford-deep", tmp / "cascade",
                              Manifest("cascade", "1", "ford-deep", (), ""),
                              labelled=(vectors[outer], list(codes[outer])), fit_with=tmp / "inner")
                models["cascade ford-deep"] = (load_classifier(tmp / "cascade"), deep)
                weights.append(load_classifier(tmp / "cascade").manifest.training["weight"])
            for model, (clf, taxonomy) in models.items():
                pred = np.array(top_at(clf, taxonomy, vectors[test], 2 if name == "ford" else 1))
                for source in sorted(set(src)):
                    mask = src[test] == source
                    got = f1s(codes[test][mask], pred[mask])
                    for k, v in got.items():
                        per.setdefault(f"{model} · {source}", {}).setdefault(k, []).append(v)
    out = {key: {k: round(float(np.mean(v)), 4) for k, v in figures.items()} for key, figures in per.items()}
    out["zero_shot_calibration"] = {tid: {"ece_before": round(float(np.mean([c[0] for c in v])), 4),
                                          "ece_after": round(float(np.mean([c[1] for c in v])), 4),
                                          "temperature": round(float(np.mean([c[2] for c in v])), 3)}
                                    for tid, v in calib.items()}
    if weights:
        out["cascade_weights"] = weights
    return out


def timing(encoder_dir: Path) -> dict:
    from core.models.zeroshot import build_zero_shot

    taxonomy = builtin_taxonomy("ford-deep")
    data = ford_training_set()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "zs"
        build_zero_shot(taxonomy, folder, Manifest("zs", "1", "ford-deep", (), ""), encoder_dir)
        clf = load_classifier(folder)
        vectors = corpus_vectors(encoder_dir, data.texts[:200])
        kept = []
        for v in vectors:
            t0 = time.perf_counter()
            rank(clf.manifest, clf.scores_from_vectors(v[None, :]), taxonomy, top_k=9)
            kept.append(time.perf_counter() - t0)
        titles = [t.split(". ")[0] for t in data.texts[:200]]
        encoded, long = [], []
        for title, text in zip(titles[:100], data.texts[:100]):
            t0 = time.perf_counter()
            rank(clf.manifest, clf.predict_scores([title]), taxonomy, top_k=9)
            encoded.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            rank(clf.manifest, clf.predict_scores([text]), taxonomy, top_k=9)
            long.append(time.perf_counter() - t0)

    def ms(values, q):
        return round(float(np.percentile(values, q)) * 1000, 2)

    return {"nodes": len(taxonomy), "leaves": len(clf.manifest.codes),
            "one_record_kept_vector_p50_ms": ms(kept, 50), "one_record_kept_vector_p95_ms": ms(kept, 95),
            "one_title_encoded_p95_ms": ms(encoded, 95), "one_abstract_encoded_p95_ms": ms(long, 95),
            "goal_p95_ms": 30}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    encoder_dir = ensure_encoder(ROOT / "models")
    Encoder(encoder_dir)  # loadable
    result = {"bench": "suggestions",
              "ford_level2": compare("ford", ford_training_set(), ["ford", "ford-deep"], encoder_dir, args.seeds),
              "cap_major": compare("cap", cap_training_set(), ["cap"], encoder_dir, args.seeds),
              "timing": timing(encoder_dir)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
