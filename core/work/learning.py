"""The learning loop: a new model version trained from the workspace's labels, evaluated on the
taxonomy's frozen evaluation set beside the model in use.

Training reads the experts' current labels (on request also imported and machine-accepted ones)
of every record outside the evaluation set (``core.work.versions``); an encoder model reads the
records' kept vectors (``core.work.embeddings``), computing only the missing ones. The new
folder is an ordinary model folder (``<taxonomy>-v<N>-<kind>``) whose manifest records its
parent, the data it saw (a hash of record ids and codes, the last event id, the log's chain
head), its parameters and calibration; the workspace numbers it and keeps its figures.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from core.domain.taxonomy import Taxonomy
from core.errors import Cancelled, WorkbenchError
from core.models.manifest import Manifest, load_manifest, write_manifest
from core.store import Store, now
from core.work.column_mapping import TEXT_FIELDS
from core.work.evaluation_set import comparison, eval_frame, evaluate_model, sync_eval_set
from core.work.serving import serving_model
from core.work.training_data import ExportFilter, labelled_frame
from core.work.versions import _public

MULTI_LABEL_SHARE = 0.05  # records with several codes above this share make a multi-label model
_READER = Manifest("", "", "", (), "", input_fields=TEXT_FIELDS)  # how trained models read a record


class LearningError(WorkbenchError):
    prefix = "Cannot train"


@dataclass
class TrainOptions:
    kind: str = "tfidf"
    include_imported: bool = False
    include_machine: bool = False
    language: str = ""
    level: int | None = None
    name: str = ""  # "" = <taxonomy>-v<N>-<kind>
    seed: int = 0
    params: dict = field(default_factory=dict)  # changes to the kind's default recipe (its form fields)
    # this share of the labels at most: the worst-ranked "labels that look wrong" that only an imported
    # file gave, left out of training (0: off)
    leave_out_flagged: float = 0.0
    # where it trains, beside the recipe (``core.models.kinds.Placement``): data-parallel workers, a Ray cluster
    workers: int = 1
    ray: str = ""


@dataclass
class TrainReport:
    folder: Path
    manifest: Manifest
    version_id: int
    number: int
    examples: int  # labelled records trained on
    eval_records: int  # records of the evaluation set both were measured on
    after: dict  # the new version's figures on the evaluation set
    before: dict | None  # the compared model's, on the same records
    seconds: float = 0.0
    cross_validated: dict | None = None  # the recipe's out-of-fold figures on the training records
    verdict: dict | None = None  # after against before (``core.work.versions.comparison``)


def training_frame(store: Store, taxonomy: Taxonomy, *, include_imported: bool = False, include_machine: bool = False,
                   language: str = "", level: int | None = None) -> pd.DataFrame:
    """One row per labelled record outside the evaluation set (its latest label; rejected records
    have none): the record (with its stored fields), ``codes`` and the model's ``input`` text."""
    splits = sync_eval_set(store, taxonomy)
    frame = labelled_frame(store, taxonomy, ExportFilter(taxonomy.id, level=level, include_machine=include_machine,
                                                         include_imported=include_imported, per_record="latest"))
    frame = frame.loc[frame["record_id"].map(lambda r: splits.get(int(r)) != "eval").astype(bool)]
    if language:
        frame = frame.loc[(frame["language"].fillna("").str.lower() == language.lower()).astype(bool)]
    frame = frame.loc[(frame["codes"].map(len) > 0).astype(bool)].copy()
    frame["code"] = frame["codes"].map(lambda codes: codes[0])
    frame["input"] = pd.Series([_READER.text_of(r) for r in frame.to_dict("records")], index=frame.index,
                               dtype=object).astype(str)
    return frame.loc[(frame["input"].str.len() > 0).astype(bool)].reset_index(drop=True)


def trained_languages(frame: pd.DataFrame, share: float = 0.05) -> tuple[str, ...]:
    """The languages of at least ``share`` of the training records (a few misdetected records do
    not make a model "know" a language)."""
    counts = frame["language"].fillna("").str.lower().value_counts()
    counts = counts[counts.index != ""]
    return tuple(sorted(lang for lang, n in counts.items() if n >= share * len(frame)))


MIN_TRAINING = 20  # labelled records (in 2 categories at least) a version is trained from

def data_hash(frame: pd.DataFrame) -> str:
    payload = json.dumps(sorted([int(r), list(c)] for r, c in zip(frame["record_id"], frame["codes"])))
    return hashlib.sha256(payload.encode()).hexdigest()


