"""Model runtimes, found by name in one registry of lazy importers.

A runtime whose optional library is missing becomes a sentence for the user, not an ImportError
at start-up.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from core.models.manifest import Manifest, ModelFolderError, load_manifest
from core.models.runtimes.base import LONG_TEXT_MODES, Classifier, thread_count

# name -> (module, class, the packages it needs)
RUNTIMES: dict[str, tuple[str, str, str]] = {
    "dummy": ("core.models.runtimes.dummy", "DummyClassifier", "nothing"),
    "onnx-text": ("core.models.runtimes.onnx_text", "OnnxTextClassifier", "onnxruntime"),
    "onnx-transformer": ("core.models.runtimes.onnx_transformer", "OnnxTransformerClassifier",
                         "onnxruntime and transformers"),
    "transformers": ("core.models.runtimes.transformers_pt", "TransformersClassifier", "torch and transformers"),
    "sparse-linear": ("core.models.runtimes.sparse_linear", "SparseLinearClassifier", "scikit-learn and safetensors"),
    "encoder-head": ("core.models.runtimes.encoder_head", "EncoderHeadClassifier", "onnxruntime and transformers"),
    "encoder-knn": ("core.models.runtimes.encoder_knn", "EncoderKnnClassifier", "onnxruntime, transformers and faiss"),
    "ensemble": ("core.models.runtimes.ensemble", "EnsembleClassifier", "its members' runtimes"),
    "zero-shot": ("core.models.runtimes.zero_shot", "ZeroShotClassifier", "onnxruntime and transformers"),
    "cascade": ("core.models.runtimes.cascade", "CascadeClassifier", "its members' runtimes"),
    "annif": ("core.models.runtimes.annif", "AnnifClassifier", "requests"),
    "llm": ("core.models.runtimes.llm", "LLMClassifier",
            "requests (an endpoint) or torch and transformers (a local model)"),
}


def runtime_class(name: str) -> type[Classifier]:
    if name not in RUNTIMES:
        raise ModelFolderError(f"unknown runtime '{name}'; known runtimes: {', '.join(sorted(RUNTIMES))}")
    module, cls, needs = RUNTIMES[name]
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as exc:
        raise ModelFolderError(f"the '{name}' runtime needs {needs}, which is not installed ({exc.name})") from None


def load_classifier(folder: str | Path, **options) -> Classifier:
    """Load a model folder with the runtime its manifest names (options: see ``Classifier``)."""
    manifest: Manifest = load_manifest(folder)
    return runtime_class(manifest.runtime)(folder, manifest, **options)


__all__ = ["LONG_TEXT_MODES", "Classifier", "RUNTIMES", "load_classifier", "runtime_class", "thread_count"]
