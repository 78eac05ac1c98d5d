"""The ``ensemble`` kind: members of other kinds trained on the same records, their calibrated
scores mixed with weights fitted on the members' out-of-fold predictions (``ensemble``)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.fitting import Fitted
from core.models.kinds.base import Field, Kind, OutOfFold, Trained, TrainingInput
from core.models.kinds.tfidf import out_of_fold as fitted_out_of_fold
from core.models.manifest import Manifest, is_fast, write_manifest

MEMBER_SETS = ("tfidf+head", "tfidf+knn", "tfidf+head+knn", "tfidf+finetune", "tfidf+head+finetune")


def build_ensemble(members: Sequence[tuple[Path, Manifest, OutOfFold | Fitted | None]],
                   codes: Sequence[Sequence[str]], folder: Path, manifest: Manifest, *,
                   multi_label: bool = False) -> Manifest:
    """An ensemble of trained member folders, each with its predictions on training rows it did
    not see (``OutOfFold``, or the ``Fitted`` of a linear kind); the weights are fitted on the rows
    every member predicted unseen."""
    from core.models.calibration import held_out_calibration
    from core.models.encoder import link_tree
    from core.models.fitting import fit_weights

    classes, aligned, known = out_of_fold(members, len(codes))
    if multi_label or not known.any():
        weights = [round(1.0 / len(members), 4)] * len(members)
        calibration = {}
    else:
        index = {c: i for i, c in enumerate(classes)}
        gold = np.array([index[codes[i][0]] for i in np.flatnonzero(known)])
        weights = fit_weights([a[known] for a in aligned], gold)
        calibration = held_out_calibration(weighted_mean(aligned, known, weights), gold,
                                           "out-of-fold predictions of the members", codes=classes)
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for member_folder, _, _ in members:
        link_tree(member_folder, folder / "members" / member_folder.name)
        names.append(member_folder.name)
    fast = {"tier": "fast"} if all(is_fast(m) for _, m, _ in members) else {}
    manifest = replace(manifest, runtime="ensemble", codes=tuple(classes), multi_label=multi_label, files={},
                       calibration=calibration,
                       training={**manifest.training, **fast, "examples": len(codes), "members": names,
                                 "weights": weights, "method": "weighted mean of members' calibrated scores, "
                                                               "weights fitted on out-of-fold predictions"})
    write_manifest(folder, manifest)
    return manifest


def weighted_mean(aligned: Sequence[np.ndarray], rows: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """The ensemble's scores on ``rows``: its members' aligned scores, weighted."""
    return sum(w * a[rows] for w, a in zip(weights, aligned)) / (sum(weights) or 1.0)


def out_of_fold(members: Sequence[tuple[Path, Manifest, OutOfFold | Fitted | None]], n: int) -> tuple[list[str],
                                                                                       list[np.ndarray], np.ndarray]:
    """The members' calibrated out-of-fold scores on the ``n`` training rows, aligned on the union
    of their classes, and the rows every member predicted without having seen them."""
    from core.models.calibration import calibrate

    classes = sorted({c for _, m, _ in members for c in m.codes})
    aligned = []
    known = np.ones(n, dtype=bool)
    for _, m, oof in members:
        if isinstance(oof, Fitted):
            oof = fitted_out_of_fold(oof)
        out = np.zeros((n, len(classes)), dtype=np.float32)
        seen = np.zeros(n, dtype=bool)
        if oof is not None:
            member_classes, scores, rows = oof
            full = np.zeros((n, len(member_classes)), dtype=np.float32)
            full[rows] = scores
            out[:, [classes.index(c) for c in member_classes]] = calibrate(full, m)
            seen[rows] = True
        aligned.append(out)
        known &= seen
    return classes, aligned, known


def train(data: TrainingInput) -> Trained:
    from core.models.kinds import get

    names = str(data.params.get("members") or MEMBER_SETS[0]).split("+")
    parts = data.folder.parent / f"{data.folder.name}.members"
    shutil.rmtree(parts, ignore_errors=True)
    try:
        members = []
        for k, name in enumerate(names):
            kind = get(name)
            member_name = f"{data.manifest.name}-{name}"
            share = (k / len(names), (k + 1) / len(names))
            trained = kind.train(replace(
                data, folder=parts / member_name, manifest=replace(data.manifest, name=member_name),
                params=kind.recipe({key[len(name) + 1:]: v for key, v in data.params.items()
                                    if key.startswith(f"{name}.")}),
                progress=lambda stage, f, share=share: data.progress(stage, share[0] + f * (share[1] - share[0])),
                checkpoints=(data.checkpoints / name) if data.checkpoints else None))
            members.append((parts / member_name, trained.manifest, trained.out_of_fold))
        manifest = build_ensemble(members, data.codes, data.folder, data.manifest, multi_label=data.multi_label)
        manifest = replace(manifest, training={**manifest.training, "recipe": data.params})
        write_manifest(data.folder, manifest)
        classes, aligned, known = out_of_fold(members, len(data.codes))
        mixed = weighted_mean(aligned, known, manifest.training.get("weights") or [1.0] * len(aligned))
        return Trained(manifest, (classes, mixed, np.flatnonzero(known)) if known.any() else None)
    finally:
        shutil.rmtree(parts, ignore_errors=True)


def _reads_vectors(params: dict | None) -> bool:
    from core.models.kinds import get

    names = str((params or {}).get("members") or MEMBER_SETS[0]).split("+")
    return any(get(n).reads_vectors() for n in names)


class _EnsembleKind(Kind):
    def reads_vectors(self, params: dict | None = None) -> bool:
        return _reads_vectors(params)

    def can_place(self, params: dict | None = None) -> bool:
        """Where a member trains on several workers (the fine-tuned one), the ensemble can."""
        from core.models.kinds import get

        return any(get(n).distributes for n in str((params or {}).get("members") or MEMBER_SETS[0]).split("+"))

    def vector_encoder(self, params: dict | None = None) -> str:
        """The encoder its vector-reading members (the head, the nearest records) are trained on."""
        params = params or {}
        return str(params.get("head.encoder") or params.get("knn.encoder") or "minilm")

    def recipe(self, changes: dict | None = None) -> dict:
        """Its own settings, and its members' as ``<member>.<setting>``."""
        from core.models.kinds import get

        own = {k: v for k, v in (changes or {}).items() if "." not in k}
        recipe = Kind.recipe(self, own)
        for key, value in (changes or {}).items():
            if "." in key:
                member, setting = key.split(".", 1)
                if member not in recipe["members"].split("+"):
                    raise ValueError(f"'{key}': {member} is not a member of this ensemble ({recipe['members']})")
                recipe[key] = get(member).recipe({setting: value})[setting]
        readers = [m for m in recipe["members"].split("+") if get(m).reads_vectors()]
        named = [recipe[f"{m}.encoder"] for m in readers if recipe.get(f"{m}.encoder")]
        for m in readers:  # a member given no encoder reads the one another member was given
            if named and not recipe.get(f"{m}.encoder"):
                recipe[f"{m}.encoder"] = named[0]
        encoders = {str(recipe.get(f"{m}.encoder") or "minilm") for m in readers}
        if len(encoders) > 1:
            raise ValueError(f"the members {' and '.join(readers)} read one encoder's vectors: give them the same "
                             f"encoder, not {' and '.join(sorted(encoders))}")
        return recipe


KIND = _EnsembleKind(
    name="ensemble", help="members of other kinds (TF-IDF + head by default), weights fitted on out-of-fold "
                          "predictions", runtime="ensemble", reads=frozenset({"texts", "vectors"}), train=train,
    recipe_version="1.1.0",
    fields=(Field("members", "Members", "choice", MEMBER_SETS[0],
                  "the kinds mixed: each is trained on the same records, then weighted", choices=MEMBER_SETS),))

__all__ = ["KIND", "MEMBER_SETS", "build_ensemble", "out_of_fold", "weighted_mean"]
