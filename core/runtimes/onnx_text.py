"""onnxruntime for graphs that take raw strings (a scikit-learn TF-IDF pipeline via skl2onnx)."""

from __future__ import annotations

import numpy as np

from core.manifest import ModelFolderError
from core.runtimes.base import Classifier


class OnnxTextClassifier(Classifier):
    name = "onnx-text"

    def _load(self) -> None:
        import onnxruntime as ort

        path = self.folder / self.manifest.files.get("onnx", "model.onnx")
        if not path.exists():
            raise ModelFolderError(f"'{path}' is missing")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self.session_ = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelFolderError(f"'{path}' is not a loadable ONNX model: {str(exc).splitlines()[0]}") from None
        inputs = self.session_.get_inputs()
        if len(inputs) != 1 or inputs[0].type != "tensor(string)":
            raise ModelFolderError(f"'{path}' does not take one string input (the onnx-text runtime needs that)")
        self.input_name_ = inputs[0].name
        outputs = [o.name for o in self.session_.get_outputs()]
        self.output_name_ = "probabilities" if "probabilities" in outputs else outputs[-1]

    batch_size = 256  # the TF-IDF graph materialises a dense (batch x vocabulary) matrix

    def _scores(self, texts: list[str]) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = np.array(texts[start:start + self.batch_size], dtype=object).reshape(-1, 1)
            parts.append(self.session_.run([self.output_name_], {self.input_name_: batch})[0])
        return np.vstack(parts)
