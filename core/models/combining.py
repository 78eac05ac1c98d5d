"""Folders made from folders already there: a model's temperature fitted on labelled records it did
not train on (what an Annif project's scores need before they read as probabilities), and an
ensemble of existing folders (ours, Annif's, an LLM's), weights fitted on labelled records none of
them trained on. Written to a temporary sibling and put in place: never half-written.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.domain.taxonomy import Taxonomy
from core.models.manifest import Manifest, ModelFolderError, load_manifest, place_folder, write_manifest


def gold_indices(codes: Sequence[str], gold: Sequence[Sequence[str]],
                 taxonomy: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    """(rows whose first gold code, cut to the outputs' level, is an output code; that code's column)."""
    column = {c: i for i, c in enumerate(codes)}
    levels = {taxonomy.level(c) for c in codes if c in taxonomy}
    rows, cols = [], []
    for i, g in enumerate(gold):
        for code in g:
            if code not in taxonomy:
                continue
            candidates = [code] + [taxonomy.cut(code, lv) for lv in sorted(levels) if taxonomy.level(code) > lv]
            hit = next((column[c] for c in candidates if c in column), None)
            if hit is not None:
                rows.append(i)
                cols.append(hit)
                break
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


def fit_calibration(folder: str | Path, texts: Sequence[str], gold: Sequence[Sequence[str]], taxonomy: Taxonomy,
                    *, source: str = "labelled records") -> Manifest:
    """Fit the folder's temperature on ``texts`` with their ``gold`` codes (records the model did
    not train on) and write it into its manifest."""
    from core.models.calibration import ece, held_out_calibration
    from core.models.runtimes import load_classifier

    folder = Path(folder)
    manifest = load_manifest(folder)
    if manifest.multi_label:
        raise ModelFolderError(f"'{folder}' is multi-label: its scores are not temperature-scaled")
    raw = replace(manifest, calibration={})
    write_manifest(folder, raw)  # scores as the model gives them
    try:
        scores = load_classifier(folder).predict_scores(list(texts))
    except Exception:
        write_manifest(folder, manifest)
        raise
    rows, cols = gold_indices(manifest.codes, gold, taxonomy)
    if len(rows) < 20:
        write_manifest(folder, manifest)
        raise ModelFolderError(f"only {len(rows)} of the {len(texts)} records have a gold code among the model's "
                               "outputs; at least 20 are needed to fit a calibration")
    calibration = held_out_calibration(scores[rows], cols, f"{len(rows)} {source}", codes=manifest.codes)
    from core.models.calibration import scaled

    calibration["ece_before"] = round(ece(scores[rows] / np.maximum(scores[rows].sum(1, keepdims=True), 1e-9), cols), 4)
    calibration["ece_after"] = round(ece(scaled(scores[rows], calibration["temperature"]), cols), 4)
    fitted = replace(manifest, calibration=calibration)
    write_manifest(folder, fitted)
    return fitted


def combine(members: Sequence[str | Path], texts: Sequence[str], gold: Sequence[Sequence[str]], taxonomy: Taxonomy,
            folder: str | Path, *, name: str | None = None, replace_existing: bool = False) -> Manifest:
    """An ensemble of the ``members`` folders, weights and temperature fitted on ``texts`` with
    their ``gold`` codes (records none of the members trained on)."""
    from core.models.kinds.ensemble import build_ensemble
    from core.models.runtimes import load_classifier

    folder = Path(folder)
    if len(members) < 2:
        raise ModelFolderError("an ensemble needs at least two member folders")
    loaded = []
    for member in members:
        clf = load_classifier(member)
        if clf.manifest.taxonomy and clf.manifest.taxonomy != taxonomy.id:
            raise ModelFolderError(f"'{member}' suggests codes of '{clf.manifest.taxonomy}', not '{taxonomy.id}'")
        loaded.append(clf)
    names = [Path(m).name for m in members]
    if len(set(names)) != len(names):
        raise ModelFolderError("the member folders need different names")
    classes = sorted({c for clf in loaded for c in clf.manifest.codes})
    rows, cols = gold_indices(classes, gold, taxonomy)
    if len(rows) < 20:
        raise ModelFolderError(f"only {len(rows)} records have a gold code among the members' outputs; "
                               "at least 20 are needed to fit the weights")
    kept = [texts[i] for i in rows]
    parts = []
    for member, clf in zip(members, loaded):
        scores = clf.predict_scores(kept)  # calibrated: the member's manifest below carries no calibration
        parts.append((Path(member), replace(clf.manifest, calibration={}),
                      (list(clf.manifest.codes), scores, np.arange(len(kept)))))
    gold_codes = [[classes[c]] for c in cols]
    base = Manifest(name=name or folder.name, version="1", taxonomy=taxonomy.id, codes=(), runtime="ensemble",
                    input_fields=loaded[0].manifest.input_fields, languages=loaded[0].manifest.languages,
                    training={"kind": "ensemble", "fitted_on": f"{len(kept)} labelled records"})
    tmp = folder.with_name(folder.name + ".combining")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        manifest = build_ensemble(parts, gold_codes, tmp, base)  # members keep their own calibration
        place_folder(tmp, folder, replace_existing)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


__all__ = ["combine", "fit_calibration", "gold_indices"]
