"""Per-category confidence thresholds at a lead's precision target: where they are measured, kept
and used.

- Measured on the workspace's gold records (the Performance page: a model version's stored top code
  and score on records it was not trained on, ``from_frame``), or, for a version no one has
  measured here yet, on the held-out records its manifest carries (``from_manifest``: the rows
  split-conformal triage reads, which keep each row's top code).
- Kept per taxonomy and model version in the workspace's settings (``save`` / ``saved``), with the
  target, who set them, on which records, and when.
- Used by triage (``for_triage``: a record is machine-accepted only when its top code scores at or
  above that code's threshold) and on the Annotate card (``confidence_note``: a record whose top
  suggestion is under its code's threshold says "no confident suggestion").
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pandas as pd

from core.domain.thresholds import Threshold, fit_thresholds

KEY = "thresholds:{taxonomy}:{model}:{version}"


def from_frame(frame: pd.DataFrame, taxonomy) -> tuple[list[str], list[float], list[bool]]:
    """(top codes, top scores, right) of the Performance page's records: the top code is right
    when a gold code cut to its level is it (a coarser model is judged at its own level)."""
    tops = [str(c or "") for c in frame.get("top_code", [])]
    scores = [float(s) for s in frame.get("top_score", [])]
    right = [bool(top) and top in taxonomy.cut_codes(list(gold), taxonomy.level(top) if top in taxonomy else None)
             for top, gold in zip(tops, frame.get("gold", []))]
    return tops, scores, right


def from_manifest(manifest) -> tuple[list[str], list[float], list[bool]]:
    """(top codes, top scores, right) of the held-out records a model's manifest carries (empty
    where its rows keep no top code: a version built before they did, or a multi-label model)."""
    rows = [r for r in ((manifest.calibration or {}).get("conformal_rows") or []) if len(r) >= 5]
    return [str(r[4]) for r in rows], [float(r[1]) for r in rows], [bool(r[3]) for r in rows]


def threshold_table(fitted: dict[str, Threshold], taxonomy, lang: str = "en") -> pd.DataFrame:
    """One row per category: code, name, records, threshold ("" where nothing is accepted),
    accepted share, precision at it, and whether it is the pooled threshold."""
    rows = [{"code": th.code, "name": taxonomy.name_of(th.code, lang) if th.code in taxonomy else th.code,
             "records": th.records, "threshold": None if math.isinf(th.threshold) else round(th.threshold, 4),
             "accepted": th.coverage, "precision": th.precision, "pooled": th.pooled}
            for th in fitted.values()]
    columns = ["code", "name", "records", "threshold", "accepted", "precision", "pooled"]
    return pd.DataFrame(rows, columns=columns).sort_values(["records", "code"], ascending=[False, True]) \
        .reset_index(drop=True)


def save(store, taxonomy_id: str, model: str, version: str, fitted: dict[str, Threshold], *, target: float,
         by: str, basis: str) -> dict:
    """Keep a model version's per-category thresholds for triage and the card ("never" as None);
    only someone who may machine-accept labels may set what machine-accepts them."""
    store.require("triage")
    value = {"target": float(target), "by": by, "basis": basis,
             "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "thresholds": {c: (None if math.isinf(th.threshold) else float(th.threshold)) for c, th in fitted.items()}}
    store.set_setting(KEY.format(taxonomy=taxonomy_id, model=model, version=version), value)
    return value


def saved(store, taxonomy_id: str, model: str, version: str) -> dict | None:
    """The kept thresholds of a model version ({target, by, basis, at, thresholds}), or None."""
    return store.setting(KEY.format(taxonomy=taxonomy_id, model=model, version=version))


def as_floats(kept: dict) -> dict[str, float]:
    """The kept thresholds with "never" as ``math.inf``."""
    return {c: (math.inf if v is None else float(v)) for c, v in (kept.get("thresholds") or {}).items()}


def for_triage(store, taxonomy_id: str, manifest, target: float) -> tuple[dict[str, float], str]:
    """The per-category thresholds triage starts from, and where they come from: those a lead kept
    for this version (at their own target), else the version's held-out records at ``target``,
    else none ({}: every category then needs the table's values)."""
    kept = saved(store, taxonomy_id, manifest.name, manifest.version)
    if kept:
        return as_floats(kept), "kept"
    tops, scores, right = from_manifest(manifest)
    if tops:
        fitted = fit_thresholds(tops, scores, right, target, codes=manifest.codes)
        return {c: th.threshold for c, th in fitted.items()}, "held-out"
    return {}, ""


def confidence_note(store, taxonomy_id: str, model: str, version: str, top_code: str,
                    top_score: float) -> tuple[str, tuple] | None:
    """(template, values) when the record's top suggestion is under its code's kept threshold
    ("no confident suggestion"); None when it is not, or no thresholds are kept for the version."""
    kept = saved(store, taxonomy_id, model, version)
    if not kept or not top_code:
        return None
    threshold = as_floats(kept).get(top_code, math.inf)
    if top_score >= threshold:
        return None
    if math.isinf(threshold):
        return ("No confident suggestion: at a precision target of {0:.0%}, no score of {1} is confident enough.",
                (kept["target"], top_code))
    return ("No confident suggestion: {1} scores {2:.0%}, under its threshold {3:.0%} (precision target {0:.0%}).",
            (kept["target"], top_code, top_score, threshold))
