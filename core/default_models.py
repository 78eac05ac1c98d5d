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


def _without_demo(frame, file: str):
    """The corpus rows the demo workspace does not use: the demo imports each file's first rows,
    so leaving them out of training keeps the demo's Performance figures held-out figures."""
    from core.workspace import DEMO_SLICES

    skip = max((d.rows for d in DEMO_SLICES if d.file == file), default=0)
    return frame.iloc[skip:]


def _join(*parts: object) -> str:
    return ". ".join(str(p).strip() for p in parts if isinstance(p, str) and p.strip())


def ford_training_set(corpora: Path = DATA_DIR / "corpora") -> TrainingSet:
    """Science texts with FORD level-2 codes (mapped from arXiv, WOS-46985 and MAG labels), the
    demo workspace's rows left out."""
    import pandas as pd

    texts: list[str] = []
    codes: list[str] = []
    sources: dict[str, int] = {}
    def read(name: str):
        return _without_demo(pd.read_csv(corpora / name, dtype=str, keep_default_na=False), name)

    arxiv = read("sci_arxiv_abstracts_sample.csv")
    wos = read("sci_wos_abstracts_sample.csv")
    mag = read("sci_mag_paper_titles_dev.csv")
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
    """English policy texts with CAP major topic codes (US bill titles, NYT headlines), the demo
    workspace's rows left out."""
    import pandas as pd

    bills = _without_demo(pd.read_csv(corpora / "cap_us_congress_bill_titles.csv", dtype=str, keep_default_na=False),
                          "cap_us_congress_bill_titles.csv")
    nyt = _without_demo(pd.read_csv(corpora / "cap_nyt_headlines_sample.csv", dtype=str, keep_default_na=False),
                        "cap_nyt_headlines_sample.csv")
    texts = bills["text"].tolist() + nyt["title"].tolist()
    codes = bills["cap_major"].tolist() + nyt["cap_major"].tolist()
    return TrainingSet(texts, codes, {"us_bills": len(bills), "nyt": len(nyt)})
