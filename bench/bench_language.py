"""Language detection on real titles and texts: accuracy and speed of the candidates.

    .venv/bin/python bench/bench_language.py

English (MAG titles, NYT headlines), Danish (municipal agenda items) and Hungarian (speech titles
and speech openings) from ../shared/data/corpora; prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPORA = ROOT.parent / "shared" / "data" / "corpora"


def samples(n: int = 300) -> list[tuple[str, str]]:
    mag = pd.read_csv(CORPORA / "sci_mag_paper_titles_dev.csv")["title"].dropna().head(n)
    nyt = pd.read_csv(CORPORA / "cap_nyt_headlines_sample.csv")["title"].dropna().head(n)
    dk = pd.read_csv(CORPORA / "cap_dk_local_agenda_items.csv")["text"].dropna().head(n)
    hu = pd.read_csv(CORPORA / "cap_hu_pre_agenda_speeches_sample.csv")
    hu_titles = hu["agenda_item_title"].dropna().str.strip('"')
    hu_text = hu["text"].dropna().str.slice(0, 300)
    out = [("en", t) for t in mag] + [("en", t) for t in nyt] + [("da", t) for t in dk]
    return out + [("hu", t) for t in hu_titles] + [("hu", t) for t in hu_text]


def measure(name: str, detect, data) -> dict:
    start = time.perf_counter()
    got = [detect(t) for _, t in data]
    elapsed = time.perf_counter() - start
    by_lang = {}
    for (lang, _), g in zip(data, got):
        hit, n = by_lang.get(lang, (0, 0))
        by_lang[lang] = (hit + (g == lang), n + 1)
    return {"detector": name, "accuracy": round(sum(h for h, _ in by_lang.values()) / len(data), 4),
            **{f"accuracy_{k}": round(h / n, 4) for k, (h, n) in sorted(by_lang.items())},
            "texts_per_s": round(len(data) / elapsed)}


def main() -> None:
    data = samples()
    results = []
    from core.domain.language import LanguageDetector

    results.append(measure("workbench (py3langid, 27 languages, unsure = unknown)", LanguageDetector().detect, data))
    import py3langid

    results.append(measure("py3langid (all languages)", lambda t: py3langid.classify(t)[0], data))
    from py3langid.langid import _load_identifier

    restricted = _load_identifier(norm_probs=True)
    restricted.set_languages(["en", "hu", "da", "de", "fr", "sv", "no", "nl", "es", "it", "pl", "cs", "sk", "ro"])
    results.append(measure("py3langid (14 European languages)", lambda t: restricted.classify(t)[0], data))
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder
    except ImportError:  # lingua-language-detector is not a dependency: compared where installed
        print(json.dumps({"bench": "language", "texts": len(data), "results": results}, ensure_ascii=False))
        return

    start = time.perf_counter()
    full = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
    load_all = time.perf_counter() - start

    def lingua_code(detector):
        def detect(text):
            lang = detector.detect_language_of(text)
            return lang.iso_code_639_1.name.lower() if lang else ""
        return detect

    results.append({**measure("lingua (all 75 languages)", lingua_code(full), data), "load_s": round(load_all, 2)})
    some = LanguageDetectorBuilder.from_iso_codes_639_1(*[getattr(IsoCode639_1, c.upper()) for c in (
        "en", "hu", "da", "de", "fr", "sv", "nl", "es", "it", "pl", "cs", "sk", "ro", "fi")]).build()
    results.append(measure("lingua (14 European languages)", lingua_code(some), data))
    print(json.dumps({"bench": "language", "texts": len(data), "results": results}, ensure_ascii=False))


if __name__ == "__main__":
    main()
