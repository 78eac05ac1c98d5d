"""Finding a record by its words: what the full-text index costs an import and what it saves a search.

    .venv/bin/python bench/bench_find.py [--rows 300000]

Builds a file of N real records (the shipped and shared corpora, English, Hungarian and Danish,
repeated with their own ids), imports it into a fresh workspace twice in this process: once as
shipped (the FTS5 index, filled when the import completes) and once as the baseline without it.
Then times the Annotate finder (``find_records``) against the substring scan it replaced
(``LIKE '%word%'`` over title and abstract) for words typed in both languages. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from core.store import Store  # noqa: E402

Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspaces
from core.work.records_import import import_records  # noqa: E402
from core.work.workspace import ensure_builtin_taxonomies  # noqa: E402

CORPORA = ROOT.parent / "shared" / "data" / "corpora"
QUERIES = ["education", "climate change", "neural network", "oktatás", "egészségügyi", "költségvetés",
           "mezőgazdaság", "labour market", "protein", "választás"]


def corpus_rows() -> pd.DataFrame:
    frames = []
    for name, title, text in (("sci_arxiv_abstracts_sample.csv", "title", "abstract"),
                              ("sci_wos_abstracts_sample.csv", "keywords", "abstract"),
                              ("sci_mag_paper_titles_dev.csv", "title", None),
                              ("cap_hu_pre_agenda_speeches_sample.csv", "agenda_item_title", "text"),
                              ("cap_us_congress_bill_titles.csv", "text", None),
                              ("cap_nyt_headlines_sample.csv", "title", None),
                              ("cap_dk_local_agenda_items.csv", "text", None)):
        path = CORPORA / name
        if not path.exists():
            path = ROOT / "data" / "corpora" / name
        if not path.exists():
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frames.append(pd.DataFrame({"title": frame[title], "abstract": frame.get(text, "")}))
    return pd.concat(frames, ignore_index=True)


def build_file(path: Path, rows: int) -> None:
    base = corpus_rows()
    reps = -(-rows // len(base))
    frame = pd.concat([base] * reps, ignore_index=True).iloc[:rows]
    frame.insert(0, "id", [f"r{i}" for i in range(len(frame))])
    frame.to_csv(path, index=False)


def workspace(folder: Path, *, index: bool) -> Store:
    store = Store(folder / ("with.db" if index else "without.db"))
    ensure_builtin_taxonomies(store)
    if not index:  # the baseline: no index (a table that takes the batch-end insert and keeps nothing)
        for trigger in ("records_fts_insert", "records_fts_delete", "records_fts_update"):
            store.db.execute(f"DROP TRIGGER {trigger}")
        store.db.execute("DROP TABLE records_fts")
        store.db.execute("CREATE TABLE records_fts (external_id, title, abstract, keywords)")
        store.db.execute("CREATE TRIGGER records_fts_discard BEFORE INSERT ON records_fts BEGIN "
                         "SELECT RAISE(IGNORE); END")
    return store


def timed(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "records.csv"
        build_file(source, args.rows)
        seconds = {}
        stores = {}
        for index in (False, True):
            store = workspace(folder, index=index)
            start = time.perf_counter()
            import_records(store, source, "records.csv", detect_language=False)
            seconds[index] = time.perf_counter() - start
            stores[index] = store
        store = stores[True]
        from core.domain.labels import QueueSpec

        fts, scan, fts_count, scan_count, hits = [], [], [], [], []
        for query in QUERIES:
            fts.append(timed(lambda q=query: store.find_records(q, limit=20)))
            scan.append(timed(lambda q=query: list(store.db.execute(
                "SELECT id FROM records WHERE deleted_at IS NULL AND (title LIKE ? OR abstract LIKE ?) ORDER BY id "
                "LIMIT 20", [f"%{q}%", f"%{q}%"])), repeat=1))
            # the queue filter counts every match (the queue's size), as the substring scan did
            fts_count.append(timed(lambda q=query: store.queue_size(
                QueueSpec(taxonomy_id="ford", status="any", order="import", search=q))))
            scan_count.append(timed(lambda q=query: store.db.execute(
                "SELECT count(*) FROM records WHERE deleted_at IS NULL AND (title LIKE ? OR abstract LIKE ?)",
                [f"%{q}%", f"%{q}%"]).fetchone(), repeat=1))
            hits.append(len(store.find_records(query, limit=100_000)))
        size = {k: (folder / ("with.db" if k else "without.db")).stat().st_size for k in (True, False)}
        print(json.dumps({
            "bench": "find", "rows": args.rows,
            "import_s_baseline": round(seconds[False], 1), "import_s_with_index": round(seconds[True], 1),
            "import_ratio": round(seconds[True] / seconds[False], 2),
            "db_mb_baseline": round(size[False] / 2**20), "db_mb_with_index": round(size[True] / 2**20),
            "find_ms_median": round(1000 * statistics.median(fts), 1), "find_ms_max": round(1000 * max(fts), 1),
            "like_first20_ms_median": round(1000 * statistics.median(scan), 1),
            "like_first20_ms_max": round(1000 * max(scan), 1),
            "queue_count_ms_median": round(1000 * statistics.median(fts_count), 1),
            "like_count_ms_median": round(1000 * statistics.median(scan_count), 1),
            "queue_count_speedup_median": round(statistics.median(s / f for s, f in zip(scan_count, fts_count)), 1),
            "hits_per_query": dict(zip(QUERIES, hits)),
        }, ensure_ascii=False))
        for s in stores.values():
            s.close()


if __name__ == "__main__":
    main()
