"""The ``<t>-minilm-pt`` default: a transformers sequence-classification folder on the MiniLM
encoder (as trained), its classification head (pooler + linear) fitted on frozen [CLS] vectors;
the ONNX export of the same folder gives ``<t>-minilm-int8``."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.encoder import minilm_dir
from core.models.manifest import Manifest, write_manifest


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
    from core.models.held_out import evaluate

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


__all__ = ["train_minilm_classifier"]
