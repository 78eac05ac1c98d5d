"""The expert annotation workflow: scoring records for a queue, what a record shows, and the
actions (accept, correct, reject, skip, note, undo) recorded as events with their provenance."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from core.domain.labels import Event, LabelState, QueueSpec, ShownSuggestion, last_undoable
from core.domain.taxonomy import Taxonomy
from core.errors import NotFound, StoreError, WorkbenchError
from core.models.runtimes.base import Classifier
from core.models.scoring import prediction_rows, rank, rolled_up
from core.store import Store
from core.work.embeddings import record_scores


class AnnotationError(WorkbenchError):
    prefix = "Cannot record this"


def model_id(classifier: Classifier) -> tuple[str, str]:
    return classifier.manifest.name, classifier.manifest.version


def score_records(store: Store, classifier: Classifier, taxonomy: Taxonomy, record_ids: Sequence[int], *,
                  top_k: int = 10, chunk: int = 1000, job_id: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Run the model over records and store its top-k suggestions and uncertainty, chunk by chunk
    (each chunk its own transaction, so an interruption keeps what was done)."""
    name, version = model_id(classifier)
    done = 0
    for start in range(0, len(record_ids), chunk):
        records = store.records_by_ids(record_ids[start:start + chunk])
        scores = record_scores(store, classifier, records)
        store.save_predictions(name, version, taxonomy.id,
                               prediction_rows([r["id"] for r in records], classifier.manifest, scores, taxonomy,
                                               top_k=top_k), job_id=job_id)
        done += len(records)
        if progress:
            progress(done, len(record_ids))
    return done


@dataclass(frozen=True)
class ModelView:
    """One model's view of a record: its ranked suggestions and the rolled-up score of every node."""

    model: str
    version: str
    suggestions: tuple[ShownSuggestion, ...]
    node_scores: dict[str, float]  # every model code and ancestor -> rolled-up score
    multi_label: bool
    within: tuple[str, ...] = ()  # the limit the scores were renormalised within (``core.models.limits``)
    outside: float = 0.0  # the share of the probability the model put outside that limit


def model_view(classifier: Classifier, taxonomy: Taxonomy, record: dict[str, Any], *, top_k: int = 5,
               store: Store | None = None, within: Sequence[str] = ()) -> ModelView:
    """Score one record now (every node's rolled-up score, for the hierarchy browser); with the
    store, an encoder model reads the record's kept vector; ``within``: a limit to part of the
    tree (``core.models.limits``), kept with each suggestion's provenance."""
    from core.models.limits import limited_scores

    name, version = model_id(classifier)
    within = tuple(within)
    scores, outside = limited_scores(classifier.manifest, taxonomy, record_scores(store, classifier, [record]), within)
    codes, table = rolled_up(classifier.manifest, taxonomy, scores)
    shown = tuple(ShownSuggestion(name, version, s.code, s.score, s.rank, within=within)
                  for s in rank(classifier.manifest, scores, taxonomy, top_k=top_k)[0])
    return ModelView(name, version, shown, {c: float(v) for c, v in zip(codes, table[0])},
                     classifier.manifest.multi_label, within, float(outside[0]))


