"""Model versions of the workspace: the list with lineage, size and today's figures, promotion
(per language, behind a gate on the evaluation set: ``core.work.evaluation_set``), roll-back,
deletion, the corrections since the newest version, and the tables the Models page and the
command line show. A version trained in the workspace is an ordinary model folder; its lineage is
kept in the versions table and its manifest."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.domain.metrics import MIN_EVIDENCE
from core.domain.taxonomy import Taxonomy
from core.errors import NotFound, WorkbenchError
from core.models.manifest import ModelFolderError, load_manifest
from core.models.registry import own_size_mb
from core.store import Store
from core.work.evaluation_set import (
    VersionError,
    comparison,
    eval_frame,
    eval_hash,
    evaluate_model,
    gate,
)
from core.work.serving import in_use, serving_model


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
                               r["figures"], folder.is_dir(), own_size_mb(folder) if folder.is_dir() else 0.0,
                               sorted(lang for lang, name in promoted.items() if name == r["folder"])))
    return out


def promote(store: Store, taxonomy: Taxonomy, folder_name: str, models_dir: Path, by: str, *, language: str = "",
            accept_drops: bool = False) -> list[dict]:
    """Make a model folder the taxonomy's model in use (for one language, or all). Returns the
    categories the gate flags against the model in use now; with flagged categories nothing is
    promoted unless ``accept_drops``."""
    store.require("promote")
    folder = Path(models_dir) / folder_name
    try:
        manifest = load_manifest(folder)
    except ModelFolderError as exc:
        raise VersionError(exc.message) from None
    if manifest.taxonomy != taxonomy.id:
        raise VersionError(f"'{folder_name}' classifies into '{manifest.taxonomy}', not '{taxonomy.id}'")
    current = serving_model(store, taxonomy.id, language, models_dir)  # the gate guards the default too
    flagged = []
    if current and current != folder_name:
        from core.work.verdicts import language_frame

        frame = eval_frame(store, taxonomy)
        before = evaluate_model(store, taxonomy, Path(models_dir) / current, frame)
        flagged = gate(language_frame(frame, language), before, evaluate_model(store, taxonomy, folder, frame))
        for f in flagged:
            f["name"] = taxonomy.name_of(f["code"]) if f["code"] in taxonomy else f["code"]
        if flagged and not accept_drops:
            return flagged
    store.add_promotion({"taxonomy_id": taxonomy.id, "language": language.lower(), "folder": folder_name,
                         "model_name": manifest.name, "model_version": manifest.version, "action": "promote",
                         "gate": json.dumps(flagged, ensure_ascii=False), "by": by})
    return flagged


def promotion_check(store: Store, taxonomy: Taxonomy, folder_name: str, models_dir: Path, *,
                    language: str = "") -> dict:
    """What promoting a folder (for ``language``, or all) would change: the model that serves those
    records now (the model in use, else the default), both models' figures on today's evaluation
    set, and the verdict by the rule every screen uses (``core.work.verdicts.lead_verdict``): on
    that language's evaluation records; cross-validated first while they are few, where the
    version was judged that way against the same model on the same language when it was trained."""
    from core.work.verdicts import language_frame, lead_verdict, named, small_eval_reason

    current = serving_model(store, taxonomy.id, language, models_dir)
    frame = eval_frame(store, taxonomy)
    after = evaluate_model(store, taxonomy, Path(models_dir) / folder_name, frame)
    if not current or current == folder_name:
        return {"current": current or "", "after": after, "before": None, "verdict": None}
    before = evaluate_model(store, taxonomy, Path(models_dir) / current, frame)
    on_eval = named(comparison(language_frame(frame, language), before, after), baseline=current,
                    basis="evaluation", language=language.lower())
    stored = next((r["figures"].get("verdict") for r in store.version_rows(taxonomy.id)
                   if r["folder"] == folder_name and r["figures"]), None) or {}
    cross = next((v for v in (stored, stored.get("other")) if v and v.get("basis") == "cross-validated"
                  and v.get("baseline") == current and (v.get("language") or "") == language.lower()), None)
    if cross is not None:
        cross = {k: v for k, v in cross.items() if k not in ("other", "why_first")}
    categories = int(stored.get("categories") or 0) or len({c for cs in frame["codes"] for c in cs})
    verdict = lead_verdict(on_eval, cross, small_eval_reason(int(on_eval["records"]), categories))
    return {"current": current, "after": after, "before": before, "verdict": verdict}


def rollback(store: Store, taxonomy_id: str, models_dir: Path, by: str, *, language: str = "") -> str:
    """Go back to the model in use before the current one (for that language); returns its folder
    ("" = the default model)."""
    store.require("promote")
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
    store.require("delete_version")
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
    """(expert label events since the newest version was trained, its folder): a version promoted
    for any language, or one trained and not promoted, has seen everything up to its last event, so
    retraining helps only with what came after; all events when no version was trained here."""
    after, name = 0, ""
    for row in store.version_rows(taxonomy_id):
        if (row["last_event_id"] or 0) >= after and (Path(models_dir) / row["folder"]).is_dir():
            after, name = row["last_event_id"] or 0, row["folder"]
    return store.expert_events_since(taxonomy_id, after), name


def current_figures(store: Store, taxonomy: Taxonomy, versions: list[VersionInfo], models_dir: Path, *,
                    compute: bool = True) -> tuple[int, dict[str, dict | None]]:
    """(records in the evaluation set now, {folder: its figures on them}) for every kept version
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
            out[v.folder] = cached["figures"]
        elif compute and not frame.empty:
            out[v.folder] = _public(evaluate_model(store, taxonomy, folder, frame))
        else:
            out[v.folder] = None
    return len(frame), out


