"""transformers/PyTorch sequence-classification folders (safetensors weights only)."""

from __future__ import annotations

import numpy as np

from core.models.manifest import ModelFolderError
from core.models.runtimes.base import Classifier
from core.models.runtimes.transformer_common import load_tokenizer, token_model_scores


class TransformersClassifier(Classifier):
    name = "transformers"
    records_per_s = 8.0
    batch_size = 64  # at most; batches are cut by a padded-token budget (transformer_common)

    attn_implementation: str | None = None  # "eager" for a graph that traces cleanly into ONNX

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification

        if not (self.folder / "model.safetensors").exists():
            raise ModelFolderError(
                f"'{self.folder}' has no model.safetensors (pickled checkpoints such as pytorch_model.bin are "
                "never loaded)"
            )
        try:
            self.model_ = AutoModelForSequenceClassification.from_pretrained(
                str(self.folder), use_safetensors=True, local_files_only=True,
                **({"attn_implementation": self.attn_implementation} if self.attn_implementation else {}),
            ).eval()
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelFolderError(f"'{self.folder}' cannot be loaded: {str(exc).splitlines()[0]}") from None
        self.torch_ = torch
        torch.set_num_threads(self.threads)
        self.tokenizer_ = load_tokenizer(self.folder)

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        with self.torch_.inference_mode():
            tensors = {k: self.torch_.from_numpy(v) for k, v in feeds.items()}
            return self.model_(**tensors).logits.float().numpy()

    def _scores(self, texts: list[str]) -> np.ndarray:
        names = ("input_ids", "attention_mask", "token_type_ids") if self.model_.config.model_type in (
            "bert",) else ("input_ids", "attention_mask")
        return token_model_scores(self.tokenizer_, texts, self.manifest, self.batch_size, self._run, names,
                                  long_texts=self.long_texts, max_chunks=self.max_chunks)
