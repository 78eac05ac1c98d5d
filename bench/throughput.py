"""Classifier throughput on an MTMT-like workload, printed as one JSON line.

    .venv/bin/python bench/throughput.py [--records 400] [--models models]

Workload: 60 % title only, 40 % title + an abstract of ~150-250 words, from the shipped corpora.
Paths, each in its own process (for its peak memory), max length 256:
  (i)   naive: transformers ``pipeline`` on the PyTorch folder, batch 32, padded to max length;
  (ii)  ours, ONNX fp32: the default ``<t>-minilm`` (the same encoder, mean-pooled, with a linear
        head), length-sorted batches padded per batch (its top-1 is a different model's, so no
        agreement is reported for it);
  (iii) ours, ONNX dynamic int8 of the PyTorch folder (agreement against (i));
  plus the TF-IDF baseline three ways (scikit-learn ``predict_proba``, skl2onnx's dense graph,
  our sparse graph through the onnx-text runtime), all from one fit on the FORD training set.
Also a float32 matmul peak measured in the same run, the useful GFLOP/s of (ii) (FLOPs of the
real tokens only), and onnxruntime's int8 vs fp32 GEMM speed on this CPU (the ceiling of what
dynamic int8 can gain here: CPUs without AVX-512 VNNI / AVX-VNNI gain little).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys, time, os
sys.path.insert(0, {root!r})
kind, folder, texts = {kind!r}, {folder!r}, json.load(open({texts_path!r}))
import numpy as np
if kind == "pipeline":
    import torch
    from transformers import pipeline
    torch.set_num_threads(os.cpu_count())
    clf = pipeline("text-classification", model=folder, tokenizer=folder, device=-1, top_k=1)
    clf(texts[:4], batch_size=32, padding="max_length", truncation=True, max_length=256)
    start = time.perf_counter()
    out = clf(texts, batch_size=32, padding="max_length", truncation=True, max_length=256)
    seconds = time.perf_counter() - start
    labels = [o[0]["label"] for o in out]
elif kind == "tfidf":
    from core.files.shipped import ford_training_set
    from core.models.tfidf_onnx import ONNX_TOKEN_PATTERN, SKLEARN_TOKEN_PATTERN, tfidf_logreg_to_onnx
    from core.models.runtimes.onnx_text import OnnxTextClassifier
    from core.models.manifest import Manifest
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import StringTensorType
    import tempfile, pathlib
    train = ford_training_set()
    vec = TfidfVectorizer(token_pattern=SKLEARN_TOKEN_PATTERN, max_features=50000)
    clf = LogisticRegression(max_iter=2000, C=10).fit(vec.fit_transform(train.texts), train.codes)
    timings = {{}}
    start = time.perf_counter(); ref = clf.predict_proba(vec.transform(texts)); timings["sklearn"] = time.perf_counter() - start
    from sklearn.pipeline import Pipeline
    pipe = Pipeline([("v", vec), ("c", clf)])
    dense = convert_sklearn(pipe, initial_types=[("text", StringTensorType([None, 1]))], target_opset=17,
                            options={{id(vec): {{"locale": "C.UTF-8", "tokenexp": ONNX_TOKEN_PATTERN}}, id(clf): {{"zipmap": False}}}})
    diffs = {{}}
    for name, onx in (("dense", dense), ("sparse", tfidf_logreg_to_onnx(vec, clf))):
        d = pathlib.Path(tempfile.mkdtemp()); (d / "model.onnx").write_bytes(onx.SerializeToString())
        runner = OnnxTextClassifier(d, Manifest(name=name, version="1", taxonomy="ford", codes=tuple(clf.classes_), runtime="onnx-text"))
        runner.predict_scores(texts[:100])
        start = time.perf_counter(); got = runner.predict_scores(texts); timings[name] = time.perf_counter() - start
        diffs[name] = float(np.abs(got - ref).max())
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
    print(json.dumps({{"timings": timings, "max_prob_diff": diffs, "peak_rss_mb": hwm}}))
    raise SystemExit
else:
    from core.models.runtimes import load_classifier
    clf = load_classifier(folder)
    clf.predict_scores(texts[:4])
    start = time.perf_counter()
    scores = clf.predict_scores(texts)
    seconds = time.perf_counter() - start
    labels = [clf.manifest.codes[i] for i in scores.argmax(1)]
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
print(json.dumps({{"seconds": seconds, "labels": labels, "peak_rss_mb": hwm}}))
"""


