"""Run ``python -m server ARGS`` and write, as the server writes its first answer, the
names in ``sys.modules`` to the file named by ``$MODULES_AT_FIRST_ANSWER``, one a line.

Usage: ``python tests/support/modules_at_first_answer.py [server options]``. The stdio
transport writes each answer with ``os.write`` (``server/mcp/stdio.py``); the first call
that writes a JSON-RPC message takes the snapshot, before its bytes leave, so it holds
exactly what was imported before the client could read the answer.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

OUT = os.environ["MODULES_AT_FIRST_ANSWER"]
_write = os.write


def _snapshot_then_write(fd: int, data: bytes) -> int:
    if bytes(data[:10]).startswith(b'{"jsonrpc"'):
        os.write = _write  # once
        with open(OUT, "w") as f:
            f.write("\n".join(sorted(sys.modules)))
    return _write(fd, data)


if __name__ == "__main__":
    sys.path[0] = str(Path(__file__).resolve().parents[2])  # the repository, not this folder
    os.write = _snapshot_then_write
    sys.argv = ["server", *sys.argv[1:]]
    runpy.run_module("server", run_name="__main__", alter_sys=True)
