"""A generative model as a classifier (the ``llm`` runtime; prompts and answers:
``core.models.llm``). It asks either an OpenAI-compatible chat endpoint (``service``: {"url" of
the ``/v1`` root, "model", "timeout_s", "concurrency", "api_key_env"}; vLLM, llama.cpp's server,
Ollama, ``transformers serve``) or a local transformers causal-LM folder (``files.lm``, on the GPU
where there is one).

``training``: ``mode`` ("zero-shot" or "rerank"), ``top_k`` (candidates a record), ``weight`` (the
LLM's share of a re-ranked score; the rest is the supervised model's), ``candidates`` ({code:
{"names": {lang: name}, "description"}}) and ``shortlist`` (a member folder under ``members/``: the
supervised model whose top-k the LLM re-ranks, or that shortlists a large taxonomy).

Answers are cached (``core.store.cache``) by model and request. A record whose answer names no
listed code, after two more asks, keeps the shortlist's scores (re-ranking) or none (zero-shot) and
is counted in ``report_``; a call in which no answer names a listed code is an error.
"""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np

from core.domain.taxonomy import Taxonomy
from core.models.llm import (
    MAX_CANDIDATES,
    Candidate,
    letter_scores,
    messages,
    parse_json_answer,
    prompt_language,
    retry_messages,
)
from core.models.manifest import Manifest, ModelFolderError, load_manifest, place_folder, write_manifest
from core.models.runtimes.base import Classifier
from core.models.services import Endpoint, ServiceError, ServiceUnavailable, check_url, request_json

RETRIES_FOR_INVALID = 2
LOCAL_BATCH = 8


