"""Per-row routing on a mixed export: a file of ``--rows`` records, ``--hungarian`` of them Hungarian
speeches cut at 1,500 characters (title + opening, from ../shared), the rest English NYT headlines
and US bill titles (shipped), classified into CAP by ``classify --route cap`` (no workspace: each
language's default: ``cap-ensemble`` for English, the cross-lingual ``cap-multilingual`` for
Hungarian). Prints one JSON line: wall time, rows/s, the rows each model read, and weighted F1 per
language (the Hungarian speeches are unseen by every default; the English rows are the defaults'
own training corpora, so their F1 is not a held-out figure).

    .venv/bin/python bench/bench_routing.py [--rows 5000] [--hungarian 0.4]
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


def mixed_file(path: Path, rows: int, hungarian: float) -> list[tuple[str, str]]:
    """Write the file; returns (language, gold code) per row."""
    import pandas as pd

    hu = pd.read_csv(CORPORA / "cap_hu_pre_agenda_speeches_sample.csv", dtype=str, keep_default_na=False)
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
    args = parser.parse_args()
    cap = read_taxonomy_file(ROOT / "data" / "taxonomies" / "cap.csv")
    with tempfile.TemporaryDirectory() as tmp:
        source, output = Path(tmp) / "mixed.csv", Path(tmp) / "out.csv"
        gold = mixed_file(source, args.rows, args.hungarian)
        counts: dict = {}
        start = time.perf_counter()
        rows = classify_file([], [cap], source, source.name, {"id": "id", "title": "title", "abstract": "abstract"},
                             output, routes=[Route("cap", args.models)], counts=counts)
        seconds = time.perf_counter() - start
        result = pd.read_csv(output, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    f1 = {}
    for language in ("hu", "en"):
        rows_of = [i for i, (lang, _) in enumerate(gold) if lang == language]
        if rows_of:
            f1[language] = round(float(f1_score([gold[i][1] for i in rows_of], result["cap_code_1"].iloc[rows_of],
                                                average="weighted", zero_division=0)), 4)
    detected = sum(result["row_language"].iloc[i] == lang for i, (lang, _) in enumerate(gold)) / len(gold)
    print(json.dumps({"rows": rows, "hungarian_share": args.hungarian, "seconds": round(seconds, 1),
                      "rows_per_s": round(rows / seconds, 1), "languages_detected_right": round(detected, 4),
                      "weighted_f1_by_language": f1, "by_language": language_summary(counts),
                      "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
