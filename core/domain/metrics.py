"""Evaluation of predicted codes against gold codes: strict, lenient and hierarchical figures, per
category, per level, per language and domain, confusions, agreement (Cohen's kappa) and trend.

Every function takes label *sets* per sample (lists of codes), so single-label and multi-label
data go through the same code. Conventions:

- **strict**: a code counts when predicted and gold exactly. Micro, macro (unweighted mean over
  categories with gold support) and weighted (by support) precision, recall and F1; for
  single-label data micro P = R = F1 = accuracy, as in scikit-learn.
- **lenient** (as MTMT reports it): a predicted code that is not gold but a sibling of a gold
  code (same parent; top-level codes are not siblings) earns half a true positive, on both the
  precision side (the predicted code) and the recall side (the gold code it sits next to).
- **hierarchical** (Kiritchenko et al., the hiclass convention): each set is augmented with all
  ancestors, the root excluded; micro hP = sum|T n P| / sum|P|, hR = sum|T n P| / sum|T|;
  macro = the mean over samples of the per-sample hP, hR and hF1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from core.domain.taxonomy import Taxonomy

LabelSets = Sequence[Sequence[str]]


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def _div(a: float, b: float) -> float:
    return a / b if b else 0.0


# ------------------------------------------------------------------------------ hierarchical
def hierarchical_from_sets(true_sets: Iterable[Iterable], pred_sets: Iterable[Iterable],
                           average: str = "micro") -> dict[str, float]:
    """hP, hR, hF1 of label sets that already hold every ancestor (empty labels ignored)."""
    inter, n_pred, n_true, per = 0, 0, 0, []
    for t, p in zip(true_sets, pred_sets):
        t = {x for x in t if x != ""}
        p = {x for x in p if x != ""}
        i = len(t & p)
        inter, n_pred, n_true = inter + i, n_pred + len(p), n_true + len(t)
        sp, sr = _div(i, len(p)), _div(i, len(t))
        per.append((sp, sr, _f1(sp, sr)))
    if average == "micro":
        hp, hr = _div(inter, n_pred), _div(inter, n_true)
        return {"h_precision": hp, "h_recall": hr, "h_f1": _f1(hp, hr)}
    if average == "macro":
        arr = np.array(per) if per else np.zeros((1, 3))
        return {"h_precision": float(arr[:, 0].mean()), "h_recall": float(arr[:, 1].mean()),
                "h_f1": float(arr[:, 2].mean())}
    raise ValueError(f"average must be 'micro' or 'macro', not '{average}'")


def augment(codes: Iterable[str], taxonomy: Taxonomy) -> set[str]:
    """The codes and all their ancestors (codes not in the taxonomy are kept as they are)."""
    out: set[str] = set()
    for code in codes:
        if code in taxonomy:
            node = taxonomy.node(code).code
            out.add(node)
            out.update(taxonomy.ancestors(node))
        elif code:
            out.add(code)
    return out


def hierarchical(true: LabelSets, pred: LabelSets, taxonomy: Taxonomy, average: str = "micro") -> dict[str, float]:
    return hierarchical_from_sets([augment(t, taxonomy) for t in true], [augment(p, taxonomy) for p in pred],
                                  average)


# ------------------------------------------------------------------------- strict, lenient
def _siblings(code: str, taxonomy: Taxonomy | None) -> set[str]:
    if taxonomy is None or code not in taxonomy:
        return set()
    node = taxonomy.node(code)
    out: set[str] = set()
    for parent in node.parents:
        out.update(c.code for c in taxonomy.children(parent))
    out.discard(node.code)
    return out


def per_category(true: LabelSets, pred: LabelSets, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Per code: support (gold), predicted, TP, FP, FN, strict and lenient precision/recall/F1."""
    tp: Counter = Counter()
    support: Counter = Counter()
    predicted: Counter = Counter()
    credit_true: Counter = Counter()  # lenient credit on the gold side
    credit_pred: Counter = Counter()  # lenient credit on the predicted side
    sib_cache: dict[str, set[str]] = {}

    def sibs(c: str) -> set[str]:
        if c not in sib_cache:
            sib_cache[c] = _siblings(c, taxonomy)
        return sib_cache[c]

    for t, p in zip(true, pred):
        t, p = set(t), set(p)
        for c in t:
            support[c] += 1
            if c in p:
                tp[c] += 1
                credit_true[c] += 1
            elif sibs(c) & (p - t):
                credit_true[c] += 0.5
        for c in p:
            predicted[c] += 1
            if c in t:
                credit_pred[c] += 1
            elif sibs(c) & (t - p):
                credit_pred[c] += 0.5
    codes = list(dict.fromkeys([*support, *predicted]))
    if taxonomy is not None:
        order = {n.code: i for i, n in enumerate(taxonomy)}
        codes.sort(key=lambda c: order.get(c, 1 << 30))
    rows = []
    for c in codes:
        p_, r_ = _div(tp[c], predicted[c]), _div(tp[c], support[c])
        lp, lr = _div(credit_pred[c], predicted[c]), _div(credit_true[c], support[c])
        rows.append({"code": c, "support": support[c], "predicted": predicted[c], "tp": tp[c],
                     "fp": predicted[c] - tp[c], "fn": support[c] - tp[c],
                     "precision": p_, "recall": r_, "f1": _f1(p_, r_),
                     "lenient_precision": lp, "lenient_recall": lr, "lenient_f1": _f1(lp, lr),
                     "lenient_credit_pred": credit_pred[c], "lenient_credit_true": credit_true[c]})
    columns = ["code", "support", "predicted", "tp", "fp", "fn", "precision", "recall", "f1", "lenient_precision",
               "lenient_recall", "lenient_f1", "lenient_credit_pred", "lenient_credit_true"]
    return pd.DataFrame(rows, columns=columns)


