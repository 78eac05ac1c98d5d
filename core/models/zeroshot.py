"""Zero-shot suggestions for every node of a taxonomy (the ``zero-shot`` family): a record's sentence
vector is compared with each node's, both from a shared mean-pooled encoder (MiniLM, or the
multilingual e5 for records in other languages), so a node
with no training example, or a taxonomy with no labels at all, still gets a scored suggestion.

How a node is described (``node_texts``): its full path of names, leaf last ("Natural sciences >
Mathematics > Applied mathematics > Quantum field theory / Renormalization group"), once per
language the taxonomy names it in, plus its description where it has one. A SciNoBo topic cluster
without a name ("… topic cluster 3 (unnamed)") is described by its parent's path alone: it scores
like its parent's other unnamed clusters, and the roll-up gives the parent their sum.

How similarities become probabilities: the model's codes are the taxonomy's leaves; a leaf's
similarity is the best over its descriptions; probabilities are softmax(similarity / 0.05), then
temperature-scaled by a T fitted on labelled records the encoder never saw as training data (the
shipped corpora, through the roll-up to the level they are labelled at), so a zero-shot score sits
beside a supervised one on the same scale. Parents get their subtree's mass by the usual roll-up.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.domain.taxonomy import Taxonomy
from core.models.manifest import Manifest, write_manifest

SHARPNESS = 0.05  # similarities are divided by this before the softmax (cosines differ by a few hundredths)
UNNAMED = re.compile(r"\(unnamed\)\s*$", re.IGNORECASE)


def node_texts(taxonomy: Taxonomy, code: str) -> list[str]:
    """The descriptions a node is matched against (see the module's docstring)."""
    path = taxonomy.path(code)
    node = path[-1]
    languages = sorted({lang for n in path for lang in n.names} or {"en"})
    texts = []
    for lang in languages:
        names = [n.names.get(lang) or n.name(lang) for n in path]
        if UNNAMED.search(node.name("en")):
            names = names[:-1] or names  # an unnamed cluster: its parent's path
        text = " > ".join(names)
        if text not in texts:
            texts.append(text)
    if node.description and not node.description.lower().startswith("scinobo level"):
        texts.append(f"{texts[0]}: {node.description}")
    return texts


def node_matrix(taxonomy: Taxonomy, encoder) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(leaf codes, description vectors, the leaf index of each description)."""
    codes = [n.code for n in taxonomy.leaves()]
    texts, owner = [], []
    for k, code in enumerate(codes):
        for text in node_texts(taxonomy, code):
            texts.append(text)
            owner.append(k)
    return codes, encoder.embed(texts), np.array(owner, dtype=np.int64)


def sharpness_of(encoder_info: dict) -> float:
    """The encoder's zero-shot sharpness: MiniLM's cosines spread over tenths (0.05); e5's sit between
    0.7 and 0.9 (0.01: at 0.05 the roll-up's sums favour the majors with many subtopics; on the 220
    Hungarian speeches, CAP majors by zero-shot reach weighted F1 0.23 at 0.01, 0.12 at 0.05)."""
    return float(encoder_info.get("zero_shot_sharpness") or SHARPNESS)


def similarity_scores(vectors: np.ndarray, matrix: np.ndarray, owner: np.ndarray, n_codes: int,
                      sharpness: float = SHARPNESS) -> np.ndarray:
    """softmax over leaves of (best similarity of each leaf's descriptions) / sharpness."""
    sims = np.asarray(vectors, dtype=np.float32) @ matrix.T
    best = np.full((sims.shape[0], n_codes), -1.0, dtype=np.float32)
    np.maximum.at(best.T, owner, sims.T)
    logits = best / sharpness
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def build_zero_shot(taxonomy: Taxonomy, folder: Path, manifest: Manifest, encoder_dir: Path, *,
                    calibration: tuple[np.ndarray, Sequence[str]] | None = None) -> Manifest:
    """Write a ``zero-shot`` folder for every leaf of ``taxonomy``. ``calibration``: (record
    vectors, their gold codes at any level of the taxonomy) to fit the temperature on."""
    from safetensors.numpy import save_file

    from core.models.calibration import fit_through_rollup
    from core.models.encoder import Encoder, link_encoder

    encoder = Encoder(encoder_dir)
    codes, matrix, owner = node_matrix(taxonomy, encoder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({"nodes": np.ascontiguousarray(matrix, dtype=np.float32), "owner": owner},
              str(folder / "nodes.safetensors"))
    link_encoder(encoder_dir, folder / "encoder")
    fitted = {}
    if calibration is not None:
        vectors, gold = calibration
        keep = [i for i, g in enumerate(gold) if g in taxonomy]
        if keep:
            scores = similarity_scores(vectors[keep], matrix, owner, len(codes), sharpness_of(encoder.info))
            fitted = fit_through_rollup(taxonomy, codes, scores, [gold[i] for i in keep])
    manifest = replace(manifest, codes=tuple(codes), runtime="zero-shot", multi_label=False, taxonomy=taxonomy.id,
                       files={"nodes": "nodes.safetensors", "encoder": "encoder"}, calibration=fitted,
                       training={**manifest.training,
                                 "method": f"cosine similarity of {encoder.info.get('name', 'encoder')} "
                                 "mean-pooled vectors: record against each node's path of names (every language) "
                                 "and description; softmax over leaves", "descriptions": int(len(owner)),
                                 "sharpness": sharpness_of(encoder.info)})
    write_manifest(folder, manifest)
    return manifest


__all__ = ["SHARPNESS", "build_zero_shot", "sharpness_of", "node_matrix", "node_texts", "similarity_scores"]
