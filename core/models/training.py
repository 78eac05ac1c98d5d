"""Training the TF-IDF + linear baseline and exporting it as an ONNX model folder."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.encoder import minilm_dir
from core.models.manifest import Manifest, write_manifest
from core.models.tfidf_onnx import SKLEARN_TOKEN_PATTERN, tfidf_logreg_to_onnx


def evaluate(y_true: Sequence[str], y_pred: Sequence[str]) -> dict:
    """Strict single-label figures: weighted and macro F1, accuracy, and per-category P/R/F1."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = sorted(set(y_true) | set(y_pred))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "strict_weighted_f1": round(float(f1_score(y_true, y_pred, average="weighted", zero_division=0)), 4),
        "strict_macro_f1": round(float(f1_score(y_true, y_pred, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "test_size": len(y_true),
        "per_category": {
            code: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4),
                   "support": int(s[i])}
            for i, code in enumerate(labels)
        },
    }


def train_tfidf_model(
    texts: Sequence[str],
    codes: Sequence[str],
    folder: str | Path,
    manifest: Manifest,
    *,
    test_size: float = 0.2,
    max_features: int = 50000,
    c: float = 10.0,
    seed: int = 0,
) -> Manifest:
    """Fit TF-IDF + logistic regression, evaluate on a held-out split, refit on everything,
    and write ``model.onnx`` + the manifest (with the held-out figures) into ``folder``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline

    def pipeline() -> Pipeline:
        return Pipeline([
            ("tfidf", TfidfVectorizer(token_pattern=SKLEARN_TOKEN_PATTERN, lowercase=True, min_df=1,
                                      max_features=max_features, sublinear_tf=False)),
            ("clf", LogisticRegression(max_iter=2000, C=c)),
        ])

    texts, codes = list(texts), [str(c_) for c_ in codes]
    counts = Counter(codes)
    stratify = codes if min(counts.values()) >= 2 else None
    x_train, x_test, y_train, y_test = train_test_split(texts, codes, test_size=test_size, random_state=seed,
                                                        stratify=stratify)
    held_out = pipeline().fit(x_train, y_train)
    figures = evaluate(y_test, list(held_out.predict(x_test)))
    from core.models.calibration import calibrate, fit_temperature, with_conformal
    from core.models.familiarity import write_fingerprints
    from core.models.kinds.tfidf import write_terms

    held_classes = [str(k) for k in held_out.classes_]
    known = [i for i, y in enumerate(y_test) if y in held_classes]
    gold = np.array([held_classes.index(y_test[i]) for i in known])
    proba = held_out.predict_proba([x_test[i] for i in known])
    temperature = {**fit_temperature(proba, gold), "fitted_on": f"the {test_size:.0%} held-out split"}
    calibrated = calibrate(proba, replace(manifest, calibration=temperature, multi_label=False))
    conformal = with_conformal({}, calibrated, gold, seed)  # on the scores the runtime will give
    final = pipeline().fit(texts, codes)
    classes = [str(k) for k in final.classes_]
    onx = tfidf_logreg_to_onnx(final.steps[0][1], final.steps[1][1])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(onx.SerializeToString())
    familiar, terms = write_terms(folder, texts)
    manifest = replace(
        manifest, codes=tuple(classes), runtime="onnx-text", multi_label=False,
        files={"onnx": "model.onnx", "terms": terms, "training_texts": write_fingerprints(folder, texts)},
        training={**manifest.training, "examples": len(texts), "per_code": dict(sorted(Counter(codes).items())),
                  "method": "TF-IDF (word 1-grams) + logistic regression", "held_out_fraction": test_size},
        evaluation={"held_out": figures},
        calibration={**temperature, "familiarity": familiar, "conformal_rows": conformal["conformal_rows"],
                     "conformal_from": f"the {test_size:.0%} held-out split"},
    )
    write_manifest(folder, manifest)
    return manifest


def train_word_char_model(texts: Sequence[str], codes: Sequence[str], folder: str | Path, manifest: Manifest, *,
                          c: float = 10.0) -> Manifest:
    """TF-IDF over word 1-2-grams and character 2-5-grams (within words) + logistic regression,
    saved for the ``sparse-linear`` runtime: any language, inflected words included."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from core.models.runtimes.sparse_linear import save_sparse_linear

    texts, codes = list(texts), [str(c_) for c_ in codes]
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=SKLEARN_TOKEN_PATTERN, lowercase=True,
                           sublinear_tf=True, max_features=200_000)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True, sublinear_tf=True, min_df=2,
                           max_features=300_000)
    features = hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr()
    model = LogisticRegression(max_iter=3000, C=c).fit(features, codes)
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:  # binary: p1 = softmax([0, z])[1]
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = save_sparse_linear(folder, [word, char], coef, intercept)
    manifest = replace(manifest, codes=tuple(str(k) for k in model.classes_), runtime="sparse-linear",
                       multi_label=False, files=files,
                       training={**manifest.training, "examples": len(texts),
                                 "per_code": dict(sorted(Counter(codes).items())),
                                 "method": "TF-IDF (word 1-2-grams + character 2-5-grams) + logistic regression"})
    write_manifest(folder, manifest)
    return manifest


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.argmax(a, axis=1) == np.argmax(b, axis=1)))


