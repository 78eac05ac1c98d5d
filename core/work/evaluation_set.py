"""The evaluation set and every figure on it, the promotion gate included.

**Evaluation set.** Each labelled record of a taxonomy (an expert's label, a lead's gold label, or
the label its imported file carried) is assigned once, when it is first seen labelled, to the
evaluation set or to training: per category (its first code), records are added to the
evaluation set until it holds ``EVAL_SHARE`` of that category's labelled records, in an order
fixed by a hash of the record id. An assignment never changes, so the set only grows and no
evaluation record is ever trained on. A record's gold codes there are its expert label where it
has one, else its imported label. Every model is evaluated on the current set (cached per set,
keyed by a hash of its records and gold codes), so "before" and "after" are always figures on the
same records.

**What a figure rests on.** Every figure carries its record count and a bootstrap interval; a
model is never scored on a record whose text it was trained on (its folder's training-text
fingerprints; a folder that keeps none is said to be unchecked); a comparison with too few
records says "not enough evidence" (``core.domain.metrics.paired_verdict``).
"""


from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from core.domain.metrics import MIN_EVIDENCE, evaluate, intervals, paired_verdict
from core.domain.taxonomy import Taxonomy
from core.errors import WorkbenchError
from core.models.manifest import load_manifest
from core.models.scoring import predicted_codes, rank
from core.store import Store
from core.work.training_data import ExportFilter, labelled_frame

EVAL_SHARE = 0.2
SUMMARY = ("micro_f1", "macro_f1", "weighted_f1", "lenient_micro_f1", "lenient_macro_f1", "hierarchical_micro_f1",
           "accuracy", "samples")


def _same(text: str) -> str:
    return text


class VersionError(WorkbenchError):
    prefix = "Model versions"


def _order(taxonomy_id: str, record_id: int) -> str:
    return hashlib.sha256(f"{taxonomy_id}:{record_id}".encode()).hexdigest()


def expert_labels(store: Store, taxonomy: Taxonomy) -> pd.DataFrame:
    """The experts' current labels (not machine-accepted, not imported): one row per record."""
    frame = labelled_frame(store, taxonomy, ExportFilter(taxonomy.id, per_record="latest"))
    return frame.loc[(frame["codes"].map(len) > 0).astype(bool)].reset_index(drop=True)


def gold_labels(store: Store, taxonomy: Taxonomy) -> pd.DataFrame:
    """One label per labelled record: a lead's gold label, else the latest expert label, else the
    label its imported file carried (``source``: gold, expert or imported)."""
    frame = labelled_frame(store, taxonomy, ExportFilter(taxonomy.id, per_record="latest", include_imported=True))
    return frame.loc[(frame["codes"].map(len) > 0).astype(bool)].reset_index(drop=True)


def sync_eval_set(store: Store, taxonomy: Taxonomy, labels: pd.DataFrame | None = None,
                  share: float = EVAL_SHARE) -> dict[int, str]:
    """Assign newly labelled records to the evaluation set or training (see the module's text);
    returns every assignment of the taxonomy."""
    labels = gold_labels(store, taxonomy) if labels is None else labels
    splits = store.split_of(taxonomy.id)
    first = {int(r): cs[0] for r, cs in zip(labels["record_id"], labels["codes"])}
    gold = set(labels.loc[labels["source"].eq("gold"), "record_id"].astype(int)) if "source" in labels else set()
    # records resolved into gold labels by a lead enter the evaluation set first
    new = sorted((r for r in first if r not in splits), key=lambda r: (r not in gold, _order(taxonomy.id, r)))
    if not new:
        return splits
    held: dict[str, int] = {}
    total: dict[str, int] = {}
    for rid, code in first.items():
        total[code] = total.get(code, 0) + 1
        if splits.get(rid) == "eval":
            held[code] = held.get(code, 0) + 1
    rows = []
    for rid in new:
        code = first[rid]
        target = int(np.floor(share * total[code] + 0.5))
        split = "eval" if held.get(code, 0) < target else "train"
        held[code] = held.get(code, 0) + (split == "eval")
        rows.append((rid, split))
    store.assign_splits(taxonomy.id, rows)
    return store.split_of(taxonomy.id)


