"""Opening a workspace: the store, the built-in taxonomies, and the demo records on first start."""

from __future__ import annotations

from core.domain.taxonomy import Taxonomy
from core.errors import StoreError
from core.files.shipped import BUILTIN_TAXONOMIES, DEMO_SLICES, file_version
from core.files.taxonomy_io import read_taxonomy_file
from core.settings import DATA_DIR, Settings
from core.store import Store
from core.work.records_import import import_records


def ensure_builtin_taxonomies(store: Store) -> None:
    """Store the shipped taxonomies, refreshing any whose data file changed."""
    stored = {t.id: t for t in store.list_taxonomies()}
    for builtin in BUILTIN_TAXONOMIES:
        path = DATA_DIR / "taxonomies" / builtin.file
        version = file_version(path)
        if builtin.id in stored and stored[builtin.id].version == version:
            continue
        parsed = read_taxonomy_file(path)
        taxonomy = Taxonomy(builtin.id, builtin.name, parsed, source=builtin.source, version=version)
        try:
            store.save_taxonomy(taxonomy, builtin=True, replace=True)
        except StoreError:  # the shipped file dropped codes that labels use: keep the stored version
            continue


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
    for folder in settings.inbox:  # where large files are put to be named by path in the app
        folder.mkdir(parents=True, exist_ok=True)
    store = Store(settings.db_path).act_as("workspace", Store.SYSTEM)  # its own start-up: no person acts
    store.discard_abandoned_imports()  # imports whose process died leave nothing behind
    ensure_builtin_taxonomies(store)
    if settings.demo:
        seed_demo(store)
    return store


def workspace_summary(store: Store) -> dict:
    """What the workspace holds, for the start page: records (alive), import batches with their
    collections, records with an expert label and with a label in the imported file per taxonomy,
    and bulk jobs."""
    counts = store.workspace_counts()
    batches = [b for b in store.list_batches() if b.rows_imported]
    return {"records": counts["records"], "expert_labelled": counts["expert_labelled"],
            "file_labelled": counts["file_labelled"],
            "batches": [(b.file_name, b.collection, b.rows_imported) for b in batches], "jobs": counts["jobs"]}
