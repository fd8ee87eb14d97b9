"""The ``memory-lifecycle`` command line's parser class: argparse's, with usage errors that
never exit 2 where that matters (hooks), and without argparse's ``import shutil``.

Only a command line the hooks' own reader (``hooks.command_line``) does not take whole
builds a parser: help, usage errors, every other command."""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any, NoReturn

from .common import SoftUsageError


class HelpFormatter(argparse.HelpFormatter):
    """argparse's, minus its ``import shutil`` (with ``bz2`` and ``lzma``): argparse makes a
    formatter for every argument it adds, so every hook paid that import to learn the
    terminal's width. The width is found as ``shutil.get_terminal_size`` finds it."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: ``$COLUMNS``, else the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class CommandParser(argparse.ArgumentParser):
    """argparse's parser; built with ``soft_errors=True`` its usage errors raise
    ``SoftUsageError`` (exit 1) instead of exiting 2. Nested parsers inherit the class
    (and its ``HelpFormatter``)."""

    def __init__(self, *args: Any, soft_errors: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self.soft_errors = soft_errors

    def error(self, message: str) -> NoReturn:
        if self.soft_errors:
            raise SoftUsageError(f"{self.prog}: {_readable(message)}")
        super().error(message)


def _readable(message: str) -> str:
    """argparse's "invalid choice: 'x' (choose from 'a', 'b', ...)" as one short sentence."""
    found = re.match(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)$", message)
    if not found:
        return message
    import difflib  # only for a usage error: every hook process imports this module

    what, given, listed = found.groups()
    choices = re.findall(r"'([^']*)'", listed)
    close = difflib.get_close_matches(given, choices, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(choices[:13])}"
    return f"unknown {what.lower()} {given!r}; {hint} (--help lists them)"
