"""Model versions of the learning loop: the frozen evaluation set, evaluations on it, promotion
(with a gate), roll-back, deletion, and which model a record gets.

**Evaluation set.** Each expert-labelled record of a taxonomy is assigned once, when it is first
seen labelled, to the evaluation set or to training: per category (its first code), records are
added to the evaluation set until it holds ``EVAL_SHARE`` of that category's labelled records, in
an order fixed by a hash of the record id. An assignment never changes, so the set only grows and
no evaluation record is ever trained on. Every model is evaluated on the current set (cached per
set, keyed by a hash of its records and gold codes), so "before" and "after" are always figures
on the same records.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.domain.metrics import evaluate
from core.domain.taxonomy import Taxonomy
from core.errors import NotFound, WorkbenchError
from core.models.manifest import ModelFolderError, load_manifest
from core.models.scoring import predicted_codes, rank
from core.store import Store
from core.work.training_data import ExportFilter, labelled_frame

EVAL_SHARE = 0.2
SUMMARY = ("micro_f1", "macro_f1", "weighted_f1", "lenient_micro_f1", "lenient_macro_f1", "hierarchical_micro_f1",
           "accuracy", "samples")


class VersionError(WorkbenchError):
    prefix = "Model versions"


def _order(taxonomy_id: str, record_id: int) -> str:
    return hashlib.sha256(f"{taxonomy_id}:{record_id}".encode()).hexdigest()


def expert_labels(store: Store, taxonomy: Taxonomy) -> pd.DataFrame:
    """The experts' current labels (not machine-accepted, not imported): one row per record."""
    frame = labelled_frame(store, taxonomy, ExportFilter(taxonomy.id, per_record="latest"))
    return frame.loc[(frame["codes"].map(len) > 0).astype(bool)].reset_index(drop=True)


def sync_eval_set(store: Store, taxonomy: Taxonomy, labels: pd.DataFrame | None = None,
                  share: float = EVAL_SHARE) -> dict[int, str]:
    """Assign newly labelled records to the evaluation set or training (see the module's text);
    returns every assignment of the taxonomy."""
    labels = expert_labels(store, taxonomy) if labels is None else labels
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


def eval_frame(store: Store, taxonomy: Taxonomy) -> pd.DataFrame:
    """The evaluation set's records with their current expert codes."""
    labels = expert_labels(store, taxonomy)
    splits = sync_eval_set(store, taxonomy, labels)
    return labels.loc[labels["record_id"].map(lambda r: splits.get(int(r)) == "eval").astype(bool)].reset_index(
        drop=True)


def eval_hash(frame: pd.DataFrame) -> str:
    payload = json.dumps(sorted([int(r), sorted(cs)] for r, cs in zip(frame["record_id"], frame["codes"])))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def evaluate_model(store: Store, taxonomy: Taxonomy, folder: str | Path, frame: pd.DataFrame | None = None,
                   classifier=None) -> dict:
    """A model's figures on the current evaluation set (cached): summary, per category, and its
    predicted codes per record (for the promotion gate)."""
    from core.models.runtimes import load_classifier
    from core.work.embeddings import record_scores

    frame = eval_frame(store, taxonomy) if frame is None else frame
    manifest = classifier.manifest if classifier is not None else load_manifest(folder)
    key = eval_hash(frame)
    cached = store.cached_evaluation(taxonomy.id, manifest.name, manifest.version, key)
    if cached:
        return {**cached["figures"], "predicted": cached["predicted"]}
    if frame.empty:
        return {"records": 0, "summary": {}, "per_category": [], "predicted": {}}
    classifier = classifier or load_classifier(folder)
    records = store.records_by_ids([int(r) for r in frame["record_id"]])
    by_id = {r["id"]: r for r in records}
    rows = [by_id.get(int(r), {"title": ""}) for r in frame["record_id"]]
    scores = record_scores(store, classifier, rows)
    ranked = rank(manifest, scores, taxonomy, top_k=max(1, len(manifest.codes)))
    predicted = [predicted_codes(r, manifest.multi_label) for r in ranked]
    report = evaluate(list(frame["codes"]), predicted, taxonomy)
    figures = {"records": len(frame), "summary": {k: round(float(report.summary.get(k, 0.0)), 4) for k in SUMMARY},
               "per_category": [{k: (round(float(v), 4) if isinstance(v, float) else v) for k, v in row.items()
                                 if k in ("code", "name", "support", "predicted", "precision", "recall", "f1",
                                          "lenient_f1")} for row in report.categories.to_dict("records")]}
    by_record = {str(int(r)): p for r, p in zip(frame["record_id"], predicted)}
    store.save_evaluation(taxonomy.id, manifest.name, manifest.version, key, len(frame), figures, by_record)
    return {**figures, "predicted": by_record}


def gate(frame: pd.DataFrame, before: dict, after: dict, *, resamples: int = 500, seed: int = 0,
         min_support: int = 3) -> list[dict]:
    """Categories whose F1 drops by more than noise: the paired bootstrap (records resampled) 95 %
    interval of F1(after) - F1(before) lies wholly below zero."""
    gold = [set(cs) for cs in frame["codes"]]
    keys = [str(int(r)) for r in frame["record_id"]]
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


