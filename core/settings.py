"""Where the workbench keeps its files; every path can be overridden by an environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"


@dataclass(frozen=True)
class Settings:
    home: Path  # the workspace folder (database, exports)
    db_path: Path
    models_dir: Path
    demo: bool  # seed a demo workspace on first start
    inbox: tuple[Path, ...] = ()  # folders whose files may be named by path in the app
    serve_network: bool = False  # the app is served beyond this machine (an explicit choice)
    background_embed: bool = True  # the app fills the embedding cache in a low-priority process
    sign_in: str = "auto"  # "auto": required once the workspace has accounts or serves a network; "required"; "off"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        """``WORKBENCH_HOME`` (default ./workspace), ``WORKBENCH_DB`` (default HOME/workbench.db),
        ``WORKBENCH_MODELS`` (default ./models), ``WORKBENCH_DEMO`` (1/0, default 1),
        ``WORKBENCH_INBOX`` (folders separated by the OS path separator, default HOME/inbox),
        ``WORKBENCH_SERVE`` ("network" to serve beyond localhost; default "local"),
        ``WORKBENCH_EMBED`` (1/0, default 1: encode records for the embedding cache in the background),
        ``WORKBENCH_SIGN_IN`` ("auto", "required" or "off"; default "auto": sign-in is required once the
        workspace has accounts, and always when serving a network)."""
        env = dict(os.environ if env is None else env)
        home = Path(env.get("WORKBENCH_HOME") or PROJECT_ROOT / "workspace").expanduser()
        db_path = Path(env.get("WORKBENCH_DB") or home / "workbench.db").expanduser()
        models_dir = Path(env.get("WORKBENCH_MODELS") or PROJECT_ROOT / "models").expanduser()
        demo = env.get("WORKBENCH_DEMO", "1").strip().lower() not in ("0", "false", "no", "off")
        inbox = tuple(Path(p).expanduser() for p in (env.get("WORKBENCH_INBOX") or "").split(os.pathsep) if p.strip())
        return cls(home=home, db_path=db_path, models_dir=models_dir, demo=demo, inbox=inbox or (home / "inbox",),
                   serve_network=env.get("WORKBENCH_SERVE", "local").strip().lower() == "network",
                   background_embed=env.get("WORKBENCH_EMBED", "1").strip().lower() not in ("0", "false", "no", "off"),
                   sign_in=env.get("WORKBENCH_SIGN_IN", "auto").strip().lower() or "auto")