def averages(table: pd.DataFrame, prefix: str = "") -> dict[str, float]:
    """Micro, macro and weighted P/R/F1 from a per-category table (strict, or lenient with
    ``prefix="lenient_"``). Macro and weighted run over categories with gold support."""
    if table.empty:
        return {f"{prefix}{a}_{m}": 0.0 for a in ("micro", "macro", "weighted") for m in ("precision", "recall", "f1")}
    if prefix:
        hit_p, hit_r = table["lenient_credit_pred"].sum(), table["lenient_credit_true"].sum()
    else:
        hit_p = hit_r = table["tp"].sum()
    mp, mr = _div(hit_p, table["predicted"].sum()), _div(hit_r, table["support"].sum())
    gold = table[table["support"] > 0]
    w = gold["support"] / gold["support"].sum() if len(gold) else gold["support"]
    out = {f"{prefix}micro_precision": mp, f"{prefix}micro_recall": mr, f"{prefix}micro_f1": _f1(mp, mr)}
    for m in ("precision", "recall", "f1"):
        col = gold[f"{prefix}{m}"]
        out[f"{prefix}macro_{m}"] = float(col.mean()) if len(gold) else 0.0
        out[f"{prefix}weighted_{m}"] = float((col * w).sum()) if len(gold) else 0.0
    return out


INTERVAL_RESAMPLES = 1000
MIN_EVIDENCE = 5  # fewer gold records than this in a category: "not enough evidence" for a verdict on it
MIN_RECORDS = 30  # fewer records than this in all: no overall verdict either


def _indicators(true: LabelSets, pred: LabelSets, also: LabelSets = ()) -> tuple[list[str], object, object]:
    """Gold and predicted 0/1 sparse matrices (records x codes) over every code in ``true``,
    ``pred`` and ``also`` (so two models' matrices share their columns); sparse, so 100,000
    records of a 1,000-code taxonomy take a few MB."""
    from scipy.sparse import csr_matrix

    codes = sorted({c for s in [*true, *pred, *also] for c in s})
    index = {c: i for i, c in enumerate(codes)}

    def matrix(sets: LabelSets):
        rows, cols = [], []
        for i, codes_of in enumerate(sets):
            for c in set(codes_of):
                rows.append(i)
                cols.append(index[c])
        return csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(true), len(codes)))

    return codes, matrix(true), matrix(pred)