_EVAL_FRAMES: dict[tuple, pd.DataFrame] = {}


def eval_frame(store: Store, taxonomy: Taxonomy) -> pd.DataFrame:
    """The evaluation set's records with their current gold codes (``source``: gold, expert or
    imported). Kept until a label, an import or the taxonomy changes: with 100,000 imported labels
    reading them takes seconds, and a page asks several times per run."""
    key = (str(store.path), taxonomy.id, store.labels_stamp(taxonomy.id), store.taxonomy_version_key(taxonomy.id))
    if key not in _EVAL_FRAMES:
        labels = gold_labels(store, taxonomy)
        splits = sync_eval_set(store, taxonomy, labels)
        if len(_EVAL_FRAMES) >= 4:
            _EVAL_FRAMES.clear()
        _EVAL_FRAMES[key] = labels.loc[labels["record_id"].map(lambda r: splits.get(int(r)) == "eval")
                                       .astype(bool)].reset_index(drop=True)
    return _EVAL_FRAMES[key].copy()


def eval_hash(frame: pd.DataFrame) -> str:
    payload = json.dumps(sorted([int(r), sorted(cs)] for r, cs in zip(frame["record_id"], frame["codes"])))
    return "e2-" + hashlib.sha256(payload.encode()).hexdigest()[:16]  # e2: figures leave training texts out


def trained_on(folder: Path, manifest, rows: list[dict]) -> tuple[list[bool], bool]:
    """Which records' texts a model was trained on (by its folder's training-text fingerprints),
    and whether it could be checked at all (False: the folder keeps no fingerprints)."""
    from core.models.familiarity import fingerprint, read_fingerprints

    prints = read_fingerprints(folder, manifest)
    if not prints:
        return [False] * len(rows), False
    return [fingerprint(manifest.text_of(r)) in prints for r in rows], True


def evaluate_model(store: Store, taxonomy: Taxonomy, folder: str | Path, frame: pd.DataFrame | None = None,
                   classifier=None) -> dict:
    """A model's figures on the current evaluation set (cached): summary with 95 % bootstrap
    intervals, per category, and its predicted codes per record (for the promotion gate). Records
    whose text the model was trained on are left out and counted (``left_out_trained``)."""
    from core.models.runtimes import load_classifier
    from core.work.embeddings import record_scores

    frame = eval_frame(store, taxonomy) if frame is None else frame
    manifest = classifier.manifest if classifier is not None else load_manifest(folder)
    key = eval_hash(frame)
    cached = store.cached_evaluation(taxonomy.id, manifest.name, manifest.version, key)
    if cached:
        return {**cached["figures"], "predicted": cached["predicted"]}
    if frame.empty:
        return {"records": 0, "summary": {}, "intervals": {}, "per_category": [], "predicted": {},
                "left_out_trained": 0, "trained_check": True}
    folder = Path(classifier.folder if classifier is not None and getattr(classifier, "folder", None) else folder)
    records = store.records_by_ids([int(r) for r in frame["record_id"]])
    by_id = {r["id"]: r for r in records}
    rows = [by_id.get(int(r), {"title": ""}) for r in frame["record_id"]]
    seen, checked = trained_on(folder, manifest, rows)
    keep = [not s for s in seen]
    frame = frame.loc[keep].reset_index(drop=True)
    rows = [r for r, k in zip(rows, keep) if k]
    base = {"records": len(frame), "left_out_trained": int(sum(seen)), "trained_check": checked,
            "sources": {k: int(v) for k, v in frame["source"].value_counts().items()} if "source" in frame else {}}
    if frame.empty:
        figures = {**base, "summary": {}, "intervals": {}, "per_category": []}
        store.save_evaluation(taxonomy.id, manifest.name, manifest.version, key, 0, figures, {})
        return {**figures, "predicted": {}}
    classifier = classifier or load_classifier(folder)
    scores = record_scores(store, classifier, rows)
    ranked = rank(manifest, scores, taxonomy, top_k=max(1, len(manifest.codes)))
    predicted = [predicted_codes(r, manifest.multi_label) for r in ranked]
    gold = list(frame["codes"])
    report = evaluate(gold, predicted, taxonomy)
    figures = {**base, "summary": {k: round(float(report.summary.get(k, 0.0)), 4) for k in SUMMARY},
               "intervals": intervals(gold, predicted),
               "per_category": [{k: (round(float(v), 4) if isinstance(v, float) else v) for k, v in row.items()
                                 if k in ("code", "name", "support", "predicted", "precision", "recall", "f1",
                                          "lenient_f1")} for row in report.categories.to_dict("records")]}
    by_record = {str(int(r)): p for r, p in zip(frame["record_id"], predicted)}
    store.save_evaluation(taxonomy.id, manifest.name, manifest.version, key, len(frame), figures, by_record)
    return {**figures, "predicted": by_record}