def _folder_name(taxonomy_id: str, number: int, kind: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", taxonomy_id).strip("-.") or "taxonomy"
    return f"{safe}-v{number}-{kind}"


def train_version(store: Store, taxonomy: Taxonomy, models_dir: Path, options: TrainOptions, *, by: str = "",
                  compare: Path | None = None, job_id: int | None = None,
                  progress: Callable[[str, float], None] | None = None,
                  should_stop: Callable[[], bool] = lambda: False) -> TrainReport:
    """Train, evaluate and register a new version; ``compare``: the model measured beside it
    (default: the model in use for the taxonomy, if one is promoted)."""
    store.require("train")
    import time

    start = time.perf_counter()
    step = progress or (lambda stage, fraction: None)  # noqa: ARG005 - the interface's signature

    def check(stage: str, fraction: float) -> None:
        if should_stop():
            raise Cancelled("training stopped on request; nothing was saved")
        step(stage, fraction)

    from core.models import kinds

    try:
        kind = kinds.get(options.kind)
        params = kind.recipe(options.params)
        placement = kinds.Placement(int(options.workers or 1), str(options.ray or "").strip())
    except ValueError as exc:
        raise LearningError(str(exc)) from None
    if not placement.here and not kind.can_place(params):
        raise LearningError(f"kind '{options.kind}' trains in this process only: workers and a Ray cluster are for "
                            "fine-tuning (finetune, or an ensemble with it)")
    models_dir = Path(models_dir)
    check("reading labels", 0.02)
    frame = training_frame(store, taxonomy, include_imported=options.include_imported,
                           include_machine=options.include_machine, language=options.language, level=options.level)
    left_out = _leave_out_flagged(store, taxonomy, frame, options, check)
    if left_out:  # of the flagged records, those in the training records (the evaluation set's stay out anyway)
        flagged = frame["record_id"].astype(int).isin(left_out)
        left_out = frame.loc[flagged, "record_id"].astype(int).tolist()
        frame = frame.loc[~flagged].reset_index(drop=True)
    counts = frame["code"].value_counts()
    if len(frame) < MIN_TRAINING or len(counts) < 2:
        raise LearningError(f"{len(frame)} labelled record(s) outside the evaluation set in {len(counts)} "
                            f"categor{'y' if len(counts) == 1 else 'ies'} of '{taxonomy.name}': at least 20 records "
                            "in 2 categories are needed" + ("" if options.include_imported else
                                                             " (imported labels can be included)"))
    multi_label = float((frame["codes"].map(len) > 1).mean()) > MULTI_LABEL_SHARE
    codes = [list(c) if multi_label else [c[0]] for c in frame["codes"]]
    number = store.next_version_number(taxonomy.id)
    name = options.name.strip() or _folder_name(taxonomy.id, number, options.kind)
    if Path(name).name != name or name.startswith("."):
        raise LearningError(f"'{name}' is not a usable folder name for a model")
    folder = models_dir / name
    if folder.exists():
        raise LearningError(f"'{folder}' exists already: choose a new name (each version is its own folder)")
    # compared with what serves those records now: the model in use, else the default (for the labels'
    # one language, where they have one: the cross-lingual default serves Hungarian records on day one)
    languages = trained_languages(frame)
    language = options.language or (languages[0] if len(languages) == 1 else "")
    parent = compare.name if compare else serving_model(store, taxonomy.id, language, models_dir)
    parent_folder = Path(compare) if compare else (models_dir / parent if parent else None)
    parent_rows = [r for r in store.version_rows(taxonomy.id) if r["folder"] == parent]
    last_event = store.last_event_id()
    base = Manifest(name=name, version=f"v{number}", taxonomy=taxonomy.id, codes=(), runtime="",
                    input_fields=TEXT_FIELDS, languages=(options.language.lower(),) if options.language else
                    trained_languages(frame),
                    training={"source": "workspace", "kind": options.kind, "parent": parent or "",
                              "data_hash": data_hash(frame), "last_event_id": last_event,
                              "annotation_log_head": store.chain_head(), "include_imported": options.include_imported,
                              "include_machine": options.include_machine, "level": options.level,
                              **({"left_out_flagged": {"share": options.leave_out_flagged,
                                                       "records": len(left_out)}} if options.leave_out_flagged
                                 else {}),
                              "trained_at": now(), "trained_by": by})
    tmp = models_dir / f".{name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        vectors = None
        if kind.reads_vectors(params):  # an encoder is made once (the multilingual fast tier's: minutes)
            check("preparing the sentence encoder", 0.04)
            vectors = _vectors(store, models_dir, frame, lambda f: check("encoding records", 0.05 + 0.45 * f),
                               kind.vector_encoder(params))
        fit_from = 0.55 if vectors is not None else 0.05
        check("fitting", fit_from)
        try:
            trained = kind.train(kinds.TrainingInput(
                frame["input"].tolist(), codes, tmp, base, models_dir, multi_label, options.seed, vectors, params,
                progress=lambda stage, f: check(stage, fit_from + (0.85 - fit_from) * min(max(f, 0.0), 1.0)),
                should_stop=should_stop,
                checkpoints=checkpoints_for(models_dir, taxonomy.id, job_id, options.kind), placement=placement,
                taxonomy=taxonomy))
        except Cancelled:
            raise Cancelled("training stopped on request; nothing was saved (the last completed epoch is kept: "
                            "resume the job to go on from it)") from None
        manifest, oof = trained.manifest, trained.out_of_fold
        cv = cross_validated(oof, codes, taxonomy, multi_label)
        from core.models.familiarity import write_fingerprints
        from core.models.runtimes import load_classifier

        # the training texts' fingerprints first: no figure is ever measured on a text it learnt from
        manifest = replace(manifest, files={**manifest.files,
                                            "training_texts": write_fingerprints(tmp, frame["input"].tolist())})
        write_manifest(tmp, manifest)
        check("evaluating on the evaluation set", 0.85)
        evaluation = eval_frame(store, taxonomy)
        after = evaluate_model(store, taxonomy, tmp, evaluation, classifier=load_classifier(tmp))
        before = evaluate_model(store, taxonomy, parent_folder, evaluation) if parent_folder is not None and (
            parent_folder.is_dir()) else None
        check("comparing with the model in use", 0.9)
        verdict = judge(store, taxonomy, frame, evaluation, after, before, parent or "", language, oof, multi_label,
                        cv, parent_folder)
        manifest = replace(manifest, evaluation={"eval_set": _public(after), "before": _public(before) if before
                                                 else None, "before_model": parent or "", "cross_validated": cv,
                                                 "verdict": verdict})
        write_manifest(tmp, manifest)
        check("saving", 0.97)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    version_id = store.add_version({
        "taxonomy_id": taxonomy.id, "number": number, "folder": name, "model_name": manifest.name,
        "model_version": manifest.version, "kind": options.kind,
        "parent_id": parent_rows[0]["id"] if parent_rows else None, "data_hash": manifest.training["data_hash"],
        "last_event_id": last_event, "examples": len(frame), "job_id": job_id, "created_by": by,
        "params": {"include_imported": options.include_imported, "include_machine": options.include_machine,
                   "recipe": params, "curve": trained.curve or [],
                   "best_epoch": manifest.training.get("best_epoch"),
                   "language": options.language, "level": options.level, "multi_label": multi_label,
                   "parent_model": parent or "", "seed": options.seed,
                   "placement": {"workers": placement.workers, "ray": placement.address},
                   "members": manifest.training.get("members") or [], "calibration": manifest.calibration,
                   **({"left_out_flagged": {"share": options.leave_out_flagged, "records": len(left_out)}}
                      if options.leave_out_flagged else {})},
        "figures": {"eval_set": _public(after), "before": _public(before) if before else None,
                    "cross_validated": cv, "verdict": verdict}})
    step("done", 1.0)
    return TrainReport(folder, manifest, version_id, number, len(frame), int(after.get("records", 0)),
                       _public(after), _public(before) if before else None, time.perf_counter() - start, cv, verdict)


def _leave_out_flagged(store: Store, taxonomy: Taxonomy, frame: pd.DataFrame, options: TrainOptions,
                       check: Callable[[str, float], None]) -> list[int]:
    """The records whose labels training leaves out (``TrainOptions.leave_out_flagged``)."""
    from core.work.label_quality import LEAVE_OUT_MAX, review_labels, unreviewed_flags

    share = float(options.leave_out_flagged or 0.0)
    if not 0.0 <= share <= LEAVE_OUT_MAX:
        raise LearningError(f"the share of flagged labels left out must lie between 0 and {LEAVE_OUT_MAX}, not "
                            f"{share:g}")
    if share == 0.0 or not options.include_imported:
        return []
    check("finding labels that look wrong", 0.03)
    return unreviewed_flags(review_labels(store, taxonomy, include_imported=True, seed=options.seed), len(frame),
                            share)


def judge(store: Store, taxonomy: Taxonomy, frame: pd.DataFrame, evaluation: pd.DataFrame, after: dict,
          before: dict | None, baseline: str, language: str, oof, multi_label: bool, cv: dict | None,
          baseline_folder: Path | None) -> dict | None:
    """The new version's verdict against ``baseline`` (what served its records), on its language's
    records where it was trained on one language: on the evaluation set; and, while that set is
    small, cross-validated (its out-of-fold predictions on the training records against the
    baseline's predictions on the same records, where the baseline did not train on them), which
    then leads (``core.work.verdicts.lead_verdict``)."""
    from core.work.verdicts import (
        cross_validated_predictions,
        language_frame,
        lead_verdict,
        named,
        small_eval_reason,
        unseen_categories,
    )

    if before is None:
        return None
    judged = language_frame(evaluation, language)
    on_eval = named(comparison(judged, before, after), baseline=baseline, basis="evaluation", language=language)
    categories = len({c for cs in frame["codes"] for c in cs})
    small = small_eval_reason(int(on_eval["records"]), categories)
    on_training = None
    if small and oof is not None and baseline_folder is not None:
        training = language_frame(frame[["record_id", "codes", "source", "language"]], language)
        read = evaluate_model(store, taxonomy, baseline_folder, training)
        predicted = cross_validated_predictions(oof, [int(r) for r in frame["record_id"]], multi_label)
        on_training = named(comparison(training, read, {"predicted": predicted}), baseline=baseline,
                            basis="cross-validated", language=language,
                            method=(cv or {}).get("method", "cross-validated"))
    chosen = lead_verdict(on_eval, on_training, small)
    if chosen is not None:
        chosen.update(categories=categories, unseen_categories=len(unseen_categories(judged, {
            c for cs in frame["codes"] for c in cs})))
    return chosen


def cross_validated(oof, codes, taxonomy: Taxonomy, multi_label: bool) -> dict | None:
    """Figures of the recipe on its own training records, each predicted by a fold model that did
    not see it (out-of-fold predictions; a 10 % split above 20,000 records): the estimate
    to read while the evaluation set is small."""
    from core.domain.metrics import evaluate, intervals
    from core.models.fitting import OOF_LIMIT, folds_for
    from core.models.scoring import predicted_codes

    if oof is None or not len(oof[2]):
        return None
    classes, scores, rows = oof
    gold = [list(codes[int(i)]) for i in rows]
    predicted = []
    for row in np.asarray(scores):
        order = np.argsort(-row)
        predicted.append(predicted_codes([(classes[j], float(row[j])) for j in order], multi_label))
    report = evaluate(gold, predicted, taxonomy)
    if len(gold) < len(codes) and len(codes) <= OOF_LIMIT:  # a kind that holds out a validation split only
        how = "a validation split the model did not train on"
    else:
        how = f"{folds_for(len(codes))}-fold cross-validation" if len(codes) <= OOF_LIMIT else \
            "a 10 % split the model left out"
    return {"records": len(gold), "method": how,
            "summary": {k: round(float(report.summary.get(k, 0.0)), 4) for k in
                        ("micro_f1", "macro_f1", "weighted_f1", "lenient_micro_f1", "hierarchical_micro_f1")},
            "intervals": intervals(gold, predicted)}


def _vectors(store: Store, models_dir: Path, frame: pd.DataFrame, progress, encoder_name: str = "minilm"
             ) -> np.ndarray:
    from core.models.encoder import Encoder, ensure_encoder
    from core.work.embeddings import record_vectors

    encoder = _EncoderModel(Encoder(ensure_encoder(models_dir, encoder_name)))
    records = store.records_by_ids([int(r) for r in frame["record_id"]])
    by_id = {r["id"]: r for r in records}
    rows = [by_id[int(r)] for r in frame["record_id"]]
    return record_vectors(store, encoder, rows, progress=lambda done, total: progress(done / max(total, 1)))


class _EncoderModel:
    """The encoder as the embedding cache sees a head model (same id, same way of reading a record)."""

    def __init__(self, encoder):
        self.encoder = encoder
        self.encoder_id = encoder.id
        self.manifest = _READER

    def embed(self, texts):
        return self.encoder.embed(texts)


def checkpoints_for(models_dir: Path, taxonomy_id: str, job_id: int | None, kind: str = "") -> Path:
    """Where a kind that trains in epochs keeps what a killed run resumes from: one folder per
    training job; from the command line, one per taxonomy and kind (the same command run again
    after a kill goes on from the last completed epoch when records and recipe are unchanged)."""
    if job_id is not None:
        return Path(models_dir) / ".checkpoints" / f"train-{int(job_id)}"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", taxonomy_id).strip("-.") or "taxonomy"
    return Path(models_dir) / ".checkpoints" / f"cli-{safe}-{kind or 'model'}"


def train_from_workspace(store: Store, taxonomy: Taxonomy, models_dir: Path, name: str = "", *, kind: str = "tfidf",
                         include_imported: bool = False, include_machine: bool = False, language: str = "",
                         level: int | None = None, compare: Path | None = None, seed: int = 0,
                         by: str = "cli", params: dict | None = None,
                         progress: Callable[[str, float], None] | None = None) -> TrainReport:
    """``train_version`` with keyword options (the CLI's ``train``)."""
    if compare is not None:
        load_manifest(compare)  # a clear message for a folder that is not a model
    return train_version(store, taxonomy, models_dir,
                         TrainOptions(kind, include_imported, include_machine, language, level, name, seed,
                                      dict(params or {})), by=by, compare=compare, progress=progress)


__all__ = ["MIN_TRAINING", "LearningError", "TrainOptions", "TrainReport", "data_hash", "train_from_workspace",
           "train_version", "training_frame"]
