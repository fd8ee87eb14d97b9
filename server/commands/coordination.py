"""``locks`` and ``watch``: the coordination state from a shell.

``watch`` follows the change feed (a long-poll, so it costs nothing while the store
is quiet) and prints one JSON object per change, flushed at once, until it is
interrupted: SIGINT and SIGTERM end it with exit code 0, as does a reader that
stops reading (``watch | head -3``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import Any

from .. import output
from .common import emit, open_existing, open_manager, output_option

WATCH_WAIT_SECONDS = 10.0  # one long-poll; a change ends it at once
WATCH_PAGE = 1000


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    locks = sub.add_parser("locks", help="the locks held now (memory_lock)")
    output_option(locks)
    locks.set_defaults(handler=cmd_locks)

    watch = sub.add_parser(
        "watch", help="print each change (one JSON object a line) until interrupted"
    )
    watch.add_argument("prefix", nargs="?", default="", metavar="PREFIX", help="only these keys")
    watch.add_argument(
        "--since",
        type=_revision,
        metavar="N",
        help="start after revision N (default: from now); a 'next' of memory_changes",
    )
    watch.set_defaults(handler=cmd_watch)


def _revision(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a revision (a whole number >= 0)")
    return int(text)


def cmd_locks(args: argparse.Namespace) -> int:
    with open_existing(args) as manager:
        held = manager.list_locks()
    emit(args, {"locks": held, "count": len(held)}, format_locks)
    return 0


def format_locks(result: Mapping[str, Any], now: float | None = None) -> str:
    locks = result["locks"]
    if not locks:
        return "no locks held"
    header = ("name", "owner", "token", "expires")
    rows = [
        (
            lock["name"],
            lock["owner"],
            str(lock["token"]),
            output.human_when(lock["expires_at"], now),
        )
        for lock in locks
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


class _Stop(Exception):
    """SIGTERM, raised in the main thread like SIGINT's KeyboardInterrupt."""


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_watch(args: argparse.Namespace) -> int:
    try:
        with _stop_on_sigterm(), open_manager(args) as manager:
            cursor = args.since
            while True:
                page = manager.changes(args.prefix, cursor, WATCH_PAGE, WATCH_WAIT_SECONDS)
                for change in page["changes"]:
                    sys.stdout.write(json.dumps(change) + "\n")
                sys.stdout.flush()
                cursor = page["next"]
    except (KeyboardInterrupt, _Stop):
        return 0
    except BrokenPipeError:  # the reader went away: done, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


__all__ = ["cmd_locks", "cmd_watch", "format_locks", "register"]
