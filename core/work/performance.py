"""What the Performance page and ``evaluate`` command compute: gold labels against a model's
stored predictions (or a labelled file run through a model), model comparison, agreement, and the
bubble chart's data."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from core.domain.labels import EXPERT_ROLES, QueueSpec
from core.domain.metrics import Report, evaluate, grouped, kappa_overall, kappa_per_category
from core.domain.taxonomy import Taxonomy
from core.domain.text import split_codes
from core.errors import InputFileError, WorkbenchError
from core.files.records_io import Source, inspect_source, read_chunks
from core.models.scoring import predicted_codes, rank
from core.store import Store
from core.work.charts import (
    BAND_COLOURS,
    BANDS,
    FEW_GOLD,
    _short,
    bubble_chart,
    chart_bytes,
)
from core.work.column_mapping import validate_mapping

GOLD_SOURCES = {"experts": "Expert labels", "imported": "Labels in imported files", "both": "Both (experts first)"}


class EvaluationError(WorkbenchError):
    prefix = "Cannot evaluate"


def gold_frame(store: Store, taxonomy: Taxonomy, *, source: str = "experts",
               annotators: Sequence[str] = ()) -> pd.DataFrame:
    """One gold label per record: the latest expert label (or the imported one), with language,
    domain and when it was labelled."""
    if source not in GOLD_SOURCES:
        raise EvaluationError(f"unknown gold source '{source}'")
    rows: dict[int, dict] = {}
    if source in ("imported", "both"):
        for r in store.imported_label_rows(taxonomy.id):
            rows[r["record_id"]] = {"record_id": r["record_id"], "gold": json.loads(r["codes"]),
                                    "language": r["language"] or "", "domain": r["domain"] or "",
                                    "labelled_at": r["created_at"] or "", "annotator": "(imported file)"}
    if source in ("experts", "both"):
        labelled = store.current_label_rows(taxonomy.id, annotators=annotators, roles=EXPERT_ROLES)
        for r in sorted(labelled, key=lambda r: r["action"] == "gold"):  # a lead's gold label wins
            rows[r["record_id"]] = {"record_id": r["record_id"], "gold": json.loads(r["codes"]),
                                    "language": r["language"] or "", "domain": r["domain"] or "",
                                    "labelled_at": r["updated_at"], "annotator": r["annotator"]}
    columns = ["record_id", "gold", "language", "domain", "labelled_at", "annotator"]
    frame = pd.DataFrame(list(rows.values()), columns=columns)
    frame = frame[frame["gold"].map(lambda g: any(c in taxonomy for c in g)).astype(bool)]
    frame["gold"] = frame["gold"].map(lambda g: [taxonomy.node(c).code for c in g if c in taxonomy])
    return frame.sort_values("record_id").reset_index(drop=True)


def with_predictions(store: Store, gold: pd.DataFrame, model_name: str, model_version: str, *,
                     multi_label: bool = False) -> tuple[pd.DataFrame, list[int]]:
    """Gold rows joined with the model's stored predictions; also the gold record ids the model
    has not scored yet."""
    ranked = store.ranked_predictions(gold["record_id"].tolist(), model_name, model_version)
    frame = gold[gold["record_id"].isin(ranked)].copy()
    frame["pred"] = [predicted_codes(ranked[i], multi_label) for i in frame["record_id"]]
    frame["top_code"] = [ranked[i][0][0] if ranked[i] else "" for i in frame["record_id"]]
    frame["top_score"] = [float(ranked[i][0][1]) if ranked[i] else 0.0 for i in frame["record_id"]]
    missing = [i for i in gold["record_id"] if i not in ranked]
    return frame.reset_index(drop=True), missing


@dataclass
class ModelResult:
    model: str
    version: str
    frame: pd.DataFrame  # record_id, gold, pred, language, domain, labelled_at
    report: Report
    unscored: list[int]
    left_out_trained: int = 0  # gold records left out: the model was trained on their text
    trained_check: bool = True  # False: the model keeps no training-text fingerprints to check against

    @property
    def trained_note(self) -> str:
        if not self.trained_check:
            return (f"{self.model} keeps no fingerprints of its training texts: these figures may include records it "
                    "was trained on.")
        if self.left_out_trained:
            return (f"{self.left_out_trained:,} gold record(s) left out: {self.model} was trained on their text, so "
                    "its figures there would say nothing about new records.")
        return ""


def without_training_records(store: Store, gold: pd.DataFrame, folder, manifest) -> tuple[pd.DataFrame, int, bool]:
    """The gold rows whose record text the model was not trained on (its folder's training-text
    fingerprints); also how many were left out and whether the folder could be checked at all."""
    from core.models.familiarity import fingerprint, read_fingerprints

    prints = read_fingerprints(folder, manifest)
    if not prints or gold.empty:
        return gold, 0, bool(prints) or gold.empty
    # what each record was found to be is kept until the model or the records change, so a page
    # rerun with 100,000 gold records reads and hashes none of their texts again
    key = (str(store.path), str(folder), manifest.version, len(prints), store.labels_stamp(manifest.taxonomy))
    known = _TRAINED_ON.get(key)
    if known is None:
        if len(_TRAINED_ON) >= 8:
            _TRAINED_ON.clear()
        known = _TRAINED_ON[key] = {}
    ids = [int(i) for i in gold["record_id"] if int(i) not in known]
    for start in range(0, len(ids), 20_000):
        for r in store.records_by_ids(ids[start:start + 20_000]):
            known[int(r["id"])] = fingerprint(manifest.text_of(r)) in prints
    seen = {int(i) for i in gold["record_id"] if known.get(int(i))}
    keep = ~gold["record_id"].astype(int).isin(seen)
    return gold[keep].reset_index(drop=True), len(seen), True


_TRAINED_ON: dict[tuple, dict[int, bool]] = {}  # (workspace, model, records' stamp) -> {record id: trained on it}


def model_result(store: Store, taxonomy: Taxonomy, gold: pd.DataFrame, model_name: str, model_version: str, *,
                 multi_label: bool = False, level: int | None = None, lang: str = "en", folder=None,
                 manifest=None) -> ModelResult:
    """A model's figures on the gold records; with its ``folder`` and ``manifest``, the records it
    was trained on are left out first (and counted)."""
    left, checked = 0, True
    if folder is not None and manifest is not None:
        gold, left, checked = without_training_records(store, gold, folder, manifest)
    frame, missing = with_predictions(store, gold, model_name, model_version, multi_label=multi_label)
    report = evaluate(frame["gold"].tolist(), frame["pred"].tolist(), taxonomy, level=level, lang=lang)
    report.groups = {
        key: grouped(frame["gold"].tolist(), frame["pred"].tolist(), frame[key].tolist(), taxonomy, level=level)
        for key in ("language", "domain")
    }
    return ModelResult(model_name, model_version, frame, report, missing, left, checked)


def reliability(frame: pd.DataFrame, taxonomy: Taxonomy, bins: int = 10) -> tuple[pd.DataFrame, float]:
    """A reliability table of the model's top-1 confidence (equal-width bins: mean confidence,
    share correct, records) and its expected calibration error. Correct: the top code is a gold
    code cut to the top code's level (a coarser model is judged at its own level)."""
    import numpy as np

    from core.work.thresholds import from_frame

    _, scores, correct = from_frame(frame, taxonomy)
    conf, right = np.asarray(scores, dtype=float), np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows, ece = [], 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (conf > lo) & (conf <= hi) if lo > 0 else (conf >= lo) & (conf <= hi)
        if mask.any():
            rows.append({"from": round(float(lo), 2), "to": round(float(hi), 2),
                         "confidence": round(float(conf[mask].mean()), 4),
                         "accuracy": round(float(right[mask].mean()), 4), "records": int(mask.sum())})
            ece += mask.mean() * abs(right[mask].mean() - conf[mask].mean())
    return pd.DataFrame(rows, columns=["from", "to", "confidence", "accuracy", "records"]), round(float(ece), 4)