@dataclass
class Annotator:
    """Who acts, in which taxonomy; every action becomes an event with this provenance. With
    ``models_dir``, a saved label also runs the lead's standing order "retrain every N
    corrections" (``core.jobs.training.auto_retrain``): the job it started is ``retraining``."""

    store: Store
    name: str
    role: str
    taxonomy: Taxonomy
    models_dir: Path | None = None
    retraining: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise AnnotationError("enter your name in the sidebar first: every label records who made it")
        from core.domain.access import ROLES

        if self.role not in ROLES:
            raise AnnotationError(f"'{self.role}' is not a role that labels records")
        from core.domain.access import check

        check(self.role, "annotate", self.name)
        self.store.require("annotate")

    def _add(self, record_id: int, action: str, codes: Sequence[str] = (), shown: Sequence[ShownSuggestion] = (),
             reason: str = "", undoes: int | None = None) -> Event:
        clean = []
        for code in codes:
            if code not in self.taxonomy:
                raise AnnotationError(f"'{code}' is not a code of taxonomy '{self.taxonomy.name}'")
            node = self.taxonomy.node(code).code
            if node not in clean:
                clean.append(node)
        try:
            event = self.store.add_event(Event(record_id, self.taxonomy.id, self.name.strip(), self.role, action,
                                               tuple(clean), tuple(shown), reason.strip(), undoes))
        except ValueError as exc:
            raise AnnotationError(str(exc)) from None
        except (NotFound, StoreError) as exc:
            raise AnnotationError(exc.message) from None
        if self.models_dir is not None and action in ("accept", "correct", "reject"):
            from core.jobs.training import auto_retrain

            try:
                self.retraining = auto_retrain(self.store, self.taxonomy.id, self.models_dir)
            except WorkbenchError:  # a retrain that cannot start now never costs the label its save
                self.retraining = None
        return event

    @staticmethod
    def _marked(shown: Sequence[ShownSuggestion], partly: Sequence[str], codes: Sequence[str]) -> tuple:
        """The shown suggestions with the expert's "relevant but not the best" marks on them (a mark
        on a code the label holds means nothing: that suggestion was right)."""
        unknown = set(partly) - {s.code for s in shown}
        if unknown:
            raise AnnotationError(f"'{sorted(unknown)[0]}' was not among the suggestions shown: only a shown "
                                  "suggestion can be marked relevant but not the best")
        return tuple(replace(s, verdict="partly") if s.code in partly and s.code not in codes else s for s in shown)

    def accept(self, record_id: int, suggestion: ShownSuggestion, shown: Sequence[ShownSuggestion],
               reason: str = "", partly: Sequence[str] = ()) -> Event:
        """Accept one of the shown suggestions; ``partly``: other shown codes the expert marked
        relevant but not the best."""
        return self._add(record_id, "accept", [suggestion.code], self._marked(shown, partly, [suggestion.code]),
                         reason)

    def correct(self, record_id: int, codes: Sequence[str], shown: Sequence[ShownSuggestion],
                reason: str = "", partly: Sequence[str] = ()) -> Event:
        """Choose codes (any level) instead of, or besides, the suggestions. Choosing exactly a
        shown suggestion counts as accepting it."""
        if not codes:
            raise AnnotationError("choose at least one code")
        shown_codes = {s.code for s in shown}
        action = "accept" if len(codes) == 1 and codes[0] in shown_codes else "correct"
        chosen = [self.taxonomy.node(c).code if c in self.taxonomy else c for c in codes]
        return self._add(record_id, action, codes, self._marked(shown, partly, chosen), reason)

    def reject(self, record_id: int, shown: Sequence[ShownSuggestion], reason: str = "",
               partly: Sequence[str] = ()) -> Event:
        """None of the suggestions is the label; ``partly``: those that were relevant all the same."""
        return self._add(record_id, "reject", (), self._marked(shown, partly, ()), reason)

    def skip(self, record_id: int, shown: Sequence[ShownSuggestion] = (), reason: str = "") -> Event:
        return self._add(record_id, "skip", (), shown, reason)

    def note(self, record_id: int, text: str) -> Event:
        if not text.strip():
            raise AnnotationError("the note is empty")
        return self._add(record_id, "note", (), (), text)

    def undo(self, record_id: int | None = None) -> Event:
        """Undo my latest not-undone action (on this record, or on any record when None)."""
        if record_id is not None:
            events = self.store.events(record_id, taxonomy_id=self.taxonomy.id, annotator=self.name)
            target = last_undoable(events)
        else:
            target = None
            for event in self.store.latest_events(self.name, self.taxonomy.id, limit=200):
                if event.action != "undo" and not self.store.is_undone(event.id):
                    target = event
                    break
        if target is None:
            raise AnnotationError("there is nothing of yours to undo" + (" on this record" if record_id else ""))
        return self._add(target.record_id, "undo", (), (), f"undo {target.action}", undoes=target.id)

    def label(self, record_id: int) -> LabelState | None:
        return self.store.labels_of(record_id, self.taxonomy.id).get(self.name)


