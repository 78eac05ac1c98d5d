import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DATA = ROOT / "data"
OUTPUT = ROOT / "test-output"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def shared_file(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared is absent)")
    return path


@pytest.fixture
def store(tmp_path):
    from core.store import Store
    from core.work.workspace import ensure_builtin_taxonomies

    s = Store(tmp_path / "ws.db")
    ensure_builtin_taxonomies(s)
    yield s
    s.close()


@pytest.fixture
def workspace_env(tmp_path, monkeypatch):
    """Point the app at a fresh workspace in tmp_path (with the demo records)."""
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WORKBENCH_DEMO", "1")
    return tmp_path / "home"


@pytest.fixture(scope="session")
def output_dir():
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT
