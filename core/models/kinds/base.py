"""What a model kind declares: its runtime, what it reads, how it trains, its default recipe and
the form fields a lead may change. Each kind is one module of this package exposing ``KIND``;
the table in ``core.models.kinds`` finds them lazily by name.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from core.domain.taxonomy import Taxonomy
from core.models.manifest import Manifest, write_manifest

OutOfFold = tuple  # (classes, scores of training rows a model did not see, those rows)


@dataclass(frozen=True)
class Field:
    """One knob of a kind's recipe, as a form shows it: ``type`` is "int", "float", "choice", "bool",
    "text", "encoder" (a name among the encoders a fine-tuned kind starts from) or "finetuned" (a
    fine-tuned model folder of the taxonomy); ``low`` and
    ``high`` bound numbers; ``help`` says what it does in one line."""

    name: str
    label: str
    type: str
    default: Any
    help: str
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    advanced: bool = False

    def coerce(self, value: Any) -> Any:
        """``value`` checked and converted for this field; a ValueError names the field."""
        if self.type in ("text", "encoder", "finetuned"):
            text = "" if value is None else str(value).strip()
            if len(text) > 500 or any(ord(ch) < 32 for ch in text):
                raise ValueError(f"{self.name} must be one line of at most 500 characters")
            return text
        try:
            if self.type == "bool":
                if isinstance(value, str):
                    if value.lower() in ("1", "true", "yes", "on"):
                        return True
                    if value.lower() in ("0", "false", "no", "off"):
                        return False
                    raise ValueError
                return bool(value)
            if self.type == "choice":
                if str(value) not in [str(c) for c in self.choices]:
                    raise ValueError
                return str(value)
            number = int(value) if self.type == "int" else float(value)
            if isinstance(value, float) and self.type == "int" and number != value:
                raise ValueError
        except (TypeError, ValueError):
            allowed = f"one of {', '.join(map(str, self.choices))}" if self.type == "choice" else \
                ("true or false" if self.type == "bool" else f"a{'n integer' if self.type == 'int' else ' number'}")
            raise ValueError(f"{self.name} must be {allowed}, not '{value}'") from None
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise ValueError(f"{self.name} must lie between {self.low:g} and {self.high:g}, not {number:g}")
        return number


@dataclass(frozen=True)
class Placement:
    """Where a training runs, beside its recipe (what is trained): ``workers`` data-parallel
    processes (Ray Train; 1 trains in this process) and ``address`` a running Ray cluster
    (ray://host:10001 or host:6379; empty: a local one where workers > 1). The same recipe on
    another placement is the same model; only a kind that ``distributes`` reads it."""

    workers: int = 1
    address: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.workers, int) or not 1 <= self.workers <= 256:
            raise ValueError(f"workers must be an integer between 1 and 256, not '{self.workers}'")
        if len(self.address) > 500 or any(ord(ch) < 32 for ch in self.address):
            raise ValueError("the Ray cluster address must be one line of at most 500 characters")

    @property
    def here(self) -> bool:
        return self.workers == 1 and not self.address


@dataclass
class TrainingInput:
    """Everything a kind trains from. ``codes``: one list per text (a single code each unless
    ``multi_label``); ``vectors``: the texts' kept encoder vectors where the kind reads them;
    ``params``: the recipe (the kind's defaults with the lead's changes); ``progress(stage,
    fraction)`` with fraction in [0, 1] of this kind's training; ``checkpoints``: a folder that
    survives a killed worker, to resume from; ``taxonomy``: the taxonomy classified into."""

    texts: list[str]
    codes: list[list[str]]
    folder: Path
    manifest: Manifest
    models_dir: Path
    multi_label: bool = False
    seed: int = 0
    vectors: np.ndarray | None = None
    params: dict = field(default_factory=dict)
    progress: Callable[[str, float], None] = lambda stage, fraction: None  # noqa: ARG005 - the interface's signature
    should_stop: Callable[[], bool] = lambda: False
    checkpoints: Path | None = None
    placement: Placement = field(default_factory=Placement)
    taxonomy: Taxonomy | None = None  # the taxonomy classified into (a kind that scores its nodes reads it)


@dataclass
class Trained:
    """A trained folder's manifest and the recipe's predictions on training rows it did not see
    (out-of-fold, or a validation split): they give cross-validated figures and ensemble weights.
    ``curve``: per-epoch figures of an iterative kind."""

    manifest: Manifest
    out_of_fold: OutOfFold | None = None
    curve: list[dict] | None = None


@dataclass(frozen=True)
class Kind:
    name: str
    help: str  # one line for a kind chooser
    runtime: str  # the runtime its folders load with (``core.models.runtimes``)
    reads: frozenset  # "texts", "vectors" (the kept encoder vectors of records)
    train: Callable[[TrainingInput], Trained]
    fields: tuple[Field, ...] = ()
    recipe_version: str = "1.0.0"
    distributes: bool = False  # it can train on several workers or a Ray cluster (``Placement``)

    @property
    def defaults(self) -> dict:
        return {f.name: f.default for f in self.fields}

    def recipe(self, changes: dict | None = None) -> dict:
        """The default recipe with ``changes`` checked against the fields (unknown names refused)."""
        known = {f.name: f for f in self.fields}
        unknown = sorted(set(changes or {}) - set(known))
        if unknown:
            raise ValueError(f"kind '{self.name}' has no setting {', '.join(unknown)}; its settings: "
                             f"{', '.join(known) or 'none'}")
        return {**self.defaults, **{k: known[k].coerce(v) for k, v in (changes or {}).items()}}

    def reads_vectors(self, params: dict | None = None) -> bool:  # noqa: ARG002 - the interface's signature
        return "vectors" in self.reads

    def can_place(self, params: dict | None = None) -> bool:  # noqa: ARG002 - the interface's signature
        """Whether this recipe can train elsewhere than in this process (``Placement``)."""
        return self.distributes

    def vector_encoder(self, params: dict | None = None) -> str:
        """The sentence encoder (a key of ``core.models.encoder.SENTENCE_ENCODERS``) whose vectors a
        kind that reads vectors is trained on: its recipe's ``encoder`` setting, else MiniLM."""
        return str((params or {}).get("encoder") or "minilm")


def finish(folder: Path, manifest: Manifest, classes: Sequence[str], codes: Sequence[Sequence[str]],
           multi_label: bool, method: str, files: dict, calibration: dict) -> Manifest:
    """Write a trained folder's manifest: its codes, files, calibration and what it was trained on."""
    manifest = replace(manifest, codes=tuple(classes), multi_label=multi_label, files=files, calibration=calibration,
                       training={**manifest.training, "examples": len(codes), "method": method,
                                 "per_code": dict(sorted(Counter(c for cs in codes for c in cs).items()))})
    write_manifest(folder, manifest)
    return manifest


def with_recipe(data: TrainingInput, manifest: Manifest, oof: OutOfFold | None) -> Trained:
    """A kind's trained folder with its recipe recorded in the manifest."""
    manifest = replace(manifest, training={**manifest.training, "recipe": data.params})
    write_manifest(data.folder, manifest)
    return Trained(manifest, oof)


def gold_indices(classes: Sequence[str], codes: Sequence[Sequence[str]], rows) -> np.ndarray:
    """Each row's first code, as its index in ``classes`` (single-label calibration)."""
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[codes[int(i)][0]] for i in rows])


__all__ = ["Field", "Kind", "OutOfFold", "Placement", "Trained", "TrainingInput", "finish", "gold_indices",
           "with_recipe"]
