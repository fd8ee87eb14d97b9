"""Read-only folders and full disks for real, without touching the machine.

A command runs in a private mount namespace (``unshare -m``, as root) where a folder
is bind-mounted read-only onto itself, or a tiny tmpfs is mounted over it: the
process and its children see a read-only or full file system, everyone else sees
nothing change, and the mounts vanish when the process ends (a test that crashes
leaves no mount behind). Where namespaces or mounts are not allowed, tests skip
(or fail when ``MEMORY_LIFECYCLE_REQUIRE_MOUNTS=1`` says they must run).
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

ENV_REQUIRE = "MEMORY_LIFECYCLE_REQUIRE_MOUNTS"


def _namespace(setup: str, argv: Sequence[str]) -> list[str]:
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'{setup} && exec "$@"',
        "sh",
        *argv,
    ]


def read_only(folder: Path, argv: Sequence[str]) -> list[str]:
    """``argv`` seeing ``folder`` (and everything under it) on a read-only mount."""
    where = shlex.quote(str(folder))
    return _namespace(f"mount --bind {where} {where} && mount -o remount,bind,ro {where}", argv)


def tiny_disk(folder: Path, size_kib: int, argv: Sequence[str]) -> list[str]:
    """``argv`` seeing an empty tmpfs of ``size_kib`` KiB mounted over ``folder``."""
    where = shlex.quote(str(folder))
    return _namespace(f"mount -t tmpfs -o size={int(size_kib)}k,mode=0700 tmpfs {where}", argv)


@functools.cache
def _unavailable() -> str | None:
    """Why mount namespaces cannot be used here, or None when they can."""
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            read_only(Path(folder), ["sh", "-c", f"! touch {shlex.quote(folder)}/x 2>/dev/null"]),
            capture_output=True,
            text=True,
            timeout=30,
        )
    if done.returncode != 0:
        return f"cannot bind-mount read-only in a mount namespace: {done.stderr.strip()[:200]}"
    return None


def require_mounts() -> None:
    """Skip the test (or fail it, when required) where mount namespaces are not allowed."""
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get(ENV_REQUIRE, "").strip() not in ("", "0", "false", "no"):
        pytest.fail(f"{ENV_REQUIRE}=1 but {reason}")
    pytest.skip(reason)
