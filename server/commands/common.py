"""What every subcommand shares: the usage error, the manager, output, argument types.

A hook imports this module but never ``argparse`` (~10M instructions with the parser it
builds): the parser class lives in ``parser``, and the argument types here import
``argparse`` only to report a bad value."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from .. import output
from ..program import PROG

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import argparse
    from typing import Any, TextIO

    from lifecycle import MemoryLifecycleManager


class UsageError(Exception):
    """A command line that cannot work as given (exit 2, like argparse)."""


class SoftUsageError(Exception):
    """A command line that cannot work as given, on a path that must never exit 2.

    Hooks: Claude Code reads exit code 2 as "block" (a PreToolUse hook stops the
    tool, a Stop hook stops Claude from finishing), so their usage errors exit 1.
    """


def open_manager(args: argparse.Namespace) -> MemoryLifecycleManager:
    """The manager for the user's locations; None lets the engine resolve them."""
    from lifecycle import MemoryLifecycleManager

    return MemoryLifecycleManager(args.memory_dir, args.policy_file, args.store)


def open_existing(args: argparse.Namespace) -> MemoryLifecycleManager:
    """The manager for a read command (``get``, ``list``, ``search``, ``stats``,
    ``export``, ``locks``): a SQLite store that is not there yet is a ``StoreNotFoundError``
    saying where it looked and how to make one, instead of a new, empty store file that a
    read in the wrong folder would leave behind. Writes create the store as before."""
    from lifecycle.errors import StoreNotFoundError
    from lifecycle.paths import resolve
    from lifecycle.store.url import sqlite_file

    url = resolve(args.memory_dir, args.policy_file, args.store).store_url
    path = sqlite_file(url)
    if path is not None and not os.path.exists(path):
        raise StoreNotFoundError(
            f"no store at {path} ({_store_origin(args)}): nothing has been stored there "
            f"yet. A write creates it ({PROG} put KEY VALUE, a hook, or the MCP server); "
            "to read another store pass --memory-dir DIR or --store URL",
            path=str(path),
        )
    return open_manager(args)


def _store_origin(args: argparse.Namespace) -> str:
    """Where the store's location came from, for the message above."""
    from lifecycle.paths import ENV_DIR, ENV_PROJECT, ENV_STORE, has_project_marker, project_root

    if args.store is not None:
        return "from --store"
    if args.memory_dir is not None:
        return "from --memory-dir"
    for name in (ENV_STORE, ENV_DIR):
        if os.environ.get(name):
            return f"from ${name}"
    from pathlib import Path

    start = Path(os.environ.get(ENV_PROJECT) or os.getcwd()).resolve()
    root = project_root()
    if root != start:
        return f"in the project {root}, found from {start}"
    if has_project_marker(root):
        return f"in the project {root}"
    return f"no .git, .claude/ or .mcp.json in {start} or above it"


def _bad_value(message: str) -> Exception:
    """argparse's own error for an argument type's bad value (its message names the option)."""
    import argparse

    return argparse.ArgumentTypeError(message)


def output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", choices=output.OUTPUT_FORMATS, default="text")


def emit(
    args: argparse.Namespace,
    result: Mapping[str, Any],
    text: Callable[[Mapping[str, Any]], str],
    out: TextIO | None = None,
) -> None:
    """One JSON object with ``--output json``, else the text summary."""
    out = out or sys.stdout
    if args.output == "json":
        output.dump_json(result, out)
    else:
        print(text(result), file=out)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise _bad_value(f"{text!r} is not a positive number")
    return value


def seconds_or_zero(text: str) -> float:
    """A maintenance interval: a positive number of seconds, or 0 for none."""
    if text.strip() in ("0", "0.0"):
        return 0.0
    return positive_float(text)


def port_number(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise _bad_value(f"{text!r} is not a port number (1-65535)")
    return int(text)