def _cls_features(model, tokenizer, texts: list[str], max_length: int, batch_size: int = 64,
                  with_mean: bool = False) -> np.ndarray:
    """Last-layer [CLS] vectors, computed in length-sorted batches padded per batch; with
    ``with_mean``, each row also carries the mean-pooled, L2-normalised sentence vector of the same
    pass (columns hidden..2*hidden), so one encoding serves the [CLS] model and the heads."""
    import torch

    from core.models.runtimes.transformer_common import batched_logits

    def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            out = model(**{k: torch.from_numpy(v) for k, v in feeds.items()})
        hidden = out.last_hidden_state
        cls = hidden[:, 0].float()
        if not with_mean:
            return cls.numpy()
        mask = torch.from_numpy(feeds["attention_mask"]).unsqueeze(-1).to(hidden.dtype)
        mean = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), p=2, dim=1)
        return torch.cat([cls, mean.float()], dim=1).numpy()

    return batched_logits(tokenizer, texts, max_length, batch_size, run,
                          ("input_ids", "attention_mask", "token_type_ids"))


def _train_head(features: np.ndarray, targets: np.ndarray, n_classes: int, pooler_w, pooler_b,
                epochs: int = 80, seed: int = 0):
    """Train BERT's sequence-classification head (pooler dense + tanh + linear) on frozen
    [CLS] vectors; returns (pooler weight, pooler bias, classifier weight, classifier bias)."""
    import torch

    torch.manual_seed(seed)
    pooler = torch.nn.Linear(features.shape[1], features.shape[1])
    with torch.no_grad():
        pooler.weight.copy_(pooler_w)
        pooler.bias.copy_(pooler_b)
    classifier = torch.nn.Linear(features.shape[1], n_classes)
    net = torch.nn.Sequential(pooler, torch.nn.Tanh(), torch.nn.Dropout(0.1), classifier)
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    x = torch.from_numpy(features)
    y = torch.from_numpy(targets.astype(np.int64))
    generator = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(128):
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
    net.eval()
    return pooler.weight.detach(), pooler.bias.detach(), classifier.weight.detach(), classifier.bias.detach()


