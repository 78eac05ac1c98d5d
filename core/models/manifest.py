"""The model-folder contract: our small manifest (``workbench.json``) beside the exported files.

A folder without a manifest still loads when its ``config.json`` ``id2label`` holds taxonomy codes,
or with a ``label_map.json`` ({output index or label: code}). Nothing is ever unpickled.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.domain.text import normalize_code
from core.errors import WorkbenchError
from core.files.paths import inside

MANIFEST_FILE = "workbench.json"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".joblib", ".ckpt")


class ModelFolderError(WorkbenchError):
    prefix = "Model folder problem"


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    taxonomy: str
    codes: tuple[str, ...]  # the output columns' codes, in output order
    runtime: str  # a name in core.models.runtimes.RUNTIMES
    multi_label: bool = False  # sigmoid per code (True) or softmax over codes (False)
    input_fields: tuple[str, ...] = ("title", "abstract", "keywords")
    joiner: str = ". "
    max_length: int = 256
    languages: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)  # role -> file name (e.g. {"onnx": "model.onnx"})
    training: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)
    # {"method": "temperature", "temperature": T, "fitted_on": ...}: applied to single-label scores
    calibration: dict[str, Any] = field(default_factory=dict)
    # a model served elsewhere (runtimes "annif", "llm"): {"url", "timeout_s", "concurrency", ...}
    service: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        data = asdict(self)
        for key in ("codes", "input_fields", "languages"):
            data[key] = list(data[key])
        return json.dumps(data, ensure_ascii=False, indent=2)

    def known_codes(self, taxonomy) -> list[tuple[int, str]]:
        """(output column, the taxonomy's code) for each output whose code the taxonomy knows;
        outputs with unknown codes are left out (the Models page lists them)."""
        return [(i, taxonomy.node(c).code) for i, c in enumerate(self.codes) if c in taxonomy]

    def text_of(self, record: dict[str, Any]) -> str:
        """The model's input text for a record: the manifest's fields, non-empty ones joined."""
        parts = [str(record.get(f) or "").strip() for f in self.input_fields]
        return self.joiner.join(p for p in parts if p)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    (Path(folder) / MANIFEST_FILE).write_text(manifest.to_json(), encoding="utf-8")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFolderError(f"'{path.name}' in '{path.parent}' cannot be read: {exc}") from None


def load_manifest(folder: str | Path) -> Manifest:
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFolderError(f"'{folder}' is not a folder")
    path = folder / MANIFEST_FILE
    if path.exists():
        data = _read_json(path)
        if not isinstance(data, dict):
            raise ModelFolderError(f"'{path}' must hold a JSON object")
        missing = [k for k in ("name", "version", "taxonomy", "codes", "runtime") if not data.get(k)]
        if missing:
            raise ModelFolderError(f"'{path}' lacks {', '.join(missing)}")
        known = set(Manifest.__dataclass_fields__)
        data = {k: v for k, v in data.items() if k in known}
        for key in ("codes", "input_fields", "languages"):
            if key in data:
                data[key] = tuple(str(v) for v in data[key])
        data["codes"] = tuple(normalize_code(c) for c in data["codes"])
        if not isinstance(data.get("service") or {}, dict):
            raise ModelFolderError(f"'{path}': 'service' must be an object")
        files = data.get("files") or {}
        if not isinstance(files, dict):
            raise ModelFolderError(f"'{path}': 'files' must map roles to file names")
        for name in files.values():
            candidate = Path(str(name))
            if candidate.is_absolute() or ".." in candidate.parts or not inside(folder / candidate, folder):
                raise ModelFolderError(f"'{path}' names '{name}', which lies outside the model folder")
        return Manifest(**data)
    return _manifest_from_hf_config(folder)


def _manifest_from_hf_config(folder: Path) -> Manifest:
    config_path = folder / "config.json"
    if not config_path.exists():
        pickles = [p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES]
        hint = f" (found only {', '.join(pickles)}: pickled checkpoints are never loaded)" if pickles else ""
        raise ModelFolderError(f"'{folder}' has neither {MANIFEST_FILE} nor config.json{hint}")
    config = _read_json(config_path)
    id2label = config.get("id2label") or {}
    labels = [str(id2label[k]) for k in sorted(id2label, key=lambda k: int(k))]
    label_map_path = folder / "label_map.json"
    if label_map_path.exists():
        label_map = _read_json(label_map_path)
        codes = [str(label_map.get(str(i), label_map.get(lab, ""))) for i, lab in enumerate(labels)]
        if not all(codes):
            raise ModelFolderError(f"'{label_map_path}' does not map every output label to a code")
    else:
        codes = labels
    taxonomy = str(config.get("workbench_taxonomy") or "")
    runtime = "onnx-transformer" if (folder / "model.onnx").exists() else "transformers"
    return Manifest(
        name=folder.name, version=str(config.get("_name_or_path") or "1"), taxonomy=taxonomy,
        codes=tuple(normalize_code(c) for c in codes), runtime=runtime,
        multi_label=config.get("problem_type") == "multi_label_classification",
    )


def is_fast(manifest: Manifest) -> bool:
    """Whether a model runs no transformer at run time: TF-IDF, or the fast tier (static token
    vectors, alone or mixed with TF-IDF)."""
    return manifest.runtime == "sparse-linear" or manifest.training.get("tier") == "fast"


def place_folder(tmp: Path, folder: Path, replace_existing: bool) -> None:
    """Put a folder written at ``tmp`` in place of ``folder`` (refused where it exists, unless
    ``replace_existing``): a folder is never seen half-written."""
    import shutil

    if folder.exists():
        if not replace_existing:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ModelFolderError(f"'{folder}' exists already")
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(folder)


