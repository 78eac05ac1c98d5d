"""Bulk classification benchmark: a job's records/s against the raw runtime's on the same model
and texts (the job's overhead: import, checkpoints, results), and the peak memory of the
streaming command line on 1,000,000 rows.

    .venv/bin/python bench/bench_jobs.py [--job-rows 50000] [--minilm-rows 1500] [--memory-rows 1000000]
                                         [--two-taxonomy-rows 2000]

Also: the FORD and CAP MiniLM heads in one job against the two jobs one after the other (they
share the encoder, so the job encodes each record once).

Baselines in the same run: ``predict_scores`` over the same texts in the same chunks (raw
runtime), and a child process that only imports the modules (memory). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from core.jobs import JobParams, create_job, run_job  # noqa: E402
from core.models.runtimes import load_classifier  # noqa: E402
from core.store import Store  # noqa: E402

Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspaces
from core.work.workspace import ensure_builtin_taxonomies  # noqa: E402


def mtmt_file(path: Path, rows: int, seed: int = 0) -> None:
    """60 % titles only, 40 % title + abstract, from the shipped corpora; written in chunks."""
    from throughput import workload

    texts = workload(20000, seed=seed)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            chunk = [texts[(start + i) % len(texts)] for i in range(n)]
            frame = pd.DataFrame({"id": [f"r{start + i}" for i in range(n)],
                                  "title": [t.partition(". ")[0] for t in chunk],
                                  "abstract": [t.partition(". ")[2] for t in chunk]})
            frame.to_csv(fh, index=False, header=start == 0)


def job_vs_raw(tmp: Path, model: Path, rows: int, chunk: int) -> dict:
    path = tmp / f"job-{model.name}.csv"
    mtmt_file(path, rows, seed=1)
    clf = load_classifier(model)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    texts = [clf.manifest.text_of({"title": t, "abstract": a}) for t, a in zip(frame["title"], frame["abstract"])]
    clf.predict_scores(texts[:50])
    start = time.perf_counter()
    for i in range(0, len(texts), chunk):
        clf.predict_scores(texts[i:i + chunk])
    raw = time.perf_counter() - start
    store = Store(tmp / f"bench-{model.name}.db")
    ensure_builtin_taxonomies(store)
    job_id = create_job(store, JobParams(source=str(path), file_name=path.name,
                                         mapping={"id": "id", "title": "title", "abstract": "abstract"},
                                         models=[str(model)], taxonomy_id=clf.manifest.taxonomy, top_k=3,
                                         chunk=chunk), "bench")
    start = time.perf_counter()
    job = run_job(store.path, job_id)
    total = time.perf_counter() - start
    assert job.status == "done" and job.done == rows, job.error
    store.close()
    return {"rows": rows, "raw_records_per_s": round(rows / raw, 1), "job_records_per_s": round(rows / total, 1),
            "job_overhead": round(total / raw - 1, 3)}


def timed_job(tmp: Path, name: str, path: Path, models: list[Path], chunk: int) -> float:
    """Seconds for a job in a fresh workspace (an empty embedding cache)."""
    store = Store(tmp / f"{name}.db")
    ensure_builtin_taxonomies(store)
    job_id = create_job(store, JobParams(source=str(path), file_name=path.name,
                                         mapping={"id": "id", "title": "title", "abstract": "abstract"},
                                         models=[str(m) for m in models], taxonomy_id="ford", top_k=3,
                                         chunk=chunk), "bench")
    start = time.perf_counter()
    job = run_job(store.path, job_id)
    seconds = time.perf_counter() - start
    assert job.status == "done" and job.done == job.total, job.error
    store.close()
    return seconds


def two_taxonomies(tmp: Path, models: Path, rows: int) -> dict:
    """The FORD and CAP MiniLM models in one job against the two run one after the other (each in
    a workspace of its own, so neither reads the other's vectors)."""
    path = tmp / "two.csv"
    mtmt_file(path, rows, seed=3)
    ford, cap = models / "ford-minilm", models / "cap-minilm"
    timed_job(tmp, "warm", path, [ford], 256)  # first load of the encoder, off the clock
    apart = timed_job(tmp, "ford-only", path, [ford], 256) + timed_job(tmp, "cap-only", path, [cap], 256)
    together = timed_job(tmp, "both", path, [ford, cap], 256)
    return {"two_taxonomies_rows": rows, "two_taxonomies_apart_s": round(apart, 1),
            "two_taxonomies_together_s": round(together, 1), "two_taxonomies_speedup": round(apart / together, 2),
            "two_taxonomies_goal_speedup": 1.8}


def peak_rss(args: list[str]) -> tuple[float, float]:
    code = ("import resource, runpy, sys, time; sys.argv = {argv!r}; t = time.perf_counter()\n"
            "try:\n    runpy.run_module('core', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code.format(argv=["core", *args])], cwd=ROOT, capture_output=True,
                         text=True, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    line = next((x for x in out.stdout.splitlines() if x.startswith("PEAK")), None)
    if line is None:
        raise SystemExit(out.stderr[-2000:])
    _, mb, seconds = line.split()
    return float(mb), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job-rows", type=int, default=50_000)
    parser.add_argument("--minilm-rows", type=int, default=1_500)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--two-taxonomy-rows", type=int, default=2_000)
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    figures: dict[str, object] = {"bench": "jobs"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tfidf = job_vs_raw(tmp, args.models / "ford-tfidf", args.job_rows, 5000)
        figures.update({f"tfidf_{k}": v for k, v in tfidf.items()})
        minilm = job_vs_raw(tmp, args.models / "ford-minilm-int8", args.minilm_rows, 256)
        figures.update({f"minilm_int8_{k}": v for k, v in minilm.items()})
        head = job_vs_raw(tmp, args.models / "ford-minilm", args.minilm_rows, 256)
        figures.update({f"minilm_head_{k}": v for k, v in head.items()})
        if args.two_taxonomy_rows:
            figures.update(two_taxonomies(tmp, args.models, args.two_taxonomy_rows))
        if not args.memory_rows:
            print(json.dumps(figures))
            return
        big = tmp / "million.csv"
        mtmt_file(big, args.memory_rows, seed=2)
        figures["memory_rows"] = args.memory_rows
        figures["memory_file_mb"] = round(big.stat().st_size / 1e6, 1)
        base_mb, _ = peak_rss(["--db", str(tmp / "m.db"), "list", "stats"])
        mb, seconds = peak_rss(["--db", str(tmp / "m.db"), "classify", str(big), str(tmp / "million-out.csv"),
                                "--model", str(args.models / "ford-tfidf"), "--map", "title=title",
                                "--map", "abstract=abstract", "--quiet"])
        figures.update({"memory_cli_peak_rss_mb": round(mb), "memory_modules_only_rss_mb": round(base_mb),
                        "memory_cli_seconds": round(seconds, 1),
                        "memory_cli_records_per_s": round(args.memory_rows / seconds),
                        "memory_goal_mb": 1500})
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