def _scored_by_both(frame: pd.DataFrame, before: dict, after: dict) -> tuple[list[list[str]], list[str]]:
    """(gold codes, record keys) of the evaluation records both models were scored on: neither
    was trained on them."""
    gold, keys = [], []
    for record_id, codes in zip(frame["record_id"], frame["codes"]):
        key = str(int(record_id))
        if key in before.get("predicted", {}) and key in after.get("predicted", {}):
            gold.append(list(codes))
            keys.append(key)
    return gold, keys


def comparison(frame: pd.DataFrame, before: dict, after: dict) -> dict:
    """The verdict on ``after`` against ``before`` on the evaluation records both were scored on
    (neither trained on them): ``core.domain.metrics.paired_verdict``, plus per category whether
    there is evidence (at least ``MIN_EVIDENCE`` gold records)."""
    gold, keys = _scored_by_both(frame, before, after)
    out = paired_verdict(gold, [before["predicted"][k] for k in keys], [after["predicted"][k] for k in keys])
    support: dict[str, int] = {}
    for g in gold:
        for c in set(g):
            support[c] = support.get(c, 0) + 1
    out["thin_categories"] = sorted(c for c, n in support.items() if n < MIN_EVIDENCE)
    return out


def gate(frame: pd.DataFrame, before: dict, after: dict, *, resamples: int = 500, seed: int = 0,
         min_support: int = MIN_EVIDENCE) -> list[dict]:
    """Categories whose F1 drops by more than noise: the paired bootstrap (records resampled) 95 %
    interval of F1(after) - F1(before) lies wholly below zero."""
    gold_codes, keys = _scored_by_both(frame, before, after)
    gold = [set(cs) for cs in gold_codes]
    pb = [set(before["predicted"].get(k, [])) for k in keys]
    pa = [set(after["predicted"].get(k, [])) for k in keys]
    codes = sorted({c for g in gold for c in g})
    n = len(keys)
    if not n:
        return []
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, n, size=(resamples, n))
    flagged = []
    for code in codes:
        g = np.array([code in s for s in gold])
        if g.sum() < min_support:
            continue
        b, a = np.array([code in s for s in pb]), np.array([code in s for s in pa])

        def f1(pred: np.ndarray, idx: np.ndarray) -> np.ndarray:
            tp = (pred[idx] & g[idx]).sum(axis=-1)
            return 2 * tp / np.maximum(pred[idx].sum(axis=-1) + g[idx].sum(axis=-1), 1)

        delta = f1(a, samples) - f1(b, samples)
        low, high = np.percentile(delta, [2.5, 97.5])
        if high < 0:
            full = np.arange(n)
            flagged.append({"code": code, "f1_before": round(float(f1(b, full)), 4),
                            "f1_after": round(float(f1(a, full)), 4), "support": int(g.sum()),
                            "interval": [round(float(low), 4), round(float(high), 4)]})
    return flagged


__all__ = ["EVAL_SHARE", "SUMMARY", "VersionError", "comparison", "eval_frame", "eval_hash", "evaluate_model",
           "expert_labels", "gate", "gold_labels", "sync_eval_set", "trained_on"]
