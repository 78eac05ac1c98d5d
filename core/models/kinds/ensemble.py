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

MEMBER_SETS = ("tfidf+head", "tfidf+knn", "tfidf+head+knn", "tfidf+finetune", "tfidf+head+finetune", "head+zeroshot")


def member_maps(members: Sequence[tuple[Path, Manifest, object]], codes: Sequence[Sequence[str]],
                taxonomy=None) -> dict[str, dict[str, str]]:
    """Per member, its codes below the training codes' level mapped onto their ancestor at that
    level (a zero-shot member scores the taxonomy's leaves; the ensemble suggests at the level it
    was trained at, each code getting the sum of its leaves)."""
    if taxonomy is None:
        return {}
    trained = {c for cs in codes for c in cs if c in taxonomy}
    if not trained:
        return {}
    level = min(taxonomy.level(c) for c in trained)
    maps = {}
    for folder, m, _ in members:
        deeper = {c: taxonomy.cut(c, level) for c in m.codes if c not in trained and c in taxonomy
                  and taxonomy.level(c) > level}
        if deeper:
            maps[folder.name] = deeper
    return maps


def fixed_weights(text: str, members: int) -> list[float] | None:
    """The recipe's ``weights`` ("0.3,0.7": one per member, in order), or None to fit them."""
    if not str(text or "").strip():
        return None
    try:
        weights = [float(w) for w in str(text).split(",")]
    except ValueError:
        raise ValueError(f"weights '{text}': give one number per member, separated by commas") from None
    if len(weights) != members or any(w < 0 for w in weights) or not sum(weights):
        raise ValueError(f"weights '{text}': give {members} numbers, one per member, none negative, not all 0")
    return [round(w / sum(weights), 4) for w in weights]


def build_ensemble(members: Sequence[tuple[Path, Manifest, OutOfFold | Fitted | None]],
                   codes: Sequence[Sequence[str]], folder: Path, manifest: Manifest, *,
                   multi_label: bool = False, taxonomy=None, weights: Sequence[float] | None = None,
                   cross_lingual: bool = False) -> Manifest:
    """An ensemble of trained member folders, each with its predictions on training rows it did
    not see (``OutOfFold``, or the ``Fitted`` of a linear kind); the weights are fitted on the rows
    every member predicted unseen, unless ``weights`` fixes them (then no temperature is fitted
    either: the records they would be fitted on are not those the weights were chosen for). With
    ``taxonomy``, a member's deeper codes are summed into the ensemble's (``member_maps``).
    ``cross_lingual``: the members read as the cross-lingual default reads them
    (``cross_lingual_options``: deeper codes folded by their best, learnt members' priors divided out)."""
    from core.models.calibration import held_out_calibration, with_conformal
    from core.models.encoder import link_tree
    from core.models.fitting import fit_weights

    maps = member_maps(members, codes, taxonomy)
    options = cross_lingual_options(members, maps) if cross_lingual else {}
    classes, aligned, known = out_of_fold(members, len(codes), maps, **options)
    index = {c: i for i, c in enumerate(classes)}
    gold = np.array([index[codes[i][0]] for i in np.flatnonzero(known)]) if known.any() and not multi_label else None
    if weights is not None:
        weights = list(weights)
        calibration = {} if gold is None else with_conformal({}, weighted_mean(aligned, known, weights), gold,
                                                             codes=classes)
        how = f"weights fixed by the recipe ({', '.join(str(w) for w in weights)})"
    elif gold is None:
        weights = [round(1.0 / len(members), 4)] * len(members)
        calibration, how = {}, "equal weights"
    else:
        weights = fit_weights([a[known] for a in aligned], gold)
        calibration = held_out_calibration(weighted_mean(aligned, known, weights), gold,
                                           "out-of-fold predictions of the members", codes=classes)
        how = "weights fitted on out-of-fold predictions"
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for member_folder, _, _ in members:
        link_tree(member_folder, folder / "members" / member_folder.name)
        names.append(member_folder.name)
    fast = {"tier": "fast"} if all(is_fast(m) for _, m, _ in members) else {}
    mapped = {"member_codes": maps} if maps else {}
    read = {f"member_{k}": v for k, v in options.items() if v}
    manifest = replace(manifest, runtime="ensemble", codes=tuple(classes), multi_label=multi_label, files={},
                       calibration=calibration,
                       training={**manifest.training, **fast, **mapped, **read, "examples": len(codes),
                                 "members": names, "weights": weights,
                                 "method": f"weighted mean of members' calibrated scores, {how}"})
    write_manifest(folder, manifest)
    return manifest


