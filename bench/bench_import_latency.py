"""Annotation write latency while a large import runs: an expert's corrections (each one write
transaction) every 20 ms, timed while another process imports a file of N rows, and, as the
baseline in the same run, with no import.

    .venv/bin/python bench/bench_import_latency.py [--rows 1000000]

The import commits chunk by chunk into a batch that stays invisible until it completes, so a
writer waits at most for one chunk. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.domain.labels import Event  # noqa: E402
from core.store import Store  # noqa: E402

Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspaces
from core.work.records_import import import_records  # noqa: E402
from core.work.workspace import ensure_builtin_taxonomies  # noqa: E402


def write_file(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,title,abstract\n")
        for i in range(rows):
            fh.write(f"m{i},Record {i} on labour markets and wages,An abstract of record {i} with some words\n")


def corrections(db: Path, record_ids: list[int], seconds: float | None, until=None) -> list[float]:
    """Latencies (ms) of corrections every 20 ms, for ``seconds`` or until ``until()`` is true."""
    out = []
    start = time.perf_counter()
    with Store(db, timeout=120) as store:
        i = 0
        while (seconds is not None and time.perf_counter() - start < seconds) or (until is not None and not until()):
            t = time.perf_counter()
            store.add_event(Event(record_ids[i % len(record_ids)], "ford", "Eva", "expert", "correct",
                                  ("1.2" if i % 2 else "5.2",)))
            out.append((time.perf_counter() - t) * 1000)
            i += 1
            time.sleep(0.02)
    return out


def percentiles(values: list[float]) -> dict:
    values = sorted(values)
    pick = lambda q: round(values[min(len(values) - 1, int(q * len(values)))], 1)  # noqa: E731
    return {"n": len(values), "p50_ms": pick(0.5), "p95_ms": pick(0.95), "max_ms": round(values[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = tmp / "ws.db"
        with Store(db) as store:
            ensure_builtin_taxonomies(store)
            import_records(store, b"id,title\n" + b"".join(f"e{i},Earlier {i}\n".encode() for i in range(200)), "e.csv")
            ids = [r["id"] for r in store.records(limit=200)]
        baseline = percentiles(corrections(db, ids, seconds=5))
        path = tmp / "big.csv"
        write_file(path, args.rows)
        code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from core.store import Store; "
                f"from core.work.records_import import import_records; "
                f"import_records(Store({str(db)!r}, timeout=120), {str(path)!r})")
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code])
        during = percentiles(corrections(db, ids, seconds=None, until=lambda: proc.poll() is not None))
        import_seconds = time.perf_counter() - start
        with Store(db) as store:
            imported = store.count_records() - 200
    print(json.dumps({"bench": "import_latency", "import_rows": args.rows, "imported": imported,
                      "import_seconds": round(import_seconds, 1),
                      **{f"baseline_{k}": v for k, v in baseline.items()},
                      **{f"during_import_{k}": v for k, v in during.items()},
                      "p95_over_baseline": round(during["p95_ms"] / max(baseline["p95_ms"], 1e-9), 1),
                      "goal_p95_ms": 200}))


if __name__ == "__main__":
    main()
