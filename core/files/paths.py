"""Where the workbench may read files a user names: typed paths are confined to configured
folders (the workspace's ``inbox/`` by default, for files over the upload limit; the models
folder for model folders), and files a model manifest names must stay inside its folder. Paths
are compared after resolving ``..`` and symbolic links, so neither leads out."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from core.errors import InputFileError


def inside(path: Path, root: Path) -> bool:
    path, root = Path(path).resolve(), Path(root).resolve()
    return path == root or root in path.parents


def confined_file(text: str | Path, roots: Sequence[Path], what: str = "file") -> Path:
    """The file a user typed (absolute, or relative to the first folder), which must exist and
    lie inside one of ``roots``."""
    raw = Path(str(text).strip()).expanduser()
    if not str(text).strip() or not roots:
        raise InputFileError(f"no {what} given")
    path = (raw if raw.is_absolute() else Path(roots[0]) / raw).resolve()
    if not any(inside(path, root) for root in roots):
        folders = ", ".join(str(Path(r).resolve()) for r in roots)
        raise InputFileError(f"'{text}' is outside the folders files may be read from ({folders}); "
                             f"copy the {what} there first, or add its folder to WORKBENCH_INBOX")
    if not path.is_file():
        raise InputFileError(f"'{path}' does not exist or is not a file")
    return path


__all__ = ["confined_file", "inside"]
