"""Harvesting records from an OAI-PMH endpoint as a use case: who may (a role that imports
records), where from (this machine, or a host an administrator named in ``WORKBENCH_REMOTE_HOSTS``,
the policy every outbound request of the workbench follows), the harvest itself
(``core.files.oai``), the file's name, and (``harvest_and_import``) the import. The Import page
and the ``harvest`` command both call it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlparse

from core.domain.taxonomy import Taxonomy
from core.files.oai import HarvestError, harvest_file
from core.models.services import ServiceError, check_url
from core.store import Store
from core.work.records_import import ImportReport, import_records

# the workbench's record columns a harvest writes, mapped onto themselves
MAPPING = {"id": "id", "title": "title", "abstract": "abstract", "keywords": "keywords", "language": "language",
           "year": "year"}


@dataclass(frozen=True)
class Harvest:
    data: bytes  # JSON Lines, one record a line
    count: int
    file_name: str  # oai-<host>[-<set>].jsonl

    @property
    def collection(self) -> str:
        return self.file_name.rsplit(".", 1)[0]


def harvest_records(store: Store, endpoint: str, *, metadata_prefix: str = "oai_dc", set_: str | None = None,
                    from_: str | None = None, until: str | None = None, max_records: int | None = None,
                    progress: Callable[[int], None] | None = None, env: dict[str, str] | None = None) -> Harvest:
    """The endpoint's records as a file in memory, once its host and the actor's role allow it."""
    store.require("import_records")
    try:
        check_url(endpoint, env, refusal="records may not be harvested from")
    except ServiceError as exc:
        raise HarvestError(str(exc).removeprefix(f"{ServiceError.prefix}: ")) from None
    data, count = harvest_file(endpoint, metadata_prefix=metadata_prefix, set_=set_, from_=from_, until=until,
                               max_records=max_records, progress=progress)
    name = f"oai-{urlparse(endpoint.strip()).hostname or 'endpoint'}{'-' + set_ if set_ else ''}.jsonl"
    return Harvest(data, count, name)


def harvest_and_import(store: Store, endpoint: str, *, label_taxonomy: Taxonomy | None = None,
                       imported_by: str = "", collection: str = "", update_changed: bool = False,
                       **options) -> tuple[Harvest, ImportReport]:
    """Harvest, then import the whole harvest (nothing is written unless all of it arrived); a
    record harvested before is left out, or updated where it changed and ``update_changed``."""
    harvest = harvest_records(store, endpoint, **options)
    mapping = dict(MAPPING, **({"label": "classification"} if label_taxonomy is not None else {}))
    report = import_records(store, harvest.data, harvest.file_name, mapping=mapping, fmt="jsonl",
                            label_taxonomy=label_taxonomy, imported_by=imported_by,
                            collection=collection or harvest.collection,
                            on_changed="update" if update_changed else "stop")
    return harvest, report


__all__ = ["Harvest", "MAPPING", "harvest_and_import", "harvest_records"]
