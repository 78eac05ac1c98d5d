"""The shipped default models: one table row each, built by its family from the shipped corpora.

A row names a folder (``{t}`` is the taxonomy of the corpus it learns from), its family and that
family's recipe. A family is either a kind of ``core.models.kinds`` (the same training the
workspace's loop runs, with held-out figures: ``core.models.held_out.train_kind``) or one of the
builders below, for the defaults no workspace trains (an ONNX export, zero-shot, a cascade, the
cross-lingual default). Shipping a new kind as a default is one row here.

A folder carries its family's version: when a kind's ``recipe_version`` (or a builder's
``version``) changes, its defaults are rebuilt by the next set-up.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from core.models.manifest import MANIFEST_FILE, Manifest, load_manifest, write_manifest

TAXONOMIES = ("ford", "cap")


@dataclass(frozen=True)
class Default:
    """One shipped default. ``name`` and ``target`` may hold ``{t}``: the corpus's taxonomy.
    ``target``: the taxonomy the model classifies into (the corpus's unless given). ``changes``:
    more manifest fields. ``lexical``: built first, in seconds (the app starts on these).
    ``characters``: a vector-reading kind reads each training text's first this many characters."""

    name: str
    family: str
    recipe: dict = field(default_factory=dict)
    taxonomies: tuple[str, ...] = TAXONOMIES
    target: str = "{t}"
    changes: dict = field(default_factory=dict)
    lexical: bool = False
    help: str = ""
    characters: int | None = None


# the build order: the lexical models of every taxonomy, then per taxonomy the rest in this order
DEFAULTS: tuple[Default, ...] = (
    Default("{t}-tfidf", "onnx-tfidf", {"max_features": 50_000, "c": 10.0}, lexical=True,
            help="TF-IDF (word 1-grams) + logistic regression exported to ONNX (string input)"),
    Default("{t}-minilm-pt", "transformers-head",
            help="a transformers folder on all-MiniLM-L6-v2 with a classification head on its [CLS] vectors"),
    Default("{t}-minilm", "head", {"encoder": "minilm"}, changes={"max_length": 256},
            help="logistic regression on the shared MiniLM encoder's mean-pooled vectors"),
    Default("{t}-ensemble", "ensemble", {"members": "tfidf+head", "head.encoder": "minilm"},
            help="the default suggestion model: TF-IDF (word + character n-grams) and the MiniLM head, weighted"),
    Default("{t}-fast", "ensemble", {"members": "tfidf+head", "tfidf.characters": False, "head.encoder": "minilm-fast"},
            help="the fast tier: word TF-IDF and a head on static vectors distilled from MiniLM, no transformer"),
    Default("{t}-zeroshot", "zero-shot", help="every node of the taxonomy scored by similarity to its names"),
    Default("ford-deep-zeroshot", "zero-shot", taxonomies=("ford",), target="ford-deep",
            help="every SciNoBo node below the FORD fields, zero-shot"),
    Default("{t}-multilingual", "ensemble", {"members": "head+zeroshot", "head.encoder": "e5", "weights": "0.3,0.7",
                                            "cross_lingual": True}, characters=200,
            help="the cross-lingual default: zero-shot and an English-trained head on multilingual e5 vectors"),
    Default("ford-deep-cascade", "cascade", {"supervised": "ford-minilm", "zero_shot": "ford-deep-zeroshot"},
            taxonomies=("ford",), target="ford-deep",
            help="ford-minilm chooses the level-2 branch, ford-deep-zeroshot ranks the nodes below it"),
    Default("{t}-minilm-int8", "onnx-export", {"source": "{t}-minilm-pt", "samples": 200},
            help="the MiniLM [CLS] model exported to ONNX and quantised (dynamic int8)"),
)


@dataclass(frozen=True)
class Planned:
    """A row of the table for one taxonomy: the folder's name and the taxonomy it classifies into."""

    name: str
    taxonomy: str  # the corpus it learns from
    target: str
    row: Default

    @property
    def recipe(self) -> dict:
        return {k: v.format(t=self.taxonomy) if isinstance(v, str) else v for k, v in self.row.recipe.items()}


def planned(taxonomies=TAXONOMIES, *, lexical_only: bool = False) -> list[Planned]:
    """Every default of ``taxonomies``, in build order."""
    def of(row: Default, t: str) -> Planned:
        return Planned(row.name.format(t=t), t, row.target.format(t=t), row)

    out = [of(row, t) for t in taxonomies for row in DEFAULTS if row.lexical and t in row.taxonomies]
    if not lexical_only:
        out += [of(row, t) for t in taxonomies for row in DEFAULTS if not row.lexical and t in row.taxonomies]
    return out


class Corpus:
    """One taxonomy's shipped training set, read once, and its sentence vectors, encoded once (kept
    beside each encoder). ``say(text)``: progress of a long step. ``data``: another training set
    (``core.files.shipped.TrainingSet``) than the shipped one."""

    def __init__(self, taxonomy: str, models: Path, say: Callable[[str], None] = lambda text: None, data=None):  # noqa: ARG005 - the interface's signature
        self.taxonomy, self.models, self.say = taxonomy, Path(models), say
        self._data = data

    @property
    def data(self):
        if self._data is None:
            from core.files.shipped import cap_training_set, ford_training_set

            self._data = {"ford": ford_training_set, "cap": cap_training_set}[self.taxonomy]()
        return self._data

    @property
    def texts(self) -> list[str]:
        return list(self.data.texts)

    @property
    def codes(self) -> list[str]:
        return [str(c) for c in self.data.codes]

    def encoder(self, name: str) -> Path:
        from core.models.encoder import ensure_encoder

        return ensure_encoder(self.models, name)

    def vectors(self, encoder: str, *, characters: int | None = None, progress: str = "") -> np.ndarray:
        """The corpus's vectors from ``encoder`` (a name of ``SENTENCE_ENCODERS`` or a folder name),
        each text cut at ``characters``."""
        from core.models.encoder import corpus_vectors

        texts = [t[:characters] for t in self.texts] if characters else self.texts
        report = (lambda done, total: self.say(f"{progress}: vectors {done:,} / {total:,}")) if progress else None
        return corpus_vectors(self.encoder(encoder), texts, progress=report)

    def manifest(self, item: Planned, version: str) -> Manifest:
        return Manifest(name=item.name, version=version, taxonomy=item.target, codes=(), runtime="",
                        input_fields=("title", "abstract", "keywords"), languages=("en",),
                        training={"sources": self.data.sources})


@dataclass(frozen=True)
class Family:
    """How a default is built: ``build(item, corpus, folder, manifest)`` writes the folder."""

    name: str
    version: str
    build: Callable[[Planned, Corpus, Path, Manifest], Manifest]


def _kind_build(item: Planned, corpus: Corpus, folder: Path, manifest: Manifest) -> Manifest:
    from core.files.shipped import builtin_taxonomy
    from core.models import kinds
    from core.models.held_out import train_kind

    kind = kinds.get(item.row.family)
    params = kind.recipe(item.recipe)
    vectors = corpus.vectors(kind.vector_encoder(params), characters=item.row.characters,
                             progress=item.name) if kind.reads_vectors(params) else None
    return train_kind(kind, params, corpus.texts, corpus.codes, folder, manifest, corpus.models, vectors=vectors,
                      taxonomy=builtin_taxonomy(item.target), **item.row.changes)


def _onnx_tfidf(item: Planned, corpus: Corpus, folder: Path, manifest: Manifest) -> Manifest:
    from core.models.tfidf_onnx import train_tfidf_model

    return train_tfidf_model(corpus.texts, corpus.codes, folder, manifest, **item.recipe)


def _transformers_head(item: Planned, corpus: Corpus, folder: Path, manifest: Manifest) -> Manifest:
    """The [CLS] model; the same pass's mean-pooled vectors are kept as the corpus's MiniLM vectors."""
    from core.models.encoder import ENCODER_NAME, corpus_vectors
    from core.models.transformers_head import train_minilm_classifier

    mean: list = []
    out = train_minilm_classifier(corpus.texts, corpus.codes, folder, manifest, mean_vectors=mean, **item.recipe)
    corpus_vectors(corpus.encoder(ENCODER_NAME), corpus.texts, mean[0])
    return out


def _zero_shot(item: Planned, corpus: Corpus, folder: Path, manifest: Manifest) -> Manifest:
    from core.files.shipped import builtin_taxonomy
    from core.models.zeroshot import build_zero_shot

    manifest = replace(manifest, training={"calibrated_on": corpus.data.sources})
    return build_zero_shot(builtin_taxonomy(item.target), folder, manifest, corpus.encoder("minilm"),
                           calibration=(corpus.vectors("minilm"), corpus.codes))


def _cascade(item: Planned, corpus: Corpus, folder: Path, manifest: Manifest) -> Manifest:
    """The weight and temperature come from a head trained on the defaults' 80 % split and scored
    on the other 20 % (records it never saw)."""
    from core.files.shipped import builtin_taxonomy
    from core.models.cascade import build_cascade
    from core.models.held_out import split
    from core.models.kinds.head import build_head

    codes, vectors, encoder = corpus.codes, corpus.vectors("minilm"), corpus.encoder("minilm")
    manifest = replace(manifest, training={
        "weight_fitted_on": "the 20 % held-out split of " + ", ".join(corpus.data.sources)})
    train, test = split(codes)
    with tempfile.TemporaryDirectory() as scratch:
        held = Path(scratch) / "head"
        build_head(vectors[train], [[codes[i]] for i in train], held, manifest, encoder)
        return build_cascade(builtin_taxonomy(item.target), corpus.models / item.recipe["supervised"],
                             corpus.models / item.recipe["zero_shot"], folder, manifest,
                             labelled=(vectors[test], [codes[i] for i in test]), fit_with=held)


def _onnx_export(item: Planned, corpus: Corpus, folder: Path, manifest: Manifest) -> Manifest:
    """The source folder exported to ONNX, quantised; the agreement on sample texts in the manifest."""
    from core.models.export import export_onnx

    texts = corpus.texts
    samples = texts[:: max(1, len(texts) // item.recipe["samples"])][:item.recipe["samples"]]
    source = corpus.models / item.recipe["source"]
    onnx = folder.parent / f".{folder.name}.export"
    shutil.rmtree(onnx, ignore_errors=True)
    try:
        report = export_onnx(source, onnx, samples)
        folder.mkdir(parents=True)
        for part in onnx.iterdir():
            if part.name not in ("model.onnx", MANIFEST_FILE):
                shutil.copyfile(part, folder / part.name)
        exported = load_manifest(onnx)
        out = replace(exported, name=item.name, version=manifest.version, files={"onnx": "model.int8.onnx"},
                      training={**exported.training, "quantization": "dynamic int8, per-channel",
                                "exported_from": source.name},
                      evaluation={**exported.evaluation, "onnx_export": report.variants})
        write_manifest(folder, out)
        return out
    finally:
        shutil.rmtree(onnx, ignore_errors=True)


BUILDERS = {
    "onnx-tfidf": Family("onnx-tfidf", "1.5.0", _onnx_tfidf),
    "transformers-head": Family("transformers-head", "1.1.0", _transformers_head),
    "zero-shot": Family("zero-shot", "1.0.0", _zero_shot),
    "cascade": Family("cascade", "1.4.0", _cascade),
    "onnx-export": Family("onnx-export", "1.1.0", _onnx_export),
}


def family(name: str) -> Family:
    """A builder of the table above, or a kind (its ``recipe_version`` is the folders' version)."""
    from core.models import kinds

    if name in BUILDERS:
        return BUILDERS[name]
    kind = kinds.get(name)
    return Family(kind.name, kind.recipe_version, _kind_build)


def is_current(folder: Path, item: Planned) -> bool:
    """The folder exists and was built by the family's current version."""
    try:
        return load_manifest(folder).version == family(item.row.family).version
    except Exception:  # noqa: BLE001 - any unreadable folder is rebuilt
        return False


def build(item: Planned, corpus: Corpus, folder: Path) -> Manifest:
    """Write ``item``'s folder into ``folder`` (the caller places it atomically)."""
    fam = family(item.row.family)
    return fam.build(item, corpus, Path(folder), corpus.manifest(item, fam.version))


def describe(manifest: Manifest) -> str:
    """One line on a built default: its held-out figures, or what its family fitted."""
    held = manifest.evaluation.get("held_out")
    examples = manifest.training.get("examples")
    parts = [f"{examples} examples, {len(manifest.codes)} codes" if examples else f"{len(manifest.codes)} leaves"]
    if held:
        parts.append(f"held-out weighted F1 {held['strict_weighted_f1']:.3f}, macro F1 {held['strict_macro_f1']:.3f}")
    if "weight" in manifest.training:
        parts.append(f"weight {manifest.training['weight']}")
    if manifest.calibration.get("temperature") is not None:
        parts.append(f"T {manifest.calibration['temperature']}")
    if manifest.calibration.get("ece_after") is not None:
        parts.append(f"ECE {manifest.calibration.get('ece_before')} -> {manifest.calibration['ece_after']}")
    export = manifest.evaluation.get("onnx_export")
    if export:
        parts.append("; ".join(f"{k}: top-1 agreement {v['top1_agreement']:.1%}" for k, v in export.items()))
    return ", ".join(parts)


__all__ = ["BUILDERS", "Corpus", "DEFAULTS", "Default", "Family", "Planned", "TAXONOMIES", "build", "describe",
           "family", "is_current", "planned"]