@dataclass
class VersionInfo:
    id: int
    taxonomy_id: str
    number: int
    folder: str
    kind: str
    parent: str
    examples: int
    created_by: str
    created_at: str
    params: dict
    figures: dict
    installed: bool
    size_mb: float
    promoted_for: list[str]  # languages ("" = all) it is the model in use for


def _size_mb(folder: Path) -> float:
    seen, total = set(), 0
    for p in folder.rglob("*"):
        if p.is_file():
            st = p.stat()
            if (st.st_dev, st.st_ino) not in seen:  # hard links (a shared encoder) counted once
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total / 1e6


def in_use(store: Store, taxonomy_id: str) -> dict[str, str]:
    """{language ("" = all): model folder name} promoted for the taxonomy ("" folder = default)."""
    out: dict[str, str] = {}
    for row in store.promotion_rows(taxonomy_id):
        out.setdefault(row["language"] or "", row["folder"] or "")
    return {k: v for k, v in out.items() if v}


def model_for(store: Store, taxonomy_id: str, language: str, models_dir: Path) -> str | None:
    """The promoted model folder for a record's language (else for every language), if installed."""
    promoted = in_use(store, taxonomy_id)
    for key in ((language or "").lower(), ""):
        name = promoted.get(key)
        if name and (Path(models_dir) / name).is_dir():
            return name
    return None


def list_versions(store: Store, taxonomy_id: str, models_dir: Path) -> list[VersionInfo]:
    promoted = in_use(store, taxonomy_id)
    numbers = {r["id"]: r["number"] for r in store.version_rows(taxonomy_id, deleted=True)}
    out = []
    for r in store.version_rows(taxonomy_id):
        folder = Path(models_dir) / r["folder"]
        out.append(VersionInfo(r["id"], r["taxonomy_id"], r["number"], r["folder"], r["kind"],
                               f"v{numbers[r['parent_id']]}" if r["parent_id"] in numbers else (
                                   r["params"].get("parent_model") or ""),
                               r["examples"] or 0, r["created_by"] or "", r["created_at"] or "", r["params"],
                               r["figures"], folder.is_dir(), _size_mb(folder) if folder.is_dir() else 0.0,
                               sorted(lang for lang, name in promoted.items() if name == r["folder"])))
    return out


def promote(store: Store, taxonomy: Taxonomy, folder_name: str, models_dir: Path, by: str, *, language: str = "",
            accept_drops: bool = False) -> list[dict]:
    """Make a model folder the taxonomy's model in use (for one language, or all). Returns the
    categories the gate flags against the model in use now; with flagged categories nothing is
    promoted unless ``accept_drops``."""
    folder = Path(models_dir) / folder_name
    try:
        manifest = load_manifest(folder)
    except ModelFolderError as exc:
        raise VersionError(exc.message) from None
    if manifest.taxonomy != taxonomy.id:
        raise VersionError(f"'{folder_name}' classifies into '{manifest.taxonomy}', not '{taxonomy.id}'")
    current = model_for(store, taxonomy.id, language, models_dir)
    flagged = []
    if current and current != folder_name:
        frame = eval_frame(store, taxonomy)
        flagged = gate(frame, evaluate_model(store, taxonomy, Path(models_dir) / current, frame),
                       evaluate_model(store, taxonomy, folder, frame))
        for f in flagged:
            f["name"] = taxonomy.name_of(f["code"]) if f["code"] in taxonomy else f["code"]
        if flagged and not accept_drops:
            return flagged
    store.add_promotion({"taxonomy_id": taxonomy.id, "language": language.lower(), "folder": folder_name,
                         "model_name": manifest.name, "model_version": manifest.version, "action": "promote",
                         "gate": json.dumps(flagged, ensure_ascii=False), "by": by})
    return flagged


def rollback(store: Store, taxonomy_id: str, models_dir: Path, by: str, *, language: str = "") -> str:
    """Go back to the model in use before the current one (for that language); returns its folder
    ("" = the default model)."""
    log = store.promotion_rows(taxonomy_id, language.lower())
    if not log or not log[0]["folder"]:
        raise VersionError("nothing is promoted" + (f" for language '{language}'" if language else "")
                           + ": the default model is in use")
    current = log[0]["folder"]
    history, seen = [], set()
    for row in log:  # the folders in use before, newest first (roll-backs walk further back)
        if row["action"] == "promote" and row["folder"] not in seen:
            seen.add(row["folder"])
            history.append(row["folder"])
    back = [f for f in history[history.index(current) + 1:] if (Path(models_dir) / f).is_dir()] \
        if current in history else []
    target = back[0] if back else ""
    store.add_promotion({"taxonomy_id": taxonomy_id, "language": language.lower(), "folder": target,
                         "model_name": "", "model_version": "", "action": "rollback", "gate": "[]", "by": by})
    return target