@dataclass
class Queue:
    """A snapshot of a queue's record ids, with a cursor; progress counts my actions since it was built."""

    spec: QueueSpec
    ids: list[int]
    total: int
    created_at: str
    position: int = 0
    work_on: str = ""  # what the person chose to work on ("uncertain", "language"...): the queue's title

    @classmethod
    def build(cls, store: Store, spec: QueueSpec, *, limit: int = 500) -> "Queue":
        from core.store import now

        return cls(spec, store.queue_ids(spec, limit=limit), store.queue_size(spec), now())

    @property
    def current(self) -> int | None:
        return self.ids[self.position] if 0 <= self.position < len(self.ids) else None

    def move(self, step: int) -> int | None:
        if self.ids:
            self.position = min(max(self.position + step, 0), len(self.ids) - 1)
        return self.current

    def go_to(self, record_id: int) -> bool:
        if record_id in self.ids:
            self.position = self.ids.index(record_id)
            return True
        return False

    def bring(self, record_id: int) -> None:
        """Put a record at the cursor (an undone action: the record comes back where the person is,
        not at the end of the queue where a skip had deferred it)."""
        if record_id in self.ids:
            at = self.ids.index(record_id)
            self.ids.pop(at)
            if at < self.position:
                self.position -= 1
        self.position = min(max(self.position, 0), len(self.ids))
        self.ids.insert(self.position, record_id)

    def to_dict(self) -> dict:
        """The queue as plain data (kept in the workspace, so a reload finds it open)."""
        from dataclasses import asdict

        return {"spec": asdict(self.spec), "ids": list(self.ids), "total": self.total,
                "created_at": self.created_at, "position": self.position, "work_on": self.work_on}

    @classmethod
    def from_dict(cls, data: dict) -> "Queue":
        spec = dict(data["spec"])
        spec["predicted_codes"] = tuple(spec.get("predicted_codes") or ())
        spec["within"] = tuple(spec.get("within") or ())
        ids = [int(i) for i in data["ids"]]
        return cls(QueueSpec(**spec), ids, int(data["total"]), str(data["created_at"]),
                   min(max(int(data.get("position") or 0), 0), max(len(ids) - 1, 0)),
                   str(data.get("work_on") or data.get("kind") or ""))  # "kind": a queue kept before the rename

    def defer(self, record_id: int) -> None:
        """Move a record (one just skipped) to the end of the queue; the cursor then points at the
        record that followed it."""
        if record_id in self.ids and len(self.ids) > 1:
            at = self.ids.index(record_id)
            self.ids.append(self.ids.pop(at))
            if at < self.position:
                self.position -= 1
            self.position = min(self.position, len(self.ids) - 1)

    def progress(self, store: Store, annotator: str) -> tuple[int, int]:
        """(done, remaining) in this queue: records I labelled, rejected or skipped since it was built."""
        done = len(store.acted_on(self.ids, annotator, self.spec.taxonomy_id, self.created_at)) if annotator else 0
        return done, max(len(self.ids) - done, 0)

    def counts(self, store: Store, annotator: str) -> tuple[int, int, int]:
        """(labelled, skipped, remaining) in this queue since it was built: a skip is not a label, and
        a record skipped and then labelled counts once, as labelled."""
        acted = store.actions_on(self.ids, annotator, self.spec.taxonomy_id, self.created_at) if annotator else {}
        labelled = sum(1 for actions in acted.values() if actions - {"skip"})
        skipped = len(acted) - labelled
        return labelled, skipped, max(len(self.ids) - len(acted), 0)

    def next_open(self, store: Store, annotator: str) -> int | None:
        """Move to the next record after the cursor I have not acted on yet (wrapping round)."""
        done = store.acted_on(self.ids, annotator, self.spec.taxonomy_id, self.created_at) if annotator else set()
        n = len(self.ids)
        for step in range(1, n + 1):
            i = (self.position + step) % n
            if self.ids[i] not in done:
                self.position = i
                return self.ids[i]
        return None