SUMMARY_COLUMNS = {
    "samples": "samples", "micro_precision": "precision", "micro_recall": "recall", "micro_f1": "F1",
    "macro_f1": "macro F1", "weighted_f1": "weighted F1", "lenient_micro_precision": "lenient precision",
    "lenient_micro_recall": "lenient recall", "lenient_micro_f1": "lenient F1",
    "hierarchical_micro_f1": "hierarchical F1",
}


def comparison_table(results: Sequence[ModelResult]) -> pd.DataFrame:
    """One row per model: strict and lenient precision / recall / F1, the hierarchical F1, and the
    95 % bootstrap intervals of its F1 and weighted F1 (two models whose intervals overlap widely
    are not told apart by these records)."""
    from core.domain.metrics import intervals

    rows = []
    for r in results:
        row = {"model": r.model, "version": r.version}
        row.update({label: r.report.summary.get(key, 0.0) for key, label in SUMMARY_COLUMNS.items()})
        spans = intervals(list(r.frame["gold"]), list(r.frame["pred"])) if len(r.frame) else {}
        for key, label in (("micro_f1", "F1 interval"), ("weighted_f1", "weighted F1 interval")):
            row[label] = f"{spans[key][0]:.2f}-{spans[key][1]:.2f}" if spans.get(key) else ""
        rows.append(row)
    return pd.DataFrame(rows)


