"""The labelled records most like a record: the evidence on the Annotate card.

For the record on the card, the labelled records of the same taxonomy nearest to it in a sentence
encoder's space (the model in use for the record's language when it reads vectors, else an
installed model on an encoder that reads that language), read from the embedding cache; each with
its codes, where they come from (a lead's gold label, an expert's label, the imported file) and
its cosine similarity. A suggestion's line says how many of them carry its code.

The search is an index, not a scan: ``faiss`` (exact inner product over 16-bit floats, half the
memory of a float32 matrix; measured by ``bench/bench_evidence.py``), one per workspace, taxonomy
and encoder, kept in the process and brought up to date cheaply before each search: labels saved
since are read by the events that made them; labelled records whose vectors the background fill
has kept since are added; a new import rebuilds it.
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from core.domain.taxonomy import Taxonomy
from core.store import Store

NEAREST = 10  # labelled records shown on the card
RECHECK_S = 20.0  # labelled records without a kept vector are looked for again after this long,
RECHECK_BATCH = 5_000  # this many at a time, in turn (300,000 waiting after an import: no card waits for all)
SOURCES = ("gold", "expert", "imported")  # most trusted first


@dataclass(frozen=True)
class Neighbour:
    record_id: int
    similarity: float  # cosine, -1..1
    codes: tuple[str, ...]
    source: str  # one of SOURCES


@dataclass(frozen=True)
class Evidence:
    """The nearest labelled records (most trusted source first, then the most similar), the encoder
    they were found with, and how many labelled records the index holds and lacks (no kept vector
    yet: the background fill encodes them)."""

    neighbours: tuple[Neighbour, ...]
    encoder: str
    indexed: int
    waiting: int
    unread: bool = False  # the record's own vector is not kept yet (and was not to be computed here)

    def carrying(self, code: str, taxonomy: Taxonomy) -> int:
        """How many of the neighbours carry ``code`` or a code under it."""
        return sum(1 for n in self.neighbours if any(_within(c, code, taxonomy) for c in n.codes))

    def code_counts(self, taxonomy: Taxonomy, level: int | None = None) -> list[tuple[str, int]]:
        """(code, neighbours carrying it), most frequent first; codes cut at ``level`` if given."""
        counts: dict[str, int] = {}
        for n in self.neighbours:
            for c in dict.fromkeys(taxonomy.cut_codes(n.codes, level) if level else n.codes):
                counts[c] = counts.get(c, 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _within(code: str, top: str, taxonomy: Taxonomy) -> bool:
    return code == top or (code in taxonomy and top in taxonomy.ancestors(code))


def label_of(gold: bool, expert: bool) -> str:
    return "gold" if gold else "expert" if expert else "imported"


class EvidenceIndex:
    """The labelled records of one taxonomy with a kept vector of one encoder (``key``: the
    embedding cache's name, ``core.work.embeddings.cache_key``), searchable by cosine similarity."""

    def __init__(self, taxonomy_id: str, key: str):
        self.taxonomy_id, self.key = taxonomy_id, key
        self.lock = threading.Lock()
        self.labels: dict[int, tuple[tuple[str, ...], str]] = {}  # record id -> (codes, source)
        self.people: dict[int, list[tuple]] = {}  # record id -> its people's label rows
        self.in_index: set[int] = set()
        self.dropped: set[int] = set()  # in the index, their label taken back since (skipped in a search)
        self.waiting: set[int] = set()  # labelled, no kept vector yet
        self.index = None
        self.event = 0
        self.import_stamp: tuple | None = None
        self.checked = 0.0
        self.recheck_from = 0  # the record id the next look for kept vectors starts at

    # -- building and keeping up to date ---------------------------------------------------------
    def refresh(self, store: Store) -> None:
        event, batches = store.labels_quick_stamp()
        if batches != self.import_stamp:  # first use, or an import changed (or took away) records
            self._rebuild(store, batches, event)
            return
        if event != self.event:
            latest, touched = store.records_acted_on_since(self.taxonomy_id, self.event)
            self.event = max(event, latest)
            for rid in touched:
                self.people.pop(rid, None)
            for row in store.people_label_codes(self.taxonomy_id, touched):
                self.people.setdefault(int(row[0]), []).append(row)
            imported = {int(rid): tuple(json.loads(codes))
                        for rid, codes in store.imported_label_codes(self.taxonomy_id, touched)}
            self._relabel(store, touched, imported)
        if self.waiting and time.monotonic() - self.checked > RECHECK_S:
            pending = sorted(self.waiting)
            start = bisect.bisect_left(pending, self.recheck_from)
            batch = (pending[start:] + pending[:start])[:RECHECK_BATCH]
            self.recheck_from = batch[-1] + 1 if start + len(batch) < len(pending) else 0
            self._add_vectors(store, batch)

    def _rebuild(self, store: Store, stamp: tuple, event: int) -> None:
        self.event = event
        imported = {int(rid): tuple(json.loads(codes)) for rid, codes in store.imported_label_codes(
            self.taxonomy_id)}
        self.people = {}
        for row in store.people_label_codes(self.taxonomy_id):
            self.people.setdefault(int(row[0]), []).append(row)
        self.labels, self.in_index, self.dropped, self.waiting, self.index = {}, set(), set(), set(), None
        self._relabel(store, sorted(set(imported) | set(self.people)), imported)
        self.import_stamp = stamp

    def _relabel(self, store: Store, record_ids: Sequence[int], imported: dict[int, tuple[str, ...]]) -> None:
        """Each record's label: a gold label, else the latest expert's, else its file's
        (``imported``); a current rejection leaves it without one."""
        new = []
        for rid in record_ids:
            label = self._label(rid, imported)
            if label is None:
                self.labels.pop(rid, None)
                self.waiting.discard(rid)
                if rid in self.in_index:
                    self.dropped.add(rid)
                continue
            self.labels[rid] = label
            self.dropped.discard(rid)
            if rid not in self.in_index:
                new.append(rid)
        if new:
            self._add_vectors(store, new)

    def _label(self, rid: int, imported: dict[int, tuple[str, ...]]) -> tuple[tuple[str, ...], str] | None:
        rows = self.people.get(rid)
        if rows:
            gold = [r for r in rows if r[2] == "gold"]
            latest = max(gold or rows, key=lambda r: r[3] or "")
            codes = tuple(json.loads(latest[1]))
            return (codes, "gold" if gold else "expert") if codes else None
        codes = imported.get(rid)
        return (codes, "imported") if codes else None

    def _add_vectors(self, store: Store, record_ids: Sequence[int], chunk: int = 50_000) -> None:
        """Add the kept vectors of ``record_ids`` (a chunk at a time: 300,000 vectors never sit in
        memory as float32 all at once); those without one wait."""
        self.checked = time.monotonic()
        for start in range(0, len(record_ids), chunk):
            part = record_ids[start:start + chunk]
            kept = store.cached_embeddings(self.key, part)
            self.waiting = (self.waiting | set(part)) - set(kept)
            if kept:
                self._add(kept)

    def _add(self, kept: dict[int, np.ndarray]) -> None:
        ids = np.fromiter(kept, dtype=np.int64, count=len(kept))
        vectors = np.stack([kept[int(i)] for i in ids]).astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        if self.index is None:
            import faiss

            faiss.omp_set_num_threads(1)  # one query at a time; the app's other work keeps its cores
            self.index = faiss.IndexIDMap2(faiss.IndexScalarQuantizer(
                vectors.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT))
        elif vectors.shape[1] != self.index.d:
            return  # another encoder's vectors under this name: never mixed
        self.index.add_with_ids(np.ascontiguousarray(vectors), ids)
        self.in_index.update(int(i) for i in ids)

    # -- searching -----------------------------------------------------------------------------------
    def nearest(self, vector: np.ndarray, k: int = NEAREST, exclude: int | None = None) -> list[Neighbour]:
        """The ``k`` labelled records most similar to ``vector`` (never ``exclude``), most similar first."""
        if self.index is None or self.index.ntotal == 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if query.shape[1] != self.index.d:
            return []
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        extra = 1 + len(self.dropped)
        found: list[Neighbour] = []
        want = min(k + extra, self.index.ntotal)
        similarities, ids = self.index.search(np.ascontiguousarray(query), want)
        for similarity, rid in zip(similarities[0], ids[0]):
            label = self.labels.get(int(rid))
            if rid < 0 or int(rid) == exclude or label is None:  # the record itself, or a label taken back
                continue
            found.append(Neighbour(int(rid), round(float(similarity), 4), label[0], label[1]))
            if len(found) == k:
                break
        return found


_INDEXES: dict[tuple[str, str, str], EvidenceIndex] = {}
_GUARD = threading.Lock()


def index_for(store: Store, taxonomy_id: str, key: str) -> EvidenceIndex:
    """The process's index of a workspace's labelled records for a taxonomy and an encoder."""
    with _GUARD:
        memo = (str(store.path), taxonomy_id, key)
        if memo not in _INDEXES:
            _INDEXES[memo] = EvidenceIndex(taxonomy_id, key)
        return _INDEXES[memo]


def evidence_model(models: Sequence, serving, language: str):
    """The model whose encoder finds the evidence for a record of ``language``: the model serving it
    where that reads vectors, else the first installed model (registry order) that reads vectors and
    knows the language, else one that reads any language through a multilingual encoder; None
    where no installed model has an encoder."""
    from core.models.crosslingual import is_cross_lingual
    from core.models.kinds import vector_runtimes

    runtimes = vector_runtimes()
    language = (language or "").lower()

    def reads_vectors(m) -> bool:
        return m is not None and m.manifest is not None and m.manifest.runtime in runtimes

    if reads_vectors(serving) and (not language or not serving.manifest.languages or language in [
            x.lower() for x in serving.manifest.languages] or is_cross_lingual(serving.manifest)):
        return serving
    readers = [m for m in models if reads_vectors(m)]
    knows = [m for m in readers if not language or language in [x.lower() for x in m.manifest.languages]]
    return next(iter(knows), None) or next((m for m in readers if is_cross_lingual(m.manifest)), None) or (
        serving if reads_vectors(serving) else None)


def nearest_labelled(store: Store, taxonomy: Taxonomy, classifier, record: dict[str, Any], *,
                     k: int = NEAREST, encode: bool = True) -> Evidence | None:
    """The evidence for a stored record (see the module's docstring), through ``classifier``'s
    encoder: the record's vector is read from the embedding cache, or computed and kept (with
    ``encode``; without, a record not read yet gets an ``unread`` answer: the card does not wait
    for a second model to read a long speech); None where the model reads no vectors."""
    from core.work.embeddings import cache_key, record_vectors

    key = cache_key(classifier)
    if key is None or "id" not in record:
        return None
    index = index_for(store, taxonomy.id, key)
    kept = store.cached_embeddings(key, [int(record["id"])]).get(int(record["id"]))
    if kept is None and not encode:
        return Evidence((), str(getattr(classifier, "encoder_id", "") or key), len(index.in_index),
                        len(index.waiting), unread=True)
    vector = kept.astype(np.float32) if kept is not None else record_vectors(store, classifier, [record])[0]
    with index.lock:
        index.refresh(store)
        found = index.nearest(vector, k, exclude=int(record["id"]))
        indexed, waiting = len(index.in_index), len(index.waiting)
    order = {s: i for i, s in enumerate(SOURCES)}
    found.sort(key=lambda n: (order[n.source] > 1, -n.similarity))  # people's labels first, then the file's
    return Evidence(tuple(found), str(getattr(classifier, "encoder_id", "") or key), indexed, waiting)


def card_evidence(store: Store, taxonomy: Taxonomy, models: Sequence, serving, record: dict[str, Any],
                  load: Callable[[Any], Any], *, k: int = NEAREST) -> Evidence | None:
    """The evidence the Annotate card shows for ``record``: through ``evidence_model`` (loaded with
    ``load(folder)``, the caller's cached loader); the record is encoded here only by the model that
    serves it (which has just read it for its suggestions), never by a second one."""
    model = evidence_model(models, serving, record.get("language") or "")
    if model is None:
        return None
    encode = serving is not None and model.folder == serving.folder
    return nearest_labelled(store, taxonomy, load(model.folder), record, k=k, encode=encode)


__all__ = ["NEAREST", "SOURCES", "Evidence", "EvidenceIndex", "Neighbour", "card_evidence", "evidence_model",
           "index_for", "nearest_labelled"]
