"""What the transformer runtimes share: tokenising without padding, length-sorted batches padded
per batch (never to the maximum length), and turning logits into scores."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from core.models.manifest import Manifest, ModelFolderError


def load_tokenizer(folder: Path):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelFolderError(f"'{folder}' has no usable tokenizer files: {str(exc).splitlines()[0]}") from None


def activate(logits: np.ndarray, manifest: Manifest) -> np.ndarray:
    logits = logits.astype(np.float32)
    if manifest.multi_label:
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


TOKEN_BUDGET = 1024  # padded tokens per batch: small batches keep attention in cache on a CPU


def length_batches(lengths: list[int], max_items: int, token_budget: int = TOKEN_BUDGET) -> list[np.ndarray]:
    """Indices grouped into batches of similar length: sorted by length, a batch closes when
    padding it to its longest text would pass ``token_budget`` tokens or ``max_items`` texts."""
    order = np.argsort(lengths, kind="stable")
    batches, current = [], []
    for i in order:
        if current and ((len(current) + 1) * lengths[i] > token_budget or len(current) >= max_items):
            batches.append(np.array(current))
            current = []
        current.append(i)
    if current:
        batches.append(np.array(current))
    return batches


def run_sorted(ids: list[list[int]], pad_id: int, batch_size: int,
                run: Callable[[dict[str, np.ndarray]], np.ndarray], input_names: tuple[str, ...]) -> np.ndarray:
    """Logits for token sequences in input order; batches of similar length, each padded to its longest."""
    out: np.ndarray | None = None
    for chunk in length_batches([len(x) for x in ids], batch_size):
        width = max(len(ids[i]) for i in chunk)
        input_ids = np.full((len(chunk), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for row, i in enumerate(chunk):
            input_ids[row, : len(ids[i])] = ids[i]
            mask[row, : len(ids[i])] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        logits = run({k: v for k, v in feeds.items() if k in input_names})
        if out is None:
            out = np.zeros((len(ids), logits.shape[1]), dtype=np.float32)
        out[chunk] = logits
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def batched_logits(
    tokenizer,
    texts: list[str],
    max_length: int,
    batch_size: int,
    run: Callable[[dict[str, np.ndarray]], np.ndarray],
    input_names: tuple[str, ...],
) -> np.ndarray:
    """Logits for ``texts`` (truncated to ``max_length`` tokens) in input order."""
    ids = tokenizer(texts, truncation=True, max_length=max_length, padding=False)["input_ids"]
    return run_sorted(ids, tokenizer.pad_token_id or 0, batch_size, run, input_names)


def token_model_scores(
    tokenizer,
    texts: list[str],
    manifest: Manifest,
    batch_size: int,
    run: Callable[[dict[str, np.ndarray]], np.ndarray],
    input_names: tuple[str, ...],
    *,
    long_texts: str = "truncate",
    max_chunks: int = 16,
    stride: int = 32,
) -> np.ndarray:
    """Scores for ``texts``. With ``long_texts="chunks"`` a text longer than the max length is read
    as overlapping windows (``stride`` tokens shared) and the windows' scores pooled: the mean for
    a single-label model, the max for a multi-label one."""
    if long_texts != "chunks":
        return activate(batched_logits(tokenizer, texts, manifest.max_length, batch_size, run, input_names), manifest)
    stride = min(stride, max(0, manifest.max_length // 4))
    encoded = tokenizer(texts, truncation=True, max_length=manifest.max_length, padding=False,
                        return_overflowing_tokens=True, stride=stride)
    owners = list(encoded["overflow_to_sample_mapping"])
    kept, seen = [], {}
    for w, owner in enumerate(owners):
        seen[owner] = seen.get(owner, 0) + 1
        if seen[owner] <= max_chunks:
            kept.append(w)
    ids = [encoded["input_ids"][w] for w in kept]
    owner_of = np.array([owners[w] for w in kept], dtype=np.int64)
    windows = activate(run_sorted(ids, tokenizer.pad_token_id or 0, batch_size, run, input_names), manifest)
    pooled = np.zeros((len(texts), windows.shape[1]), dtype=np.float32)
    if manifest.multi_label:
        np.maximum.at(pooled, owner_of, windows)
    else:
        np.add.at(pooled, owner_of, windows)
        pooled /= np.bincount(owner_of, minlength=len(texts)).clip(min=1)[:, None]
    return pooled
