"""Evidence-search benchmark: the labelled records nearest a record, with 300,000 labelled records.

    .venv/bin/python bench/bench_evidence.py [--rows 300000] [--queries 200]

Builds a workspace of MTMT-like records (as ``bench_annotation.py``: 5,000 distinct texts drawn
300,000 times), every one imported with a FORD field, and keeps their ``ford-minilm`` vectors through
the embedding cache (the background fill's code). Then times what the Annotate card does per record
(``core.work.evidence.nearest_labelled``: bring the index up to date, read the record's vector,
search) for random records, an expert's correction saved before every fifth (the index reads the
event). Also: building the index the first time (what the first card of a session waits for),
its memory, and two baselines in the same process on the same vectors: an exact float32 matrix
product over every labelled record (numpy), and faiss's search alone. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_annotation import build_records  # noqa: E402

from core.models.runtimes import load_classifier  # noqa: E402
from core.store import Store  # noqa: E402

Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspaces
from core.work.annotation import Annotator  # noqa: E402
from core.work.embeddings import cache_key, fill_cache  # noqa: E402
from core.work.evidence import index_for, nearest_labelled  # noqa: E402
from core.work.records_import import import_records  # noqa: E402
from core.work.workspace import ensure_builtin_taxonomies  # noqa: E402


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(0.95 * len(values)) - 1)]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    import pandas as pd

    figures: dict = {"bench": "evidence", "rows": args.rows}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        build_records(home / "records.csv", args.rows)
        store = Store(home / "workbench.db")
        ensure_builtin_taxonomies(store)
        ford = store.load_taxonomy("ford")
        fields = [n.code for n in ford.at_level(2)]
        frame = pd.read_csv(home / "records.csv", dtype=str, keep_default_na=False)
        rnd = random.Random(0)
        frame["language"] = "en"
        frame["label"] = [rnd.choice(fields) for _ in range(len(frame))]
        frame.to_csv(home / "records.csv", index=False)
        start = time.perf_counter()
        import_records(store, home / "records.csv", "records.csv", label_taxonomy=ford)
        figures["import_s"] = round(time.perf_counter() - start, 1)
        clf = load_classifier(ROOT / "models" / "ford-minilm")
        start = time.perf_counter()
        fill_cache(store, clf, batch=8192)
        figures["encode_s"] = round(time.perf_counter() - start, 1)
        ids = [r[0] for r in store.db.execute("SELECT id FROM records ORDER BY id")]
        before = rss_mb()
        start = time.perf_counter()
        nearest_labelled(store, ford, clf, store.record(ids[0]))
        figures["index_build_s"] = round(time.perf_counter() - start, 2)
        index = index_for(store, "ford", cache_key(clf))
        figures["indexed"] = index.index.ntotal
        figures["index_mb"] = round(index.index.ntotal * index.index.d * 2 / 1e6, 1)
        figures["rss_growth_mb"] = round(rss_mb() - before, 1)

        annotator = Annotator(store, "bench", "expert", ford)
        seconds, found = [], []
        for q in range(args.queries):
            record = store.record(rnd.choice(ids))
            if q % 5 == 0:  # an expert's correction just saved: the index reads its event
                annotator.correct(rnd.choice(ids), [rnd.choice(fields)], ())
            start = time.perf_counter()
            evidence = nearest_labelled(store, ford, clf, record)
            seconds.append(time.perf_counter() - start)
            found.append(len(evidence.neighbours))

        # baselines on the same vectors, in the same process
        kept = store.cached_embeddings(cache_key(clf), ids)
        matrix = np.stack([kept[i] for i in ids]).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        numpy_s, faiss_s = [], []
        for _ in range(50):
            query = matrix[rnd.randrange(len(matrix))]
            start = time.perf_counter()
            sims = matrix @ query
            np.argpartition(-sims, 20)[:20]
            numpy_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            index.index.search(query.reshape(1, -1), 20)
            faiss_s.append(time.perf_counter() - start)
        store.close()
    figures.update({
        "queries": args.queries, "neighbours_min": min(found),
        "card_p50_ms": round(statistics.median(seconds) * 1000, 1), "card_p95_ms": round(p95(seconds) * 1000, 1),
        "faiss_search_p50_ms": round(statistics.median(faiss_s) * 1000, 1),
        "numpy_float32_p50_ms": round(statistics.median(numpy_s) * 1000, 1),
        "numpy_float32_mb": round(matrix.nbytes / 1e6, 1),
        "ratio_faiss_over_numpy": round(statistics.median(faiss_s) / statistics.median(numpy_s), 2),
        "goal_card_p95_ms": 300})
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