def workload(n: int, seed: int = 0) -> list[str]:
    import pandas as pd

    rnd = random.Random(seed)
    corpora = ROOT / "data" / "corpora"
    arxiv = pd.read_csv(corpora / "sci_arxiv_abstracts_sample.csv", dtype=str, keep_default_na=False)
    mag = pd.read_csv(corpora / "sci_mag_paper_titles_dev.csv", dtype=str, keep_default_na=False)
    wos = pd.read_csv(corpora / "sci_wos_abstracts_sample.csv", dtype=str, keep_default_na=False)
    titles = mag["title"].tolist() + arxiv["title"].tolist()
    abstracts = [a for a in arxiv["abstract"].tolist() + wos["abstract"].tolist() if 150 <= len(a.split()) <= 250]
    texts = []
    for i in range(n):
        title = rnd.choice(titles)
        texts.append(title if i % 5 < 3 else f"{title}. {rnd.choice(abstracts)}")
    rnd.shuffle(texts)
    return texts


def matmul_peak() -> float:
    import numpy as np

    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((2048, 2048), dtype=np.float32)
    a @ b
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * 2048**3 / best / 1e9


def gemm_int8_vs_fp32(m: int = 4096, k: int = 384, n: int = 1536) -> tuple[float, float]:
    """onnxruntime GFLOP/s (GOP/s) of a MiniLM-sized fp32 MatMul and of its dynamic-int8 twin."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = rng.standard_normal((k, n), dtype=np.float32)
    x = rng.standard_normal((m, k), dtype=np.float32)
    io = ([helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])])
    fp32 = helper.make_model(helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "fp32", *io,
                                               [numpy_helper.from_array(w, "w")]),
                             opset_imports=[helper.make_opsetid("", 17)])
    scale = np.abs(w).max() / 127
    int8 = helper.make_model(helper.make_graph(
        [helper.make_node("DynamicQuantizeMatMul", ["x", "wq", "s", "zp"], ["y"], domain="com.microsoft")], "int8", *io,
        [numpy_helper.from_array(np.round(w / scale).astype(np.int8), "wq"),
         numpy_helper.from_array(np.array(scale, np.float32), "s"), numpy_helper.from_array(np.array(0, np.int8), "zp")]),
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    speeds = []
    for model in (fp32, int8):
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        sess.run(None, {"x": x})
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            sess.run(None, {"x": x})
            best = min(best, time.perf_counter() - start)
        speeds.append(2 * m * k * n / best / 1e9)
    return speeds[0], speeds[1]


def useful_gflop(texts: list[str], folder: Path) -> float:
    """FLOPs of the real (unpadded) tokens through the encoder, in GFLOP."""
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(str(folder))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    h, layers, inter = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    per_token = 2 * layers * (4 * h * h + 2 * h * inter)
    total = 0.0
    for ids in tokenizer(texts, truncation=True, max_length=256)["input_ids"]:
        n = len(ids)
        total += per_token * n + 4 * layers * n * n * h
    return total / 1e9


def run_child(kind: str, folder: Path, texts_path: Path) -> dict:
    code = CHILD.format(root=str(ROOT), kind=kind, folder=str(folder), texts_path=str(texts_path))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{kind} on {folder} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--tfidf-records", type=int, default=20000)
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--taxonomy", default="ford")
    args = parser.parse_args()
    import tempfile

    texts = workload(args.records)
    tfidf_texts = workload(args.tfidf_records, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "texts.json"
        path.write_text(json.dumps(texts))
        tfidf_path = Path(tmp) / "tfidf.json"
        tfidf_path.write_text(json.dumps(tfidf_texts))
        peak = matmul_peak()
        m = args.models
        naive = run_child("pipeline", m / f"{args.taxonomy}-minilm-pt", path)
        fp32 = run_child("ours", m / f"{args.taxonomy}-minilm", path)
        int8 = run_child("ours", m / f"{args.taxonomy}-minilm-int8", path)
        tfidf = run_child("ours", m / f"{args.taxonomy}-tfidf", tfidf_path)
        tfidf_ways = run_child("tfidf", m, tfidf_path)
    gemm_fp32, gemm_int8 = gemm_int8_vs_fp32()
    gflop = useful_gflop(texts, m / f"{args.taxonomy}-minilm-pt")

    def agree(a: dict) -> float:
        return round(sum(x == y for x, y in zip(a["labels"], naive["labels"])) / len(texts), 4)

    n = len(texts)
    figures = {
        "bench": "throughput",
        "cpus": os.cpu_count(),
        "records": n,
        "title_only_share": 0.6,
        "max_length": 256,
        "naive_pipeline_records_per_s": round(n / naive["seconds"], 1),
        "fp32_records_per_s": round(n / fp32["seconds"], 1),
        "int8_records_per_s": round(n / int8["seconds"], 1),
        "fp32_speedup_vs_naive": round(naive["seconds"] / fp32["seconds"], 2),
        "int8_speedup_vs_naive": round(naive["seconds"] / int8["seconds"], 2),
        "int8_top1_agreement_vs_naive": agree(int8),
        "matmul_peak_gflops": round(peak, 1),
        "fp32_useful_gflops": round(gflop / fp32["seconds"], 1),
        "fp32_useful_share_of_peak": round(gflop / fp32["seconds"] / peak, 3),
        "naive_peak_rss_mb": round(naive["peak_rss_mb"]),
        "fp32_peak_rss_mb": round(fp32["peak_rss_mb"]),
        "int8_peak_rss_mb": round(int8["peak_rss_mb"]),
        "tfidf_records": len(tfidf_texts),
        "tfidf_records_per_s": round(len(tfidf_texts) / tfidf["seconds"]),
        "tfidf_peak_rss_mb": round(tfidf["peak_rss_mb"]),
        "int8_speedup_vs_fp32": round(fp32["seconds"] / int8["seconds"], 2),
        "ort_gemm_fp32_gflops": round(gemm_fp32, 1),
        "ort_gemm_int8_gops": round(gemm_int8, 1),
        "ort_gemm_int8_over_fp32": round(gemm_int8 / gemm_fp32, 2),
        "tfidf_sklearn_records_per_s": round(len(tfidf_texts) / tfidf_ways["timings"]["sklearn"]),
        "tfidf_skl2onnx_dense_records_per_s": round(len(tfidf_texts) / tfidf_ways["timings"]["dense"]),
        "tfidf_sparse_records_per_s": round(len(tfidf_texts) / tfidf_ways["timings"]["sparse"]),
        "tfidf_sparse_speedup_vs_sklearn": round(tfidf_ways["timings"]["sklearn"] / tfidf_ways["timings"]["sparse"], 2),
        "tfidf_sparse_speedup_vs_dense": round(tfidf_ways["timings"]["dense"] / tfidf_ways["timings"]["sparse"], 2),
        "tfidf_sparse_max_prob_diff_vs_sklearn": round(tfidf_ways["max_prob_diff"]["sparse"], 7),
        "tfidf_dense_max_prob_diff_vs_sklearn": round(tfidf_ways["max_prob_diff"]["dense"], 7),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
