"""onnxruntime for transformer graphs that take token ids (exported by torch.onnx or optimum)."""

from __future__ import annotations

import os

import numpy as np

from core.models.manifest import ModelFolderError
from core.models.runtimes.base import Classifier
from core.models.runtimes.transformer_common import load_tokenizer, token_model_scores


class OnnxTransformerClassifier(Classifier):
    name = "onnx-transformer"
    records_per_s = 20.0
    batch_size = 64  # at most; batches are cut by a padded-token budget (transformer_common)

    def _load(self) -> None:
        import onnxruntime as ort

        variant = os.environ.get("WORKBENCH_ONNX_VARIANT", "onnx")  # "onnx" (fp32) or "onnx_int8"
        file_name = self.manifest.files.get(variant) or self.manifest.files.get("onnx", "model.onnx")
        path = self.folder / file_name
        if not path.exists():
            raise ModelFolderError(f"'{path}' is missing")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = self.threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session_ = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own Fail/InvalidGraph types
            raise ModelFolderError(f"'{path}' is not a loadable ONNX model: {str(exc).splitlines()[0]}") from None
        self.input_names_ = tuple(i.name for i in self.session_.get_inputs())
        if "input_ids" not in self.input_names_:
            raise ModelFolderError(f"'{path}' takes no input_ids: not a transformer classifier graph")
        self.output_name_ = self.session_.get_outputs()[0].name
        self.tokenizer_ = load_tokenizer(self.folder)

    def _scores(self, texts: list[str]) -> np.ndarray:
        return token_model_scores(
            self.tokenizer_, texts, self.manifest, self.batch_size,
            lambda feeds: self.session_.run([self.output_name_], feeds)[0], self.input_names_,
            long_texts=self.long_texts, max_chunks=self.max_chunks,
        )