class LLMClassifier(Classifier):
    name = "llm"
    records_per_s = 2.0  # a guess before a measured sample: a job with an LLM always runs in the background

    def _load(self) -> None:
        from core.models.runtimes import load_classifier
        from core.settings import Settings
        from core.store.cache import ResponseCache

        training = self.manifest.training
        self.mode_ = str(training.get("mode") or "zero-shot")
        if self.mode_ not in ("zero-shot", "rerank"):
            raise ModelFolderError(f"'{self.folder}': mode must be 'zero-shot' or 'rerank', not '{self.mode_}'")
        self.top_k_ = max(2, min(MAX_CANDIDATES, int(training.get("top_k") or 8)))
        self.weight_ = float(training.get("weight", 0.5))
        raw = training.get("candidates") or {}
        self.candidates_ = [Candidate(c, dict((raw.get(c) or {}).get("names") or {"en": c}),
                                      str((raw.get(c) or {}).get("description") or "")) for c in self.manifest.codes]
        self.languages_ = sorted({lang for c in self.candidates_ for lang in c.names})
        self.shortlist_ = None
        if training.get("shortlist"):
            member = self.folder / "members" / str(training["shortlist"])
            if member.resolve().parent != (self.folder / "members").resolve():
                raise ModelFolderError(f"'{self.folder}': the shortlist model lies outside the folder")
            self.shortlist_ = load_classifier(member, threads=self.threads)
            index = {c: i for i, c in enumerate(self.manifest.codes)}
            self.shortlist_columns_ = np.array([index.get(c, -1) for c in self.shortlist_.manifest.codes])
        if self.mode_ == "rerank" and self.shortlist_ is None:
            raise ModelFolderError(f"'{self.folder}': re-ranking needs the supervised model (training.shortlist)")
        if len(self.manifest.codes) > MAX_CANDIDATES and self.shortlist_ is None:
            raise ModelFolderError(f"'{self.folder}': {len(self.manifest.codes)} codes are too many to list; "
                                   "name a model that shortlists them (training.shortlist)")
        self.local_ = bool(self.manifest.files.get("lm"))
        if self.local_:
            self.model_id_ = f"local:{self.manifest.name}:{self.manifest.version}"
            self.lm_ = None
        else:
            service = self.manifest.service or {}
            if not service.get("url") or not service.get("model"):
                raise ModelFolderError(f"'{self.folder}': an LLM model needs files.lm or service.url and service.model")
            self.endpoint_ = Endpoint.from_manifest(service, "LLM endpoint")
            self.concurrency_ = max(1, int(service.get("concurrency") or 2))
            self.model_id_ = f"{self.endpoint_.url}|{service['model']}"
            self.style_ = "letters" if service.get("logprobs", True) else "json"
        self.cache_ = ResponseCache(Settings.from_env().home / "cache" / "llm-responses.sqlite")
        self.report_ = {"asked": 0, "invalid": 0, "examples": []}
        self._report_lock = threading.Lock()

    @property
    def where(self) -> str:
        return "this machine (a local model)" if self.local_ else self.endpoint_.url

    # ---------------------------------------------------------------------------------- local
    def _local_model(self):
        if self.lm_ is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            path = self.folder / self.manifest.files["lm"]
            if not (path / "config.json").exists():
                raise ModelFolderError(f"'{path}' is not a transformers model folder (no config.json)")
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            tokenizer.padding_side, tokenizer.truncation_side = "left", "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            device = "cuda" if torch.cuda.is_available() else "cpu"
            torch.set_num_threads(self.threads)
            model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32 if device == "cpu" else "auto")
            model.to(device).eval()
            letters = {}
            for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
                ids = tokenizer.encode(letter, add_special_tokens=False)
                if len(ids) == 1:
                    letters[letter] = ids[0]
            self.lm_ = (tokenizer, model, device, letters)
        return self.lm_

    def _local_letters(self, batch: list[list[dict]], sizes: list[int]) -> list[list[float] | None]:
        import torch

        tokenizer, model, device, letters = self._local_model()
        prompts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in batch]
        limit = int(getattr(model.config, "max_position_embeddings", 0) or getattr(model.config, "n_positions", 0)
                    or 2048)
        enc = tokenizer(prompts, return_tensors="pt", padding=True, truncation=True, max_length=limit,
                        add_special_tokens=False).to(device)
        with torch.no_grad():
            logits = model(**enc).logits[:, -1, :].float()
        logp = torch.log_softmax(logits, dim=-1).cpu().numpy()
        out = []
        for row, n in zip(logp, sizes):
            top = {letter: float(row[i]) for letter, i in letters.items()}
            out.append(letter_scores(top, n))
        return out

    # ------------------------------------------------------------------------------- endpoint
    def _chat(self, msgs: list[dict], style: str) -> dict:
        service = self.manifest.service
        body = {"model": service["model"], "messages": msgs, "temperature": 0,
                "max_tokens": 1 if style == "letters" else int(service.get("max_tokens") or 40)}
        if style == "letters":
            body.update(logprobs=True, top_logprobs=20)
        key = self.cache_.key(self.model_id_, body)
        cached = self.cache_.get(key)
        if cached is not None:
            return cached
        answer = request_json(self.endpoint_, "POST", "/chat/completions", json_body=body)
        try:
            choice = answer["choices"][0]
            content = choice["message"].get("content") or ""
            if not isinstance(content, str):
                raise TypeError("content")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ServiceUnavailable(f"LLM endpoint {self.endpoint_.url} answered something that is not a chat "
                                     f"completion ({str(answer)[:120]!r})") from None
        top = None
        try:
            first = (choice.get("logprobs") or {}).get("content")[0]
            top = {str(x["token"]): float(x["logprob"]) for x in first.get("top_logprobs") or []}
        except (TypeError, IndexError, KeyError, AttributeError, ValueError):
            top = None
        result = {"content": content, "top": top or None}
        self.cache_.put(key, result)
        return result

    def _endpoint_one(self, text: str, candidates: list[Candidate], lang: str) -> tuple[list[float] | None, str]:
        """(scores over the candidates, or None where no answer names one; the last answer)."""
        n = len(candidates)
        if self.style_ == "letters":
            try:
                result = self._chat(messages(text, candidates, "letters", lang), "letters")
            except ServiceError as exc:
                if isinstance(exc, ServiceUnavailable) or "HTTP 4" not in exc.message:
                    raise
                result = {"top": None, "content": ""}  # it refuses log-probabilities: JSON answers from now on
            if result.get("top"):
                scores = letter_scores(result["top"], n)
                if scores is not None:
                    return scores, result["content"]
            self.style_ = "json"  # no log-probabilities (or none a listed letter): ask for JSON
        asked = messages(text, candidates, "json", lang)
        answer = ""
        for attempt in range(RETRIES_FOR_INVALID + 1):
            answer = self._chat(asked, "json")["content"]
            code = parse_json_answer(answer, [c.code for c in candidates])
            if code is not None:
                scores = [0.9 if c.code == code else 0.1 / max(1, n - 1) for c in candidates]
                return scores, answer
            asked = retry_messages(asked, answer, lang)
        return None, answer

    # ---------------------------------------------------------------------------------- scores
    def _base(self, texts: list[str]) -> np.ndarray:
        n = len(self.manifest.codes)
        if self.shortlist_ is None:
            return np.full((len(texts), n), 1.0 / n, dtype=np.float32)
        part = self.shortlist_.predict_scores(texts)
        base = np.zeros((len(texts), n), dtype=np.float32)
        keep = self.shortlist_columns_ >= 0
        np.add.at(base.T, self.shortlist_columns_[keep], part[:, keep].T)
        return base

    def _scores(self, texts: list[str]) -> np.ndarray:
        from core.domain.language import detect_languages

        n = len(self.manifest.codes)
        base = self._base(texts)
        every = self.mode_ == "zero-shot" and n <= MAX_CANDIDATES
        picks = [list(range(n)) if every else list(np.argsort(-row, kind="stable")[:self.top_k_]) for row in base]
        langs = [prompt_language(lang, self.languages_) for lang in detect_languages(texts)]
        candidates = [[self.candidates_[j] for j in pick] for pick in picks]
        if self.local_:
            answers: list[tuple[list[float] | None, str]] = []
            for start in range(0, len(texts), LOCAL_BATCH):
                rows = range(start, min(start + LOCAL_BATCH, len(texts)))
                batch = [messages(texts[i], candidates[i], "letters", langs[i]) for i in rows]
                answers += [(s, "") for s in self._local_letters(batch, [len(candidates[i]) for i in rows])]
        else:
            def one(i: int):
                return self._endpoint_one(texts[i], candidates[i], langs[i])

            if self.concurrency_ == 1 or len(texts) == 1:
                answers = [one(i) for i in range(len(texts))]
            else:
                with ThreadPoolExecutor(max_workers=min(self.concurrency_, len(texts))) as pool:
                    answers = list(pool.map(one, range(len(texts))))
        out = np.zeros((len(texts), n), dtype=np.float32)
        invalid = [(i, a) for i, (s, a) in enumerate(answers) if s is None]
        with self._report_lock:
            self.report_["asked"] += len(texts)
            self.report_["invalid"] += len(invalid)
            self.report_["examples"] = (self.report_["examples"] + [a[:80] for _, a in invalid])[:5]
        if invalid and len(invalid) == len(texts):
            sample = invalid[0][1][:80]
            raise ServiceUnavailable(f"LLM {self.where} named no listed code for any of {len(texts)} record(s), "
                                     f"asked {RETRIES_FOR_INVALID + 1} times (e.g. {sample!r})")
        for i, ((scores, _), pick) in enumerate(zip(answers, picks)):
            if scores is None:
                out[i] = base[i] if self.shortlist_ is not None else 0.0
                continue
            q = np.asarray(scores, dtype=np.float32)
            if self.shortlist_ is None:
                out[i, pick] = q
                continue
            # the LLM redistributes the shortlist's share among the candidates; the codes it was not
            # shown keep the supervised model's scores (a gold code outside the top-k stays possible)
            mass = float(base[i, pick].sum())
            if self.mode_ == "rerank":
                q = (1.0 - self.weight_) * base[i, pick] / max(mass, 1e-9) + self.weight_ * q
            out[i] = base[i]
            out[i, pick] = mass * q
        return out


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
        place_folder(tmp, folder, replace_existing)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest
