"""How far the build of the default models has come: written by ``scripts/build_models.py`` (into
``<models>/.build-progress.json``, replaced atomically), read by the Start page, which shows the
progress while the heavier models build in the background and each model becomes usable as soon
as its folder is in place."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

FILE = ".build-progress.json"


@dataclass
class BuildProgress:
    planned: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    current: str = ""
    detail: str = ""
    pid: int = 0
    started_at: float = 0.0
    updated_at: float = 0.0
    finished: bool = False
    error: str = ""

    @property
    def running(self) -> bool:
        """The builder is at work (its process lives and it has not finished)."""
        if self.finished or not self.pid:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    @property
    def fraction(self) -> float:
        return len(set(self.done) & set(self.planned)) / len(self.planned) if self.planned else 1.0


class ProgressWriter:
    def __init__(self, models_dir: Path, planned: list[str]):
        self.path = Path(models_dir) / FILE
        self.state = BuildProgress(planned=list(planned), pid=os.getpid(), started_at=time.time())
        self._write()

    def _write(self) -> None:
        self.state.updated_at = time.time()
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(asdict(self.state)), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # progress is a courtesy: never a reason for a build to fail

    def start(self, name: str) -> None:
        self.state.current, self.state.detail = name, ""
        self._write()

    def detail(self, text: str) -> None:
        self.state.detail = text
        self._write()

    def done(self, name: str) -> None:
        if name not in self.state.done:
            self.state.done.append(name)
        if self.state.current == name:
            self.state.current, self.state.detail = "", ""
        self._write()

    def finish(self, error: str = "") -> None:
        self.state.finished, self.state.error, self.state.current = True, error, ""
        self._write()


def read_progress(models_dir: Path) -> BuildProgress | None:
    try:
        data = json.loads((Path(models_dir) / FILE).read_text(encoding="utf-8"))
        known = set(BuildProgress.__dataclass_fields__)
        return BuildProgress(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError):
        return None


__all__ = ["BuildProgress", "FILE", "ProgressWriter", "read_progress"]
