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
from core.models.services import Endpoint, ServiceError, ServiceUnavailable, check_url, request_json


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
        except Exception as exc:  # noqa: BLE001 - rdflib raises several parser exception types
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
    for row in rows:
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


def llm_candidates(taxonomy: Taxonomy, codes: Sequence[str]) -> dict[str, dict]:
    """What a prompt shows of each code: its path in every language the taxonomy names, and the
    start of its description (scope notes included)."""
    out = {}
    for code in codes:
        node = taxonomy.node(code)
        names = {lang: taxonomy.path_label(code, lang) for lang in taxonomy.languages if node.names.get(lang)}
        out[code] = {"names": names or {"en": taxonomy.path_label(code, "en")}, "description": node.description}
    return out


def connect_llm(folder: str | Path, *, taxonomy: Taxonomy, level: int | None = None, mode: str = "zero-shot",
                url: str = "", model: str = "", local_model: str | Path | None = None,
                shortlist: str | Path | None = None, top_k: int = 8, weight: float = 0.5, timeout_s: float = 60.0,
                concurrency: int = 2, api_key_env: str = "", name: str | None = None, languages=("en",),
                replace_existing: bool = False) -> Manifest:
    """A model folder that asks a generative model: an OpenAI-compatible endpoint (``url`` of its
    ``/v1`` root and ``model``), or a local transformers causal-LM folder (``local_model``, linked
    into the folder). ``mode``: "zero-shot" (the outputs' codes are the candidates, shortlisted by
    ``shortlist`` where there are many) or "rerank" (the ``shortlist`` model's top ``top_k``)."""
    from core.models.encoder import link_tree
    from core.models.llm import MAX_CANDIDATES

    folder = Path(folder)
    if mode not in ("zero-shot", "rerank"):
        raise ModelFolderError(f"mode must be 'zero-shot' or 'rerank', not '{mode}'")
    if bool(url) == bool(local_model):
        raise ModelFolderError("give either an endpoint (url and model) or a local model folder")
    if not 0.0 <= weight <= 1.0:
        raise ModelFolderError("the LLM's weight must lie in [0, 1]")
    short_manifest = load_manifest(shortlist) if shortlist else None
    if short_manifest is not None and short_manifest.taxonomy != taxonomy.id:
        raise ModelFolderError(f"'{shortlist}' suggests codes of '{short_manifest.taxonomy}', not '{taxonomy.id}'")
    level = taxonomy.check_level(level)
    if short_manifest is not None and level is None:
        codes = tuple(c for c in short_manifest.codes if c in taxonomy)
    else:
        codes = tuple(n.code for n in (taxonomy.at_level(level) if level else taxonomy.leaves()))
    if mode == "rerank" and short_manifest is None:
        raise ModelFolderError("re-ranking needs the supervised model whose suggestions it re-ranks")
    if len(codes) > MAX_CANDIDATES and short_manifest is None:
        raise ModelFolderError(f"{len(codes)} codes are too many for one prompt: name a model that shortlists them")
    service: dict = {}
    files: dict = {}
    version = "1"
    if url:
        url = check_url(url)
        if not model:
            raise ModelFolderError("name the endpoint's model (as its /v1/models lists it)")
        endpoint = Endpoint(url=url, what="LLM endpoint", timeout_s=min(timeout_s, 30.0), retries=1,
                            api_key_env=api_key_env)
        try:
            listed = request_json(endpoint, "GET", "/models")
            ids = [str(m.get("id")) for m in (listed or {}).get("data") or [] if isinstance(m, dict)]
            if ids and model not in ids and not any(i.split("@")[0] == model for i in ids):
                raise ServiceError(f"LLM endpoint {url} does not serve '{model}' (it serves {', '.join(ids[:5])})")
        except ServiceUnavailable as exc:
            if not exc.answered:  # a server whose /models fails is usable; one that cannot be reached is not
                raise
        except ServiceError as exc:
            if "HTTP 4" not in exc.message:
                raise
        service = {"url": url, "model": model, "timeout_s": timeout_s, "concurrency": max(1, int(concurrency)),
                   "api_key_env": api_key_env}
        version = model
    tmp = folder.with_name(folder.name + ".connecting")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if local_model:
            local = Path(local_model)
            if not (local / "config.json").exists():
                raise ModelFolderError(f"'{local}' is not a transformers model folder (no config.json)")
            link_tree(local, tmp / "lm")
            files = {"lm": "lm"}
            version = local.name
        training = {"kind": "llm", "mode": mode, "top_k": int(top_k), "weight": float(weight),
                    "candidates": llm_candidates(taxonomy, codes), "level": level,
                    "method": ("re-ranks the top {k} of {s}" if mode == "rerank" else "zero-shot over {n} codes"
                               ).format(k=top_k, s=short_manifest.name if short_manifest else "", n=len(codes))}
        if short_manifest is not None:
            link_tree(Path(shortlist), tmp / "members" / Path(shortlist).name)
            training["shortlist"] = Path(shortlist).name
        manifest = Manifest(name=name or folder.name, version=version, taxonomy=taxonomy.id, codes=codes,
                            runtime="llm", multi_label=False,
                            input_fields=short_manifest.input_fields if short_manifest else ("title", "abstract",
                                                                                              "keywords"),
                            languages=tuple(languages), files=files, service=service, training=training)
        write_manifest(tmp, manifest)
        _place(tmp, folder, replace_existing)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
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


__all__ = ["combine", "connect_annif", "connect_llm", "fit_calibration", "gold_indices", "llm_candidates",
           "read_subject_map"]
