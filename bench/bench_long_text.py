"""Long texts: one record of a million characters through each runtime, seconds and peak memory.

    .venv/bin/python bench/bench_long_text.py [--chars 1000000] [--models models]

Each case runs in its own process (peak RSS is the process's). Baselines in the same run: the
TF-IDF graph with the earlier pairwise token counting (O(n^2)) at a length it can still handle,
against the current graph (a ``Unique`` over the batch, O(n log n)) at the same length; and a
process that only loads the model. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASE = r'''
import json, random, resource, sys, time
sys.path.insert(0, {root!r})
from core.models.runtimes import load_classifier
words = open({root!r} + "/data/corpora/sci_arxiv_abstracts_sample.csv", encoding="utf-8").read().split()
random.seed(0)
text = " ".join(random.choice(words) for _ in range({chars} // 6 + 10))[:{chars}]
clf = load_classifier({folder!r}, **{options!r})
loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
scores = clf.predict_scores([text] if {chars} else [])
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": round(seconds, 3), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "loaded_rss_mb": round(loaded)}}))
'''

PAIRWISE = r'''
import json, random, resource, sys, time
sys.path.insert(0, {root!r})
import numpy as np, onnxruntime as ort
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from core.files.shipped import ford_training_set
from core.models.tfidf_onnx import SKLEARN_TOKEN_PATTERN, tfidf_logreg_to_onnx
data = ford_training_set()
vec = TfidfVectorizer(token_pattern=SKLEARN_TOKEN_PATTERN, max_features=50000)
clf = LogisticRegression(max_iter=300, C=10).fit(vec.fit_transform(data.texts), data.codes)
words = open({root!r} + "/data/corpora/sci_arxiv_abstracts_sample.csv", encoding="utf-8").read().split()
random.seed(0)
text = " ".join(random.choice(words) for _ in range({chars} // 6 + 10))[:{chars}]
ref = clf.predict_proba(vec.transform([text]))
out = {{}}
for counting in ("pairwise", "unique"):
    options = ort.SessionOptions(); options.intra_op_num_threads = 1
    session = ort.InferenceSession(tfidf_logreg_to_onnx(vec, clf, counting=counting).SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    feed = {{"text": np.array([[text]], dtype=object)}}
    session.run(None, feed)
    start = time.perf_counter()
    for _ in range(3):
        got = session.run(["probabilities"], feed)[0]
    out[counting + "_seconds"] = round((time.perf_counter() - start) / 3, 4)
    out[counting + "_max_diff_vs_sklearn"] = float(np.abs(got - ref).max())
print(json.dumps(out))
'''


def run(code: str) -> dict:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    lines = (result.stdout if result.returncode == 0 else result.stderr).strip().splitlines() or ["{}"]
    return json.loads(lines[-1]) if result.returncode == 0 else {"error": lines[-1][:200]}


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default in (("--chars", 1_000_000), ("--baseline-chars", 20_000)):
        parser.add_argument(flag, type=int, default=default)
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    return parser.parse_args()


def main() -> None:
    args = parse_options()
    figures: dict = {"bench": "long_text", "chars": args.chars}
    base = run(PAIRWISE.format(root=str(ROOT), chars=args.baseline_chars))
    figures.update({f"baseline_{args.baseline_chars}_chars_{k}": v for k, v in base.items()})
    if "pairwise_seconds" in base and base.get("unique_seconds"):
        figures["unique_speedup_vs_pairwise"] = round(base["pairwise_seconds"] / base["unique_seconds"], 1)
    cases = {"tfidf": ("ford-tfidf", {}), "minilm_int8_truncate": ("ford-minilm-int8", {}),
             "minilm_int8_chunks16": ("ford-minilm-int8", {"long_texts": "chunks", "max_chunks": 16})}
    for label, (folder, options) in cases.items():
        code = CASE.format(root=str(ROOT), chars=args.chars, folder=str(args.models / folder), options=options)
        figures.update({f"{label}_{k}": v for k, v in run(code).items()})
    figures["tfidf_goal"] = "<= 3 s and <= 500 MB"
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
