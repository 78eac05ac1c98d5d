"""Finding installed model folders, checking a user-given folder, and describing models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.domain.taxonomy import Taxonomy
from core.files.paths import inside
from core.models.manifest import Manifest, ModelFolderError, load_manifest


@dataclass(frozen=True)
class InstalledModel:
    folder: Path
    manifest: Manifest | None
    error: str = ""

    @property
    def size_mb(self) -> float:
        return own_size_mb(self.folder)


def own_size_mb(folder: Path) -> float:
    """What the folder's own files take on disk: a file hard-linked from elsewhere too (the shared
    encoder, an ensemble's members) belongs to the folder it was made in, not to every folder
    linking it; a file linked twice inside the folder counts once."""
    files = {}
    for p in Path(folder).rglob("*"):
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            key = (st.st_dev, st.st_ino)
            links, size, _ = files.get(key, (0, st.st_size, st.st_nlink))
            files[key] = (links + 1, size, st.st_nlink)
    return sum(size for links, size, nlink in files.values() if links >= nlink) / 1e6


def discover(models_dir: Path) -> list[InstalledModel]:
    """Every sub-folder of the models folder, loaded or with the reason it cannot be."""
    if not models_dir.is_dir():
        return []
    found = []
    for folder in sorted(p for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            found.append(InstalledModel(folder, load_manifest(folder)))
        except ModelFolderError as exc:
            found.append(InstalledModel(folder, None, exc.message))
    return found


def resolve_model_path(text: str, models_dir: Path, *, must_exist: bool = True) -> Path:
    """A folder the user typed, which must lie inside the models folder (links resolved); with
    ``must_exist=False``, the name of a new folder directly inside it."""
    raw = Path(text.strip()).expanduser()
    path = (raw if raw.is_absolute() else models_dir / raw).resolve()
    if not inside(path, models_dir):
        raise ModelFolderError(f"'{text}' is outside the models folder {models_dir.resolve()}; "
                               "copy the model folder there first")
    if not must_exist:
        if path.parent != Path(models_dir).resolve() or not path.name or path.name.startswith("."):
            raise ModelFolderError(f"'{text}': give a plain folder name (letters, digits, - and _)")
        return path
    if not path.is_dir():
        raise ModelFolderError(f"'{path}' is not a folder")
    return path


def check_codes(manifest: Manifest, taxonomy: Taxonomy) -> list[str]:
    """The manifest's codes missing from the taxonomy; an error if none of them is in it."""
    unknown = [c for c in manifest.codes if c not in taxonomy]
    if len(unknown) == len(manifest.codes):
        raise ModelFolderError(
            f"none of model '{manifest.name}''s {len(manifest.codes)} output codes is in taxonomy "
            f"'{taxonomy.name}' (e.g. {', '.join(manifest.codes[:3])}); is it the right taxonomy?"
        )
    return unknown




def models_for(installed: list[InstalledModel], taxonomy_id: str, promoted: str = "") -> list[InstalledModel]:
    """Usable models of a taxonomy: the promoted one (the model in use) first, then best held-out
    weighted F1 first; on ties ONNX fp32 first, then int8 (on CPUs without VNNI it is no faster and
    agrees a little less), then PyTorch."""
    usable = [m for m in installed if m.manifest is not None and m.manifest.taxonomy == taxonomy_id]

    def key(m: InstalledModel):
        f1 = (m.manifest.evaluation.get("held_out") or {}).get("strict_weighted_f1") or 0.0
        int8 = any("int8" in str(f) for f in m.manifest.files.values())
        return (m.folder.name != promoted, -f1, m.manifest.runtime == "transformers", int8, m.manifest.name)

    return sorted(usable, key=key)


def estimated_seconds(manifest: Manifest, records: int) -> float:
    """A rough time to score ``records`` on a 2-core CPU (for deciding what to do inline)."""
    if manifest.training.get("tier") == "fast":  # static token vectors: no transformer
        return records / 3000.0
    from core.models.runtimes import runtime_class

    try:
        return records / runtime_class(manifest.runtime).records_per_s  # declared by each runtime
    except ModelFolderError:
        return records / 10.0
