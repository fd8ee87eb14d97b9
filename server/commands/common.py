"""What every subcommand shares: the usage error, the manager, output, argument types."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from .. import output

if TYPE_CHECKING:
    from lifecycle import MemoryLifecycleManager

PROG = "memory-lifecycle"


class UsageError(Exception):
    """A command line that cannot work as given (exit 2, like argparse)."""


def open_manager(args: argparse.Namespace) -> MemoryLifecycleManager:
    """The manager for the user's locations; None lets the engine resolve them."""
    from lifecycle import MemoryLifecycleManager

    return MemoryLifecycleManager(args.memory_dir, args.policy_file, args.store)


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
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def seconds_or_zero(text: str) -> float:
    """A maintenance interval: a positive number of seconds, or 0 for none."""
    if text.strip() in ("0", "0.0"):
        return 0.0
    return positive_float(text)
