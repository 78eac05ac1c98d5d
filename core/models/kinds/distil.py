"""The ``distil`` kind: the fast tier of a fine-tuned model, for runs where its transformer is too
slow on a CPU. model2vec passes every vocabulary token through the fine-tuned encoder alone and
keeps the vectors (``.encoders/<source>-static256``, PCA to 256 dimensions, SIF-weighted); a
calibrated logistic-regression head is fitted on the training records' static vectors. The result
is an ``encoder-head`` folder with no transformer at run time (thousands of records a second)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core.models.kinds.base import Field, Kind, Trained, TrainingInput, with_recipe
from core.models.manifest import Manifest, ModelFolderError, load_manifest


def finetuned_models(models_dir: Path, taxonomy_id: str = "") -> list[str]:
    """Installed fine-tuned folders (a transformer with its safetensors weights) a fast tier can be
    distilled from."""
    from core.models.registry import discover

    return [m.folder.name for m in discover(Path(models_dir)) if m.manifest is not None
            and m.manifest.runtime in ("onnx-transformer", "transformers")
            and (m.folder / "model.safetensors").exists()
            and (not taxonomy_id or m.manifest.taxonomy == taxonomy_id)]


def source_folder(models_dir: Path, name: str, taxonomy_id: str) -> Path:
    from core.files.paths import inside

    folder = (Path(models_dir) / name).resolve()
    if not name or not inside(folder, Path(models_dir)) or not folder.is_dir():
        raise ModelFolderError(f"no fine-tuned model '{name}' in {models_dir}; fine-tuned models: "
                               f"{', '.join(finetuned_models(models_dir, taxonomy_id)) or 'none yet'}")
    manifest = load_manifest(folder)
    if manifest.runtime not in ("onnx-transformer", "transformers") or not (folder / "model.safetensors").exists():
        raise ModelFolderError(f"'{name}' is not a fine-tuned transformer folder (model.safetensors)")
    if taxonomy_id and manifest.taxonomy != taxonomy_id:
        raise ModelFolderError(f"'{name}' classifies into '{manifest.taxonomy}', not '{taxonomy_id}'")
    return folder


def distil_to_fast(source: Path, texts: list[str], codes: list[list[str]], target: Path, manifest: Manifest,
                   models_dir: Path, *, multi_label: bool = False, seed: int = 0) -> tuple[Manifest, object]:
    """Distil ``source``'s encoder into static vectors and fit a head on ``texts``' vectors."""
    from core.models.encoder import Encoder, distilled_encoder
    from core.models.kinds.head import build_head

    static = distilled_encoder(models_dir, Path(source), f"{Path(source).name}-static256")
    vectors = Encoder(static).embed(list(texts))
    base = replace(manifest, training={**manifest.training, "tier": "fast", "distilled_from": Path(source).name})
    return build_head(vectors, codes, target, base, static, multi_label=multi_label, seed=seed)


def train(data: TrainingInput) -> Trained:
    from core.models.kinds.tfidf import out_of_fold

    source = source_folder(data.models_dir, str(data.params.get("source") or ""), data.manifest.taxonomy)
    data.progress("distilling the fine-tuned encoder", 0.1)
    manifest, fitted = distil_to_fast(source, data.texts, data.codes, data.folder, data.manifest, data.models_dir,
                                      multi_label=data.multi_label, seed=data.seed)
    return with_recipe(data, manifest, out_of_fold(fitted))


KIND = Kind(
    name="distil", help="the fast tier of a fine-tuned model: static vectors distilled from its encoder + a head",
    runtime="encoder-head", reads=frozenset({"texts"}), train=train, recipe_version="1.1.0",
    fields=(Field("source", "Fine-tuned model", "finetuned", "",
                  "the fine-tuned version whose encoder is distilled (no transformer at run time afterwards)"),))

__all__ = ["KIND", "distil_to_fast", "finetuned_models", "source_folder"]
