"""Experts' three-way verdicts on the suggestions they saw: right, relevant but not the best, wrong.

Every label an expert saves (accept, correct, reject) keeps the suggestions that were on the card
(``core.domain.labels.ShownSuggestion``). A suggestion whose code the label holds was right; one the
expert marked "relevant, not the best" was partly right; any other was wrong
(``core.domain.labels.suggestion_verdict``). Per model version, this reports the shares of the
three for its first suggestion (what the card leads with, and what "Accept top" takes) and for
every suggestion it showed, beside the figures measured against gold labels: F1 says whether the
top code is the gold one, the verdicts say how far off the others were in the expert's eyes.

A record judged twice by one expert with one model version on screen counts once, with the later
verdict (the expert changed their mind); two experts' verdicts on one record both count.
"""

from __future__ import annotations

import json

import pandas as pd

from core.domain.labels import ShownSuggestion, suggestion_verdict

WORDS = {"right": "right", "partly": "not the best", "wrong": "wrong"}
COLUMNS = ["model", "version", "judged", "first right", "first not the best", "first wrong",
           "shown", "shown right", "shown not the best", "shown wrong"]


def verdict_rows(store, taxonomy_id: str) -> pd.DataFrame:
    """One row per shown suggestion of every judged event: model, version, record, annotator,
    language, rank, code, verdict (the latest event per record, annotator and model version)."""
    rows = []
    for event_id, record_id, annotator, codes_json, shown_json, language in store.judged_events(taxonomy_id):
        codes = json.loads(codes_json or "[]")
        for s in json.loads(shown_json or "[]"):
            shown = ShownSuggestion(s["model"], s["version"], s["code"], float(s["score"]), int(s["rank"]),
                                    s.get("verdict", ""))
            rows.append({"event": event_id, "model": shown.model, "version": shown.version, "record_id": record_id,
                         "annotator": annotator, "language": language, "rank": shown.rank, "code": shown.code,
                         "score": shown.score, "verdict": suggestion_verdict(shown, codes)})
    frame = pd.DataFrame(rows, columns=["event", "model", "version", "record_id", "annotator", "language", "rank",
                                        "code", "score", "verdict"])
    if frame.empty:
        return frame
    latest = frame.groupby(["record_id", "annotator", "model", "version"])["event"].transform("max")
    return frame[frame["event"].eq(latest)].reset_index(drop=True)


def verdict_table(store, taxonomy_id: str, *, language: str = "",
                  f1: dict[tuple[str, str], float] | None = None) -> pd.DataFrame:
    """Per model version: records judged, and the shares of right / partly / wrong for its first
    suggestion and for all it showed (``COLUMNS``); ``language`` keeps the records in it; ``f1``
    ((model, version) → F1 on the gold labels) adds that figure beside them ("F1", NaN where the
    version was not measured)."""
    rows = verdict_rows(store, taxonomy_id)
    if language and not rows.empty:
        rows = rows[rows["language"].str.lower().eq(language.lower())]
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    out = []
    for (model, version), part in rows.groupby(["model", "version"], sort=True):
        first = part.loc[part.groupby("event")["rank"].idxmin()]
        row = {"model": model, "version": version, "judged": len(first)}
        for prefix, sub in (("first", first), ("shown", part)):
            shares = sub["verdict"].value_counts(normalize=True)
            row.update({f"{prefix} {word}": float(shares.get(v, 0.0)) for v, word in WORDS.items()})
        row["shown"] = len(part)
        out.append(row)
    table = pd.DataFrame(out, columns=COLUMNS).sort_values("judged", ascending=False, kind="stable") \
        .reset_index(drop=True)
    return table if f1 is None else beside_f1(table, f1)


def beside_f1(table: pd.DataFrame, f1: dict[tuple[str, str], float]) -> pd.DataFrame:
    """The verdict table with each version's F1 on the gold labels ("F1", NaN where not measured)."""
    table = table.copy()
    table.insert(3, "F1", [f1.get((m, v), float("nan")) for m, v in zip(table["model"], table["version"])])
    return table
