"""What the transformer runtimes share: tokenising without padding, length-sorted batches padded
per batch (never to the maximum length), and turning logits into scores."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from core.manifest import Manifest, ModelFolderError


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


def batched_logits(
    tokenizer,
    texts: list[str],
    max_length: int,
    batch_size: int,
    run: Callable[[dict[str, np.ndarray]], np.ndarray],
    input_names: tuple[str, ...],
) -> np.ndarray:
    """Logits for ``texts`` in input order; batches of similar length, each padded to its longest."""
    encoded = tokenizer(texts, truncation=True, max_length=max_length, padding=False)
    ids = encoded["input_ids"]
    order = np.argsort([len(x) for x in ids], kind="stable")
    pad_id = tokenizer.pad_token_id or 0
    out: np.ndarray | None = None
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
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
            out = np.zeros((len(texts), logits.shape[1]), dtype=np.float32)
        out[chunk] = logits
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)
