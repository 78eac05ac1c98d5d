"""The default models, measured against the previous defaults on the same held-out splits.
Prints one JSON line.

    .venv/bin/python bench/bench_defaults.py [--seeds 3] [--only ford|cap] [--skip-old]

For FORD level 2 (arXiv, WOS, MAG) and CAP major topics (US bills, NYT headlines), on ``--seeds``
stratified 80/20 splits of the shipped corpora (seed 0 is the defaults' own split), each model is
trained on the 80 % and scored on the 20 %; macro F1 per source and over all ("ALL"):

- ``old_cls``: the previous ``<t>-minilm``: BERT's classification head (pooler + linear) on the
  frozen [CLS] vectors of all-MiniLM-L6-v2;
- ``head``: today's ``<t>-minilm``: logistic regression on the mean-pooled sentence vectors, each
  category weighted by its inverse frequency (``head_plain``: every record weighing the same, the
  head before that);
- ``tfidf``: the workspace's TF-IDF kind (word + character n-grams, linear SVM);
- ``ensemble``: today's ``<t>-ensemble``: ``tfidf`` + ``head``, weights fitted out of fold
  (``ensemble_plain``: with ``head_plain``);
- ``fast``: today's ``<t>-fast``: word TF-IDF + a head on model2vec static vectors.

``gain_over_old`` is each model's macro F1 minus ``old_cls``'s, in points (``--skip-old``: neither,
the slowest part, which encodes every text again); ``fast_share`` is the
fast tier's macro F1 over the MiniLM head's and over the ensemble's.
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

from core.files.shipped import cap_training_set, ford_training_set  # noqa: E402
from core.models.encoder import STATIC_NAME, Encoder, corpus_vectors, ensure_encoder  # noqa: E402
from core.models.kinds.ensemble import build_ensemble  # noqa: E402
from core.models.kinds.head import build_head  # noqa: E402
from core.models.kinds.tfidf import build_tfidf  # noqa: E402
from core.models.manifest import Manifest  # noqa: E402
from core.models.runtimes import load_classifier  # noqa: E402


def old_cls_predictions(texts, codes, train, test, seed, cache: dict) -> list[str]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from core.models.encoder import minilm_dir
    from core.models.transformers_head import _cls_features, _train_head

    if "model" not in cache:
        source = minilm_dir()
        cache["tokenizer"] = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
        cache["model"] = AutoModel.from_pretrained(str(source), local_files_only=True).eval()
    model = cache["model"]
    key = ("cls", len(texts), texts[0])
    if key not in cache:
        cache[key] = _cls_features(model, cache["tokenizer"], texts, 256)
    features = cache[key]
    classes = sorted(set(codes))
    targets = np.array([classes.index(c) for c in codes])
    head = _train_head(features[train], targets[train], len(classes), model.pooler.dense.weight.detach(),
                       model.pooler.dense.bias.detach(), 80, seed)
    with torch.no_grad():
        hidden = torch.tanh(torch.from_numpy(features[test]) @ head[0].T + head[1])
        return [classes[i] for i in (hidden @ head[2].T + head[3]).argmax(1).numpy()]


def predictions(folder: Path, texts: list[str], vectors: np.ndarray | None) -> list[str]:
    clf = load_classifier(folder)
    scores = clf.scores_from_vectors(vectors, texts) if vectors is not None else clf.predict_scores(texts)
    return [clf.manifest.codes[i] for i in scores.argmax(1)]


def compare(taxonomy: str, data, seeds: int, cache: dict, old: bool = True) -> dict:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    texts, codes = list(data.texts), [str(c) for c in data.codes]
    sources = np.array([name for name, n in data.sources.items() for _ in range(n)])
    encoder, static = ensure_encoder(ROOT / "models"), ensure_encoder(ROOT / "models", STATIC_NAME)
    mean, fast = corpus_vectors(encoder, texts), Encoder(static).embed(texts)
    base = Manifest(name="m", version="1", taxonomy=taxonomy, codes=(), runtime="", input_fields=("title",),
                    languages=("en",))
    scores: dict[str, dict[str, list[float]]] = {}
    for seed in range(seeds):
        stratify = codes if min(Counter(codes).values()) >= 2 else None
        train, test = train_test_split(np.arange(len(texts)), test_size=0.2, random_state=seed, stratify=stratify)
        labels = [[codes[i]] for i in train]
        tmp = Path(tempfile.mkdtemp(prefix="defaults-"))
        try:
            t = build_tfidf([texts[i] for i in train], labels, tmp / "t", replace(base, name="t"), seed=seed)
            w = build_tfidf([texts[i] for i in train], labels, tmp / "w", replace(base, name="w"), seed=seed,
                            characters=False)
            h = build_head(mean[train], labels, tmp / "h", replace(base, name="h"), encoder, seed=seed)
            p = build_head(mean[train], labels, tmp / "p", replace(base, name="p"), encoder, seed=seed, balanced=False)
            s = build_head(fast[train], labels, tmp / "s", replace(base, name="s"), static, seed=seed)
            build_ensemble([(tmp / "t", *t), (tmp / "h", *h)], labels, tmp / "e", replace(base, name="e"))
            build_ensemble([(tmp / "t", *t), (tmp / "p", *p)], labels, tmp / "ep", replace(base, name="ep"))
            build_ensemble([(tmp / "w", *w), (tmp / "s", *s)], labels, tmp / "f", replace(base, name="f"))
            held = [texts[i] for i in test]
            predicted = {**({"old_cls": old_cls_predictions(texts, codes, train, test, seed, cache)} if old else {}),
                         "head": predictions(tmp / "h", held, mean[test]),
                         "head_plain": predictions(tmp / "p", held, mean[test]),
                         "tfidf": predictions(tmp / "t", held, None),
                         "ensemble": predictions(tmp / "e", held, mean[test]),
                         "ensemble_plain": predictions(tmp / "ep", held, mean[test]),
                         "fast": predictions(tmp / "f", held, fast[test])}
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
    for source, models in scores.items():
        means = {name: round(float(np.mean(v)), 4) for name, v in models.items()}
        out[source] = {"macro_f1": means,
                       "spread": {name: round(float(np.std(v)), 4) for name, v in models.items()},
                       **({"gain_over_old": {name: round(100 * (v - means["old_cls"]), 1)
                                             for name, v in means.items() if name != "old_cls"}} if old else {}),
                       "fast_share": {"of_head": round(means["fast"] / means["head"], 3),
                                      "of_ensemble": round(means["fast"] / means["ensemble"], 3)}}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", choices=("ford", "cap"))
    parser.add_argument("--skip-old", action="store_true", help="leave out the previous [CLS] model")
    args = parser.parse_args()
    cache: dict = {}
    out = {"seeds": args.seeds}
    for taxonomy, loader in (("ford", ford_training_set), ("cap", cap_training_set)):
        if args.only in (None, taxonomy):
            out[taxonomy] = compare(taxonomy, loader(), args.seeds, cache, old=not args.skip_old)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