def weighted_mean(aligned: Sequence[np.ndarray], rows: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """The ensemble's scores on ``rows``: its members' aligned scores, weighted."""
    return sum(w * a[rows] for w, a in zip(weights, aligned)) / (sum(weights) or 1.0)


def cross_lingual_options(members: Sequence[tuple[Path, Manifest, object]],
                          maps: dict[str, dict[str, str]]) -> dict[str, dict]:
    """How the cross-lingual default reads its members (``core.models.crosslingual``): a member
    scoring deeper codes (the zero-shot leaves) folds them into their ancestor by the best one
    (``fold``); a member that learnt from labelled records has its records' code shares divided
    out (``prior``), since a language nobody labelled brings its own topic mix."""
    fold, prior = {}, {}
    for folder, m, _ in members:
        if folder.name in maps:
            fold[folder.name] = "max"
        elif m.training.get("per_code"):
            counts = {str(c): float(n) for c, n in m.training["per_code"].items()}
            total = sum(counts.values()) or 1.0
            prior[folder.name] = {c: round(n / total, 6) for c, n in counts.items()}
    return {"fold": fold, "prior": prior}


def out_of_fold(members: Sequence[tuple[Path, Manifest, OutOfFold | Fitted | None]], n: int,
                maps: dict[str, dict[str, str]] | None = None, fold: dict[str, str] | None = None,
                prior: dict[str, dict] | None = None) -> tuple[list[str], list[np.ndarray], np.ndarray]:
    """The members' calibrated out-of-fold scores on the ``n`` training rows, aligned on the union
    of their classes (a member's codes mapped by ``maps`` summed, or by ``fold`` "max" taken at
    their best, into their targets; ``prior``: code shares divided out), and the rows every
    member predicted without having seen them."""
    from core.models.calibration import calibrate
    from core.models.runtimes.ensemble import aligned as align
    from core.models.runtimes.ensemble import member_prior

    maps, fold, prior = maps or {}, fold or {}, prior or {}
    classes = sorted({maps.get(f.name, {}).get(c, c) for f, m, _ in members for c in m.codes})
    aligned = []
    known = np.ones(n, dtype=bool)
    for folder, m, oof in members:
        if isinstance(oof, Fitted):
            oof = fitted_out_of_fold(oof)
        out = np.zeros((n, len(classes)), dtype=np.float32)
        seen = np.zeros(n, dtype=bool)
        if oof is not None:
            member_classes, scores, rows = oof
            full = np.zeros((n, len(member_classes)), dtype=np.float32)
            full[rows] = scores
            mapped = maps.get(folder.name, {})
            columns = np.array([classes.index(mapped.get(c, c)) for c in member_classes])
            out[rows] = align(calibrate(full, m)[rows], columns, len(classes), fold=fold.get(folder.name, "sum"),
                              prior=member_prior(member_classes, prior.get(folder.name)))
            seen[rows] = True
        aligned.append(out)
        known &= seen
    return classes, aligned, known


def train(data: TrainingInput) -> Trained:
    from core.models.kinds import get

    names = str(data.params.get("members") or MEMBER_SETS[0]).split("+")
    parts = data.folder.parent / f"{data.folder.name}.members"
    shutil.rmtree(parts, ignore_errors=True)
    cross_lingual = bool(data.params.get("cross_lingual"))
    try:
        members = []
        for k, name in enumerate(names):
            kind = get(name)
            member_name = f"{data.manifest.name}-{name}"
            share = (k / len(names), (k + 1) / len(names))
            own = {key[len(name) + 1:]: v for key, v in data.params.items() if key.startswith(f"{name}.")}
            if cross_lingual and name == "head":  # its training shares are divided out after (member_prior):
                own.setdefault("imbalance", "plain")  # class weights as well would count them twice
            trained = kind.train(replace(
                data, folder=parts / member_name, manifest=replace(data.manifest, name=member_name),
                params=kind.recipe(own),
                progress=lambda stage, f, share=share: data.progress(stage, share[0] + f * (share[1] - share[0])),
                checkpoints=(data.checkpoints / name) if data.checkpoints else None))
            members.append((parts / member_name, trained.manifest, trained.out_of_fold))
        manifest = build_ensemble(members, data.codes, data.folder, data.manifest, multi_label=data.multi_label,
                                  taxonomy=data.taxonomy, weights=fixed_weights(data.params.get("weights"), len(names)),
                                  cross_lingual=cross_lingual)
        manifest = replace(manifest, training={**manifest.training, "recipe": data.params})
        if cross_lingual:
            from core.models.crosslingual import cross_lingual_manifest

            manifest = cross_lingual_manifest(data.folder, manifest, data.vectors)
        write_manifest(data.folder, manifest)
        classes, aligned, known = out_of_fold(members, len(data.codes), manifest.training.get("member_codes"),
                                              manifest.training.get("member_fold"),
                                              manifest.training.get("member_prior"))
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
        return str(params.get("head.encoder") or params.get("knn.encoder") or params.get("zeroshot.encoder")
                   or "minilm")

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
        for m in readers:  # a member given no encoder reads the one another member was given (else MiniLM)
            if not recipe.get(f"{m}.encoder") and (named or len(readers) > 1):
                recipe[f"{m}.encoder"] = named[0] if named else "minilm"
        fixed_weights(recipe.get("weights"), len(recipe["members"].split("+")))  # refused here, not after training
        encoders = {str(recipe.get(f"{m}.encoder") or "minilm") for m in readers}
        if len(encoders) > 1:
            raise ValueError(f"the members {' and '.join(readers)} read one encoder's vectors: give them the same "
                             f"encoder, not {' and '.join(sorted(encoders))}")
        return recipe


KIND = _EnsembleKind(
    name="ensemble", help="members of other kinds (TF-IDF + head by default), weights fitted on out-of-fold "
                          "predictions", runtime="ensemble", reads=frozenset({"texts", "vectors"}), train=train,
    recipe_version="1.3.0",
    fields=(Field("members", "Members", "choice", MEMBER_SETS[0],
                  "the kinds mixed: each is trained on the same records, then weighted", choices=MEMBER_SETS),
            Field("weights", "Fixed weights (empty: fitted)", "text", "",
                  "one weight per member, in order, separated by commas (e.g. 0.3,0.7): for a language the "
                  "training records are not in, where weights fitted on them would favour the member that read "
                  "them best", advanced=True),
            Field("cross_lingual", "Cross-lingual", "bool", False,
                  "keep the training vectors' mean, so records of another language are shifted onto the training "
                  "language before scoring (a head and a zero-shot member on the multilingual encoder)",
                  advanced=True)))

__all__ = ["KIND", "MEMBER_SETS", "build_ensemble", "out_of_fold", "weighted_mean"]
