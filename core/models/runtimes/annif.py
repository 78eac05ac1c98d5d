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

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, unquote

import numpy as np

from core.models.manifest import ModelFolderError
from core.models.runtimes.base import Classifier
from core.models.services import Endpoint, ServiceError, request_json

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
