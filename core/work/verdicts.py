"""Which figure a lead reads first, and verdicts that say against what and on which records.

A verdict ("better", "worse", "no clear difference", "not enough evidence") is the paired bootstrap
of ``core.domain.metrics.paired_verdict`` on records neither model was trained on. Every verdict
carries its ``baseline`` (the model compared with), its ``basis`` (the evaluation set, or the
training records read out of fold) and its ``language`` (the records' language, "" for all), so a
screen can always say against what and on which records it was reached; one rule
(``lead_verdict``) decides which of the two verdicts a screen leads with, so two screens never
disagree about the same version.

While the evaluation set is small (fewer than ``SMALL_EVAL`` records, or fewer than
``PER_CATEGORY`` per category of the training labels) its figures read high: categories with fewer
than 3 labelled records never enter it, so it holds the easy ones. Then the cross-validated figure
leads: the recipe's out-of-fold predictions on its own training records, against the baseline's
predictions on those records.
"""

from __future__ import annotations

from typing import Callable, Iterable

import pandas as pd

from core.domain.metrics import MIN_EVIDENCE, MIN_RECORDS

SMALL_EVAL = 100  # evaluation records below which the cross-validated figure leads
PER_CATEGORY = 3  # evaluation records per category of the training labels below which it leads too


def _same(text: str) -> str:
    return text


