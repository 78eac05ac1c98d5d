"""A team's labelling programme: rounds with blind double coding and known-answer records,
agreement that understands the hierarchy, a review queue ordered by disagreement, adjudication
into gold labels, and per-annotator quality for leads.

**Rounds.** A lead assigns a queue's records to annotators: a share (``overlap``) goes to two
annotators, the rest to one, loads balanced; known-answer records (records already resolved into
gold labels) are mixed into each annotator's work at ``gold_rate``. Double coding is **blind**: an
assignee sees nobody else's label on a double-coded record until every assignee of it has
labelled it, and on a known-answer record not until they have labelled it; the lead decides
whether model suggestions are shown on double-coded records. Agreement is reported separately for
labels made with and without suggestions on screen.

**Quality.** "Accepted without reading" needs evidence, never speed alone: an annotator is flagged
when they are faster than the team's median *and* accept the top suggestion most of the time *and*
either their accuracy on known-answer records is low or review overturns many of their labels.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd

from core.domain.access import check
from core.domain.agreement import agreement_summary, disagreement, pairwise_kappa, per_category
from core.domain.agreement import cut as cut_labels
from core.domain.labels import EXPERT_ROLES, Event
from core.domain.taxonomy import Taxonomy
from core.errors import WorkbenchError
from core.store import Store

ACTIVE_GAP_S = 600  # a pause longer than this between two labels is not working time
FLAG_ACCEPT_TOP = 0.8  # share of labels that are the top suggestion accepted as it was
FLAG_GOLD_ACCURACY = 0.6  # accuracy on known-answer records below this is evidence
FLAG_OVERTURNED = 0.4  # share of reviewed labels the lead's gold label overturned
MIN_EVIDENCE = 5  # known-answer or reviewed labels needed before they count as evidence


class TeamError(WorkbenchError):
    prefix = "Team work"


@dataclass(frozen=True)
class RoundPlan:
    items: tuple[tuple[int, str, str], ...]  # (record_id, annotator, kind)
    double: int
    gold: int

    def load(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, annotator, _ in self.items:
            out[annotator] = out.get(annotator, 0) + 1
        return out


def plan_round(record_ids: Sequence[int], annotators: Sequence[str], *, overlap: float, gold_ids: Sequence[int] = (),
               gold_rate: float = 0.0, seed: int = 0) -> RoundPlan:
    """Who labels what: ``overlap`` of the records go to two annotators (every pair in turn), the
    rest to the least loaded one; each annotator also gets ``gold_rate`` × their load of
    known-answer records (``gold_ids``, drawn at random, none they were given already)."""
    annotators = list(dict.fromkeys(a.strip() for a in annotators if a and a.strip()))
    if not annotators:
        raise TeamError("choose at least one annotator")
    if not 0.0 <= overlap <= 1.0 or not 0.0 <= gold_rate <= 1.0:
        raise TeamError("the overlap and the known-answer rate are shares between 0 and 1")
    if overlap > 0 and len(annotators) < 2:
        raise TeamError("double coding needs at least two annotators")
    rng = random.Random(seed)
    records = [int(r) for r in dict.fromkeys(record_ids)]
    rng.shuffle(records)
    n_double = int(round(overlap * len(records)))
    pairs = list(combinations(annotators, 2))
    load = {a: 0 for a in annotators}
    items: list[tuple[int, str, str]] = []
    for i, rid in enumerate(records[:n_double]):
        for a in pairs[i % len(pairs)]:
            items.append((rid, a, "double"))
            load[a] += 1
    for rid in records[n_double:]:
        a = min(annotators, key=lambda x: (load[x], annotators.index(x)))
        items.append((rid, a, "single"))
        load[a] += 1
    gold = [int(g) for g in dict.fromkeys(gold_ids) if int(g) not in set(records)]
    n_gold = 0
    if gold_rate > 0 and gold:
        for a in annotators:
            want = min(int(np.ceil(gold_rate * load[a])), len(gold))
            for rid in rng.sample(gold, want):
                items.append((rid, a, "gold"))
                n_gold += 1
    return RoundPlan(tuple(items), n_double, n_gold)


def start_round(store: Store, taxonomy: Taxonomy, record_ids: Sequence[int], annotators: Sequence[str], *,
                by: str, role: str, overlap: float = 0.1, suggestions_on_double: bool = True, gold_rate: float = 0.0,
                name: str = "", seed: int = 0) -> tuple[int, RoundPlan]:
    """Plan a round and store it (a lead's action); returns (round id, plan)."""
    check(role, "assign", by)
    if not record_ids:
        raise TeamError("the queue is empty: there is nothing to assign")
    plan = plan_round(record_ids, annotators, overlap=overlap, gold_ids=list(store.gold_labels(taxonomy.id)),
                      gold_rate=gold_rate, seed=seed)
    round_id = store.create_round(taxonomy.id, name=name or f"{taxonomy.id} round", by=by, overlap=overlap,
                                  suggestions_on_double=suggestions_on_double, gold_rate=gold_rate,
                                  annotators=sorted(plan.load()), items=plan.items, seed=seed)
    return round_id, plan


@dataclass(frozen=True)
class Visibility:
    others: bool = True  # other annotators' labels (and the imported one)
    suggestions: bool = True
    reason: str = ""


def visibility(store: Store, taxonomy_id: str, record_id: int, viewer: str) -> Visibility:
    """What ``viewer`` may see on a record: blind double coding hides the other assignees' labels
    until all of them have labelled it; a known-answer record hides the answer until the viewer
    has labelled it; the round may hide suggestions on double-coded records."""
    rows = store.assignments_of(record_id, taxonomy_id)
    mine = [r for r in rows if r["annotator"] == viewer]
    if not mine:
        return Visibility()
    me = mine[0]
    if me["kind"] == "double":
        same = [r for r in rows if r["round_id"] == me["round_id"] and r["kind"] == "double"]
        everyone = all(r["labelled"] for r in same)
        return Visibility(others=everyone, suggestions=bool(me["suggestions_on_double"]) or everyone,
                          reason="" if everyone else "blind")
    if me["kind"] == "gold":
        return Visibility(others=bool(me["labelled"]), reason="" if me["labelled"] else "blind")
    return Visibility()


def _label(codes_json: str, action: str) -> frozenset:
    return frozenset() if action == "reject" else frozenset(json.loads(codes_json or "[]"))


def _saw_suggestions(shown_json: str) -> bool:
    return bool(json.loads(shown_json or "[]"))


def _units(store: Store, taxonomy: Taxonomy) -> tuple[dict[int, dict[str, frozenset]], dict[int, set[bool]]]:
    units: dict[int, dict[str, frozenset]] = {}
    saw: dict[int, set[bool]] = {}
    for r in store.label_rows(taxonomy.id, EXPERT_ROLES):
        units.setdefault(r["record_id"], {})[r["annotator"]] = _label(r["codes"], r["action"])
        saw.setdefault(r["record_id"], set()).add(_saw_suggestions(r["shown"]))
    return units, saw


def label_units(store: Store, taxonomy: Taxonomy, *,
                suggestions: bool | None = None) -> dict[int, dict[str, frozenset]]:
    """record -> annotator -> label set, of the experts' current labels (gold labels apart).
    ``suggestions``: only records every annotator labelled with (True) or without (False)
    suggestions on screen; None: all."""
    units, saw = _units(store, taxonomy)
    if suggestions is not None:
        units = {u: labels for u, labels in units.items() if saw[u] == {suggestions}}
    return units


@dataclass
class AgreementReport:
    summary: dict
    by_level: pd.DataFrame
    categories: pd.DataFrame
    pairs: pd.DataFrame
    with_suggestions: dict = field(default_factory=dict)
    without_suggestions: dict = field(default_factory=dict)


def team_agreement(store: Store, taxonomy: Taxonomy, level: int | None = None) -> AgreementReport:
    """Agreement of the experts who labelled the same records: overall, per level, per category
    (at ``level``) and per pair; and apart for labels made with and without suggestions shown."""
    units, saw = _units(store, taxonomy)  # read once: the figures with and without suggestions filter it
    summary = agreement_summary(units, taxonomy, level)
    by_level = pd.DataFrame([{"level": lv, **agreement_summary(units, taxonomy, lv)}
                             for lv in range(1, taxonomy.depth + 1)])
    cut = cut_labels({u: labels for u, labels in units.items() if len(labels) >= 2}, taxonomy, level)
    used = sorted({c for labels in cut.values() if len(labels) >= 2 for lab in labels.values() for c in lab})
    categories = pd.DataFrame(per_category(cut, taxonomy, used),
                              columns=["code", "records", "agreed", "agreement", "alpha"])
    # who agrees with whom is for leads: other roles see the team's figures, not the pairs'
    pairs = pd.DataFrame(pairwise_kappa(cut) if store.may("view_team") else [],
                         columns=["annotator_a", "annotator_b", "shared_records", "exact_agreement", "kappa"])
    with_, without = ({u: labels for u, labels in units.items() if saw[u] == {shown}} for shown in (True, False))
    return AgreementReport(summary, by_level, categories, pairs, agreement_summary(with_, taxonomy, level),
                           agreement_summary(without, taxonomy, level))


def review_queue(store: Store, taxonomy: Taxonomy, *, model_name: str = "", model_version: str = "") -> pd.DataFrame:
    """Records to adjudicate, most disagreement first: records with two or more expert labels that
    differ and no gold label yet; then (with a model) records whose one expert label the model's top
    code contradicts. Columns: record_id, labels (annotator: codes), disagreement, reason."""
    gold = store.gold_labels(taxonomy.id)
    units = label_units(store, taxonomy)
    rows = []
    for rid, labels in units.items():
        if rid in gold:
            continue
        if len(labels) >= 2 and len(set(labels.values())) > 1:
            rows.append({"record_id": rid, "labels": {a: sorted(v) for a, v in labels.items()},
                         "disagreement": disagreement(labels, taxonomy), "reason": "experts disagree"})
    if model_name:
        tops = store.top_codes(model_name, model_version, [r for r, labels in units.items()
                                                          if len(labels) == 1 and r not in gold])
        for rid, top in tops.items():
            (annotator, label), = units[rid].items()
            if top and label and top not in label and not any(top in {n.code for n in taxonomy.path(c)}
                                                              for c in label if c in taxonomy):
                rows.append({"record_id": rid, "labels": {annotator: sorted(label), "(model)": [top]},
                             "disagreement": disagreement({"a": label, "m": frozenset({top})}, taxonomy) / 2,
                             "reason": "the model disagrees"})
    frame = pd.DataFrame(rows, columns=["record_id", "labels", "disagreement", "reason"])
    return frame.sort_values(["disagreement", "record_id"], ascending=[False, True]).reset_index(drop=True)


def adjudicate(store: Store, taxonomy: Taxonomy, record_id: int, codes: Sequence[str], *, by: str, role: str,
               reason: str = "") -> Event:
    """Resolve a record into its gold label (a lead's event of its own; it comes first wherever
    labels are used, and enters the evaluation set first)."""
    check(role, "adjudicate", by)
    clean = []
    for code in codes:
        if code not in taxonomy:
            raise TeamError(f"'{code}' is not a code of taxonomy '{taxonomy.name}'")
        clean.append(taxonomy.node(code).code)
    if not clean:
        raise TeamError("a gold label needs at least one code")
    return store.add_event(Event(record_id, taxonomy.id, by, role, "gold", tuple(dict.fromkeys(clean)), (),
                                 reason.strip()))


def _seconds(a: str, b: str) -> float:
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


def annotator_quality(store: Store, taxonomy: Taxonomy) -> pd.DataFrame:
    """Per annotator: labels, records per working hour and median seconds per record (pauses over
    ten minutes left out), agreement with the others on shared records, accuracy on known-answer
    records, the share of top suggestions accepted as they were, the share of reviewed labels the
    gold label overturned, and whether the evidence says "accepted without reading" (and why)."""
    store.require("view_team")
    events = store.work_events(taxonomy.id)
    gold = store.gold_labels(taxonomy.id)
    units = label_units(store, taxonomy)
    gold_items: dict[str, set[int]] = {}
    for rnd in store.rounds(taxonomy.id):
        for a in store.round_assignments(rnd["id"]):
            if a["kind"] == "gold":
                gold_items.setdefault(a["annotator"], set()).add(a["record_id"])
    rows = []
    by_annotator: dict[str, list[dict]] = {}
    for e in events:
        if e["role"] in EXPERT_ROLES:
            by_annotator.setdefault(e["annotator"], []).append(e)
    for annotator, items in sorted(by_annotator.items()):
        gaps = [_seconds(a["created_at"], b["created_at"]) for a, b in zip(items, items[1:])]
        working = [g for g in gaps if 0 <= g <= ACTIVE_GAP_S]
        hours = sum(working) / 3600
        accept_top = sum(1 for e in items if e["action"] == "accept" and json.loads(e["shown"] or "[]")
                         and json.loads(e["codes"])[:1] == [json.loads(e["shown"])[0]["code"]]) / len(items)
        mine = {u: labels[annotator] for u, labels in units.items() if annotator in labels}
        shared = [(lab, [v for a, v in units[u].items() if a != annotator]) for u, lab in mine.items()
                  if len(units[u]) >= 2]
        agreement = (np.mean([np.mean([lab == o for o in others]) for lab, others in shared]) if shared else None)
        known = [u for u in gold_items.get(annotator, set()) if u in mine and u in gold]
        gold_accuracy = (np.mean([mine[u] == frozenset(gold[u]) for u in known]) if known else None)
        reviewed = [u for u in mine if u in gold and u not in gold_items.get(annotator, set())]
        overturned = (np.mean([mine[u] != frozenset(gold[u]) for u in reviewed]) if reviewed else None)
        rows.append({"annotator": annotator, "labels": len(items),
                     "records_per_hour": len(items) / hours if hours else None,
                     "seconds_per_record": float(np.median(working)) if working else None,
                     "agreement": agreement, "shared_records": len(shared), "gold_items": len(known),
                     "gold_accuracy": gold_accuracy, "accept_top": accept_top, "reviewed": len(reviewed),
                     "overturned": overturned})
    frame = pd.DataFrame(rows, columns=["annotator", "labels", "records_per_hour", "seconds_per_record", "agreement",
                                        "shared_records", "gold_items", "gold_accuracy", "accept_top", "reviewed",
                                        "overturned"])
    median_speed = frame["seconds_per_record"].median() if len(frame) else None
    flags, reasons = [], []
    for r in frame.itertuples():
        evidence = []
        if r.gold_items >= MIN_EVIDENCE and r.gold_accuracy is not None and r.gold_accuracy < FLAG_GOLD_ACCURACY:
            evidence.append(f"{r.gold_accuracy:.0%} right on {r.gold_items} known-answer records")
        if r.reviewed >= MIN_EVIDENCE and r.overturned is not None and r.overturned >= FLAG_OVERTURNED:
            evidence.append(f"review overturned {r.overturned:.0%} of {r.reviewed} labels")
        fast = (r.seconds_per_record is not None and median_speed is not None
                and r.seconds_per_record <= median_speed)
        flagged = bool(evidence) and fast and r.accept_top >= FLAG_ACCEPT_TOP
        flags.append(flagged)
        reasons.append(("fast, accepts the top suggestion " + f"{r.accept_top:.0%} of the time, " + "; ".join(evidence))
                       if flagged else "")
    frame["flagged"] = flags
    frame["why"] = reasons
    return frame


def round_progress(store: Store, round_id: int) -> pd.DataFrame:
    """Per annotator of a round: records assigned, labelled, and of those the double-coded and
    known-answer ones."""
    rows = store.round_assignments(round_id)
    frame = pd.DataFrame(rows, columns=["record_id", "annotator", "kind", "labelled"])
    if frame.empty:
        return pd.DataFrame(columns=["annotator", "assigned", "labelled", "double", "gold", "done"])
    out = frame.groupby("annotator").agg(assigned=("record_id", "size"), labelled=("labelled", "sum"),
                                         double=("kind", lambda k: int((k == "double").sum())),
                                         gold=("kind", lambda k: int((k == "gold").sum()))).reset_index()
    out["done"] = out["labelled"] / out["assigned"]
    return out




# Guidelines in the work: scope notes

MAX_SCOPE_NOTE = 5000


@dataclass(frozen=True)
class ScopeNote:
    code: str
    text: str
    by: str = ""
    at: str = ""
    source: str = "taxonomy"  # "taxonomy": the node's description (e.g. skos:scopeNote); "workspace": a lead's


def scope_notes(store: Store, taxonomy: Taxonomy) -> dict[str, ScopeNote]:
    """The scope note in force per node: a lead's latest saved note, else the node's own description
    (imported from skos:scopeNote / skos:definition or a CSV description column)."""
    saved = store.scope_notes(taxonomy.id)
    out = {n.code: ScopeNote(n.code, n.description, source="taxonomy") for n in taxonomy if n.description}
    for code, row in saved.items():
        out[code] = ScopeNote(code, row["text"], row["by"], row["at"], "workspace")
    return {c: n for c, n in out.items() if n.text.strip()}


def save_scope_note(store: Store, taxonomy: Taxonomy, code: str, text: str, *, by: str, role: str) -> ScopeNote:
    """A new version of a node's scope note (a lead's action); the earlier versions stay."""
    check(role, "edit_scope_notes", by)
    if code not in taxonomy:
        raise TeamError(f"'{code}' is not a code of taxonomy '{taxonomy.name}'")
    text = (text or "").strip()
    if len(text) > MAX_SCOPE_NOTE:
        raise TeamError(f"a scope note may have at most {MAX_SCOPE_NOTE:,} characters (this one has {len(text):,})")
    code = taxonomy.node(code).code
    store.add_scope_note(taxonomy.id, code, text, by)
    return scope_notes(store, taxonomy).get(code, ScopeNote(code, "", by, source="workspace"))


def labelled_before_note(store: Store, taxonomy: Taxonomy, code: str) -> list[int]:
    """Records whose current expert label is this node or one below it, given before the node's
    scope note last changed: the records to look at again under the new guideline."""
    note = store.scope_notes(taxonomy.id).get(code)
    if note is None:
        return []
    subtree = {code, *taxonomy.descendants(code)}
    out = []
    for r in store.label_rows(taxonomy.id, EXPERT_ROLES):
        if r["updated_at"] <= note["at"] and set(json.loads(r["codes"] or "[]")) & subtree:
            out.append(int(r["record_id"]))
    return sorted(set(out))


__all__ = ["AgreementReport", "RoundPlan", "ScopeNote", "TeamError", "Visibility", "adjudicate", "annotator_quality",
           "label_units", "labelled_before_note", "plan_round", "review_queue", "round_progress", "save_scope_note",
           "scope_notes", "start_round", "team_agreement", "visibility"]
