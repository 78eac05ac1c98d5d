"""An Annif project as a model (the ``annif`` runtime): texts go to an Annif server's REST API
(``/v1/projects/{id}/suggest-batch``, 32 documents a request, a few requests at a time; servers
without it get ``/suggest`` per text), its subjects come back as taxonomy codes.

The folder holds only a manifest: ``service`` = {"url", "project", "timeout_s", "concurrency",
"limit"}, the output ``codes``, and in ``training``:

- ``subjects``: {Annif subject URI: code} where the vocabulary's URIs are not the workbench's own
  (a subject is otherwise read by its notation, then by its URI's last part);
- ``rollup``: {deeper code: output code}, for a folder whose outputs sit at one level of the taxonomy.

Annif's scores are not probabilities: a single-label folder's are normalised to sum to one (a
record Annif suggests nothing for gets an even spread), then temperature-scaled like any model's
(``calibration``), fitted on labelled records the project did not train on.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, unquote

import numpy as np

from core.domain.taxonomy import Taxonomy
from core.models.manifest import Manifest, ModelFolderError, place_folder, write_manifest
from core.models.runtimes.base import Classifier
from core.models.services import Endpoint, ServiceError, check_url, request_json

BATCH = 32  # Annif's suggest-batch takes at most 32 documents
MAX_CHARS = 20_000  # a record's text is cut here (Annif's request body limit is generous, not endless)


class AnnifClassifier(Classifier):
    name = "annif"
    records_per_s = 40.0

    def _load(self) -> None:
        service = self.manifest.service or {}
        if not service.get("url") or not service.get("project"):
            raise ModelFolderError(f"'{self.folder}': an Annif model needs service.url and service.project")
        self.endpoint_ = Endpoint.from_manifest(service, "Annif server")
        self.project_ = str(service["project"])
        self.concurrency_ = max(1, int(service.get("concurrency") or 4))
        self.limit_ = max(1, int(service.get("limit") or min(100, len(self.manifest.codes))))
        self.language_ = str(service.get("language") or "")
        self.column_ = {c: i for i, c in enumerate(self.manifest.codes)}
        self.subjects_ = {str(k): str(v) for k, v in (self.manifest.training.get("subjects") or {}).items()}
        self.rollup_ = {str(k): str(v) for k, v in (self.manifest.training.get("rollup") or {}).items()}
        self.batch_ok_ = True

    @property
    def where(self) -> str:
        return f"{self.endpoint_.url} project '{self.project_}'"

    def code_of(self, subject: dict) -> str | None:
        """The output code of one Annif suggestion (None where the folder has no column for it)."""
        uri = str(subject.get("uri") or "")
        candidates = [self.subjects_.get(uri), str(subject.get("notation") or ""),
                      unquote(uri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]) if uri else ""]
        for code in candidates:
            if code:
                code = self.rollup_.get(code, code)
                if code in self.column_:
                    return code
        return None

    def _params(self) -> dict:
        params = {"limit": self.limit_}
        if self.language_:
            params["language"] = self.language_
        return params

    def _batch(self, texts: list[str]) -> list[list[dict]]:
        path = f"/v1/projects/{quote(self.project_, safe='')}"
        if self.batch_ok_:
            try:
                answer = request_json(self.endpoint_, "POST", path + "/suggest-batch", params=self._params(),
                                      json_body={"documents": [{"text": t[:MAX_CHARS], "document_id": str(i)}
                                                               for i, t in enumerate(texts)]})
            except ServiceError as exc:
                if "HTTP 404" not in exc.message and "HTTP 405" not in exc.message:
                    raise
                self.batch_ok_ = False  # an Annif before 0.61: one text a request
            else:
                if not isinstance(answer, list) or len(answer) != len(texts):
                    got = len(answer) if isinstance(answer, list) else "no list of"
                    raise ServiceError(f"Annif server {self.where} answered {got} results for {len(texts)} documents")
                by_id = {str(a.get("document_id")): a for a in answer if isinstance(a, dict)}
                ordered = [by_id.get(str(i)) or answer[i] for i in range(len(texts))]  # each to its own text
                return [list((a or {}).get("results") or []) for a in ordered]
        out = []
        for text in texts:
            answer = request_json(self.endpoint_, "POST", path + "/suggest",
                                  form={"text": text[:MAX_CHARS], **{k: str(v) for k, v in self._params().items()}})
            out.append(list((answer or {}).get("results") or []) if isinstance(answer, dict) else [])
        return out

    def suggestions(self, texts: list[str]) -> list[list[dict]]:
        """Annif's raw suggestions per text, in input order."""
        batches = [texts[i:i + BATCH] for i in range(0, len(texts), BATCH)]
        if len(batches) == 1 or self.concurrency_ == 1:
            parts = [self._batch(b) for b in batches]
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency_, len(batches))) as pool:
                parts = list(pool.map(self._batch, batches))
        return [row for part in parts for row in part]

    def _scores(self, texts: list[str]) -> np.ndarray:
        scores = np.zeros((len(texts), len(self.manifest.codes)), dtype=np.float32)
        for i, results in enumerate(self.suggestions(texts)):
            for subject in results:
                code = self.code_of(subject) if isinstance(subject, dict) else None
                if code is None:
                    continue
                try:
                    value = float(subject.get("score") or 0.0)
                except (TypeError, ValueError):
                    continue
                j = self.column_[code]
                scores[i, j] = max(scores[i, j], value)
        if not self.manifest.multi_label:  # a distribution, as every single-label model gives (then calibrated)
            totals = scores.sum(axis=1, keepdims=True)
            scores = np.where(totals > 0, scores / np.maximum(totals, 1e-12), 1.0 / max(1, scores.shape[1]))
        return scores.astype(np.float32)


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
    place_folder(tmp, folder, replace_existing)
    return manifest
