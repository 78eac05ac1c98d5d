"""Model folders for models that run elsewhere, and for combining folders already made.

- ``connect_annif``: a folder pointing at an Annif server's project (checked before anything is
  written: the server answers, the project exists and is trained);
- ``fit_calibration``: a single-label folder's temperature fitted on labelled records it did not
  train on (what an Annif project's scores need before they read as probabilities);
- ``combine``: an ensemble of existing folders (ours, Annif's, an LLM's), weights fitted on
  labelled records none of them trained on.

Folders are written to a temporary sibling and renamed into place: never half-written.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

import numpy as np

from core.domain.taxonomy import Taxonomy
from core.models.manifest import Manifest, ModelFolderError, load_manifest, write_manifest
from core.models.services import Endpoint, ServiceError, check_url, request_json


def _place(tmp: Path, folder: Path, replace_existing: bool) -> None:
    if folder.exists():
        if not replace_existing:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ModelFolderError(f"'{folder}' exists already")
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(folder)


def read_subject_map(data: bytes, name: str, taxonomy: Taxonomy) -> dict[str, str]:
    """{Annif subject URI: code} from a SKOS Turtle vocabulary (each concept's notation, else the
    last part of its URI) or a CSV/TSV with ``uri`` and ``code`` columns; subjects whose code the
    taxonomy does not know are left out."""
    import csv
    import io

    text = data.decode("utf-8-sig", errors="replace")
    out: dict[str, str] = {}
    if name.lower().endswith((".ttl", ".turtle")):
        from rdflib import Graph
        from rdflib.namespace import RDF, SKOS

        graph = Graph()
        try:
            graph.parse(data=text, format="turtle")
        except Exception as exc:  # rdflib raises several parser exception types
            raise ModelFolderError(f"'{name}' is not valid Turtle ({str(exc).splitlines()[0][:200]})") from None
        for concept in set(graph.subjects(RDF.type, SKOS.Concept)):
            notation = graph.value(concept, SKOS.notation)
            code = str(notation) if notation is not None else str(concept).rstrip("/#").rsplit("/", 1)[-1]
            if code in taxonomy:
                out[str(concept)] = taxonomy.node(code).code
        return out
    dialect = "excel-tab" if "\t" in text.splitlines()[0] else "excel"
    rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    if not rows or not {"uri", "code"} <= set(rows[0]):
        raise ModelFolderError(f"'{name}' needs the columns 'uri' and 'code'")
    for k, row in enumerate(rows, start=2):
        code = str(row.get("code") or "").strip()
        if code in taxonomy and row.get("uri"):
            out[str(row["uri"]).strip().strip("<>")] = taxonomy.node(code).code
    return out


def connect_annif(folder: str | Path, *, url: str, project: str, taxonomy: Taxonomy, level: int | None = None,
                  subjects: dict[str, str] | None = None, name: str | None = None, timeout_s: float = 30.0,
                  concurrency: int = 4, language: str = "", replace_existing: bool = False) -> Manifest:
    """A model folder for Annif project ``project`` at ``url``. Outputs: the taxonomy's codes at
    ``level`` (deeper suggestions count for their ancestor there), or every code."""
    folder = Path(folder)
    url = check_url(url)
    endpoint = Endpoint(url=url, what="Annif server", timeout_s=timeout_s, retries=1)
    info = request_json(endpoint, "GET", f"/v1/projects/{quote(project, safe='')}")
    if not isinstance(info, dict) or info.get("project_id") != project:
        raise ServiceError(f"Annif server {url} did not describe project '{project}'")
    if info.get("is_trained") is False:
        raise ServiceError(f"Annif project '{project}' at {url} is not trained yet (annif train {project} ...)")
    level = taxonomy.check_level(level)
    nodes = taxonomy.at_level(level) if level else list(taxonomy)
    codes = tuple(n.code for n in nodes)
    rollup = {}
    if level:
        for node in taxonomy:
            if taxonomy.level(node.code) > level:
                rollup[node.code] = taxonomy.cut(node.code, level)
    vocab_lang = str(info.get("vocab_language") or info.get("language") or "")
    backend = (info.get("backend") or {}).get("backend_id", "?")
    vocab = (info.get("vocab") or {}).get("vocab_id", "?")
    manifest = Manifest(
        name=name or folder.name, version=str(info.get("modification_time") or "1")[:19], taxonomy=taxonomy.id,
        codes=codes, runtime="annif", multi_label=False, input_fields=("title", "abstract", "keywords"),
        languages=(str(info.get("language")),) if info.get("language") else (),
        service={"url": url, "project": project, "timeout_s": timeout_s, "concurrency": max(1, int(concurrency)),
                 "limit": min(100, len(codes)), "language": language or vocab_lang},
        training={"kind": "annif", "method": f"Annif project '{project}' ({backend} backend, vocabulary {vocab})",
                  "subjects": dict(subjects or {}), "rollup": rollup, "level": level},
    )
    tmp = folder.with_name(folder.name + ".connecting")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write_manifest(tmp, manifest)
    _place(tmp, folder, replace_existing)
    return manifest


def gold_indices(codes: Sequence[str], gold: Sequence[Sequence[str]],
                 taxonomy: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    """(rows whose first gold code, cut to the outputs' level, is an output code; that code's column)."""
    column = {c: i for i, c in enumerate(codes)}
    levels = {taxonomy.level(c) for c in codes if c in taxonomy}
    rows, cols = [], []
    for i, g in enumerate(gold):
        for code in g:
            if code not in taxonomy:
                continue
            candidates = [code] + [taxonomy.cut(code, lv) for lv in sorted(levels) if taxonomy.level(code) > lv]
            hit = next((column[c] for c in candidates if c in column), None)
            if hit is not None:
                rows.append(i)
                cols.append(hit)
                break
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


def fit_calibration(folder: str | Path, texts: Sequence[str], gold: Sequence[Sequence[str]], taxonomy: Taxonomy,
                    *, source: str = "labelled records") -> Manifest:
    """Fit the folder's temperature on ``texts`` with their ``gold`` codes (records the model did
    not train on) and write it into its manifest."""
    from core.models.calibration import ece, held_out_calibration
    from core.models.runtimes import load_classifier

    folder = Path(folder)
    manifest = load_manifest(folder)
    if manifest.multi_label:
        raise ModelFolderError(f"'{folder}' is multi-label: its scores are not temperature-scaled")
    raw = replace(manifest, calibration={})
    write_manifest(folder, raw)  # scores as the model gives them
    try:
        scores = load_classifier(folder).predict_scores(list(texts))
    except Exception:
        write_manifest(folder, manifest)
        raise
    rows, cols = gold_indices(manifest.codes, gold, taxonomy)
    if len(rows) < 20:
        write_manifest(folder, manifest)
        raise ModelFolderError(f"only {len(rows)} of the {len(texts)} records have a gold code among the model's "
                               "outputs; at least 20 are needed to fit a calibration")
    calibration = held_out_calibration(scores[rows], cols, f"{len(rows)} {source}")
    from core.models.calibration import scaled

    calibration["ece_before"] = round(ece(scores[rows] / np.maximum(scores[rows].sum(1, keepdims=True), 1e-9), cols), 4)
    calibration["ece_after"] = round(ece(scaled(scores[rows], calibration["temperature"]), cols), 4)
    fitted = replace(manifest, calibration=calibration)
    write_manifest(folder, fitted)
    return fitted


def combine(members: Sequence[str | Path], texts: Sequence[str], gold: Sequence[Sequence[str]], taxonomy: Taxonomy,
            folder: str | Path, *, name: str | None = None, replace_existing: bool = False) -> Manifest:
    """An ensemble of the ``members`` folders, weights and temperature fitted on ``texts`` with
    their ``gold`` codes (records none of the members trained on)."""
    from core.models.kinds.ensemble import build_ensemble
    from core.models.runtimes import load_classifier

    folder = Path(folder)
    if len(members) < 2:
        raise ModelFolderError("an ensemble needs at least two member folders")
    loaded = []
    for member in members:
        clf = load_classifier(member)
        if clf.manifest.taxonomy and clf.manifest.taxonomy != taxonomy.id:
            raise ModelFolderError(f"'{member}' suggests codes of '{clf.manifest.taxonomy}', not '{taxonomy.id}'")
        loaded.append(clf)
    names = [Path(m).name for m in members]
    if len(set(names)) != len(names):
        raise ModelFolderError("the member folders need different names")
    classes = sorted({c for clf in loaded for c in clf.manifest.codes})
    rows, cols = gold_indices(classes, gold, taxonomy)
    if len(rows) < 20:
        raise ModelFolderError(f"only {len(rows)} records have a gold code among the members' outputs; "
                               "at least 20 are needed to fit the weights")
    kept = [texts[i] for i in rows]
    parts = []
    for member, clf in zip(members, loaded):
        scores = clf.predict_scores(kept)  # calibrated: the member's manifest below carries no calibration
        parts.append((Path(member), replace(clf.manifest, calibration={}),
                      (list(clf.manifest.codes), scores, np.arange(len(kept)))))
    gold_codes = [[classes[c]] for c in cols]
    base = Manifest(name=name or folder.name, version="1", taxonomy=taxonomy.id, codes=(), runtime="ensemble",
                    input_fields=loaded[0].manifest.input_fields, languages=loaded[0].manifest.languages,
                    training={"kind": "ensemble", "fitted_on": f"{len(kept)} labelled records"})
    tmp = folder.with_name(folder.name + ".combining")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        manifest = build_ensemble(parts, gold_codes, tmp, base)  # members keep their own calibration
        _place(tmp, folder, replace_existing)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


__all__ = ["combine", "connect_annif", "fit_calibration", "gold_indices", "read_subject_map"]
