"""A cache of a generative model's answers, keyed by the model and the whole request (prompt and
settings): a record asked again (a resumed job, a page rerun, a calibration after an evaluation)
costs nothing. One small SQLite file of its own, written in WAL mode so several workers share it;
a broken or locked cache never stops a classification, it is only not used."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, answer TEXT NOT NULL, "
                         "created_at TEXT NOT NULL DEFAULT (datetime('now')))")
            self._conn = conn
        except (OSError, sqlite3.Error):
            self._conn = None

    @staticmethod
    def key(model: str, request: Any) -> str:
        return hashlib.sha256(json.dumps([model, request], sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def get(self, key: str) -> Any | None:
        if self._conn is None:
            return None
        try:
            with self._lock:
                row = self._conn.execute("SELECT answer FROM responses WHERE key = ?", (key,)).fetchone()
            return json.loads(row[0]) if row else None
        except (sqlite3.Error, ValueError):
            return None

    def put(self, key: str, answer: Any) -> None:
        if self._conn is None:
            return
        try:
            with self._lock, self._conn:
                self._conn.execute("INSERT OR REPLACE INTO responses (key, answer) VALUES (?, ?)",
                                   (key, json.dumps(answer, ensure_ascii=False)))
        except sqlite3.Error:
            pass

    def count(self) -> int:
        if self._conn is None:
            return 0
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM responses").fetchone()[0])


__all__ = ["ResponseCache"]
