"""The JSON Claude Code writes to a hook command's stdin, read without ever blocking.

Claude Code writes one JSON object (``session_id``, ``hook_event_name``,
``cwd``, and per event ``tool_name``, ``tool_use_id``, ``tool_input``,
``message``, ...) and closes the pipe. A hook run from a terminal, from CI,
or at the end of claude-flow's ``jq | xargs`` pipelines (whose stdin is
/dev/null) gets none, and must not wait for it.
"""

from __future__ import annotations

import json
import os
import select
import sys
from collections.abc import Callable, Mapping

from lifecycle import paths
from lifecycle.basics.dataclass_lite import FrozenRecord
from lifecycle.basics.lazy_logging import get_logger
from lifecycle.errors import clip_text

_set = object.__setattr__  # how a frozen record's __init__ sets its fields

# Claude Code writes the hook JSON and closes the pipe at once; these bound the wait
# when something else left stdin open with nothing in it.
STDIN_FIRST_BYTE_SECONDS = 0.5
STDIN_IDLE_SECONDS = 0.5
STDIN_MAX_BYTES = 1 << 20

log = get_logger("memory_lifecycle.cli")


class HookInput(FrozenRecord):
    """The fields of Claude Code's hook JSON that hooks use (all optional)."""

    __slots__ = ("data",)
    data: Mapping[str, Any]

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        _set(self, "data", dict() if data is None else data)

    def text(self, *names: str, inside: str | None = None) -> str | None:
        """The first of ``names`` that holds a non-empty string or number."""
        source = self.data.get(inside) if inside else self.data
        if not isinstance(source, Mapping):
            return None
        for name in names:
            value = source.get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)
        return None

    @property
    def session_id(self) -> str | None:
        return self.text("session_id")

    @property
    def event(self) -> str | None:
        return self.text("hook_event_name")

    @property
    def tool_use_id(self) -> str | None:
        return self.text("tool_use_id")


TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import argparse
    from typing import Any, TextIO

    # what each hook runs: (its arguments, Claude Code's JSON, the open manager) -> its report
    Handler = Callable[[argparse.Namespace, HookInput, Any], dict[str, Any]]


def read_hook_input(
    stream: TextIO | None = None,
    first_byte_seconds: float = STDIN_FIRST_BYTE_SECONDS,
) -> dict[str, Any]:
    """The JSON object Claude Code writes to a hook's stdin, or {} when there is none.

    Never waits on a terminal, and never blocks on an open pipe with no data:
    it waits at most ``first_byte_seconds`` for data to start, and stops when
    the pipe closes or stays idle. Anything but a JSON object is ignored with
    a warning: a hook that has its flags must not fail over unrelated input.
    """
    stream = sys.stdin if stream is None else stream
    try:
        fd = stream.fileno()
        if os.isatty(fd):
            return {}
        chunks: list[bytes] = []
        timeout, size = first_byte_seconds, 0
        while size < STDIN_MAX_BYTES and select.select([fd], [], [], timeout)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            timeout = STDIN_IDLE_SECONDS
    except (OSError, ValueError, AttributeError):  # closed, no fd, or select unsupported
        return {}
    text = b"".join(chunks).decode("utf-8", errors="replace").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # bad JSON, >4,300-digit ints, deep nesting
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else _why_unreadable(exc)
        log.warning("ignoring hook stdin: not valid JSON (%s)", clip_text(reason, 120))
        return {}
    if not isinstance(data, dict):  # flags may still say all the hook needs: do not fail here
        log.warning("ignoring hook stdin: not a JSON object like Claude Code's hook input")
        return {}
    return data


def _why_unreadable(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return "a number too long to read" if "digits" in str(exc) else str(exc)


def _location_configured(args: argparse.Namespace) -> bool:
    flags = (args.memory_dir, args.policy_file, args.store)
    env = (paths.ENV_DIR, paths.ENV_POLICY, paths.ENV_STORE, paths.ENV_PROJECT)
    return any(f is not None for f in flags) or any(os.environ.get(name) for name in env)


def adopt_hook_cwd(args: argparse.Namespace, data: Mapping[str, Any]) -> None:
    """Resolve paths from the session's ``cwd`` when nothing else names a location."""
    cwd = data.get("cwd")
    if not isinstance(cwd, str) or not cwd or _location_configured(args):
        return
    if os.path.isdir(cwd):
        os.chdir(cwd)
    else:
        log.warning("hook JSON cwd %r is not a directory; resolving from %s", cwd, os.getcwd())
