"""Opening a workspace: the store, the built-in taxonomies, and the demo records on first start."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.records_import import import_records
from core.settings import DATA_DIR, Settings
from core.store import Store
from core.taxonomy import Taxonomy
from core.taxonomy_io import read_taxonomy_file


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


def _file_version(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def ensure_builtin_taxonomies(store: Store) -> None:
    """Store the shipped taxonomies, refreshing any whose data file changed."""
    stored = {t.id: t for t in store.list_taxonomies()}
    for builtin in BUILTIN_TAXONOMIES:
        path = DATA_DIR / "taxonomies" / builtin.file
        version = _file_version(path)
        if builtin.id in stored and stored[builtin.id].version == version:
            continue
        parsed = read_taxonomy_file(path)
        taxonomy = Taxonomy(builtin.id, builtin.name, parsed, source=builtin.source, version=version)
        store.save_taxonomy(taxonomy, builtin=True, replace=True)


DEMO_LABEL_EVERY = 3  # like MTMT, most demo records carry no label: one row in three keeps it


def seed_demo(store: Store) -> int:
    """Import the demo records (once: only into a workspace that has no records yet). Each slice
    keeps its corpus label on every third row; the rest arrive
    unlabelled, for the annotation queue."""
    import pandas as pd

    if store.count_records() or store.list_batches():
        return 0
    total = 0
    taxonomies: dict[str, Taxonomy] = {}
    for demo in DEMO_SLICES:
        taxonomy = taxonomies.get(demo.taxonomy) or store.load_taxonomy(demo.taxonomy)
        taxonomies[demo.taxonomy] = taxonomy
        frame = pd.read_csv(DATA_DIR / "corpora" / demo.file, dtype=str, keep_default_na=False, nrows=demo.rows)
        label_column = demo.mapping["label"]
        frame[label_column] = [v if i % DEMO_LABEL_EVERY == 0 else "" for i, v in enumerate(frame[label_column])]
        report = import_records(
            store, frame.to_csv(index=False).encode("utf-8"), demo.file, mapping=demo.mapping,
            label_taxonomy=taxonomy, default_language=demo.language, default_domain=demo.domain,
            imported_by="demo", on_error="skip",
        )
        total += report.rows_imported
    return total


def open_workspace(settings: Settings | None = None) -> Store:
    settings = settings or Settings.from_env()
    store = Store(settings.db_path)
    ensure_builtin_taxonomies(store)
    if settings.demo:
        seed_demo(store)
    return store