def train_minilm_classifier(
    texts: Sequence[str],
    codes: Sequence[str],
    folder: str | Path,
    manifest: Manifest,
    *,
    max_length: int = 256,
    test_size: float = 0.2,
    epochs: int = 80,
    seed: int = 0,
    encoder: Path | None = None,
    mean_vectors: list | None = None,
) -> Manifest:
    """A transformers sequence-classification folder on the MiniLM encoder: the encoder stays as
    trained, the classification head (pooler + linear) is fitted on its [CLS] vectors. Held-out
    figures come from a model fitted without the held-out part; the saved model uses everything."""
    import torch
    from sklearn.model_selection import train_test_split
    from transformers import AutoModel, AutoTokenizer, BertConfig, BertForSequenceClassification

    encoder = encoder or minilm_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(encoder), local_files_only=True)
    base = AutoModel.from_pretrained(str(encoder), local_files_only=True).eval()
    texts, codes = list(texts), [str(c) for c in codes]
    classes = sorted(set(codes))
    index = {c: i for i, c in enumerate(classes)}
    targets = np.array([index[c] for c in codes])
    features = _cls_features(base, tokenizer, texts, max_length, with_mean=mean_vectors is not None)
    if mean_vectors is not None:  # the same pass's sentence vectors, for the heads (one encoding)
        hidden = features.shape[1] // 2
        mean_vectors.append(features[:, hidden:])
        features = np.ascontiguousarray(features[:, :hidden])
    pooler_w, pooler_b = base.pooler.dense.weight.detach(), base.pooler.dense.bias.detach()

    counts = Counter(codes)
    stratify = targets if min(counts.values()) >= 2 else None
    train_idx, test_idx = train_test_split(np.arange(len(texts)), test_size=test_size, random_state=seed,
                                           stratify=stratify)
    head = _train_head(features[train_idx], targets[train_idx], len(classes), pooler_w, pooler_b, epochs, seed)
    with torch.no_grad():
        hidden = torch.tanh(torch.from_numpy(features[test_idx]) @ head[0].T + head[1])
        predicted = (hidden @ head[2].T + head[3]).argmax(1).numpy()
    figures = evaluate([classes[i] for i in targets[test_idx]], [classes[i] for i in predicted])
    head = _train_head(features, targets, len(classes), pooler_w, pooler_b, epochs, seed)

    config = BertConfig.from_pretrained(str(encoder), num_labels=len(classes),
                                        id2label=dict(enumerate(classes)), label2id=index)
    model = BertForSequenceClassification(config)
    model.bert.load_state_dict(base.state_dict())
    with torch.no_grad():
        model.bert.pooler.dense.weight.copy_(head[0])
        model.bert.pooler.dense.bias.copy_(head[1])
        model.classifier.weight.copy_(head[2])
        model.classifier.bias.copy_(head[3])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    manifest = replace(
        manifest, codes=tuple(classes), runtime="transformers", multi_label=False, max_length=max_length,
        files={"weights": "model.safetensors"},
        training={**manifest.training, "examples": len(texts), "per_code": dict(sorted(counts.items())),
                  "method": "all-MiniLM-L6-v2 encoder (as trained) + classification head fitted on [CLS] vectors",
                  "held_out_fraction": test_size, "epochs": epochs},
        evaluation={"held_out": figures},
    )
    write_manifest(folder, manifest)
    return manifest


def _held_out_then_final(texts: list[str], codes: list[str], folder: Path, vectors: np.ndarray, make,
                         test_size: float, seed: int, **changes) -> Manifest:
    """What the shipped vector-based defaults share: ``make(rows, target)`` builds a model folder
    from those rows; one is built without a stratified held-out split and scored on it (the held-out
    figures and conformal rows), the saved one from everything, with its training-text fingerprints.
    ``changes``: more manifest fields for the saved one."""
    import shutil
    import tempfile

    from sklearn.model_selection import train_test_split

    from core.models.calibration import with_conformal
    from core.models.familiarity import write_fingerprints
    from core.models.runtimes import load_classifier

    stratify = codes if min(Counter(codes).values()) >= 2 else None
    train_idx, test_idx = train_test_split(np.arange(len(texts)), test_size=test_size, random_state=seed,
                                           stratify=stratify)
    scratch = Path(tempfile.mkdtemp(prefix="held-out-"))
    try:
        make(train_idx, scratch / "m")
        held = load_classifier(scratch / "m")
        scores = held.scores_from_vectors(vectors[test_idx], [texts[i] for i in test_idx])  # calibrated
        figures = evaluate([codes[i] for i in test_idx], [held.manifest.codes[k] for k in scores.argmax(1)])
        known = [k for k, i in enumerate(test_idx) if codes[i] in held.manifest.codes]
        gold = np.array([held.manifest.codes.index(codes[test_idx[k]]) for k in known])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    folder = Path(folder)
    final = make(np.arange(len(texts)), folder)
    conformal = with_conformal({}, scores[known], gold, seed)["conformal_rows"]
    final = replace(final, files={**final.files, "training_texts": write_fingerprints(folder, texts)},
                    training={**final.training, "held_out_fraction": test_size},
                    evaluation={"held_out": figures},
                    calibration={**final.calibration, "conformal_rows": conformal,
                                 "conformal_from": f"the {test_size:.0%} held-out split"}, **changes)
    write_manifest(folder, final)
    return final