def _strict_f1s(weights: np.ndarray, g, p) -> dict[str, np.ndarray]:
    """Micro, macro and weighted strict F1 for each row of record ``weights`` (how often each record
    was drawn): the same definitions as ``averages``."""
    def times(m) -> np.ndarray:  # weights (B x n) @ m (n x C), m sparse
        return np.asarray((m.T @ weights.T).T)

    tp, sup, prd = times(g.multiply(p).tocsr()), times(g), times(p)
    micro = 2 * tp.sum(axis=1) / np.maximum(sup.sum(axis=1) + prd.sum(axis=1), 1e-12)
    f1 = 2 * tp / np.maximum(sup + prd, 1e-12)
    has = sup > 0
    macro = np.where(has, f1, 0.0).sum(axis=1) / np.maximum(has.sum(axis=1), 1)
    weighted = (f1 * sup).sum(axis=1) / np.maximum(sup.sum(axis=1), 1e-12)
    return {"micro_f1": micro, "macro_f1": macro, "weighted_f1": weighted}


def _bootstrap(n: int, resamples: int, seed: int, figures) -> dict[str, np.ndarray]:
    """``figures(weights)`` over ``resamples`` bootstrap samples of n records, drawn in chunks (a
    sample is each record's draw count, so 100,000 records never make a huge index array)."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(resamples, 4_000_000 // max(n, 1)))
    parts: dict[str, list[np.ndarray]] = {}
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(np.float32)
        for key, values in figures(weights).items():
            parts.setdefault(key, []).append(values)
        done += size
    return {k: np.concatenate(v) for k, v in parts.items()}


def intervals(true: LabelSets, pred: LabelSets, *, resamples: int = INTERVAL_RESAMPLES, seed: int = 0,
              confidence: float = 0.95) -> dict[str, list[float]]:
    """Percentile bootstrap intervals (records resampled) of the strict micro, macro and weighted
    F1: how far the figure could move on another sample of records like these."""
    if not len(true):
        return {}
    _, g, p = _indicators(true, pred)
    draws = _bootstrap(len(true), resamples, seed, lambda w: _strict_f1s(w, g, p))
    tail = 100 * (1 - confidence) / 2
    return {k: [round(float(v), 4) for v in np.percentile(a, [tail, 100 - tail])] for k, a in draws.items()}


def paired_verdict(true: LabelSets, before: LabelSets, after: LabelSets, *, metric: str = "micro_f1",
                   resamples: int = INTERVAL_RESAMPLES, seed: int = 0, min_records: int = MIN_RECORDS,
                   min_evidence: int = MIN_EVIDENCE) -> dict:
    """Is ``after`` better than ``before`` on the same records? The paired bootstrap 95 % interval
    of the difference in ``metric``: "better" or "worse" when it excludes zero, "no clear
    difference" when it does not, "not enough evidence" below ``min_records`` records or when no
    category has ``min_evidence`` gold records."""
    n = len(true)
    _, g, pb = _indicators(true, before, also=after)
    _, _, pa = _indicators(true, after, also=before)
    full = np.ones((1, n), dtype=np.float32)
    b0, a0 = _strict_f1s(full, g, pb)[metric][0], _strict_f1s(full, g, pa)[metric][0]
    evidenced = int((np.asarray(g.sum(axis=0)).ravel() >= min_evidence).sum()) if n else 0
    out = {"metric": metric, "records": n, "before": round(float(b0), 4), "after": round(float(a0), 4),
           "difference": round(float(a0 - b0), 4), "interval": None, "categories_with_evidence": evidenced}
    if n < min_records or not evidenced:
        reason = (f"{n} record(s); at least {min_records} are needed" if n < min_records else
                  f"no category has {min_evidence} gold records")
        return {**out, "verdict": "not enough evidence", "why": reason}
    delta = _bootstrap(n, resamples, seed, lambda w: {
        "delta": _strict_f1s(w, g, pa)[metric] - _strict_f1s(w, g, pb)[metric]})["delta"]
    low, high = (float(x) for x in np.percentile(delta, [2.5, 97.5]))
    verdict = "better" if low > 0 else "worse" if high < 0 else "no clear difference"
    return {**out, "interval": [round(low, 4), round(high, 4)], "verdict": verdict,
            "why": f"95 % interval of the difference on {n:,} records"}


def confused_pairs(true: LabelSets, pred: LabelSets, top: int = 15) -> pd.DataFrame:
    """The most frequent (gold, predicted) pairs where a gold code was missed and another predicted,
    with the pair's ``share`` of the gold code's records."""
    cells = confusion_cells(true, pred)
    pairs = cells[(cells["gold"] != cells["predicted"]) & (cells["predicted"] != NO_PREDICTION)]
    return pairs.sort_values(["count", "gold", "predicted"], ascending=[False, True, True]).head(top).reset_index(
        drop=True)


NO_PREDICTION = "—"  # a confusion matrix's column for gold records the model predicted nothing for


def confusion_cells(true: LabelSets, pred: LabelSets) -> pd.DataFrame:
    """The confusion matrix in long form: for each gold code, how often it was predicted (the
    diagonal), and which codes were predicted instead where it was missed (``NO_PREDICTION``: none).
    ``share``: the cell's count over the gold code's records."""
    cells: Counter = Counter()
    support: Counter = Counter()
    for t, p in zip(true, pred):
        t, p = set(t), set(p)
        for a in t:
            support[a] += 1
            if a in p:
                cells[(a, a)] += 1
                continue
            wrong = p - t
            for b in wrong or (NO_PREDICTION,):
                cells[(a, b)] += 1
    rows = [{"gold": a, "predicted": b, "count": n, "share": round(n / support[a], 4)} for (a, b), n in cells.items()]
    return pd.DataFrame(rows, columns=["gold", "predicted", "count", "share"])


def kappa_per_category(a: LabelSets, b: LabelSets, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Cohen's kappa per code between two raters (each code as a yes/no decision per sample)."""
    from sklearn.metrics import cohen_kappa_score

    codes = list(codes) if codes is not None else sorted({c for s in [*a, *b] for c in s})
    rows = []
    for c in codes:
        x = np.array([c in s for s in a], dtype=int)
        y = np.array([c in s for s in b], dtype=int)
        if len(x) == 0:
            k = float("nan")
        elif (x == y).all():
            k = 1.0
        else:
            k = float(cohen_kappa_score(x, y))
        rows.append({"code": c, "kappa": k, "both": int((x & y).sum()), "only_first": int((x & ~y.astype(bool)).sum()),
                     "only_second": int((~x.astype(bool) & y).sum()), "samples": len(x)})
    return pd.DataFrame(rows, columns=["code", "kappa", "both", "only_first", "only_second", "samples"])


