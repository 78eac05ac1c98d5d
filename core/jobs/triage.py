"""Triage by confidence: records whose top code scores at or above its category's threshold are
machine-accepted (events of the machine role, never an expert's); the rest wait in the expert
queue, least confident first."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.domain.conformal import ConformalRule, conformal_rule
from core.domain.labels import MACHINE_ROLE, Event
from core.jobs.lifecycle import JobError, JobInfo
from core.models.manifest import MANIFEST_FILE, ModelFolderError, load_manifest
from core.store import Store


def default_thresholds(manifest, floor: float = 0.55, ceiling: float = 0.95) -> dict[str, float]:
    """Per-category thresholds from the model's held-out precision: the more precise a category
    was, the lower the score it needs (precision 1.0 -> 0.55, 0.5 -> 0.75, 0 -> 0.95)."""
    per = ((manifest.evaluation or {}).get("held_out") or {}).get("per_category") or {}
    out = {}
    for code in manifest.codes:
        precision = float((per.get(code) or {}).get("precision", 0.0))
        out[code] = round(min(ceiling, max(floor, ceiling - 0.4 * precision)), 2)
    return out


@dataclass
class TriageReport:
    accepted: int
    to_queue: int
    already_labelled: int
    per_code: dict[str, tuple[int, int]]  # code -> (accepted, to queue)
    other_language: int = 0  # records in a language the model was not trained for (left for experts)
    sample: tuple[tuple[int, str], ...] = ()  # (record id, code) of the first accepted records
    disagree_with_file: int = 0  # accepted records whose imported label (in this taxonomy) differs
    far_from_training: int = 0  # confident records unlike the model's training data (left for experts)


def conformal_rule_for(job: JobInfo, model_name: str, alpha: float) -> ConformalRule | None:
    """The model's split-conformal acceptance rule at miscoverage ``alpha``, from the held-out
    rows its manifest carries (None: it carries none, so it never machine-accepts)."""
    manifest = _manifest_of(job, model_name)
    if manifest is None or manifest.multi_label:
        return None
    rows = (manifest.calibration or {}).get("conformal_rows") or []
    return conformal_rule(rows, alpha) if rows else None


def conformal_triage(store: Store, job: JobInfo, model_name: str, alpha: float, *,
                     dry_run: bool = False) -> tuple[TriageReport, ConformalRule | None]:
    """Triage with a guarantee: a record is machine-accepted only when its conformal prediction set
    at miscoverage ``alpha`` is a single code (its top probability reaches the threshold, the
    second does not). Returns the report and the rule with its error measured on held-out records
    used neither for training nor for calibration. A model with no held-out rows accepts nothing."""
    if not dry_run:
        store.require("triage")
    rule = conformal_rule_for(job, model_name, alpha)
    if rule is None:
        return triage(store, job, model_name, {}, default=float("inf"), dry_run=True), None
    return triage(store, job, model_name, {}, dry_run=dry_run, rule=rule), rule


def triage(store: Store, job: JobInfo, model_name: str, thresholds: dict[str, float], *,
           default: float = 0.9, dry_run: bool = False, rule: ConformalRule | None = None) -> TriageReport:
    """Records whose top code scores at or above its threshold (with ``rule``: whose conformal set
    is that code alone) are machine-accepted (an event of the machine role, never an expert's);
    the rest stay unlabelled for the expert queue, which shows the least confident first. Records
    someone has labelled, records in a language the model was not trained for, and records far
    from the model's training data (``Classifier.far_from_training``) are left to the experts. A
    job limited to part of the tree triages on its own results, scored within the limit."""
    if not dry_run:
        store.require("triage")
    model = next((m for m in job.models if m["name"] == model_name), None)
    if model is None:
        raise JobError(f"job #{job.id} did not run model '{model_name}'")
    annotator = f"model:{model['name']}@{model['version']}"
    taxonomy_id = model["taxonomy"]  # a job may run models of several taxonomies: each triages into its own
    limited = bool(job.params.within) and taxonomy_id == job.params.taxonomy_id
    if limited:  # within the job's limit, as it ranked them
        rows = store.job_result_tops(job.id, model["name"], taxonomy_id)
    else:
        rows = store.job_predictions(job.id, model["name"], model["version"], taxonomy_id)
    within = f", within {', '.join(job.params.within)}" if limited else ""
    known = set(_model_languages(job, model_name))
    languages = store.job_record_languages(job.id) if known else {}
    accepted = queued = labelled = foreign = far = 0
    per_code: dict[str, list[int]] = {}
    events, candidates = [], []
    for record_id, top_code, top_score, has_label, second in rows:
        if has_label:
            labelled += 1
            continue
        counts = per_code.setdefault(top_code, [0, 0])
        language = (languages.get(record_id) or "").lower()
        if language and known and language not in known:  # never machine-accepted: the model cannot read it
            foreign += 1
            queued += 1
            counts[1] += 1
        elif top_code and (rule.accepts(top_score, second) if rule is not None
                           else top_score >= thresholds.get(top_code, default)):
            why = (f"the only code in its {1 - rule.alpha:.0%} conformal set (score {top_score:.3f} >= "
                   f"{rule.threshold:.3f} > {second:.3f})" if rule is not None else
                   f"score {top_score:.3f} >= {thresholds.get(top_code, default):.2f}")
            candidates.append((record_id, top_code, why))
        else:
            queued += 1
            counts[1] += 1
    far_ids = _far_from_training(store, job, model_name, [c[0] for c in candidates])
    for record_id, top_code, why in candidates:
        counts = per_code[top_code]
        if record_id in far_ids:  # confident, but on text unlike anything the model learnt from
            far += 1
            queued += 1
            counts[1] += 1
            continue
        accepted += 1
        counts[0] += 1
        events.append(Event(record_id, taxonomy_id, annotator, MACHINE_ROLE, "machine-accept",
                            (top_code,), reason=f"{why}{within} (job #{job.id})"))
    if not dry_run:
        with store.write():
            for event in events:
                store.add_event(event)
    disagree = 0
    imported = store.imported_codes([e.record_id for e in events], taxonomy_id)
    for event in events:
        codes = imported.get(event.record_id)
        if codes and event.codes[0] not in codes:
            disagree += 1
    return TriageReport(accepted, queued, labelled, {c: (a, q) for c, (a, q) in per_code.items()}, foreign,
                        tuple((e.record_id, e.codes[0]) for e in events[:10]), disagree, far)


def _far_from_training(store: Store, job: JobInfo, model_name: str, record_ids: list[int],
                       chunk: int = 2048) -> set[int]:
    """The records (of those given) the job's model finds far from its training data (vectors
    from the embedding cache where the model has an encoder; nothing where it measures nothing)."""
    from core.work.embeddings import cache_key, record_vectors

    folder, _ = _model_of(job, model_name)
    if folder is None or not record_ids:
        return set()
    classifier = _classifier(str(folder), Path(folder, MANIFEST_FILE).stat().st_mtime_ns)
    out: set[int] = set()
    for start in range(0, len(record_ids), chunk):
        records = store.records_by_ids(record_ids[start:start + chunk])
        texts = [classifier.manifest.text_of(r) for r in records]
        vectors = record_vectors(store, classifier, records) if cache_key(classifier) else None
        flags = classifier.far_from_training(texts, vectors)
        if flags is not None:
            out.update(int(r["id"]) for r, flag in zip(records, flags) if flag)
    return out


@lru_cache(maxsize=2)
def _classifier(folder: str, stamp: int):  # noqa: ARG001 - the cache key
    """A job model, loaded once while its folder is unchanged: a triage preview is redrawn at every
    change of the rule, and loading an ensemble's vocabulary takes about a second."""
    from core.models.runtimes import load_classifier

    return load_classifier(folder)