def _public(figures: dict | None) -> dict | None:
    return None if figures is None else {k: v for k, v in figures.items() if k != "predicted"}


def verdict_short(verdict: dict | None) -> str:
    """"better than cap-multilingual (cross-validated, hu)" for a table cell."""
    if not verdict:
        return ""
    against = f" · {verdict['baseline']}" if verdict.get("baseline") else ""
    on = ", ".join(x for x in (verdict.get("basis") or "", verdict.get("language") or "") if x)
    return f"{verdict.get('verdict', '')}{against}" + (f" ({on})" if on else "")


def _interval(figures: dict, metric: str = "micro_f1") -> str:
    pair = (figures.get("intervals") or {}).get(metric)
    return f"{pair[0]:.2f}-{pair[1]:.2f}" if pair else ""


def versions_table(versions: list[VersionInfo], now: dict[str, dict | None] | None = None) -> list[dict]:
    """One display row per kept version: its figures on the evaluation set of today (from
    ``current_figures``), each with its record count and 95 % interval; on the evaluation set as it
    was when it was trained; its cross-validated figures (to read while the evaluation set is
    small); and the verdict against the model it was compared with."""
    rows = []
    now = now or {}
    for v in versions:
        then = v.figures.get("eval_set") or {}
        summary = then.get("summary") or {}
        today = now.get(v.folder) or {}
        cv = v.figures.get("cross_validated") or {}
        verdict = v.figures.get("verdict") or {}
        rows.append({"version": f"v{v.number}", "folder": v.folder, "kind": v.kind, "parent": v.parent or "—",
                     "in use": ", ".join(x or "all languages" for x in v.promoted_for),
                     "micro F1 today": (today.get("summary") or {}).get("micro_f1"),
                     "interval today": _interval(today), "eval records today": today.get("records"),
                     "left out (trained on)": today.get("left_out_trained") if today.get("trained_check", True)
                     else "not checked",
                     "trained on": v.examples,
                     "micro F1 when trained": summary.get("micro_f1"), "interval when trained": _interval(then),
                     "eval records when trained": int(then.get("records") or summary.get("samples") or 0),
                     "cross-validated micro F1": (cv.get("summary") or {}).get("micro_f1"),
                     "cross-validated interval": _interval(cv), "cross-validated records": cv.get("records"),
                     "verdict": verdict_short(verdict),
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
    rows = [{"category": "(all, micro F1)", "support": min((int(fig.get("records") or 0) for fig in figures),
                                                            default=0),
             "evidence": "",
             **{Path(f).name: fig.get("summary", {}).get("micro_f1") for f, fig in zip(folders, figures)}}]
    per = [{r["code"]: r for r in fig.get("per_category", [])} for fig in figures]
    for code in codes:
        support = max(p.get(code, {}).get("support", 0) for p in per)
        rows.append({"category": taxonomy.path_label(code, lang) if code in taxonomy else code, "support": support,
                     "evidence": "" if support >= MIN_EVIDENCE else "not enough evidence",
                     **{Path(f).name: p.get(code, {}).get("f1", 0.0) for f, p in zip(folders, per)}})
    return pd.DataFrame(rows)


__all__ = ["VersionInfo", "compare_table", "corrections_since", "current_figures", "delete_version", "list_versions",
           "promote", "promotion_check", "rollback", "versions_table"]
