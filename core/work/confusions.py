"""Which categories a model confuses, for the Performance page's Confusions tab: the confusion
matrix of a report with names, the records of one cell, and an Annotate queue of exactly those."""

from __future__ import annotations

import pandas as pd

from core.domain.metrics import Report, evaluate
from core.domain.taxonomy import Taxonomy
from core.work.performance import category_queue


def for_language(frame: pd.DataFrame, report: Report, taxonomy: Taxonomy, level: int | None, language: str,
                 lang: str = "en") -> tuple[pd.DataFrame, Report]:
    """A result frame and its report limited to the gold records of one language ("" : all)."""
    if not language:
        return frame, report
    part = frame[frame["language"].astype(str) == language]
    return part, evaluate(part["gold"].tolist(), part["pred"].tolist(), taxonomy, level=level, lang=lang)


MATRIX_MAX = 45  # categories a confusion matrix draws (the deeper levels: the most confused ones)


def confusion_matrix_cells(report: Report, taxonomy: Taxonomy, lang: str = "en") -> pd.DataFrame:
    """The report's confusion matrix with a label per code ("1.2 Computer and information
    sciences"; "—": nothing predicted), limited to the ``MATRIX_MAX`` gold categories with the most
    records the model missed."""
    from core.domain.metrics import NO_PREDICTION

    cells = report.matrix.copy()
    if cells.empty:
        return cells.assign(**{"gold label": [], "predicted label": []})
    missed = cells[cells["gold"] != cells["predicted"]].groupby("gold")["count"].sum()
    support = cells.groupby("gold")["count"].sum()
    keep = set((missed.reindex(support.index, fill_value=0) + support / 1e6).nlargest(MATRIX_MAX).index)
    cells = cells[cells["gold"].isin(keep)].reset_index(drop=True)

    def label(code: str) -> str:
        if code == NO_PREDICTION:
            return NO_PREDICTION
        return f"{code} {taxonomy.name_of(code, lang)}" if code in taxonomy else code

    cells["gold label"] = [label(c) for c in cells["gold"]]
    cells["predicted label"] = [label(c) for c in cells["predicted"]]
    return cells


def confusion_records(frame: pd.DataFrame, taxonomy: Taxonomy, level: int | None, gold: str,
                      predicted: str) -> pd.DataFrame:
    """The rows of a result frame in one cell of the confusion matrix at ``level``: ``gold`` among
    the gold codes and ``predicted`` among the predicted ones (``predicted == gold``: the gold code
    was predicted; ``NO_PREDICTION``: it was missed and nothing else predicted)."""
    from core.domain.metrics import NO_PREDICTION

    def cut(codes) -> set[str]:
        return set(taxonomy.cut_codes(codes, level))

    keep = []
    for g, p in zip(frame["gold"], frame["pred"]):
        g, p = cut(g), cut(p)
        if gold not in g:
            keep.append(False)
        elif predicted == gold:
            keep.append(gold in p)
        elif predicted == NO_PREDICTION:
            keep.append(gold not in p and not (p - g))
        else:
            keep.append(gold not in p and predicted in p and predicted not in g)
    return frame[keep]


def confusion_queue(taxonomy: Taxonomy, model_name: str, model_version: str, gold: str, hits: pd.DataFrame):
    """An Annotate queue of exactly the records of one confusion-matrix cell, in the listed order."""
    from core.store import now
    from core.work.annotation import Queue

    ids = [int(i) for i in dict.fromkeys(hits["record_id"].tolist())]
    from dataclasses import replace

    spec = replace(category_queue(taxonomy, model_name, model_version, gold), predicted_codes=())  # as listed
    return Queue(spec, ids, len(ids), now())


__all__ = ["MATRIX_MAX", "confusion_matrix_cells", "confusion_queue", "confusion_records", "for_language"]
