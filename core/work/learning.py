"""The learning loop's first step: a new model trained from the workspace's labels (the experts'
corrections, and on request the imported and machine-accepted labels), measured against the model
in use on workspace records that neither has trained on.

The labelled records are split by record (a record never lands on both sides); the new model is
trained on the training part only; both models are evaluated on the test part with the same
metrics as the Performance page. The folder records where its training data came from (label
counts, sources, the annotation log's chain head) beside its figures.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from core.domain.metrics import evaluate
from core.domain.taxonomy import Taxonomy
from core.errors import WorkbenchError
from core.models.manifest import Manifest, write_manifest
from core.models.scoring import predicted_codes, rank
from core.store import Store, now
from core.work.training_data import ExportFilter, labelled_frame, split

KINDS = ("tfidf", "tfidf-word")  # word + character n-grams (any language); word 1-grams as an ONNX graph
FIGURES = ("micro_f1", "macro_f1", "weighted_f1", "lenient_micro_f1", "hierarchical_micro_f1")
TEXT_FIELDS = ("title", "abstract", "keywords")
_READER = Manifest("", "", "", (), "", input_fields=TEXT_FIELDS)  # how the trained model reads a record


class LearningError(WorkbenchError):
    prefix = "Cannot train"


@dataclass
class TrainReport:
    folder: Path
    manifest: Manifest
    examples: int  # labelled records trained on
    test_records: int  # labelled records held out for the comparison
    after: dict  # the new model's figures on the test records
    before: dict | None  # the compared model's, on the same records


def training_frame(store: Store, taxonomy: Taxonomy, *, include_imported: bool = False, include_machine: bool = False,
                   language: str = "", level: int | None = None) -> pd.DataFrame:
    """One row per labelled record (its latest label; rejected records have none): text and code."""
    frame = labelled_frame(store, taxonomy, ExportFilter(taxonomy.id, level=level, include_machine=include_machine,
                                                         include_imported=include_imported, per_record="latest"))
    if language:
        frame = frame[frame["language"].fillna("").str.lower() == language.lower()]
    frame = frame[frame["codes"].map(len) > 0].copy()
    frame["code"] = frame["codes"].map(lambda codes: codes[0])
    frame["input"] = pd.Series([_READER.text_of(r) for r in frame.to_dict("records")], index=frame.index,
                               dtype=object).astype(str)
    return frame[frame["input"].str.len() > 0].reset_index(drop=True)


def _figures(classifier, taxonomy: Taxonomy, test: pd.DataFrame) -> dict:
    ranked = rank(classifier.manifest, classifier.predict_scores(test["input"].tolist()), taxonomy,
                  top_k=len(classifier.manifest.codes))
    pred = [predicted_codes(r, classifier.manifest.multi_label) for r in ranked]
    summary = evaluate([[c] for c in test["code"]], pred, taxonomy).summary
    return {"model": classifier.manifest.name, "version": classifier.manifest.version,
            **{k: round(float(summary.get(k, 0.0)), 4) for k in FIGURES}}


def train_from_workspace(store: Store, taxonomy: Taxonomy, models_dir: Path, name: str, *, kind: str = "tfidf",
                         include_imported: bool = False, include_machine: bool = False, language: str = "",
                         level: int | None = None, compare: Path | None = None, test: float = 0.2,
                         seed: int = 0) -> TrainReport:
    """Train a model folder ``models_dir/name`` from the workspace's labels and measure it (and
    the ``compare`` model) on held-out workspace records."""
    from core.models.runtimes import load_classifier
    from core.models.training import train_tfidf_model, train_word_char_model

    if kind not in KINDS:
        raise LearningError(f"kind '{kind}' is not available; kinds: {', '.join(KINDS)}")
    name = name.strip()
    if not name or Path(name).name != name or name.startswith("."):
        raise LearningError(f"'{name}' is not a usable folder name for a model")
    folder = Path(models_dir) / name
    if folder.exists():
        raise LearningError(f"'{folder}' exists already: choose a new name (each trained model is its own folder)")
    frame = training_frame(store, taxonomy, include_imported=include_imported, include_machine=include_machine,
                           language=language, level=level)
    counts = frame["code"].value_counts()
    if len(frame) < 20 or len(counts) < 2:
        raise LearningError(f"{len(frame)} labelled record(s) in {len(counts)} categor(y/ies) of '{taxonomy.name}': "
                            "at least 20 records in 2 categories are needed"
                            + ("" if include_imported else " (imported labels can be included)"))
    frame = split(frame, validation=0.0, test=test, seed=seed)
    train, held = frame[frame["split"] != "test"], frame[frame["split"] == "test"]
    base = Manifest(name=name, version=now()[:16].replace(":", "").replace("-", ""), taxonomy=taxonomy.id,
                    codes=(), runtime="onnx-text", input_fields=TEXT_FIELDS,
                    languages=(language,) if language else (),
                    training={"source": "workspace", "include_imported": include_imported,
                              "include_machine": include_machine, "level": level, "records": len(train),
                              "annotation_log_head": store.chain_head(), "trained_at": now()})
    tmp = folder.with_name(f".{name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        if kind == "tfidf":
            manifest = train_word_char_model(train["input"].tolist(), train["code"].tolist(), tmp, base)
        else:
            manifest = train_tfidf_model(train["input"].tolist(), train["code"].tolist(), tmp, base,
                                         max_features=50000)
        after = _figures(load_classifier(tmp), taxonomy, held) if len(held) else {}
        before = _figures(load_classifier(compare), taxonomy, held) if compare and len(held) else None
        manifest = replace(manifest, evaluation={**manifest.evaluation, "workspace_test": {
            "records": len(held), "after": after, "before": before}})
        write_manifest(tmp, manifest)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return TrainReport(folder, manifest, len(train), len(held), after, before)


__all__ = ["KINDS", "LearningError", "TrainReport", "train_from_workspace", "training_frame"]
