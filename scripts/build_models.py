"""Build the default models offline from the shipped corpora into models/.

    .venv/bin/python scripts/build_models.py [--force]

Today: a TF-IDF + logistic-regression baseline per taxonomy, exported to ONNX, with its held-out
evaluation in the manifest. Folders that already exist are kept unless --force is given.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.default_models import cap_training_set, ford_training_set  # noqa: E402
from core.manifest import MANIFEST_FILE, Manifest  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.training import train_tfidf_model  # noqa: E402

VERSION = "1.0.0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--models", type=Path, default=Settings.from_env().models_dir)
    args = parser.parse_args()
    jobs = (
        ("ford-tfidf", "ford", ford_training_set, ("title", "abstract", "keywords"), ("en",)),
        ("cap-tfidf", "cap", cap_training_set, ("title", "abstract", "keywords"), ("en",)),
    )
    for name, taxonomy, loader, fields, languages in jobs:
        folder = args.models / name
        if (folder / MANIFEST_FILE).exists() and not args.force:
            print(f"{name}: present, kept")
            continue
        start = time.perf_counter()
        data = loader()
        tmp = args.models / f".{name}.building"
        shutil.rmtree(tmp, ignore_errors=True)
        base = Manifest(name=name, version=VERSION, taxonomy=taxonomy, codes=(), runtime="onnx-text",
                        input_fields=fields, languages=languages, training={"sources": data.sources})
        manifest = train_tfidf_model(data.texts, data.codes, tmp, base)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        held = manifest.evaluation["held_out"]
        print(f"{name}: {len(data.texts)} examples, {len(manifest.codes)} codes, held-out weighted F1 "
              f"{held['strict_weighted_f1']:.3f}, macro F1 {held['strict_macro_f1']:.3f} "
              f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