def per_level_table(frame: pd.DataFrame, taxonomy: Taxonomy) -> pd.DataFrame:
    rows = []
    for level in range(1, taxonomy.depth + 1):
        s = evaluate(frame["gold"].tolist(), frame["pred"].tolist(), taxonomy, level=level).summary
        rows.append({"level": level, **{label: s.get(key, 0.0) for key, label in SUMMARY_COLUMNS.items()}})
    return pd.DataFrame(rows)


def expert_model_kappa(frame: pd.DataFrame, taxonomy: Taxonomy, level: int | None = None,
                       lang: str = "en") -> pd.DataFrame:
    gold = [taxonomy.cut_codes(g, level) for g in frame["gold"]]
    pred = [taxonomy.cut_codes(p, level) for p in frame["pred"]]
    table = kappa_per_category(gold, pred)
    table.insert(1, "name", [taxonomy.name_of(c, lang) if c in taxonomy else c for c in table["code"]])
    return table.rename(columns={"only_first": "expert_only", "only_second": "model_only"})


def expert_expert_agreement(store: Store, taxonomy: Taxonomy, level: int | None = None) -> pd.DataFrame:
    """Per pair of experts who labelled the same records: records shared, exact agreement and
    Cohen's kappa on the first code."""
    rows = store.current_label_rows(taxonomy.id, roles=EXPERT_ROLES)
    by_record: dict[int, dict[str, list[str]]] = {}
    for r in rows:
        by_record.setdefault(r["record_id"], {})[r["annotator"]] = json.loads(r["codes"])
    pairs: dict[tuple[str, str], list[tuple[list[str], list[str]]]] = {}
    for labels in by_record.values():
        for a, b in itertools.combinations(sorted(labels), 2):
            pairs.setdefault((a, b), []).append((labels[a], labels[b]))
    out = []
    for (a, b), items in sorted(pairs.items()):
        first = [taxonomy.cut_codes(x, level) for x, _ in items]
        second = [taxonomy.cut_codes(y, level) for _, y in items]
        out.append({"expert_a": a, "expert_b": b, "shared_records": len(items),
                    "exact_agreement": sum(set(x) == set(y) for x, y in zip(first, second)) / len(items),
                    "kappa": kappa_overall([x[0] if x else "" for x in first], [y[0] if y else "" for y in second])})
    return pd.DataFrame(out, columns=["expert_a", "expert_b", "shared_records", "exact_agreement", "kappa"])


def human_ceiling(report: Report, agreement_categories: pd.DataFrame, taxonomy: Taxonomy,
                  lang: str = "en") -> pd.DataFrame:
    """Per category, the model's F1 beside how well the experts agree with each other there (the
    share of double-coded records where they agree on it, and Krippendorff's alpha of their yes/no
    decisions): a model rarely does better than its annotators agree."""
    model = report.categories[["code", "f1", "support"]].rename(columns={"f1": "model_f1", "support": "gold_records"})
    human = agreement_categories.rename(columns={"records": "double_coded", "agreement": "expert_agreement",
                                                 "alpha": "expert_alpha"})[["code", "double_coded", "expert_agreement",
                                                                            "expert_alpha"]]
    table = model.merge(human, on="code", how="outer")
    table.insert(1, "name", [taxonomy.name_of(c, lang) if c in taxonomy else c for c in table["code"]])
    table["gap"] = table["expert_agreement"] - table["model_f1"]
    table = table.sort_values(["double_coded", "gold_records"], ascending=False, na_position="last")
    return table.reset_index(drop=True)


def records_in_category(frame: pd.DataFrame, taxonomy: Taxonomy, code: str) -> pd.DataFrame:
    """The rows of a result frame whose gold or predicted codes lie in ``code``'s subtree."""
    subtree = {code, *taxonomy.descendants(code)}
    keep = [bool(subtree & set(g)) or bool(subtree & set(p)) for g, p in zip(frame["gold"], frame["pred"])]
    return frame[keep]