def kappa_overall(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa of two raters' single codes per sample."""
    from sklearn.metrics import cohen_kappa_score

    if not a:
        return float("nan")
    if list(a) == list(b):
        return 1.0
    return float(cohen_kappa_score(list(a), list(b)))


# --------------------------------------------------------------------------------- reports
@dataclass
class Report:
    """All figures of one model (or rater) against gold labels."""

    summary: dict[str, float]
    categories: pd.DataFrame
    confused: pd.DataFrame
    samples: int
    level: int | None = None
    groups: dict[str, pd.DataFrame] = field(default_factory=dict)  # "language" / "domain" -> table
    matrix: pd.DataFrame = field(default_factory=pd.DataFrame)  # ``confusion_cells`` at the report's level

    def to_json_dict(self) -> dict:
        return {"samples": self.samples, "level": self.level, "summary": self.summary,
                "per_category": self.categories.to_dict(orient="records"),
                "confused_pairs": self.confused.to_dict(orient="records"),
                "confusion_matrix": self.matrix.to_dict(orient="records"),
                "groups": {k: v.to_dict(orient="records") for k, v in self.groups.items()}}


def evaluate(true: LabelSets, pred: LabelSets, taxonomy: Taxonomy, *, level: int | None = None,
             lang: str = "en") -> Report:
    """Strict, lenient and hierarchical figures, per category with names and paths."""
    if len(true) != len(pred):
        raise ValueError("gold and predicted label lists differ in length")
    taxonomy.check_level(level)
    t, p = [taxonomy.cut_codes(s, level) for s in true], [taxonomy.cut_codes(s, level) for s in pred]
    table = per_category(t, p, taxonomy)
    summary = {**averages(table), **averages(table, "lenient_")}
    for avg in ("micro", "macro"):
        h = hierarchical(t, p, taxonomy, avg)
        summary.update({f"hierarchical_{avg}_{k[2:]}": v for k, v in h.items()})
    summary["samples"] = len(t)
    summary["accuracy"] = _div(sum(set(a) == set(b) for a, b in zip(t, p)), len(t))
    if not table.empty:
        table.insert(1, "name", [taxonomy.name_of(c, lang) if c in taxonomy else c for c in table["code"]])
        table.insert(2, "level", [taxonomy.level(c) if c in taxonomy else 0 for c in table["code"]])
        table.insert(3, "path", [taxonomy.path_label(c, lang) if c in taxonomy else c for c in table["code"]])
    return Report(summary, table, confused_pairs(t, p), len(t), level, matrix=confusion_cells(t, p))


def grouped(true: LabelSets, pred: LabelSets, groups: Sequence[str], taxonomy: Taxonomy, *,
            level: int | None = None) -> pd.DataFrame:
    """One row per group value (e.g. language or domain): samples and the main figures."""
    frame = pd.DataFrame({"t": list(true), "p": list(pred), "g": [g or "(none)" for g in groups]})
    rows = []
    for g, part in frame.groupby("g", sort=True):
        r = evaluate(part["t"].tolist(), part["p"].tolist(), taxonomy, level=level).summary
        rows.append({"group": g, "samples": len(part), "micro_f1": r["micro_f1"], "macro_f1": r["macro_f1"],
                     "weighted_f1": r["weighted_f1"], "lenient_micro_f1": r["lenient_micro_f1"],
                     "hierarchical_micro_f1": r["hierarchical_micro_f1"]})
    return pd.DataFrame(rows, columns=["group", "samples", "micro_f1", "macro_f1", "weighted_f1", "lenient_micro_f1",
                                       "hierarchical_micro_f1"])


def cross_table(true: LabelSets, pred: LabelSets, rows: Sequence[str], cols: Sequence[str], taxonomy: Taxonomy, *,
                level: int | None = None, metric: str = "weighted_f1", min_samples: int = 1) -> pd.DataFrame:
    """A rows x cols table (e.g. language x domain) of one figure, blank where too few samples."""
    frame = pd.DataFrame({"t": list(true), "p": list(pred), "r": [x or "(none)" for x in rows],
                          "c": [x or "(none)" for x in cols]})
    out = {}
    for (r, c), part in frame.groupby(["r", "c"]):
        if len(part) >= min_samples:
            out[(r, c)] = evaluate(part["t"].tolist(), part["p"].tolist(), taxonomy, level=level).summary[metric]
    if not out:
        return pd.DataFrame()
    series = pd.Series(out)
    return series.unstack()


def trend(true: LabelSets, pred: LabelSets, times: Sequence[str], taxonomy: Taxonomy, *, freq: str = "W",
          level: int | None = None) -> pd.DataFrame:
    """Per period (labels by their time): labels added, cumulative labels, the model's strict
    micro F1 on that period's labels and on all labels so far."""
    frame = pd.DataFrame({"t": list(true), "p": list(pred),
                          "time": pd.to_datetime(list(times), utc=True, errors="coerce", format="ISO8601")})
    frame = frame.dropna(subset=["time"]).sort_values("time")
    if frame.empty:
        return pd.DataFrame(columns=["period", "labels", "cumulative_labels", "period_micro_f1", "cumulative_micro_f1"])
    frame["period"] = frame["time"].dt.tz_localize(None).dt.to_period(freq).dt.start_time
    rows, seen_t, seen_p = [], [], []
    for period, part in frame.groupby("period", sort=True):
        seen_t += part["t"].tolist()
        seen_p += part["p"].tolist()
        rows.append({"period": period, "labels": len(part), "cumulative_labels": len(seen_t),
                     "period_micro_f1": evaluate(part["t"].tolist(), part["p"].tolist(), taxonomy,
                                                 level=level).summary["micro_f1"],
                     "cumulative_micro_f1": evaluate(seen_t, seen_p, taxonomy, level=level).summary["micro_f1"]})
    return pd.DataFrame(rows)


__all__ = ["NO_PREDICTION", "Report", "augment", "averages", "confusion_cells", "confused_pairs", "cross_table",
           "evaluate", "grouped", "hierarchical", "hierarchical_from_sets", "kappa_overall", "kappa_per_category",
           "per_category", "trend"]
