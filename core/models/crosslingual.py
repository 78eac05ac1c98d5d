"""The cross-lingual default: suggestions for records in a language nobody has labelled yet.

A taxonomy's ``<t>-multilingual`` folder is an ``ensemble`` recipe (``core.models.defaults``:
members ``head+zeroshot`` on e5, ``weights`` "0.3,0.7", ``cross_lingual``) of two members that both
read the multilingual encoder's vectors (multilingual-e5-small), so one encoding of a record serves
both; a workspace can train the same recipe on its own labels:

- a **zero-shot** member (the ``zeroshot`` kind): every leaf of the taxonomy scored by similarity
  to its names (English and Hungarian where the taxonomy has them) and description, temperature
  fitted through the roll-up on the shipped English records; its leaves are summed into the
  ensemble's codes (their ancestors);
- a **cross-lingual head** (the ``head`` kind): logistic regression on the e5 vectors of the shipped English records
  (the encoder puts a Hungarian or Danish sentence near its English translation, so a head learnt
  in English reads them too, less well).

The weights are not fitted on English records (nor is a temperature on the mixture): there the
head would take all the weight, and in a language the head never saw the zero-shot member is the
steadier one. ``ZERO_SHOT_WEIGHT`` was chosen on two languages no default trains on (CAP majors,
weighted F1; ``bench_multilingual``):

| zero-shot weight | Danish agenda items (2,000) | Hungarian speeches (220) |
|---|---|---|
| 0 (the head alone) | 0.372 | 0.198 |
| 0.5 | 0.399 | 0.241 |
| 0.7 | 0.400 | 0.246 |
| 1 (zero-shot alone) | 0.319 | 0.228 |

**The language shift.** The multilingual encoder places each language's texts around a mean of
their own, and a head learnt on English vectors reads that offset as a topic: before the shift,
the head alone put 203 of the 220 Hungarian speeches into International Affairs. The folder keeps the
mean of its English training vectors (``reference.safetensors``); where the workspace holds at
least 10 records of a language, each record of that language is moved by the difference between
its language's mean (over up to 50 of its records, ``core.work.embeddings.language_shifted``) and
that reference before both members read it. Nothing is fitted on the target language's labels.
Measured with the shipped weights (weighted F1, ``bench_multilingual``'s day one, fp32 graph):
Hungarian speeches 0.278 -> 0.360, Danish items 0.390 -> 0.389; 10 records of a language give most
of it.

The folder declares the languages it was trained on (English): records in other languages get its
suggestions as low-confidence hints, and triage never machine-accepts them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from core.models.manifest import Manifest

ZERO_SHOT_WEIGHT = 0.7  # see the module's docstring
REFERENCE_FILE = "reference.safetensors"  # the training vectors' mean (the language shift's reference)


def is_cross_lingual(manifest: Manifest | None) -> bool:
    """Whether a model folder is a cross-lingual default (it reads any language, trained on others)."""
    return bool(manifest is not None and manifest.training.get("cross_lingual"))


def cross_lingual_manifest(folder: Path, manifest: Manifest, vectors: np.ndarray | None) -> Manifest:
    """An ensemble folder made cross-lingual: the mean of its training vectors kept as the language
    shift's reference, and the manifest saying so (the caller writes it)."""
    from safetensors.numpy import save_file

    if vectors is None or not len(vectors):
        raise ValueError("a cross-lingual ensemble keeps the mean of its training vectors: it needs them")
    save_file({"mean": np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).mean(axis=0))},
              str(Path(folder) / REFERENCE_FILE))
    language = (manifest.languages or ("en",))[0]
    return replace(manifest, training={
        **manifest.training, "cross_lingual": True,
        "language_shift": {"file": REFERENCE_FILE, "language": language,
                           "rule": "a record of another language is moved by its language's mean in the workspace "
                                   "less this mean of the training vectors"}})


__all__ = ["REFERENCE_FILE", "ZERO_SHOT_WEIGHT", "cross_lingual_manifest", "is_cross_lingual"]
