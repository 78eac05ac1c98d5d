"""Foundation benchmark: record import speed, taxonomy search latency, import peak memory.

    .venv/bin/python bench/bench_foundation.py [--rows 300000] [--memory-rows 1000000]

Prints one JSON line. Ratios compare against baselines run in the same process: a bare
``executemany`` of the same rows into SQLite (import), a plain substring scan of the names
(search), and a child process that only imports the modules (memory).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.domain.taxonomy import NodeSpec, Taxonomy  # noqa: E402
from core.domain.text import fold  # noqa: E402
from core.store import Store  # noqa: E402

Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspaces
from core.work.records_import import import_records  # noqa: E402

WORDS = ["analysis", "model", "quantum", "social", "policy", "health", "education", "network", "learning", "protein", "soil", "climate", "economic", "political", "history", "language", "law", "energy", "material", "signal", "cell", "urban", "rural", "market", "data", "közgazdaság", "társadalom", "egészség", "oktatás", "környezet", "jog", "történelem", "nyelv"]


def write_records(path: Path, rows: int, abstract_words: int, seed: int = 1, with_abstract: float = 0.4) -> None:
    """An MTMT-like export: 60 % of the records carry a title only, 40 % also an abstract."""
    rnd = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "abstract", "keywords", "language", "year"])
        for i in range(rows):
            w.writerow([
                f"rec-{i}",
                " ".join(rnd.choices(WORDS, k=10)).capitalize(),
                " ".join(rnd.choices(WORDS, k=abstract_words)) if rnd.random() < with_abstract else "",
                "; ".join(rnd.choices(WORDS, k=4)),
                rnd.choice(("en", "hu")),
                rnd.randint(1990, 2025),
            ])


def bench_import(rows: int, tmp: Path) -> dict:
    path = tmp / "records.csv"
    write_records(path, rows, abstract_words=200)
    size_mb = path.stat().st_size / 1e6
    store = Store(tmp / "import.db")
    start = time.perf_counter()
    report = import_records(store, path, "records.csv")
    ours = time.perf_counter() - start
    assert report.rows_imported == rows
    store.close()

    # Baseline: parse with the csv module and executemany into a bare table, one transaction.
    conn = sqlite3.connect(tmp / "baseline.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE r (id TEXT UNIQUE, title TEXT, abstract TEXT, keywords TEXT, language TEXT, year INT)")
    start = time.perf_counter()
    conn.execute("BEGIN")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        conn.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?, ?)", reader)
    conn.execute("COMMIT")
    baseline = time.perf_counter() - start
    conn.close()
    return {
        "import_rows": rows,
        "import_file_mb": round(size_mb, 1),
        "import_bytes_per_row": round(size_mb * 1e6 / rows),
        "import_seconds": round(ours, 2),
        "import_records_per_s": round(rows / ours),
        "import_baseline_seconds": round(baseline, 2),
        "import_vs_bare_executemany": round(ours / baseline, 2),
    }


def synthetic_taxonomy(nodes: int = 3000, depth: int = 6, seed: int = 2) -> Taxonomy:
    rnd = random.Random(seed)
    specs = [NodeSpec(str(i + 1), {"en": f"{WORDS[i].capitalize()} sciences", "hu": f"{WORDS[-i-1]}tudomány"})
             for i in range(6)]
    levels = [[s.code for s in specs]]
    while len(specs) < nodes:
        level = min(len(levels), depth - 1)
        parent = rnd.choice(levels[level - 1])
        code = f"{parent}.{sum(1 for s in specs if s.parents == (parent,)) + 1}"
        name = " ".join(rnd.choices(WORDS, k=rnd.randint(2, 4))).capitalize()
        specs.append(NodeSpec(code, {"en": name, "hu": name + " (hu)"}, (parent,)))
        if len(levels) <= level:
            levels.append([])
        levels[level].append(code)
        if len(levels[level]) > 6 ** (level + 1) and len(levels) < depth:
            levels.append([])
    return Taxonomy("bench", "bench", specs)


def bench_search(_tmp: Path) -> dict:
    from core.domain.search import search

    tax = synthetic_taxonomy()
    rnd = random.Random(3)
    names = [n.name("en") for n in tax]
    queries = []
    for _ in range(400):
        kind = rnd.random()
        name = rnd.choice(names)
        if kind < 0.25:
            queries.append(rnd.choice(list(tax.nodes)))  # a code
        elif kind < 0.5:
            queries.append(name.split()[0][:5])  # a prefix
        elif kind < 0.75:
            word = rnd.choice(name.split())
            i = rnd.randrange(len(word))
            queries.append(word[:i] + word[i + 1:] + " " + rnd.choice(WORDS))  # a typo + another word
        else:
            queries.append(rnd.choice(WORDS[-8:]))  # Hungarian
    search(tax, "warm up")
    times = []
    for q in queries:
        start = time.perf_counter()
        search(tax, q)
        times.append(time.perf_counter() - start)
    times.sort()
    folded = [fold(n) for n in names]
    start = time.perf_counter()
    for q in queries:
        fq = fold(q)
        [n for n in folded if fq in n]
    baseline = (time.perf_counter() - start) / len(queries)
    p95 = times[int(0.95 * len(times))]
    return {
        "search_nodes": len(tax),
        "search_depth": tax.depth,
        "search_p50_ms": round(times[len(times) // 2] * 1000, 2),
        "search_p95_ms": round(p95 * 1000, 2),
        "search_p95_vs_substring_scan": round(p95 / baseline, 1),
    }


CHILD = """
import sys
sys.path.insert(0, {root!r})
from core.work.records_import import import_records
from core.store import Store
if {do_import}:
    s = Store({db!r})
    r = import_records(s, {path!r}, "big.csv")
    assert r.rows_imported == {rows}
# VmHWM is this process's own peak (ru_maxrss would carry the parent's peak over the exec).
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""


def bench_memory(rows: int, tmp: Path) -> dict:
    path = tmp / "big.csv"
    write_records(path, rows, abstract_words=200, seed=4)
    results = {}
    for label, do_import in (("baseline", False), ("import", True)):
        code = CHILD.format(root=str(ROOT), do_import=do_import, db=str(tmp / "big.db"), path=str(path), rows=rows)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        results[label] = (int(out.stdout.strip().splitlines()[-1]) / 1024, time.perf_counter() - start)
    return {
        "memory_rows": rows,
        "memory_file_mb": round(path.stat().st_size / 1e6, 1),
        "memory_import_peak_rss_mb": round(results["import"][0]),
        "memory_modules_only_rss_mb": round(results["baseline"][0]),
        "memory_import_over_modules": round(results["import"][0] / results["baseline"][0], 2),
        "memory_import_seconds": round(results["import"][1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        figures = {"bench": "foundation", "cpus": os.cpu_count()}
        figures |= bench_import(args.rows, tmp)
        figures |= bench_search(tmp)
        figures |= bench_memory(args.memory_rows, tmp)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
