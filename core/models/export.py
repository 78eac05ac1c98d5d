"""Export a transformers sequence-classification folder to an ONNX model folder (fp32 + int8),
and report how closely the ONNX models follow the PyTorch one."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.manifest import ModelFolderError, load_manifest, write_manifest

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                   "sentencepiece.bpe.model", "merges.txt", "vocab.json", "config.json")


@dataclass(frozen=True)
class ExportReport:
    folder: Path
    variants: dict[str, dict[str, float]]  # "fp32"/"int8" -> {"top1_agreement", "max_prob_diff", "size_mb"}

    def summary(self) -> str:
        return "; ".join(
            f"{name}: top-1 agreement {v['top1_agreement']:.1%}, largest probability difference "
            f"{v['max_prob_diff']:.4f}, {v['size_mb']:.1f} MB"
            for name, v in self.variants.items()
        )


def export_onnx(source: str | Path, target: str | Path, sample_texts: Sequence[str], *, int8: bool = True,
                opset: int = 17, into_empty: bool = False) -> ExportReport:
    """``into_empty``: ``target`` may exist if it is empty (a folder being built)."""
    import torch

    from core.models.runtimes import load_classifier
    from core.models.runtimes.transformers_pt import TransformersClassifier

    source, target = Path(source), Path(target)
    manifest = load_manifest(source)
    eager = type("EagerTransformers", (TransformersClassifier,), {"attn_implementation": "eager"})
    reference = eager(source, replace(manifest, runtime="transformers"))
    if target.exists() and not (into_empty and target.is_dir() and not any(target.iterdir())):
        raise ModelFolderError(f"'{target}' exists already; choose a new folder")
    target.mkdir(parents=True, exist_ok=True)
    try:
        for name in TOKENIZER_FILES:
            if (source / name).exists():
                shutil.copyfile(source / name, target / name)
        model = reference.model_
        dummy = reference.tokenizer_(["a short example text", "another one"], return_tensors="pt", padding=True)
        names = ["input_ids", "attention_mask"] + (["token_type_ids"] if "token_type_ids" in dummy else [])
        axes = {n: {0: "batch", 1: "sequence"} for n in names}
        axes["logits"] = {0: "batch"}

        class Logits(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, *args):
                return self.inner(**dict(zip(names, args))).logits

        with torch.inference_mode():
            torch.onnx.export(Logits(model).eval(), tuple(dummy[n] for n in names), str(target / "model.onnx"),
                              input_names=names, output_names=["logits"], dynamic_axes=axes,
                              opset_version=opset, dynamo=False)
        files = {"onnx": "model.onnx"}
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(target / "model.onnx"), str(target / "model.int8.onnx"), per_channel=True,
                             reduce_range=False, weight_type=QuantType.QInt8)
            files["onnx_int8"] = "model.int8.onnx"
        write_manifest(target, replace(manifest, runtime="onnx-transformer", files=files))
        expected = reference.predict_scores(list(sample_texts))
        variants = {}
        for label, key in (("fp32", "onnx"), ("int8", "onnx_int8")):
            if key not in files:
                continue
            clf = load_classifier(target) if key == "onnx" else _variant(target, key)
            got = clf.predict_scores(list(sample_texts))
            variants[label] = {
                "top1_agreement": float(np.mean(got.argmax(1) == expected.argmax(1))),
                "max_prob_diff": float(np.abs(got - expected).max()),
                "size_mb": (target / files[key]).stat().st_size / 1e6,
            }
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return ExportReport(target, variants)


def _variant(folder: Path, key: str):
    from core.models.runtimes.onnx_transformer import OnnxTransformerClassifier

    manifest = load_manifest(folder)
    return OnnxTransformerClassifier(folder, replace(manifest, files={"onnx": manifest.files[key]}))


__all__ = ["ExportReport", "export_onnx"]