def delete_version(store: Store, version_id: int, models_dir: Path, by: str) -> None:
    """Delete a version's folder (its row, lineage and figures stay, marked deleted); refused while
    it is promoted or a member of a kept ensemble."""
    rows = [r for r in store.version_rows(deleted=True) if r["id"] == version_id]
    if not rows or rows[0]["deleted_at"]:
        raise NotFound(f"no kept model version #{version_id}")
    row = rows[0]
    if row["folder"] in in_use(store, row["taxonomy_id"]).values():
        raise VersionError(f"'{row['folder']}' is the model in use: promote another or roll back first")
    for other in store.version_rows(row["taxonomy_id"]):
        if row["folder"] in (other["params"].get("members") or []) and other["id"] != version_id:
            raise VersionError(f"'{row['folder']}' is a member of ensemble '{other['folder']}'")
    shutil.rmtree(Path(models_dir) / row["folder"], ignore_errors=True)
    from core.store.schema import now

    store.update_version(version_id, deleted_at=now(), deleted_by=by)


def corrections_since(store: Store, taxonomy_id: str, models_dir: Path) -> tuple[int, str]:
    """(expert label events since the model in use was trained, its folder); all of them when the
    model in use is not a workspace version."""
    name = in_use(store, taxonomy_id).get("", "")
    after = 0
    for row in store.version_rows(taxonomy_id):
        if row["folder"] == name:
            after = row["last_event_id"] or 0
    return store.expert_events_since(taxonomy_id, after), name


def current_figures(store: Store, taxonomy: Taxonomy, versions: list[VersionInfo], models_dir: Path, *,
                    compute: bool = True) -> tuple[int, dict[str, dict | None]]:
    """(records in the evaluation set now, {folder: its summary on them}) for every kept version
    whose folder is present: cached figures always, the others evaluated when ``compute`` (else
    None), so versions trained when the set was smaller are compared on today's records."""
    frame = eval_frame(store, taxonomy)
    key = eval_hash(frame)
    out: dict[str, dict | None] = {}
    for v in versions:
        if not v.installed:
            continue
        folder = Path(models_dir) / v.folder
        try:
            manifest = load_manifest(folder)
        except WorkbenchError:
            continue
        cached = store.cached_evaluation(taxonomy.id, manifest.name, manifest.version, key)
        if cached:
            out[v.folder] = cached["figures"].get("summary") or {}
        elif compute and not frame.empty:
            out[v.folder] = evaluate_model(store, taxonomy, folder, frame).get("summary") or {}
        else:
            out[v.folder] = None
    return len(frame), out


def versions_table(versions: list[VersionInfo], now: dict[str, dict | None] | None = None) -> list[dict]:
    """One display row per kept version: its figures when it was trained (on the evaluation set
    of then) and, from ``now`` (``current_figures``), on the evaluation set of today."""
    rows = []
    now = now or {}
    for v in versions:
        summary = (v.figures.get("eval_set") or {}).get("summary") or {}
        before = (v.figures.get("before") or {}).get("summary") or {}
        today = now.get(v.folder) or {}
        rows.append({"version": f"v{v.number}", "folder": v.folder, "kind": v.kind, "parent": v.parent or "—",
                     "in use": ", ".join(x or "all languages" for x in v.promoted_for),
                     "micro F1 today": today.get("micro_f1"), "macro F1 today": today.get("macro_f1"),
                     "records": v.examples, "eval records": int(summary.get("samples", 0) or 0),
                     "micro F1 when trained": summary.get("micro_f1"), "macro F1 when trained": summary.get("macro_f1"),
                     "weighted F1": summary.get("weighted_f1"), "parent's micro F1": before.get("micro_f1"),
                     "calibration T": (v.params.get("calibration") or {}).get("temperature"),
                     "size MB": round(v.size_mb, 1), "by": v.created_by, "created": v.created_at[:16]})
    return rows


def compare_table(store: Store, taxonomy: Taxonomy, folders: list[Path], lang: str = "en") -> pd.DataFrame:
    """Per category of the evaluation set: each model's F1 side by side (and their overall figures
    as the first row), all on the same records."""
    frame = eval_frame(store, taxonomy)
    figures = [evaluate_model(store, taxonomy, f, frame) for f in folders]
    codes = sorted({c for cs in frame["codes"] for c in cs}, key=lambda c: (taxonomy.path_label(c, lang)
                                                                            if c in taxonomy else c))
    rows = [{"category": "(all, micro F1)", "support": len(frame),
             **{Path(f).name: fig.get("summary", {}).get("micro_f1") for f, fig in zip(folders, figures)}}]
    per = [{r["code"]: r for r in fig.get("per_category", [])} for fig in figures]
    for code in codes:
        rows.append({"category": taxonomy.path_label(code, lang) if code in taxonomy else code,
                     "support": max(p.get(code, {}).get("support", 0) for p in per),
                     **{Path(f).name: p.get(code, {}).get("f1", 0.0) for f, p in zip(folders, per)}})
    return pd.DataFrame(rows)


__all__ = ["EVAL_SHARE", "VersionError", "VersionInfo", "compare_table", "corrections_since", "current_figures",
           "delete_version",
           "eval_frame", "eval_hash", "evaluate_model", "expert_labels", "gate", "in_use", "list_versions",
           "model_for", "promote", "rollback", "sync_eval_set", "versions_table"]
