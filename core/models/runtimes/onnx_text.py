"""onnxruntime for graphs that take raw strings: our sparse TF-IDF + logistic regression graph
(``core.models.tfidf_onnx``) or a scikit-learn pipeline converted by skl2onnx.

String ops (normalising, tokenising) run on one core each, so batches run on a pool of threads,
one single-threaded session call per batch (onnxruntime releases the GIL); texts are sorted by
length and cut by a budget of padded characters, so one long text never pads a whole batch.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from core.models.manifest import ModelFolderError
from core.models.runtimes.base import Classifier


class OnnxTextClassifier(Classifier):
    name = "onnx-text"
    records_per_s = 5000.0
    batch_size = 128
    char_budget = 2_000_000  # padded characters a batch: long texts go in small batches, a huge one alone

    def _load(self) -> None:
        import onnxruntime as ort

        path = self.folder / self.manifest.files.get("onnx", "model.onnx")
        if not path.exists():
            raise ModelFolderError(f"'{path}' is missing")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self.session_ = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own Fail/InvalidGraph types
            raise ModelFolderError(f"'{path}' is not a loadable ONNX model: {str(exc).splitlines()[0]}") from None
        inputs = self.session_.get_inputs()
        if len(inputs) != 1 or inputs[0].type != "tensor(string)":
            raise ModelFolderError(f"'{path}' does not take one string input (the onnx-text runtime needs that)")
        self.input_name_ = inputs[0].name
        outputs = [o.name for o in self.session_.get_outputs()]
        self.output_name_ = "probabilities" if "probabilities" in outputs else outputs[-1]
        self.threads_ = self.threads

    def _run(self, batch: list[str]) -> np.ndarray:
        feed = np.array(batch, dtype=object).reshape(-1, 1)
        return np.asarray(self.session_.run([self.output_name_], {self.input_name_: feed})[0], dtype=np.float32)

    def _scores(self, texts: list[str]) -> np.ndarray:
        lengths = [len(t) for t in texts]
        order = np.argsort(lengths, kind="stable")
        batches: list[list[str]] = [[]]
        for i in order:  # ascending lengths: the newest text is the batch's longest
            batch = batches[-1]
            if batch and (len(batch) >= self.batch_size or (len(batch) + 1) * lengths[i] > self.char_budget):
                batches.append(batch := [])
            batch.append(texts[i])
        if self.threads_ > 1 and len(batches) > 1:
            with ThreadPoolExecutor(self.threads_) as pool:
                parts = list(pool.map(self._run, batches))
        else:
            parts = [self._run(b) for b in batches]
        out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        out[order] = np.vstack(parts)
        return out
