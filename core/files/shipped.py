"""What the product ships in data/: the built-in taxonomies, the demo workspace's slices of the
shipped corpora, and the default models' training sets (the demo's rows left out)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.settings import DATA_DIR


@dataclass(frozen=True)
class BuiltinTaxonomy:
    id: str
    name: str
    file: str
    source: str


BUILTIN_TAXONOMIES = (
    BuiltinTaxonomy("ford", "FORD fields of science (levels 1-2)", "ford.csv",
                    "OECD Frascati Manual 2015 / FOS 2007; unofficial Hungarian names"),
    BuiltinTaxonomy("ford-deep", "FORD + SciNoBo subfields and topics (levels 1-4)", "ford_deep.csv",
                    "OECD FORD levels 1-2 + SciNoBo FoS levels 3-4 (MIT)"),
    BuiltinTaxonomy("cap", "CAP policy topics (major topics and subtopics)", "cap.csv",
                    "Comparative Agendas Project master codebook, with extension codes seen in real data"),
)


@dataclass(frozen=True)
class DemoSlice:
    file: str
    rows: int
    mapping: dict[str, str]
    taxonomy: str
    language: str
    domain: str


# A small demo workspace from the permissively licensed corpora shipped in data/corpora.
DEMO_SLICES = (
    DemoSlice("sci_arxiv_abstracts_sample.csv", 150,
              {"id": "id", "title": "title", "abstract": "abstract", "label": "ford_l2", "year": "update_date"},
              "ford", "en", "science"),
    DemoSlice("sci_wos_abstracts_sample.csv", 100,
              {"abstract": "abstract", "keywords": "keywords", "label": "ford_l2"}, "ford", "en", "science"),
    DemoSlice("sci_mag_paper_titles_dev.csv", 100, {"title": "title", "label": "ford_l2"}, "ford", "en", "science"),
    DemoSlice("cap_nyt_headlines_sample.csv", 100,
              {"id": "id", "title": "title", "label": "cap_major", "year": "date"}, "cap", "en", "media"),
    DemoSlice("cap_us_congress_bill_titles.csv", 100, {"title": "text", "label": "cap_major"}, "cap", "en",
              "legislation"),
)


@dataclass(frozen=True)
class TrainingSet:
    texts: list[str]
    codes: list[str]
    sources: dict[str, int]


def _without_demo(frame, file: str):
    """The corpus rows the demo workspace does not use: the demo imports each file's first rows,
    so leaving them out of training keeps the demo's Performance figures held-out figures."""
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


def file_version(path: Path) -> str:
    """A shipped data file's version: the start of its SHA-256."""
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def builtin_taxonomy(taxonomy_id: str):
    """A shipped taxonomy (``core.domain.taxonomy.Taxonomy``) read from its data file (no workspace needed)."""
    from core.domain.taxonomy import Taxonomy
    from core.errors import NotFound
    from core.files.taxonomy_io import read_taxonomy_file

    for builtin in BUILTIN_TAXONOMIES:
        if builtin.id == taxonomy_id:
            path = DATA_DIR / "taxonomies" / builtin.file
            return Taxonomy(builtin.id, builtin.name, read_taxonomy_file(path), source=builtin.source,
                            version=file_version(path))
    raise NotFound(f"no shipped taxonomy '{taxonomy_id}'")
