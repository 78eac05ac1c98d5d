"""What Annif's projects add to the workbench's own ensemble, on the shipped corpora's splits.

    .venv/bin/python bench/bench_annif.py [--corpus cap|ford|both]

Per corpus: 60 % train, 20 % to fit calibrations and ensemble weights, 20 % test (stratified,
seed 0). Trained on the train split: the workbench's default recipe (TF-IDF + a head on MiniLM
vectors, the ``ensemble`` kind through ``train_kind``) and Annif 1.4's svc and omikuji projects (from ``.venv-annif``,
fed the workbench's own SKOS and corpus exports). Reported on the test split: weighted and macro F1
and ECE of each, of Annif's two together, and of ours with both (``core.models.combining.combine``).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ANNIF = ROOT / ".venv-annif" / "bin"
CORPORA = {"cap": ("cap_nyt_headlines_sample.csv", "title", "cap_major", "cap", 1),
           "ford": ("sci_mag_paper_titles_dev.csv", "title", "ford_l2", "ford", 2)}


def figures(clf, texts, gold):
    from sklearn.metrics import f1_score

    from core.models.calibration import ece

    scores = clf.predict_scores(texts)
    codes = list(clf.manifest.codes)
    pred = [codes[i] for i in scores.argmax(1)]
    known = np.array([g in codes for g in gold])
    cols = np.array([codes.index(g) for g in np.array(gold)[known]])
    return {"weighted_f1": round(f1_score(gold, pred, average="weighted", zero_division=0), 4),
            "macro_f1": round(f1_score(gold, pred, average="macro", zero_division=0), 4),
            "ece": round(ece(scores[known], cols), 4)}


def run(name: str, tmp: Path) -> dict:
    from sklearn.model_selection import train_test_split

    from core.files.shipped import builtin_taxonomy
    from core.files.taxonomy_io import taxonomy_to_skos
    from core.models.combining import combine, fit_calibration
    from core.models.encoder import corpus_vectors, encoder_folder
    from core.models.held_out import train_kind
    from core.models.kinds import get as kind
    from core.models.manifest import Manifest
    from core.models.runtimes import load_classifier
    from core.models.runtimes.annif import connect_annif
    from core.work.training_data import annif_corpus

    file, text_col, label_col, taxonomy_id, level = CORPORA[name]
    frame = pd.read_csv(ROOT / "data" / "corpora" / file, dtype=str, keep_default_na=False)
    frame = frame[(frame[text_col].str.strip() != "") & (frame[label_col] != "")].reset_index(drop=True)
    taxonomy = builtin_taxonomy(taxonomy_id)
    frame = frame[frame[label_col].map(lambda c: c in taxonomy)].reset_index(drop=True)
    counts = frame[label_col].value_counts()
    frame = frame[frame[label_col].map(counts) >= 5].reset_index(drop=True)
    train, rest = train_test_split(frame, test_size=0.4, random_state=0, stratify=frame[label_col])
    val, test = train_test_split(rest, test_size=0.5, random_state=0, stratify=rest[label_col])
    out = {"corpus": file, "train": len(train), "fit": len(val), "test": len(test)}

    started = time.perf_counter()
    models = ROOT / "models"
    encoder = encoder_folder(models)
    base = Manifest(name="ours", version="b", taxonomy=taxonomy_id, codes=(), runtime="",
                    input_fields=("title",), languages=("en",))
    texts = train[text_col].tolist()
    train_kind(kind("ensemble"), {"members": "tfidf+head"}, texts, train[label_col].tolist(), tmp / "ours", base,
               models, vectors=corpus_vectors(encoder, texts))
    out["ours_train_s"] = round(time.perf_counter() - started, 1)

    labels = pd.DataFrame({"text": texts, "codes": [[c] for c in train[label_col]], "external_id": "",
                           "record_id": range(len(train))})
    labels.attrs["taxonomy_id"] = taxonomy_id
    (tmp / "vocab.ttl").write_text(taxonomy_to_skos(taxonomy), encoding="utf-8")
    (tmp / "corpus.tsv").write_bytes(annif_corpus(labels, "annif-tsv"))
    punkt = tmp / "nltk" / "tokenizers" / "punkt_tab" / "english"
    punkt.mkdir(parents=True)
    for part in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (punkt / part).touch()
    (tmp / "projects.cfg").write_text("".join(
        f"[{b}]\nname={b}\nlanguage=en\nbackend={b}\nanalyzer=snowball(english)\nvocab=v\nlimit=100\n\n"
        for b in ("svc", "omikuji")), encoding="utf-8")
    env = dict(os.environ, NLTK_DATA=str(tmp / "nltk"), ANNIF_PROJECTS=str(tmp / "projects.cfg"))
    started = time.perf_counter()
    for args in (("load-vocab", "v", "vocab.ttl"), ("train", "svc", "corpus.tsv"), ("train", "omikuji", "corpus.tsv")):
        subprocess.run([str(ANNIF / "annif"), *args], cwd=tmp, env=env, check=True, capture_output=True)
    out["annif_train_s"] = round(time.perf_counter() - started, 1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(ANNIF / "uvicorn"), "--factory", "annif:create_app", "--port", str(port),
                               "--log-level", "warning"], cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        import requests

        for _ in range(240):
            try:
                requests.get(f"http://localhost:{port}/v1/projects", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.25)
        fit = (val[text_col].tolist(), [[c] for c in val[label_col]])
        for b in ("svc", "omikuji"):
            connect_annif(tmp / b, url=f"http://localhost:{port}", project=b, taxonomy=taxonomy, level=level)
            fit_calibration(tmp / b, *fit, taxonomy)
        combine([tmp / "svc", tmp / "omikuji"], *fit, taxonomy, tmp / "annif-both")
        mix = combine([tmp / "ours", tmp / "svc", tmp / "omikuji"], *fit, taxonomy, tmp / "ours+annif")
        out["weights_ours_svc_omikuji"] = mix.training["weights"]
        gold = test[label_col].tolist()
        for folder in ("ours", "svc", "omikuji", "annif-both", "ours+annif"):
            clf = load_classifier(tmp / folder)
            started = time.perf_counter()
            out[folder] = figures(clf, test[text_col].tolist(), gold)
            out[folder]["records_per_s"] = round(len(gold) / (time.perf_counter() - started), 1)
    finally:
        server.kill()
    out["gain_over_ours_weighted_f1"] = round(out["ours+annif"]["weighted_f1"] - out["ours"]["weighted_f1"], 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("cap", "ford", "both"), default="both")
    args = parser.parse_args()
    if not (ANNIF / "annif").exists():
        sys.exit("Annif is not installed in .venv-annif (scripts/setup.sh installs it)")
    result = {}
    for name in ("cap", "ford") if args.corpus == "both" else (args.corpus,):
        with tempfile.TemporaryDirectory() as tmp:
            result[name] = run(name, Path(tmp))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