def train_head_model(texts: Sequence[str], codes: Sequence[str], folder: str | Path, manifest: Manifest,
                     encoder_dir: Path, *, vectors: np.ndarray | None = None, test_size: float = 0.2,
                     seed: int = 0) -> Manifest:
    """An ``encoder-head`` folder: logistic regression on the shared encoder's mean-pooled vectors,
    temperature-calibrated on out-of-fold predictions. Held-out figures come from a head fitted
    without the held-out part (the same split as the other defaults); the saved head uses
    everything. ``vectors``: the texts' encoder vectors, when the caller has them already."""
    from core.models.encoder import Encoder
    from core.models.kinds.head import build_head

    texts, codes = list(texts), [str(c_) for c_ in codes]
    vectors = Encoder(encoder_dir).embed(texts) if vectors is None else np.asarray(vectors, dtype=np.float32)

    def make(rows: np.ndarray, target: Path) -> Manifest:
        return build_head(vectors[rows], [[codes[i]] for i in rows], target, manifest, encoder_dir, seed=seed)[0]

    return _held_out_then_final(texts, codes, Path(folder), vectors, make, test_size, seed, max_length=256)


def train_ensemble_model(texts: Sequence[str], codes: Sequence[str], folder: str | Path, manifest: Manifest,
                         encoder_dir: Path, *, vectors: np.ndarray | None = None, characters: bool = True,
                         test_size: float = 0.2, seed: int = 0) -> Manifest:
    """An ``ensemble`` folder: TF-IDF (word 1-2-grams, with ``characters`` also character 2-5-grams)
    + a head on ``encoder_dir``'s sentence vectors, weights and temperature fitted on out-of-fold
    predictions (the workspace's ``ensemble`` kind). Held-out figures and the conformal rows come
    from an ensemble fitted without the held-out part (the defaults' split); the saved one uses
    everything."""
    import shutil

    from core.models.encoder import Encoder
    from core.models.kinds.ensemble import build_ensemble
    from core.models.kinds.head import build_head
    from core.models.kinds.tfidf import build_tfidf

    texts, codes = list(texts), [str(c_) for c_ in codes]
    vectors = Encoder(encoder_dir).embed(texts) if vectors is None else np.asarray(vectors, dtype=np.float32)

    def make(rows: np.ndarray, target: Path) -> Manifest:
        parts = target.parent / f".{target.name}.members"
        shutil.rmtree(parts, ignore_errors=True)
        labels = [[codes[i]] for i in rows]
        try:
            t_name, h_name = f"{manifest.name}-tfidf", f"{manifest.name}-head"
            t_manifest, t_fit = build_tfidf([texts[i] for i in rows], labels, parts / t_name,
                                            replace(manifest, name=t_name), seed=seed, characters=characters)
            h_manifest, h_fit = build_head(vectors[rows], labels, parts / h_name, replace(manifest, name=h_name),
                                           encoder_dir, seed=seed)
            return build_ensemble([(parts / t_name, t_manifest, t_fit), (parts / h_name, h_manifest, h_fit)],
                                  labels, target, manifest)
        finally:
            shutil.rmtree(parts, ignore_errors=True)

    return _held_out_then_final(texts, codes, Path(folder), vectors, make, test_size, seed)
