"""Labels that look wrong: confident learning (``cleanlab.filter.find_label_issues``, Northcutt et
al. 2021) over out-of-fold probabilities, for imported and expert labels alike.

Every labelled record of the taxonomy (its latest label; a lead's gold label wins) is predicted by
a TF-IDF + linear SVM model that did not train on it (``FOLDS``-fold cross-validation, word
1-2-grams, margins temperature-scaled into probabilities), each label cut to the level the labels
share. Confident learning estimates from those probabilities how often each given code stands for
each true one, and flags the labels the estimate says are most likely wrong, ranked by the
probability the model gives the given code (lowest first). A flag is a question for an expert,
never a correction: the expert confirms the label (it is kept, and counted as reviewed) or
corrects it (a correction with its provenance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.domain.taxonomy import Taxonomy
from core.store import Store

FOLDS = 5
MIN_PER_CODE = 5  # codes with fewer labels are left out (nothing to learn what they look like)
MIN_LABELS = 50  # fewer labels: no estimate worth showing
TOO_FEW = ("at least {0} labels of at least 2 codes with {1} labels each are needed to tell which labels look "
           "wrong")


@dataclass(frozen=True)
class LabelReview:
    """The flagged labels, worst first (``flagged``: record_id, external_id, text, given, suggested,
    given_probability, suggested_probability, source), and what was read."""

    flagged: pd.DataFrame
    labels: int  # labels read
    codes: int  # codes with enough labels
    level: int | None
    note: str = ""  # why nothing could be estimated


def out_of_fold_probabilities(texts: list[str], codes: list[str], *, folds: int = FOLDS,
                              seed: int = 0) -> tuple[list[str], np.ndarray]:
    """(classes, probabilities of each text from a model that did not train on it): word 1-2-gram
    TF-IDF and a linear SVM per fold (seconds where logistic regression takes minutes), its margins
    turned into probabilities by a softmax with one temperature fitted on all the out-of-fold rows."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    from core.models.calibration import fit_temperature, scaled
    from core.models.fitting import probabilities
    from core.models.tfidf_onnx import SKLEARN_TOKEN_PATTERN

    classes = sorted(set(codes))
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[c] for c in codes])
    # the vocabulary from every text (no label is read): each fold's model still never sees its rows' labels
    x = TfidfVectorizer(ngram_range=(1, 2), token_pattern=SKLEARN_TOKEN_PATTERN, sublinear_tf=True,
                        max_features=200_000).fit_transform(texts)
    margins = np.full((len(codes), len(classes)), -1e3)
    splits = StratifiedKFold(n_splits=min(folds, int(np.bincount(y).min())), shuffle=True, random_state=seed)
    for train, test in splits.split(x, y):
        svm = LinearSVC(C=0.5).fit(x[train], y[train])
        scores = svm.decision_function(x[test])
        if scores.ndim == 1:  # two classes: one margin
            scores = np.column_stack([-scores, scores])
        margins[np.ix_(test, svm.classes_)] = scores
    p = probabilities(margins, False)
    temperature = fit_temperature(p, y).get("temperature") or 1.0
    return classes, scaled(p, temperature)


def label_level(frame: pd.DataFrame, taxonomy: Taxonomy) -> int | None:
    """The level the labels share: the shallowest level a label sits at (deeper ones are cut to it)."""
    levels = [taxonomy.level(c) for codes in frame["codes"] for c in codes[:1] if c in taxonomy]
    return min(levels) if levels else None


def flag_labels(texts: list[str], given: list[str], *, seed: int = 0) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(the indices of likely wrong labels, worst first; the classes; the out-of-fold probabilities)."""
    from cleanlab.filter import find_label_issues

    classes, probabilities = out_of_fold_probabilities(texts, given, seed=seed)
    index = {c: i for i, c in enumerate(classes)}
    labels = np.array([index[g] for g in given])
    issues = find_label_issues(labels, probabilities, return_indices_ranked_by="self_confidence")
    return np.asarray(issues, dtype=int), classes, probabilities


def review_labels(store: Store, taxonomy: Taxonomy, *, include_imported: bool = True, seed: int = 0) -> LabelReview:
    """The workspace's labels of ``taxonomy`` that look wrong (see the module's docstring)."""
    from core.work.training_data import ExportFilter, labelled_frame

    store.require("annotate")
    frame = labelled_frame(store, taxonomy, ExportFilter(taxonomy.id, include_imported=include_imported))
    frame = frame[frame["text"].astype(str).str.strip() != ""]
    level = label_level(frame, taxonomy) if len(frame) else None
    if len(frame):
        frame = frame.assign(given=[taxonomy.cut_codes(c, level)[0] for c in frame["codes"]])
        counts = frame["given"].value_counts()
        frame = frame[frame["given"].map(counts) >= MIN_PER_CODE].reset_index(drop=True)
    empty = pd.DataFrame(columns=["record_id", "external_id", "text", "given", "suggested", "given_probability",
                                  "suggested_probability", "source"])
    n_codes = int(frame["given"].nunique()) if len(frame) else 0
    if len(frame) < MIN_LABELS or n_codes < 2:
        return LabelReview(empty, len(frame), n_codes, level, TOO_FEW.format(MIN_LABELS, MIN_PER_CODE))
    issues, classes, probabilities = flag_labels(frame["text"].astype(str).tolist(), frame["given"].tolist(),
                                                 seed=seed)
    rows = []
    for i in issues:
        p = probabilities[i]
        top = int(np.argmax(p))
        rows.append({"record_id": int(frame["record_id"].iloc[i]), "external_id": frame["external_id"].iloc[i],
                     "text": str(frame["text"].iloc[i])[:300], "given": frame["given"].iloc[i],
                     "suggested": classes[top],
                     "given_probability": round(float(p[classes.index(frame["given"].iloc[i])]), 4),
                     "suggested_probability": round(float(p[top]), 4), "source": frame["source"].iloc[i]})
    return LabelReview(pd.DataFrame(rows, columns=empty.columns), len(frame), n_codes, level)


LEAVE_OUT_MAX = 0.5  # the largest share of the training labels the training option may leave out


def unreviewed_flags(review: LabelReview, labels: int, share: float) -> list[int]:
    """The records of the worst-ranked flagged labels that only an imported file gave (no person
    has confirmed or corrected them since), at most ``share`` of ``labels``: what training leaves
    out when asked to. Leaving out every flag costs more than it gains (``bench_label_errors``)."""
    if share <= 0 or review.flagged.empty:
        return []
    flagged = review.flagged[review.flagged["source"] == "imported"]
    return [int(i) for i in flagged["record_id"].head(int(share * labels))]


def suspect_queue(review: LabelReview, spec):
    """An Annotate queue of the flagged records, worst first, with ``spec``'s model for suggestions
    (a ``QueueSpec``; any status: the records are labelled)."""
    from dataclasses import replace

    from core.store import now
    from core.work.annotation import Queue

    ids = [int(i) for i in dict.fromkeys(review.flagged["record_id"].tolist())]
    return Queue(replace(spec, status="any", order="import", predicted_codes=()), ids, len(ids), now(),
                 work_on="suspect")


__all__ = ["FOLDS", "LEAVE_OUT_MAX", "LabelReview", "MIN_LABELS", "MIN_PER_CODE", "TOO_FEW", "flag_labels",
           "label_level", "out_of_fold_probabilities", "review_labels", "suspect_queue", "unreviewed_flags"]
