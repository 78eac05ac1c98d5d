"""Deep suggestions where labels exist only higher up (the ``cascade`` family): a supervised model
that knows a level (e.g. FORD level 2, from labelled corpora) chooses the branch, and a zero-shot
model ranks the nodes below it; e.g. FORD + SciNoBo's 1,198 nodes from a level-2 head.

For a leaf ``l`` under the supervised code ``a``:
    cascade(l) = P_supervised(a) * zs(l) / sum of zs over the leaves under a
and the model's score is  w * cascade + (1 - w) * zs,  so leaves under a code the supervised model
cannot predict (no training example) keep their zero-shot mass. ``w`` is chosen for top-1 accuracy
at the supervised model's level on labelled records (ties: log-loss), then the mixture's
temperature is fitted there. Both members read the same encoder, so a record is encoded once.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.domain.taxonomy import Taxonomy
from core.models.encoder import link_tree
from core.models.manifest import Manifest, load_manifest, write_manifest


def branches(taxonomy: Taxonomy, leaves: Sequence[str], supervised_codes: Sequence[str]) -> np.ndarray:
    """For each leaf, the index of the supervised code it lies under (-1: none)."""
    index = {c: i for i, c in enumerate(supervised_codes)}
    out = np.full(len(leaves), -1, dtype=np.int64)
    for k, leaf in enumerate(leaves):
        for code in [leaf, *taxonomy.ancestors(leaf)]:
            if code in index:
                out[k] = index[code]
                break
    return out


def combine(supervised: np.ndarray, zero_shot: np.ndarray, branch: np.ndarray, weight: float) -> np.ndarray:
    """``weight`` * cascade + (1 - ``weight``) * zero-shot, per leaf (rows sum to 1)."""
    covered = branch >= 0
    mass = np.zeros((zero_shot.shape[0], supervised.shape[1]), dtype=np.float64)
    np.add.at(mass.T, branch[covered], zero_shot[:, covered].T)
    cascade = np.zeros_like(zero_shot, dtype=np.float64)
    share = zero_shot[:, covered] / np.maximum(mass[:, branch[covered]], 1e-12)
    cascade[:, covered] = supervised[:, branch[covered]] * share
    total = cascade.sum(axis=1, keepdims=True)
    cascade = np.where(total > 0, cascade / np.maximum(total, 1e-12), zero_shot)
    return (weight * cascade + (1.0 - weight) * zero_shot).astype(np.float32)


def build_cascade(taxonomy: Taxonomy, supervised_folder: Path, zero_shot_folder: Path, folder: Path,
                  manifest: Manifest, *, labelled: tuple[np.ndarray, Sequence[str]] | None = None,
                  fit_with: Path | None = None) -> Manifest:
    """A ``cascade`` folder over ``taxonomy``'s leaves (those of the zero-shot member).
    ``labelled``: (record vectors, gold codes at the supervised level) to choose the weight and
    fit the temperature, scored by ``fit_with`` (a supervised model of the same codes that did not
    train on them; default the supervised member); without it the weight is 0.5 and no
    temperature is fitted."""
    from core.models.calibration import fit_through_rollup
    from core.models.fitting import fit_weights
    from core.models.runtimes import load_classifier

    supervised, zero = load_manifest(supervised_folder), load_manifest(zero_shot_folder)
    branch = branches(taxonomy, zero.codes, supervised.codes)
    weight, calibration = 0.5, {}
    if labelled is not None:
        vectors, gold = labelled
        scorer = load_classifier(fit_with or supervised_folder)
        raw = scorer.scores_from_vectors(vectors)
        sup = np.zeros((raw.shape[0], len(supervised.codes)), dtype=np.float32)  # its columns as the member's
        for j, code in enumerate(scorer.manifest.codes):
            if code in supervised.codes:
                sup[:, supervised.codes.index(code)] = raw[:, j]
        zs = load_classifier(zero_shot_folder).scores_from_vectors(vectors)
        level_codes = list(supervised.codes)
        rows = [i for i, g in enumerate(gold) if g in level_codes]
        y = np.array([level_codes.index(gold[i]) for i in rows])
        up = np.zeros((len(zero.codes), len(level_codes)), dtype=np.float32)
        up[np.flatnonzero(branch >= 0), branch[branch >= 0]] = 1.0

        def at_level(w: float) -> np.ndarray:
            return combine(sup[rows], zs[rows], branch, w) @ up

        weight = float(fit_weights([at_level(1.0), at_level(0.0)], y, step=0.1)[0])  # linear in the weight
        leaves = combine(sup[rows], zs[rows], branch, weight)
        calibration = fit_through_rollup(taxonomy, list(zero.codes), leaves, [gold[i] for i in rows])
    folder.mkdir(parents=True, exist_ok=True)
    for member in (supervised_folder, zero_shot_folder):
        link_tree(member, folder / "members" / member.name)
    manifest = replace(manifest, codes=zero.codes, runtime="cascade", multi_label=False, taxonomy=taxonomy.id,
                       input_fields=supervised.input_fields, joiner=supervised.joiner, calibration=calibration,
                       files={"supervised": f"members/{supervised_folder.name}",
                              "zero_shot": f"members/{zero_shot_folder.name}"},
                       languages=supervised.languages,
                       training={**manifest.training, "weight": weight, "branches": branch.tolist(),
                                 "method": f"{supervised.name} chooses the branch, {zero.name} ranks the nodes "
                                           f"below it; mixed with the zero-shot scores (weight {weight})"})
    write_manifest(folder, manifest)
    return manifest


__all__ = ["branches", "build_cascade", "combine"]
