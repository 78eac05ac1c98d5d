"""Per-row routing on a mixed export: a file of ``--rows`` records, ``--hungarian`` of them Hungarian
speeches cut at 1,500 characters (title + opening, from ../shared), the rest English NYT headlines
and US bill titles (shipped), classified into CAP by ``classify --route cap`` (no workspace: each
language's default: ``cap-ensemble`` for English, the cross-lingual ``cap-multilingual`` for
Hungarian). Prints one JSON line: wall time, rows/s, the rows each model read, and weighted F1 per
language (the Hungarian speeches are unseen by every default; the English rows are the defaults'
own training corpora, so their F1 is not a held-out figure).

``--fast``: the fast tier, as a workspace with Hungarian labels has it: a Hungarian fast twin
(TF-IDF + a head on e5's static vectors, the one-click recipe's twin) trained on half of the 220
speeches (seeded), the file's Hungarian rows drawn from the other half; English rows go to
``cap-fast``. Training the twin is not timed (nor the static encoder's distillation, where it is
not built yet).

    .venv/bin/python bench/bench_routing.py [--rows 5000] [--hungarian 0.4] [--fast]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.files.taxonomy_io import read_taxonomy_file  # noqa: E402
from core.jobs import classify_file  # noqa: E402
from core.work.routing import Route, language_summary  # noqa: E402

CORPORA = ROOT.parent / "shared" / "data" / "corpora"


def speeches():
    import pandas as pd

    return pd.read_csv(CORPORA / "cap_hu_pre_agenda_speeches_sample.csv", dtype=str, keep_default_na=False)


def halves(hu) -> tuple[list[int], list[int]]:
    """The speeches split in two, seeded: (trained on, read in the file)."""
    import numpy as np

    order = np.random.default_rng(0).permutation(len(hu))
    return sorted(order[: len(hu) // 2].tolist()), sorted(order[len(hu) // 2:].tolist())


def fast_twin(models: Path, target: Path) -> dict:
    """``target``: the shipped defaults (links) and a Hungarian fast twin trained on half the speeches."""
    from core.models.encoder import E5_STATIC_NAME, Encoder, ensure_encoder
    from core.models.kinds.ensemble import build_ensemble
    from core.models.kinds.head import build_head
    from core.models.kinds.tfidf import build_tfidf
    from core.models.manifest import Manifest

    target.mkdir()
    for folder in models.iterdir():
        if folder.is_dir() and (folder / "workbench.json").exists():
            (target / folder.name).symlink_to(folder.resolve())
    start = time.perf_counter()
    static = ensure_encoder(models, E5_STATIC_NAME)
    distilled = time.perf_counter() - start
    hu = speeches()
    trained, _ = halves(hu)
    texts = [hu["agenda_item_title"].iloc[i].strip('"') + ". " + hu["text"].iloc[i][:1500] for i in trained]
    labels = [[hu["cap_major"].iloc[i]] for i in trained]
    scratch = target.parent / "members"

    def base(name):
        return Manifest(name=name, version="1", taxonomy="cap", codes=(), runtime="", languages=("hu",),
                        input_fields=("title", "abstract"))

    start = time.perf_counter()
    lexical = build_tfidf(texts, labels, scratch / "cap-hu-tfidf", base("cap-hu-tfidf"))
    head = build_head(Encoder(static).embed(texts), labels, scratch / "cap-hu-head", base("cap-hu-head"), static)
    build_ensemble([(scratch / "cap-hu-tfidf", *lexical), (scratch / "cap-hu-head", *head)], labels,
                   target / "cap-hu-fast", base("cap-hu-fast"))
    return {"trained_on": len(trained), "train_seconds": round(time.perf_counter() - start, 1),
            "distil_seconds": round(distilled, 1)}


def mixed_file(path: Path, rows: int, hungarian: float, fast: bool = False) -> list[tuple[str, str]]:
    """Write the file; returns (language, gold code) per row."""
    import pandas as pd

    hu = speeches()
    if fast:  # only the speeches the twin did not train on
        hu = hu.iloc[halves(hu)[1]].reset_index(drop=True)
    shipped = ROOT / "data" / "corpora"
    nyt = pd.read_csv(shipped / "cap_nyt_headlines_sample.csv", dtype=str, keep_default_na=False)
    bills = pd.read_csv(shipped / "cap_us_congress_bill_titles.csv", dtype=str, keep_default_na=False)
    en = pd.concat([nyt[["title", "cap_major"]], bills.rename(columns={"text": "title"})[["title", "cap_major"]]])
    out, gold = [], []
    taken = 0
    for i in range(rows):
        if int((i + 1) * hungarian) > int(i * hungarian):  # spread evenly through the file
            r = hu.iloc[taken % len(hu)]
            taken += 1
            out.append({"id": f"r{i}", "title": r["agenda_item_title"].strip('"'), "abstract": r["text"][:1500]})
            gold.append(("hu", r["cap_major"]))
        else:
            r = en.iloc[i % len(en)]
            out.append({"id": f"r{i}", "title": r["title"], "abstract": ""})
            gold.append(("en", r["cap_major"]))
    pd.DataFrame(out).to_csv(path, index=False)
    return gold


def main() -> None:
    import pandas as pd
    from sklearn.metrics import f1_score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--hungarian", type=float, default=0.4)
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--fast", action="store_true", help="the fast tier, with a Hungarian fast twin")
    args = parser.parse_args()
    cap = read_taxonomy_file(ROOT / "data" / "taxonomies" / "cap.csv")
    with tempfile.TemporaryDirectory() as tmp:
        source, output = Path(tmp) / "mixed.csv", Path(tmp) / "out.csv"
        models, twin = args.models, None
        if args.fast:
            models = Path(tmp) / "models"
            twin = fast_twin(args.models, models)
        gold = mixed_file(source, args.rows, args.hungarian, fast=args.fast)
        counts: dict = {}
        start = time.perf_counter()
        rows = classify_file([], [cap], source, source.name, {"id": "id", "title": "title", "abstract": "abstract"},
                             output, routes=[Route("cap", models, fast=args.fast)], counts=counts)
        seconds = time.perf_counter() - start
        result = pd.read_csv(output, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    f1 = {}
    for language in ("hu", "en"):
        rows_of = [i for i, (lang, _) in enumerate(gold) if lang == language]
        if rows_of:
            f1[language] = round(float(f1_score([gold[i][1] for i in rows_of], result["cap_code_1"].iloc[rows_of],
                                                average="weighted", zero_division=0)), 4)
    detected = sum(result["row_language"].iloc[i] == lang for i, (lang, _) in enumerate(gold)) / len(gold)
    print(json.dumps({"rows": rows, "hungarian_share": args.hungarian, "fast": args.fast,
                      **({"hungarian_fast_twin": twin} if twin else {}), "seconds": round(seconds, 1),
                      "rows_per_s": round(rows / seconds, 1), "languages_detected_right": round(detected, 4),
                      "weighted_f1_by_language": f1, "by_language": language_summary(counts),
                      "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