def _model_languages(job: JobInfo, model_name: str) -> list[str]:
    """The languages the job's model declares it was trained for ([] = not declared)."""
    manifest = _manifest_of(job, model_name)
    return [x.lower() for x in manifest.languages] if manifest is not None else []


def _model_of(job: JobInfo, model_name: str):
    """(folder, manifest) of the job's model of that name ((None, None) when its folder is gone or
    unreadable)."""
    for folder in dict.fromkeys([*job.params.models, *(m.get("folder") or "" for m in job.models)]):
        if not folder:
            continue
        try:
            manifest = load_manifest(folder)
        except ModelFolderError:
            continue
        if manifest.name == model_name:
            return folder, manifest
    return None, None


def _manifest_of(job: JobInfo, model_name: str):
    """The manifest of the job's model of that name (None when its folder is gone or unreadable)."""
    return _model_of(job, model_name)[1]


def undo_triage(store: Store, job: JobInfo, model_name: str, by: str) -> int:
    """Undo a job's triage by a model: one undo event per machine-accepted record (the log keeps
    both); those records go back to the expert queue. Returns how many were undone."""
    store.require("triage")
    model = next((m for m in job.models if m["name"] == model_name), None)
    if model is None:
        raise JobError(f"job #{job.id} did not run model '{model_name}'")
    annotator = f"model:{model['name']}@{model['version']}"
    accepted = store.job_machine_accepts(job.id, annotator)
    with store.write():
        for event_id, record_id, taxonomy_id in accepted:
            store.add_event(Event(record_id, taxonomy_id, annotator, MACHINE_ROLE, "undo", (),
                                  reason=f"triage of job #{job.id} undone by {by}", undoes=event_id))
    return len(accepted)


__all__ = ["TriageReport", "conformal_rule_for", "conformal_triage", "default_thresholds", "triage", "undo_triage"]
