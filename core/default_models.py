"""The default models' training data, read from the corpora shipped in data/corpora."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.settings import DATA_DIR


@dataclass(frozen=True)
class TrainingSet:
    texts: list[str]
    codes: list[str]
    sources: dict[str, int]


def _join(*parts: object) -> str:
    return ". ".join(str(p).strip() for p in parts if isinstance(p, str) and p.strip())


def ford_training_set(corpora: Path = DATA_DIR / "corpora") -> TrainingSet:
    """Science texts with FORD level-2 codes (mapped from arXiv, WOS-46985 and MAG labels)."""
    import pandas as pd

    texts: list[str] = []
    codes: list[str] = []
    sources: dict[str, int] = {}
    arxiv = pd.read_csv(corpora / "sci_arxiv_abstracts_sample.csv", dtype=str, keep_default_na=False)
    wos = pd.read_csv(corpora / "sci_wos_abstracts_sample.csv", dtype=str, keep_default_na=False)
    mag = pd.read_csv(corpora / "sci_mag_paper_titles_dev.csv", dtype=str, keep_default_na=False)
    for name, frame, make in (
        ("arxiv", arxiv, lambda r: _join(r["title"], r["abstract"])),
        ("wos", wos, lambda r: _join(r["abstract"], r["keywords"])),
        ("mag", mag, lambda r: _join(r["title"])),
    ):
        rows = frame[frame["ford_l2"] != ""]
        texts += [make(r) for _, r in rows.iterrows()]
        codes += rows["ford_l2"].tolist()
        sources[name] = len(rows)
    return TrainingSet(texts, codes, sources)


def cap_training_set(corpora: Path = DATA_DIR / "corpora") -> TrainingSet:
    """English policy texts with CAP major topic codes (US bill titles, NYT headlines)."""
    import pandas as pd

    bills = pd.read_csv(corpora / "cap_us_congress_bill_titles.csv", dtype=str, keep_default_na=False)
    nyt = pd.read_csv(corpora / "cap_nyt_headlines_sample.csv", dtype=str, keep_default_na=False)
    texts = bills["text"].tolist() + nyt["title"].tolist()
    codes = bills["cap_major"].tolist() + nyt["cap_major"].tolist()
    return TrainingSet(texts, codes, {"us_bills": len(bills), "nyt": len(nyt)})
