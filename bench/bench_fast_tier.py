"""The fast tier, measured: a million MTMT-like records classified into FORD and CAP by the fast
models (``ford-fast`` + ``cap-fast``: word TF-IDF + a head on static token vectors) through ``classify``, and the same file's first rows by the
MiniLM models for the ratio. Prints one JSON line.

    .venv/bin/python bench/bench_fast_tier.py [--rows 1000000] [--minilm-rows 5000] [--job-rows 100000]
        [--hungarian 0.4]

- The file: 60 % titles alone (MAG paper titles), 40 % titles with abstracts (arXiv and WOS
  abstracts), repeated to ``--rows`` rows, as a CSV; each row gets its own id.
- ``classify`` runs as a user runs it (``python -m core classify``, a new process, 2 threads by
  default); wall time includes reading and writing the files.
- ``--hungarian SHARE``: that share of the rows becomes Hungarian (the shared Hungarian speeches:
  the agenda item's title and the speech's first 1,500 characters as the abstract), the rest as
  above, for the figure "a million MTMT-like records, 40 % Hungarian".
- The baseline: ``ford-minilm`` + ``cap-minilm`` on the first ``--minilm-rows`` rows, in the same
  way; ``ratio`` = fast records/s over MiniLM records/s.
- A bulk job (import into a new workspace, then the job) on the first ``--job-rows`` rows with the
  fast models: import and job timed apart.
- Accuracy: the fast models' held-out macro F1 (the defaults' split) next to the MiniLM heads' and
  the default ensembles'.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPORA = ROOT.parent / "shared" / "data" / "corpora"
MODELS = ROOT / "models"


def make_file(path: Path, rows: int, hungarian: float = 0.0) -> dict:
    titles = pd.read_csv(CORPORA / "sci_mag_paper_titles_dev.csv", usecols=["title"]).dropna()["title"].tolist()
    arxiv = pd.read_csv(CORPORA / "sci_arxiv_abstracts_sample.csv", usecols=["title", "abstract"]).dropna()
    wos = pd.read_csv(CORPORA / "sci_wos_abstracts_sample.csv", usecols=["keywords", "abstract"]).dropna()
    wos = wos.rename(columns={"keywords": "title"})  # WOS rows carry no title: their keywords stand in
    with_abstract = pd.concat([arxiv, wos], ignore_index=True)
    n_abstract = int(rows * 0.4)
    rng = np.random.default_rng(0)
    speeches = pd.read_csv(CORPORA / "cap_hu_pre_agenda_speeches_sample.csv", dtype=str, keep_default_na=False)
    magyar = list(zip(speeches["agenda_item_title"].str.strip('"'), speeches["text"].str[:1500]))
    is_hungarian = np.zeros(rows, dtype=bool)
    is_hungarian[rng.permutation(rows)[:int(rows * hungarian)]] = True
    pick_h = rng.integers(0, len(magyar), rows)
    pick_t = rng.integers(0, len(titles), rows - n_abstract)
    pick_a = rng.integers(0, len(with_abstract), n_abstract)
    chunk = 100_000
    written = 0
    is_abstract = np.zeros(rows, dtype=bool)
    is_abstract[rng.permutation(rows)[:n_abstract]] = True
    ti = ai = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for start in range(0, rows, chunk):
            part = []
            for k in range(start, min(rows, start + chunk)):
                if is_hungarian[k]:
                    part.append((f"r{k}", *magyar[pick_h[k]]))
                elif is_abstract[k]:
                    row = with_abstract.iloc[pick_a[ai]]
                    part.append((f"r{k}", row["title"], row["abstract"]))
                    ai += 1
                else:
                    part.append((f"r{k}", titles[pick_t[ti]], ""))
                    ti += 1
            pd.DataFrame(part, columns=["id", "title", "abstract"]).to_csv(handle, index=False, header=start == 0)
            written += len(part)
    return {"rows": written, "with_abstract": int((is_abstract & ~is_hungarian).sum()),
            "hungarian": int(is_hungarian.sum()), "mb": round(path.stat().st_size / 2**20, 1)}


def run_classify(source: Path, output: Path, models: list[str]) -> float:
    cmd = [sys.executable, "-m", "core", "classify", str(source), str(output), "--quiet", "--chunk", "5000",
           "--map", "title=title", "--map", "abstract=abstract"]
    for m in models:
        cmd += ["--model", str(MODELS / m)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "WORKBENCH_DB": str(output.parent / "ws.db")})
    if done.returncode:
        raise SystemExit(f"classify failed: {done.stderr[-2000:]}")
    return time.perf_counter() - start


def bulk_job(source: Path, rows: int, folder: Path) -> dict:
    """A bulk job (its own import of the file, then the models, results kept in the workspace)."""
    from core.jobs import JobParams, create_job, run_job
    from core.store import Store

    Store.process_actor = ("bench", Store.SYSTEM)  # a measurement run acts for its own workspaces
    from core.work.workspace import ensure_builtin_taxonomies

    part = folder / "job.csv"
    pd.read_csv(source, nrows=rows, dtype=str, keep_default_na=False).to_csv(part, index=False)
    store = Store(folder / "job.db")
    ensure_builtin_taxonomies(store)
    job_id = create_job(store, JobParams(source=str(part), file_name=part.name,
                                         mapping={"id": "id", "title": "title", "abstract": "abstract"},
                                         models=[str(MODELS / "ford-fast"), str(MODELS / "cap-fast")],
                                         taxonomy_id="ford", top_k=3, chunk=5000), "bench")
    start = time.perf_counter()
    job = run_job(store.path, job_id)
    seconds = time.perf_counter() - start
    store.close()
    if job.status != "done":
        raise SystemExit(f"the bulk job ended {job.status}: {job.error}")
    return {"rows": rows, "job_s": round(seconds, 1), "job_records_per_s": round(rows / seconds)}


def accuracy() -> dict:
    out = {}
    for taxonomy in ("ford", "cap"):
        for kind in ("fast", "minilm", "ensemble"):
            manifest = json.loads((MODELS / f"{taxonomy}-{kind}" / "workbench.json").read_text(encoding="utf-8"))
            out[f"{taxonomy}-{kind}_macro_f1"] = manifest["evaluation"]["held_out"]["strict_macro_f1"]
        for other in ("minilm", "ensemble"):
            out[f"{taxonomy}_fast_share_of_{other}"] = round(out[f"{taxonomy}-fast_macro_f1"]
                                                             / out[f"{taxonomy}-{other}_macro_f1"], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--minilm-rows", type=int, default=5_000)
    parser.add_argument("--job-rows", type=int, default=100_000)
    parser.add_argument("--hungarian", type=float, default=0.0, help="share of Hungarian rows (0.4: MTMT-like)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "records.csv"
        t0 = time.perf_counter()
        info = make_file(source, args.rows, args.hungarian)
        info["make_s"] = round(time.perf_counter() - t0, 1)
        fast = run_classify(source, tmp / "fast.csv", ["ford-fast", "cap-fast"])
        head = tmp / "head.csv"
        pd.read_csv(source, nrows=args.minilm_rows, dtype=str, keep_default_na=False).to_csv(head, index=False)
        minilm = run_classify(head, tmp / "minilm.csv", ["ford-minilm", "cap-minilm"])
        out = {"file": info, "fast_classify_s": round(fast, 1), "fast_records_per_s": round(args.rows / fast),
               "fast_goal_met": fast <= 600, "minilm_rows": args.minilm_rows, "minilm_classify_s": round(minilm, 1),
               "minilm_records_per_s": round(args.minilm_rows / minilm, 1),
               "ratio": round((args.rows / fast) / (args.minilm_rows / minilm), 1)}
        if args.job_rows:
            out["bulk_job"] = bulk_job(source, args.job_rows, tmp)
        out["accuracy"] = accuracy()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