def category_queue(taxonomy: Taxonomy, model_name: str, model_version: str, code: str) -> QueueSpec:
    """The Annotate queue of the records a model puts in ``code`` or below it, least confident first."""
    return QueueSpec(taxonomy.id, status="any", order="margin", model_name=model_name, model_version=model_version,
                     predicted_codes=(code, *taxonomy.descendants(code)))


def category_records_queue(taxonomy: Taxonomy, model_name: str, model_version: str, code: str,
                           hits: pd.DataFrame):
    """An Annotate queue of exactly the records the page lists for a category (``hits`` from
    ``records_in_category``: gold or predicted in its subtree), in the listed order, so the count
    the page shows is the count the queue opens."""
    from core.store import now
    from core.work.annotation import Queue

    ids = [int(i) for i in dict.fromkeys(hits["record_id"].tolist())]
    spec = category_queue(taxonomy, model_name, model_version, code)
    return Queue(spec, ids, len(ids), now())


def named_confusions(report: Report, taxonomy: Taxonomy, lang: str = "en") -> pd.DataFrame:
    """The most confused pairs (gold → predicted, count, share of the gold category), with names."""
    confused = report.confused.copy()
    for column in ("gold", "predicted"):
        confused[f"{column} name"] = [taxonomy.name_of(c, lang) if c in taxonomy else c for c in confused[column]]
    return confused


def band(f1: float | None, support: int, good: float, fair: float) -> str:
    if not support or f1 is None or pd.isna(f1):
        return "no data"
    return "good" if f1 >= good else "fair" if f1 >= fair else "poor"


def bubble_data(report: Report, taxonomy: Taxonomy, level: int, *, good: float = 0.8, fair: float = 0.6,
                predicted_counts: dict[str, int] | None = None, lang: str = "en") -> pd.DataFrame:
    """One row per taxonomy node at ``level``: its figures, colour band, size (gold support, or
    how often it is predicted where there is no gold), and its place (column = top-level field)."""
    if not 0 <= fair <= good <= 1:
        raise EvaluationError("thresholds must satisfy 0 <= yellow <= green <= 1")
    table = report.categories.set_index("code") if not report.categories.empty else pd.DataFrame()
    predicted_counts = predicted_counts or {}
    rows, within = [], {}
    for node in taxonomy.at_level(level):
        code = node.code
        group = taxonomy.path(code)[0] if level > 1 else node  # the top level: one column per field, named
        group_label = f"{group.code} · {group.name(lang)}"
        within[group_label] = within.get(group_label, 0) + 1
        have = code in table.index
        support = int(table.loc[code, "support"]) if have else 0
        predicted = int(table.loc[code, "predicted"]) if have else 0
        occurs = support or predicted or int(predicted_counts.get(code, 0))
        f1 = float(table.loc[code, "f1"]) if have and support else None
        rows.append({
            "code": code, "name": node.name(lang), "group": group_label, "slot": within[group_label],
            "support": support, "predicted": predicted, "occurrences": occurs,
            "precision": float(table.loc[code, "precision"]) if have and support else None,
            "recall": float(table.loc[code, "recall"]) if have and support else None,
            "f1": f1, "lenient_f1": float(table.loc[code, "lenient_f1"]) if have and support else None,
            "band": band(f1, support, good, fair),
            "uncertain": 0 < support < FEW_GOLD,
            "label": (f"({support})" if support else "") if level == 1 else
                     f"{code} {_short(node.name(lang))}" + (f" ({support})" if support else ""),
        })
    return pd.DataFrame(rows)


def default_level(gold: pd.DataFrame, taxonomy: Taxonomy) -> int:
    """The level most gold codes are at (a CAP collection coded by major topic opens at level 1)."""
    levels = [taxonomy.level(c) for codes in gold.get("gold", []) for c in codes if c in taxonomy]
    if not levels:
        return min(2, taxonomy.depth)
    return max(set(levels), key=lambda v: (levels.count(v), -v))


def default_gold_source(store: Store, taxonomy: Taxonomy) -> str:
    """The gold that exists: experts' labels with the imported ones behind them when both exist."""
    experts = bool(store.current_label_rows(taxonomy.id, roles=EXPERT_ROLES)[:1])
    imported = store.has_imported_labels(taxonomy.id)
    return "both" if experts and imported else "imported" if imported else "experts"


