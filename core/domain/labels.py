"""Annotation events and the labels derived from them (pure: no SQL, no streamlit).

Every expert action is an append-only event. A record's current label, per taxonomy and per
annotator, is derived by replaying that annotator's events on the record in order:

- ``accept`` / ``correct`` / ``machine-accept`` set the label to the event's codes;
- ``reject`` (none of the suggestions fits, nothing chosen) sets an empty, rejected label;
- ``skip`` and ``note`` leave the label as it is;
- ``undo`` reverts the event it names: the label falls back to the latest label-setting event
  that has not been undone (or to no label);
- ``delete`` records that the record was deleted with its import batch: the record stays as a
  tombstone (so the log's references stay valid) and leaves every queue, export and figure.

Two annotators' labels on one record are independent, so both are kept for agreement figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

ACTIONS = ("accept", "correct", "reject", "skip", "note", "undo", "machine-accept", "delete", "gold")
# "gold": a lead's adjudication of a record into its gold label (it comes first where labels are used)
LABEL_ACTIONS = frozenset({"accept", "correct", "reject", "machine-accept", "gold"})
GOLD_ROLES = ("lead", "admin")
EXPERT_ROLES = ("expert", "librarian", "lead", "admin")
MACHINE_ROLE = "machine"


@dataclass(frozen=True)
class ShownSuggestion:
    """A suggestion as the annotator saw it: which model said what, with which score."""

    model: str
    version: str
    code: str
    score: float
    rank: int
    verdict: str = ""  # "partly": the expert marked it relevant but not the best (``VERDICTS``)
    within: tuple[str, ...] = ()  # the limit the scores were renormalised within (``core.models.limits``)

    def to_dict(self) -> dict:
        out = {"model": self.model, "version": self.version, "code": self.code, "score": round(self.score, 6),
               "rank": self.rank}
        if self.verdict:
            out["verdict"] = self.verdict
        if self.within:
            out["within"] = list(self.within)
        return out


VERDICTS = ("right", "partly", "wrong")
# An expert's verdict on a shown suggestion (the qualitative protocol of subject-indexing evaluations):
# "right" when the expert's label holds its code; "partly" when the expert marked it relevant but not
# the best; "wrong" otherwise. Only "partly" is stored: the other two follow from the label.


def suggestion_verdict(suggestion: ShownSuggestion, codes: Sequence[str]) -> str:
    """The verdict on a suggestion shown before an expert's label ``codes`` (empty: all rejected)."""
    if suggestion.code in codes:
        return "right"
    return "partly" if suggestion.verdict == "partly" else "wrong"


@dataclass(frozen=True)
class Event:
    record_id: int
    taxonomy_id: str
    annotator: str
    role: str
    action: str
    codes: tuple[str, ...] = ()
    shown: tuple[ShownSuggestion, ...] = ()
    reason: str = ""
    undoes: int | None = None
    id: int | None = None
    created_at: str = ""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action '{self.action}'; known: {', '.join(ACTIONS)}")
        if not self.annotator.strip():
            raise ValueError("an event needs an annotator name")
        if self.action in ("accept", "correct", "machine-accept", "gold") and not self.codes:
            raise ValueError(f"'{self.action}' needs at least one code")
        if self.action == "undo" and self.undoes is None:
            raise ValueError("'undo' needs the id of the event it reverts")
        if self.action == "machine-accept" and self.role != MACHINE_ROLE:
            raise ValueError("only the machine role records machine-accept events")
        if self.action == "gold" and self.role not in GOLD_ROLES:
            raise ValueError("only a lead or an administrator resolves a record into a gold label")
        if self.role == MACHINE_ROLE and self.action not in ("machine-accept", "undo"):
            raise ValueError("the machine role only records machine-accept events (and their undoing)")


@dataclass
class LabelState:
    """One annotator's current label on one record in one taxonomy."""

    codes: tuple[str, ...]
    action: str
    event_id: int
    role: str
    updated_at: str
    undone: set[int] = field(default_factory=set)

    @property
    def rejected(self) -> bool:
        return self.action == "reject"


def derive(events: Iterable[Event]) -> dict[tuple[str, str], LabelState]:
    """Current labels keyed by (taxonomy_id, annotator) from one record's events (any order)."""
    grouped: dict[tuple[str, str], list[Event]] = {}
    for event in sorted(events, key=lambda e: (e.id is None, e.id or 0)):
        grouped.setdefault((event.taxonomy_id, event.annotator), []).append(event)
    out: dict[tuple[str, str], LabelState] = {}
    for key, items in grouped.items():
        state = derive_one(items)
        if state is not None:
            out[key] = state
    return out


def derive_one(events: Sequence[Event]) -> LabelState | None:
    """The label left by one annotator's events on one record (events in id order)."""
    undone = {e.undoes for e in events if e.action == "undo" and e.undoes is not None}
    latest: Event | None = None
    for event in events:
        if event.action in LABEL_ACTIONS and event.id not in undone:
            latest = event
    if latest is None:
        return None
    return LabelState(latest.codes, latest.action, int(latest.id or 0), latest.role, latest.created_at, undone)


def last_undoable(events: Sequence[Event]) -> Event | None:
    """The annotator's latest label-setting, skip or note event that is not undone yet."""
    undone = {e.undoes for e in events if e.action == "undo"}
    for event in reversed(list(events)):
        if event.action in LABEL_ACTIONS | {"skip", "note"} and event.id not in undone:
            return event
    return None




QUEUE_STATUSES = ("unlabelled", "open", "unconfirmed", "labelled", "any")
QUEUE_ORDERS = ("diverse", "margin", "entropy", "confidence", "import")


@dataclass(frozen=True)
class QueueSpec:
    """Which records to work on, in which order.

    ``status``: "unlabelled" (no one's label, no imported label in this taxonomy), "open" (no
    expert's label: an imported label is something to confirm or correct, not done),
    "unconfirmed" (an imported label no expert has confirmed or corrected yet), "labelled" (for
    review) or "any". ``order``: "diverse" (least confident first within each predicted
    category, the categories in turn: the most uncertain record of each category, then the second
    of each, ...; a batch of labels covers the categories instead of piling up on one confusion),
    "margin" or "entropy" (least confident first, by the model's top-1 minus top-2 score or by the
    entropy of its scores), "confidence" (most confident first) or "import" (as imported). The
    ordered ones and ``predicted_codes`` need a model.
    """

    taxonomy_id: str
    status: str = "unlabelled"
    order: str = "diverse"
    model_name: str = ""
    model_version: str = ""
    predicted_codes: tuple[str, ...] = ()
    batch_id: int | None = None
    language: str = ""
    assigned_to: str = ""
    search: str = ""
    within: tuple[str, ...] = ()  # suggestions limited to these nodes and what is under them

    def __post_init__(self) -> None:
        if self.status not in QUEUE_STATUSES:
            raise ValueError(f"unknown queue status '{self.status}'")
        if self.order not in QUEUE_ORDERS:
            raise ValueError(f"unknown queue order '{self.order}'")
        if (self.order != "import" or self.predicted_codes) and not self.model_name:
            raise ValueError("ordering by confidence or filtering by predicted category needs a model")

    @property
    def needs_model(self) -> bool:
        return self.order != "import" or bool(self.predicted_codes)


__all__ = ["ACTIONS", "EXPERT_ROLES", "GOLD_ROLES", "Event", "LABEL_ACTIONS", "LabelState", "MACHINE_ROLE",
           "QUEUE_ORDERS", "QUEUE_STATUSES", "QueueSpec", "ShownSuggestion", "derive", "derive_one", "last_undoable"]
