"""Harvest records from an OAI-PMH endpoint (a library system's or repository's), with
``oaipmh-scythe`` (a maintained OAI-PMH client: resumption tokens, retries on 503 with
Retry-After, lxml parsing with entities left unresolved).

``harvest`` yields the workbench's record columns (``core.files.library_formats``) per record:
Dublin Core (``oai_dc``) or MARCXML (``marc21``, ``marcxml``) metadata, the OAI identifier as the
id, deleted records left out. ``harvest_file`` gathers a whole harvest into a JSON Lines file in
memory first, so an endpoint that fails half-way leaves nothing written: the importer then reads
that file as it reads any other (``core.work.records_import``).
"""

from __future__ import annotations

import json
from typing import Callable, Iterator
from urllib.parse import urlparse

from core.errors import InputFileError

PREFIXES = ("oai_dc", "marc21", "marcxml")
MAX_RECORDS = 2_000_000


class HarvestError(InputFileError):
    prefix = "Cannot harvest"


def _check(endpoint: str) -> str:
    parsed = urlparse(endpoint.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise HarvestError(f"'{endpoint[:200]}' is not an http(s) address of an OAI-PMH endpoint")
    return endpoint.strip()


def harvest(endpoint: str, *, metadata_prefix: str = "oai_dc", set_: str | None = None, from_: str | None = None,
            until: str | None = None, max_records: int | None = None, timeout: float = 30.0, retries: int = 2,
            progress: Callable[[int], None] | None = None) -> Iterator[dict[str, str]]:
    """See the module's docstring. ``from_`` / ``until``: dates (YYYY-MM-DD); ``set_``: a set spec."""
    import httpx2
    from oaipmh_scythe import Scythe
    from oaipmh_scythe.config import HTTPConfig, RetryConfig
    from oaipmh_scythe.exceptions import NoRecordsMatch, OAIPMHException

    from core.files.library_formats import _local, _marc_columns, _marc_record, dublin_core_columns

    if metadata_prefix not in PREFIXES:
        raise HarvestError(f"metadata format '{metadata_prefix}': the workbench reads {', '.join(PREFIXES)}")
    endpoint = _check(endpoint)
    limit = min(max_records or MAX_RECORDS, MAX_RECORDS)
    scythe = Scythe(endpoint, http_config=HTTPConfig(timeout=timeout),
                    retry_config=RetryConfig(max_retries=retries, default_retry_after=2,
                                             retry_on_transport_error=retries > 0, initial_backoff=0.5))
    count = 0
    where = f"{endpoint}" + (f", set '{set_}'" if set_ else "")
    try:
        answer = scythe.harvest({"verb": "Identify"}).xml  # an endpoint that is no OAI-PMH provider stops here
        if answer is None or _local(answer.tag) != "OAI-PMH":
            raise ValueError(f"its answer to Identify is <{_local(getattr(answer, 'tag', 'nothing'))}>")
        for record in scythe.list_records(from_=from_, until=until, metadata_prefix=metadata_prefix, set_=set_,
                                          ignore_deleted=True):
            identifier = record.header.identifier or ""
            metadata = next((el for el in record.xml if _local(el.tag) == "metadata"), None)
            if metadata is None or len(metadata) == 0:
                continue
            body = metadata[0]
            if metadata_prefix == "oai_dc":
                columns = dublin_core_columns(body, identifier)
            else:
                element = body if _local(body.tag) == "record" else next(
                    (el for el in body.iter() if _local(el.tag) == "record"), body)
                columns = {**_marc_columns(_marc_record(element)), "id": identifier}
            count += 1
            yield columns
            if progress and count % 500 == 0:
                progress(count)
            if count >= limit:
                break
    except NoRecordsMatch:
        return
    except OAIPMHException as exc:
        raise HarvestError(f"{where} answered with an OAI-PMH error after {count:,} records: "
                           f"{type(exc).__name__} {exc}"[:500]) from None
    except httpx2.HTTPStatusError as exc:
        raise HarvestError(f"{where} answered HTTP {exc.response.status_code} after {count:,} records") from None
    except httpx2.HTTPError as exc:
        raise HarvestError(f"{where} did not answer after {count:,} records ({type(exc).__name__}: {exc}); "
                           "nothing was imported, try again later"[:500]) from None
    except (ValueError, AttributeError, TypeError) as exc:  # a response that is not OAI-PMH
        raise HarvestError(f"{where} sent something that is not an OAI-PMH response after {count:,} records "
                           f"({type(exc).__name__}: {exc})"[:500]) from None
    finally:
        scythe.close()


def harvest_file(endpoint: str, **options) -> tuple[bytes, int]:
    """A whole harvest as JSON Lines (one record a line) and its record count; nothing is returned
    unless the harvest completed."""
    lines = [json.dumps(columns, ensure_ascii=False) for columns in harvest(endpoint, **options)]
    if not lines:
        raise HarvestError(f"{endpoint} has no records for this request (set, dates, format)")
    return ("\n".join(lines) + "\n").encode("utf-8"), len(lines)


__all__ = ["HarvestError", "PREFIXES", "harvest", "harvest_file"]
