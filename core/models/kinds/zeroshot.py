"""The ``zeroshot`` kind: every leaf of the taxonomy scored by the similarity of a record's sentence
vector to the leaf's names and description (``core.models.zeroshot``), its temperature fitted on
the training records through the roll-up to the level they are labelled at.

It learns nothing else from the records, so it reads a language it has no label in as well as the
encoder does: as an ensemble member beside a head on the multilingual encoder it makes the
cross-lingual default (``core.models.crosslingual``). Its scores on the training records stand in
for out-of-fold predictions (only the temperature saw them).
"""

from __future__ import annotations

import numpy as np

from core.models.kinds.base import Field, Kind, Trained, TrainingInput, with_recipe


def train(data: TrainingInput) -> Trained:
    from core.models.encoder import ensure_encoder
    from core.models.runtimes import load_classifier
    from core.models.zeroshot import build_zero_shot, similarity_scores

    if data.taxonomy is None:
        raise ValueError("the zeroshot kind scores the taxonomy's nodes: it needs the taxonomy")
    if data.multi_label:
        raise ValueError("the zeroshot kind suggests one code per record (its scores are a softmax over leaves)")
    encoder = ensure_encoder(data.models_dir, KIND.vector_encoder(data.params))
    flat = [c[0] for c in data.codes]
    manifest = build_zero_shot(data.taxonomy, data.folder, data.manifest, encoder,
                               calibration=(np.asarray(data.vectors, dtype=np.float32), flat))
    clf = load_classifier(data.folder)
    scores = similarity_scores(np.asarray(data.vectors, dtype=np.float32), clf.nodes_, clf.owner_,
                               len(manifest.codes), clf.sharpness_)  # before the temperature, as out-of-fold rows are
    return with_recipe(data, manifest, (list(manifest.codes), scores, np.arange(len(flat))))


KIND = Kind(
    name="zeroshot", help="every leaf of the taxonomy scored by similarity to its names and description (no "
                          "training beyond a temperature): reads languages nobody has labelled",
    runtime="zero-shot", reads=frozenset({"vectors"}), train=train, recipe_version="1.0.0",
    fields=(Field("encoder", "Sentence encoder", "choice", "minilm",
                  "minilm: all-MiniLM-L6-v2 (English); e5: multilingual-e5-small (about 100 languages, Hungarian "
                  "and Danish among them)", choices=("minilm", "e5")),))

__all__ = ["KIND"]