def why_empty(store: Store, spec: QueueSpec) -> str:
    """Why a queue holds no record, and what to do instead (for the page to say)."""
    from dataclasses import replace

    plain = replace(spec, order="import", model_name="", model_version="", predicted_codes=())
    matching = store.queue_size(replace(plain, status="any"))
    filters = [f"language '{spec.language}'" if spec.language else "", f"import #{spec.batch_id}"
               if spec.batch_id is not None else "", f"containing '{spec.search}'" if spec.search else "",
               f"assigned to {spec.assigned_to}" if spec.assigned_to else ""]
    named = ", ".join(f for f in filters if f) or "these filters"
    if not matching:
        other = store.batch_taxonomy(spec.batch_id) if spec.batch_id is not None else ""
        if other and other != spec.taxonomy_id:
            return (f"Import #{spec.batch_id} was made for taxonomy '{other}': send it to this taxonomy's queues "
                    "on the Bulk classify page (its job's results), or choose another import.")
        return f"No record of this taxonomy's imports matches {named}. Choose other filters or import records."
    if spec.predicted_codes:
        return (f"{matching:,} record(s) match {named}, but the model predicts none of them into this category "
                "among the records it has scored. Choose another category, or score the records first.")
    open_ = store.queue_size(replace(plain, status="open"))
    unconfirmed = store.queue_size(replace(plain, status="unconfirmed"))
    if spec.status == "unlabelled" and unconfirmed:
        return (f"{matching:,} record(s) match {named}; {unconfirmed:,} of them carry a label from their imported "
                "file, which this queue counts as labelled. To confirm or correct those labels, choose 'By "
                "language' or 'By import batch' (they include imported labels not yet confirmed).")
    if spec.status == "unconfirmed" and open_:
        return (f"No record matching {named} has an imported label waiting to be confirmed; {open_:,} have no "
                "label at all: clear 'Only imported labels not yet confirmed'.")
    if spec.status in ("unlabelled", "open", "unconfirmed"):
        return (f"All {matching:,} record(s) matching {named} are labelled. 'Review labelled records' shows them; "
                "or choose other filters.")
    if spec.needs_model:
        return (f"{matching:,} record(s) match {named}, but the model has not scored them yet: score them above, "
                "or run a bulk job.")
    return f"No record matching {named} is in this queue. Choose another queue above."


def record_or_error(store: Store, record_id: int) -> dict[str, Any]:
    try:
        return store.record(record_id)
    except NotFound as exc:
        raise AnnotationError(exc.message) from None


__all__ = ["AnnotationError", "Annotator", "ModelView", "Queue", "model_id", "model_view",
           "record_or_error", "score_records", "why_empty"]


def found_records_queue(store: Store, taxonomy_id: str, text: str, record_id: int, *, model_name: str = "",
                        model_version: str = "", limit: int = 50) -> Queue:
    """A queue of the records a search finds (best match first; labelled or not), opened at
    ``record_id``: find a record by its id or words and work on it."""
    from core.store import now

    spec = QueueSpec(taxonomy_id=taxonomy_id, status="any", order="import", model_name=model_name,
                     model_version=model_version, search=text)
    ids = [r["id"] for r in store.find_records(text, limit=limit)]
    if record_id not in ids:
        ids.insert(0, record_id)
    queue = Queue(spec, ids, len(ids), now())
    queue.go_to(record_id)
    return queue