def language_frame(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """The evaluation (or training) records in ``language`` ("" or no language column: all)."""
    if not language or "language" not in frame:
        return frame
    keep = frame["language"].fillna("").astype(str).str.lower().eq(language.lower())
    return frame.loc[keep.astype(bool)].reset_index(drop=True)


def unseen_categories(frame: pd.DataFrame, codes: Iterable[str]) -> list[str]:
    """Categories of the training labels with no record in the evaluation set: no figure on it
    says anything about them."""
    present = {c for cs in frame["codes"] for c in cs} if len(frame) else set()
    return sorted(set(codes) - present)


def small_eval_reason(records: int, categories: int, tr: Callable[[str], str] = _same) -> str:
    """Why the evaluation set cannot lead yet ("" when it can): fewer than 100 records, or fewer
    than 3 per category the model was trained on."""
    if records < SMALL_EVAL:
        return tr("the evaluation set has {0:,} records (fewer than {1})").format(records, SMALL_EVAL)
    if categories and records < PER_CATEGORY * categories:
        return tr("the evaluation set has {0:,} records for {1} categories (fewer than {2} a category)").format(
            records, categories, PER_CATEGORY)
    return ""


def named(verdict: dict | None, *, baseline: str, basis: str, language: str = "", method: str = "") -> dict | None:
    """A verdict with what it was reached against and on (``basis``: "evaluation" or
    "cross-validated"; ``method``: how the cross-validated predictions were made)."""
    if verdict is None:
        return None
    return {**verdict, "baseline": baseline, "basis": basis, "language": language, "method": method}


def lead_verdict(evaluation: dict | None, cross_validated: dict | None, small: str) -> dict | None:
    """The verdict a screen leads with: the cross-validated one while the evaluation set is small
    (``small``: why, from ``small_eval_reason``) and there is one on at least as many records (a
    fine-tuned model's held-out records are its validation split only); else the evaluation set's.
    The other stays beside it as ``other``."""
    if small and cross_validated is not None and int(cross_validated.get("records") or 0) >= int(
            (evaluation or {}).get("records") or 0):  # not a verdict on fewer records than the evaluation set's
        return {**cross_validated, "why_first": small, "other": evaluation}
    if evaluation is None:
        return None
    return {**evaluation, "why_first": "", "other": cross_validated}


def cross_validated_predictions(oof, record_ids: list[int], multi_label: bool) -> dict[str, list[str]]:
    """{record id: codes} the recipe predicted for its training records out of fold (each by a fold
    model that did not see it); ``oof``: (classes, scores, rows) of ``Trained.out_of_fold``."""
    import numpy as np

    from core.models.scoring import predicted_codes

    if oof is None:
        return {}
    classes, scores, rows = oof
    out = {}
    for row, i in zip(np.asarray(scores), rows):
        order = np.argsort(-row)
        out[str(int(record_ids[int(i)]))] = predicted_codes([(classes[j], float(row[j])) for j in order],
                                                            multi_label)
    return out


def basis_words(verdict: dict, tr: Callable[[str], str] = _same) -> str:
    """"57 evaluation records in hu" / "177 training records, 5-fold cross-validated"."""
    n = int(verdict.get("records") or 0)
    if verdict.get("basis") == "cross-validated":
        text = tr("{0:,} training records, {1}").format(n, tr(verdict.get("method") or "cross-validated"))
    else:
        text = tr("{0:,} evaluation records").format(n)
    if verdict.get("language"):
        text += " " + tr("in {0}").format(verdict["language"])
    return text


def likely_range(evaluation: dict | None, cross_validated: dict | None,
                 metric: str = "micro_f1") -> tuple[float, float] | None:
    """Where the F1 on new records likely lies while the evaluation set is small: the span of the
    cross-validated interval (fold models trained on less: it reads low) and the evaluation set's
    (the easy categories: it reads high). On the Hungarian speeches it held the F1 of the unseen
    ones in 10 of 10 splits at 50, 110 and 176 labels, where the cross-validated interval alone held
    it in 6, 4 and 7 (``bench_trust.py``)."""
    spans = [((f or {}).get("intervals") or {}).get(metric) for f in (evaluation, cross_validated)]
    spans = [s for s in spans if s and None not in s]
    if not spans:
        return None
    return min(s[0] for s in spans), max(s[1] for s in spans)


def report_lines(after: dict | None, cross_validated: dict | None, verdict: dict | None,
                 tr: Callable[[str], str] = _same) -> list[str]:
    """A trained version's figures as a lead reads them, the one to read first first: the
    cross-validated figure while the evaluation set is small (and why), else the evaluation set's;
    how many trained categories the evaluation set cannot see; then the verdict, naming its
    baseline and records."""
    after = after or {}
    small = (verdict or {}).get("why_first") or small_eval_reason(int(after.get("records") or 0), 0, tr)
    eval_line = figure_line(after, tr=tr)
    unseen = int((verdict or {}).get("unseen_categories") or 0)
    if unseen:
        eval_line += "; " + tr("it has no record of {0} of the {1} categories trained on").format(
            unseen, int(verdict.get("categories") or 0))
    cv_line = ""
    if cross_validated:
        cv_line = f"{figure_line(cross_validated, what='training', tr=tr)} " \
                  f"({tr(cross_validated.get('method') or 'cross-validated')})"
    if small and cv_line:
        likely = likely_range(after, cross_validated)
        if likely is not None:
            cv_line += "; " + tr("on new records likely {0:.2f}-{1:.2f} (both intervals together)").format(*likely)
        lines = [cv_line + "; " + tr("read first: {0}").format(small), eval_line]
    else:
        lines = [eval_line] + ([cv_line] if cv_line else [])
    if verdict:
        lines.append(verdict_line(verdict, tr))
    return lines


def unchecked_reason(figures: dict, tr: Callable[[str], str] = _same) -> str:
    """What a figure's reader must know about records the model may have trained on ("" if nothing)."""
    if figures.get("trained_check") is False:
        return tr("could not check which records the model was trained on: its folder keeps no fingerprints of "
                  "its training texts")
    left = int(figures.get("left_out_trained") or 0)
    return tr("{0:,} record(s) left out: the model was trained on them").format(left) if left else ""


def figure_line(figures: dict | None, metric: str = "micro_f1", what: str = "evaluation",
                tr: Callable[[str], str] = _same) -> str:
    """A figure as a lead should read it: value, 95 % interval, how many records it rests on, and
    what was left out ("micro F1 0.48 (95 % interval 0.41-0.56) on 44 evaluation records").
    ``tr``: the interface's translation of each English template."""
    figures = figures or {}
    where = tr("evaluation records") if what == "evaluation" else tr("training records")
    if not figures.get("records"):
        extra = unchecked_reason(figures, tr)
        return tr("no {0} yet").format(where) + (f" ({extra})" if extra else "")
    value = (figures.get("summary") or {}).get(metric)
    low, high = (figures.get("intervals") or {}).get(metric) or (None, None)
    text = tr({"micro_f1": "micro F1", "macro_f1": "macro F1", "weighted_f1": "weighted F1"}.get(metric, metric))
    text += f" {value:.3f}" if value is not None else " –"
    if low is not None:
        text += " " + tr("(95 % interval {0:.2f}-{1:.2f})").format(low, high)
    text += " " + tr("on {0:,} {1}").format(int(figures["records"]), where)
    extra = unchecked_reason(figures, tr)
    return text + (f"; {extra}" if extra else "")


def verdict_line(verdict: dict | None, tr: Callable[[str], str] = _same) -> str:
    """A comparison's verdict in words, naming the model it compares with and the records it rests
    on (``core.work.verdicts``), and why it is read first when it is the cross-validated one."""
    from core.work.verdicts import basis_words

    if not verdict:
        return ""
    baseline = verdict.get("baseline") or ""
    on = basis_words(verdict, tr) if "basis" in verdict else tr("{0:,} records").format(int(verdict["records"]))
    first = (" " + tr("(read first: {0})").format(verdict["why_first"])) if verdict.get("why_first") else ""
    if verdict["verdict"] == "not enough evidence":
        n = int(verdict.get("records") or 0)
        why = (tr("{0} record(s); at least {1} are needed").format(n, MIN_RECORDS) if n < MIN_RECORDS else
               tr("no category has {0} gold records").format(MIN_EVIDENCE))
        against = (" " + tr("against {0} on {1}").format(baseline, on)) if baseline else ""
        return tr("Not enough evidence for a verdict{0}: {1}.").format(against, why) + first
    low, high = verdict["interval"]
    thin = verdict.get("thin_categories") or []
    if baseline:
        words = {"better": "Better than {0}", "worse": "Worse than {0}",
                 "no clear difference": "No clear difference from {0}"}
        head = tr(words[verdict["verdict"]]).format(baseline)
    else:
        head = tr({"better": "Better", "worse": "Worse", "no clear difference": "No clear difference"}[
            verdict["verdict"]])
    text = tr("{0}: micro F1 {1:.3f} → {2:.3f} (difference {3:+.3f}, 95 % interval {4:+.3f} to {5:+.3f}, "
              "{6})").format(head, verdict["before"], verdict["after"], verdict["difference"], low, high, on)
    if thin:
        text += "; " + tr("{0} categories have fewer than {1} records: not enough evidence there").format(
            len(thin), MIN_EVIDENCE)
    return text + "." + first


__all__ = ["PER_CATEGORY", "SMALL_EVAL", "basis_words", "cross_validated_predictions", "figure_line", "language_frame",
           "lead_verdict", "likely_range", "named", "report_lines", "small_eval_reason", "unchecked_reason",
           "unseen_categories", "verdict_line"]