def labelled_texts(source: Source, name: str, mapping: dict[str, str | None], taxonomy: Taxonomy,
                   input_fields: Sequence[str] = ("title", "abstract", "keywords"), joiner: str = ". ",
                   chunk_size: int = 2000) -> tuple[list[str], list[list[str]]]:
    """(texts, gold codes) of a labelled file's rows that have both (for fitting a calibration or
    an ensemble's weights on records the models did not train on)."""
    info = inspect_source(source, name)
    mapped = validate_mapping(info, mapping)
    if "label" not in mapped:
        raise InputFileError(f"map the column of '{name}' that holds the gold codes (field 'label')")
    texts, gold = [], []
    for rows, cols in read_chunks(source, info, chunk_size=chunk_size):
        for k, _ in enumerate(rows):
            rec = {f: cols[c][k] for f, c in mapped.items()}
            codes = [taxonomy.node(c).code for c in split_codes(rec.get("label", "")) if c in taxonomy]
            text = joiner.join(p for p in (str(rec.get(f) or "").strip() for f in input_fields) if p)
            if codes and text:
                texts.append(text)
                gold.append(codes)
    if not texts:
        raise EvaluationError(f"no row of '{name}' has a gold code of taxonomy '{taxonomy.name}' and a text")
    return texts, gold


def evaluate_file(classifier, taxonomy: Taxonomy, source: Source, name: str, mapping: dict[str, str | None], *,
                  level: int | None = None, lang: str = "en", chunk_size: int = 2000) -> tuple[Report, pd.DataFrame]:
    """Run a model over a labelled file (a label column with gold codes, several separated by
    '|' or ';') and evaluate it. Rows whose gold codes are all unknown, and rows with no text for
    the model, are counted and left out. The frame has one row per evaluated file row (``row``:
    its number in the file)."""
    info = inspect_source(source, name)
    mapped = validate_mapping(info, mapping)
    if "label" not in mapped:
        raise InputFileError(f"map the column of '{name}' that holds the gold codes (field 'label')")
    from core.models.familiarity import fingerprint, read_fingerprints

    manifest = classifier.manifest
    trained_on = read_fingerprints(classifier.folder, manifest)
    parts, unknown_rows, empty_rows, seen_rows = [], [], [], []
    for rows, cols in read_chunks(source, info, chunk_size=chunk_size):
        keep = []
        for k, row in enumerate(rows):
            rec = {f: cols[c][k] for f, c in mapped.items()}
            gold = [taxonomy.node(c).code for c in split_codes(rec.get("label", "")) if c in taxonomy]
            text = manifest.text_of(rec)
            if not gold:
                unknown_rows.append(row)
            elif not text:
                empty_rows.append(row)
            else:
                if trained_on and fingerprint(text) in trained_on:
                    seen_rows.append(row)
                keep.append({"row": row, "text": text, "gold": gold, "language": rec.get("language", ""),
                             "domain": rec.get("domain", "")})
        if keep:
            part = pd.DataFrame(keep)
            ranked = rank(manifest, classifier.predict_scores(part.pop("text").tolist()), taxonomy,
                          top_k=len(manifest.codes))
            part.insert(2, "pred", [predicted_codes(r, manifest.multi_label) for r in ranked])
            parts.append(part)
    if not parts:
        raise EvaluationError(f"no row of '{name}' has a gold code of taxonomy '{taxonomy.name}' and a text"
                              + (f" (rows {unknown_rows[0]}-{unknown_rows[-1]} checked)" if unknown_rows else ""))
    frame = pd.concat(parts, ignore_index=True)
    gold, pred = frame["gold"].tolist(), frame["pred"].tolist()
    report = evaluate(gold, pred, taxonomy, level=level, lang=lang)
    report.groups = {key: grouped(gold, pred, frame[key].tolist(), taxonomy, level=level)
                     for key in ("language", "domain")}
    report.summary["rows_without_known_gold"] = len(unknown_rows)
    report.summary["rows_without_text"] = len(empty_rows)
    report.summary["rows_in_training_data"] = len(seen_rows)  # evaluated on what it learnt from: optimistic
    return report, frame


__all__ = ["BANDS", "BAND_COLOURS", "EvaluationError", "GOLD_SOURCES", "ModelResult", "bubble_chart", "bubble_data",
           "category_queue", "chart_bytes", "comparison_table", "default_gold_source", "default_level", "evaluate_file",
           "expert_expert_agreement", "human_ceiling", "expert_model_kappa", "gold_frame",
           "labelled_texts", "model_result",
           "named_confusions", "per_level_table", "records_in_category", "with_predictions", "without_training_records"]
