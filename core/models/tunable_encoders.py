"""The encoders a ``finetune`` model can start from: the shipped all-MiniLM-L6-v2, the multilingual
e5 (rebuilt in the models folder the first time it is chosen) and the folders a lead added
(``.encoders/finetune/<name>``), each checked before anything loads it: a model type this
transformers knows, no remote code, tokenizer files, safetensors weights only (pickles are never
loaded). Nothing is fetched from a hub."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from core.models.manifest import ModelFolderError

SHIPPED = "all-MiniLM-L6-v2"

MULTILINGUAL = "multilingual-e5-small"  # rebuilt in the models folder the first time it is chosen (~40 s)

ADDED = ".encoders/finetune"  # under the models folder: encoders a lead added

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")

PICKLED = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".h5", ".msgpack")


def available_encoders(models_dir: Path) -> dict[str, Path]:
    """Encoders a ``finetune`` model can start from: the shipped MiniLM, the multilingual e5 (its
    folder is made when a training first asks for it) and those a lead added."""
    from core.models.encoder import E5_NAME, encoder_folder, minilm_dir

    found = {SHIPPED: minilm_dir(), MULTILINGUAL: encoder_folder(models_dir, E5_NAME)}
    added = Path(models_dir) / ADDED
    if added.is_dir():
        for folder in sorted(added.iterdir()):
            if folder.is_dir() and not folder.name.startswith("."):
                found[folder.name] = folder
    return found


def check_encoder(folder: Path) -> dict:
    """A transformers encoder folder checked before anything loads it: ``config.json`` of a model
    type this transformers knows, no remote code, tokenizer files, safetensors weights only.
    Returns its config; a ModelFolderError says what is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFolderError(f"'{folder}' is not a folder")
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFolderError(f"'{folder}': config.json is missing or unreadable ({exc})") from None
    if not isinstance(config, dict) or not config.get("model_type"):
        raise ModelFolderError(f"'{folder}': config.json names no model_type")
    if config.get("auto_map") or list(folder.glob("*.py")):
        raise ModelFolderError(f"'{folder}' needs its own Python code (auto_map or .py files): "
                               "only architectures transformers ships are loaded, no remote code")
    from transformers import CONFIG_MAPPING

    if config["model_type"] not in CONFIG_MAPPING:
        raise ModelFolderError(f"'{folder}': model type '{config['model_type']}' is unknown to this transformers")
    pickled = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLED)
    if pickled:
        raise ModelFolderError(f"'{folder}' holds pickled weights ({', '.join(pickled)}): convert them to "
                               "model.safetensors; pickles are never loaded")
    if not any((folder / w).exists() for w in WEIGHT_FILES):
        raise ModelFolderError(f"'{folder}' has no model.safetensors")
    if not any((folder / t).exists() for t in ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model",
                                                "spm.model", "vocab.json")):
        raise ModelFolderError(f"'{folder}' has no tokenizer files (tokenizer.json, vocab.txt, ...)")
    return config


def add_encoder(models_dir: Path, source: Path, name: str = "") -> Path:
    """Copy a checked encoder folder into the models folder (``.encoders/finetune/<name>``), so a
    ``finetune`` model can start from it; nothing is fetched from a hub."""
    import re

    source = Path(source).expanduser()
    check_encoder(source)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip() or source.name).strip("-.")
    if not name or name in (SHIPPED, MULTILINGUAL):
        raise ModelFolderError(f"'{name or source.name}' cannot name an added encoder")
    target = Path(models_dir) / ADDED / name
    if target.exists():
        raise ModelFolderError(f"an encoder named '{name}' was added already")
    tmp = target.parent / f".{name}.adding"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copytree(source, tmp, ignore=shutil.ignore_patterns(".git", "*.onnx", "onnx", "*.msgpack", "*.h5"))
        check_encoder(tmp)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
