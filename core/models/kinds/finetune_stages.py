"""The stages of fine-tuning around its epochs: records into batches, the model's probabilities,
the SetFit-style contrastive stage for few labels, and the head's start from a linear probe
(LP-FT). ``setup`` is ``core.models.kinds.finetune_loop.Setup``: the records' token ids, targets and
training / validation rows."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import Cancelled
from core.models.manifest import ModelFolderError

CONTRASTIVE_BELOW = 1000  # "auto": the contrastive stage runs for fewer training records than this
CONTRASTIVE_PAIRS = 4  # pairs per training record (one own-category, one other, in rounds)
CONTRASTIVE_LIMIT = 4000


def collate(ids: list, rows, pad_id: int, needs_types: bool):
    import torch

    width = max(len(ids[i]) for i in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for k, i in enumerate(rows):
        input_ids[k, : len(ids[i])] = torch.tensor(ids[i])
        mask[k, : len(ids[i])] = 1
    feeds = {"input_ids": input_ids, "attention_mask": mask}
    if needs_types:
        feeds["token_type_ids"] = torch.zeros_like(input_ids)
    return feeds


def predict(model, ids: list, rows: np.ndarray, pad_id: int, needs_types: bool, multi_label: bool, device: str,
            batch: int = 64) -> np.ndarray:
    """Probabilities for ``rows`` (length-sorted batches, input order kept)."""
    import torch

    model.eval()
    order = sorted(range(len(rows)), key=lambda k: len(ids[rows[k]]))
    out = None
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            part = order[start:start + batch]
            feeds = {k: v.to(device) for k, v in collate(ids, [rows[k] for k in part], pad_id, needs_types).items()}
            logits = model(**feeds).logits.float()
            p = torch.sigmoid(logits) if multi_label else torch.softmax(logits, dim=1)
            if out is None:
                out = np.zeros((len(rows), p.shape[1]), dtype=np.float32)
            out[part] = p.cpu().numpy()
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def uses_contrastive(params: dict, records: int, probe: bool = False) -> bool:
    """"auto": below 1,000 training records, unless the head starts from a probe (it reads the
    pretrained features as they are; the pairs would move them first, at 17 minutes for 176 speeches
    at 256 tokens on 2 cores)."""
    choice = params.get("contrastive", "auto")
    return choice == "on" or (choice == "auto" and records < CONTRASTIVE_BELOW and not probe)


def contrastive_pairs(y: np.ndarray, rows: np.ndarray, seed: int, limit: int) -> list[tuple[int, int, float]]:
    """SetFit-style sentence pairs from the labels: for each training record (in rounds, in a
    seeded order) one partner of its own category (1.0) and one of another (0.0), at most ``limit``
    pairs; categories with a single record give negative pairs only."""
    rng = np.random.default_rng(seed)
    labels = y[rows]
    by_label: dict[int, np.ndarray] = {int(c): rows[labels == c] for c in np.unique(labels)}
    pairs: list[tuple[int, int, float]] = []
    while len(pairs) < limit:
        before = len(pairs)
        for k in rng.permutation(len(rows)):
            i, own = int(rows[k]), int(labels[k])
            same = by_label[own]
            if len(same) > 1:
                j = int(rng.choice(same))
                while j == i:
                    j = int(rng.choice(same))
                pairs.append((i, j, 1.0))
            others = rows[labels != own]
            if len(others):
                pairs.append((i, int(rng.choice(others)), 0.0))
            if len(pairs) >= limit:
                break
        if len(pairs) == before:
            break
    return pairs[:limit]


def contrastive_stage(model, setup, pad_id: int, needs_types: bool, device: str,
                      progress: Callable[[str, float], None], should_stop: Callable[[], bool]) -> None:
    """Pull same-category records together and push others apart before the head is trained:
    cosine similarity of mean-pooled encoder vectors regressed on 1 / 0 (SetFit's loss), one pass
    over ``CONTRASTIVE_PAIRS`` per training record (at most ``CONTRASTIVE_LIMIT`` pairs)."""
    import torch

    if setup.multi_label:
        return
    encoder = model.base_model
    pairs = contrastive_pairs(setup.y, setup.train_rows, setup.seed,
                              min(CONTRASTIVE_LIMIT, CONTRASTIVE_PAIRS * len(setup.train_rows)))
    if not pairs:
        return
    moving = [p for p in encoder.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(moving, lr=float(setup.params["lr_encoder"]), weight_decay=0.01)
    batch = 16
    steps = math.ceil(len(pairs) / batch)

    def pooled(rows) -> torch.Tensor:
        feeds = {k: v.to(device) for k, v in collate(setup.ids, rows, pad_id, needs_types).items()}
        hidden = encoder(**feeds).last_hidden_state
        mask = feeds["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    torch.manual_seed(setup.seed)
    model.train()
    for step in range(steps):
        if should_stop():
            raise Cancelled("training stopped on request; the last completed epoch is kept")
        part = pairs[step * batch:(step + 1) * batch]
        left = pooled([a for a, _, _ in part])
        right = pooled([b for _, b, _ in part])
        target = torch.tensor([t for _, _, t in part], device=device)
        loss = torch.nn.functional.mse_loss(torch.nn.functional.cosine_similarity(left, right), target)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(moving, 1.0)
        optimiser.step()
        progress(f"contrastive pairs · step {step + 1}/{steps}", (step + 1) / steps)


# --- the head's start (LP-FT) ------------------------------------------------------------------

PROBE_C = 100.0  # the probe's inverse regularisation (5-fold on the Hungarian speeches: 10 → 0.40, 100 → 0.51)


def trained_pooler(encoder: str) -> bool:
    """Whether the encoder's weights carry a trained pooler (BERT's next-sentence head): MiniLM's
    do, the multilingual e5's do not (it was trained on mean-pooled vectors), so its pooler would
    start from random weights under a random classifier."""
    from safetensors import safe_open

    for path in sorted(Path(encoder).glob("*.safetensors")):
        with safe_open(str(path), "np") as weights:
            names = weights.keys()  # safetensors' safe_open is not iterable itself
            if any(".pooler." in f".{key}" for key in names):
                return True
    return False


def uses_probe(params: dict, encoder: str) -> bool:
    choice = str(params.get("head_start") or "auto")
    return choice == "probe" or (choice == "auto" and not trained_pooler(encoder))


def last_linear(model):
    """The layer that turns features into logits (BERT, DistilBERT: ``classifier``; RoBERTa,
    XLM-R: ``classifier.out_proj``)."""
    import torch

    head = getattr(model, "classifier", None) or getattr(model, "score", None)
    if isinstance(head, torch.nn.Linear):
        return head
    inner = getattr(head, "out_proj", None)
    if isinstance(inner, torch.nn.Linear):
        return inner
    raise ModelFolderError(f"{type(model).__name__}: no linear classification layer to start from a probe")


def probe_start(model, setup, pad_id: int, needs_types: bool, device: str,
                progress: Callable[[str, float], None], should_stop: Callable[[], bool]) -> None:
    """Linear probing, then fine-tuning (LP-FT, Kumar et al. 2022): the classification layer starts
    as a logistic regression fitted on the very features it reads from the pretrained encoder (class
    weights "balanced" under the weighted loss), so fine-tuning begins from a working classifier and
    moves the encoder less. A BERT pooler without trained weights starts as the identity (tanh of
    the first token's vector), which a probe reads well."""
    import torch
    from sklearn.linear_model import LogisticRegression

    pooler = getattr(getattr(model, "base_model", None), "pooler", None)
    if pooler is not None and not trained_pooler(setup.encoder):
        with torch.no_grad():
            pooler.dense.weight.copy_(torch.eye(pooler.dense.weight.shape[0], dtype=pooler.dense.weight.dtype))
            pooler.dense.bias.zero_()
    layer = last_linear(model)
    captured: list[np.ndarray] = []
    hook = layer.register_forward_pre_hook(lambda module, args: captured.append(args[0].detach().float().cpu().numpy()))  # noqa: ARG005 - the interface's signature
    model.eval()
    rows = np.asarray(setup.train_rows)
    order = sorted(range(len(rows)), key=lambda k: len(setup.ids[rows[k]]))
    features = np.zeros((len(rows), layer.in_features), dtype=np.float32)
    try:
        with torch.inference_mode():
            for start in range(0, len(order), 16):
                if should_stop():
                    raise Cancelled("training stopped on request; the last completed epoch is kept")
                part = order[start:start + 16]
                feeds = {k: v.to(device) for k, v in collate(setup.ids, [rows[k] for k in part], pad_id,
                                                             needs_types).items()}
                captured.clear()
                model(**feeds)
                features[part] = captured[-1]
                progress(f"linear probe · reading {min(start + 16, len(order))}/{len(order)}",
                         min(start + 16, len(order)) / len(order))
    finally:
        hook.remove()
    y = setup.y[rows]
    weight = np.zeros((len(setup.classes), layer.in_features), dtype=np.float32)
    bias = np.zeros(len(setup.classes), dtype=np.float32)
    balanced = "balanced" if setup.params.get("sampler") == "weighted-loss" else None
    if setup.multi_label:
        for c in range(len(setup.classes)):
            if 0 < y[:, c].sum() < len(y):
                fitted = LogisticRegression(C=PROBE_C, max_iter=3000, class_weight=balanced).fit(features, y[:, c])
                weight[c], bias[c] = fitted.coef_[0], fitted.intercept_[0]
            else:
                bias[c] = 8.0 if y[:, c].sum() else -8.0
    else:
        present = np.unique(y)
        if len(present) > 1:
            fitted = LogisticRegression(C=PROBE_C, max_iter=3000, class_weight=balanced).fit(features, y)
            coef = fitted.coef_ if len(present) > 2 else np.vstack([-fitted.coef_[0] / 2, fitted.coef_[0] / 2])
            intercept = (fitted.intercept_ if len(present) > 2 else
                         np.array([-fitted.intercept_[0] / 2, fitted.intercept_[0] / 2]))
            weight[present], bias[present] = coef, intercept
            bias[np.setdiff1d(np.arange(len(setup.classes)), present)] = float(intercept.min()) - 8.0
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=layer.weight.dtype))
        layer.bias.copy_(torch.as_tensor(bias, dtype=layer.bias.dtype))
