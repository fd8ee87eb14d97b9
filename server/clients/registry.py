"""Every client ``init --client`` knows, by name, and choosing among them.

Its own module, not the package ``__init__``: each client module imports its siblings
(``config_file``, ``hooks``), which runs the package ``__init__``, so a registry there
that imports the clients was an import cycle."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import claude_code, codex, cursor, gemini, opencode, vscode
from .config_file import ConfigFile


@dataclass(frozen=True)
class Client:
    name: str
    title: str
    files: Callable[[Path], tuple[ConfigFile, ...]]  # the project -> the files it reads
    note: str | None = None  # what to do next, {project} filled in


CLIENTS: dict[str, Client] = {
    c.name: c
    for c in (
        Client("claude-code", "Claude Code", claude_code.files),
        Client("codex", "Codex CLI", codex.files, codex.NOTE),
        Client("gemini", "Gemini CLI", gemini.files, gemini.NOTE),
        Client("vscode", "VS Code", vscode.files),
        Client("cursor", "Cursor", cursor.files),
        Client("opencode", "opencode", opencode.files),
    )
}
DEFAULT = "claude-code"
ALL = "all"


class UnknownClient(ValueError):
    """A ``--client`` name that is none of ours."""


def select(names: Sequence[str]) -> list[Client]:
    """The clients named (``all`` = every one; none = Claude Code), each once, in our order.
    A name may be given as ``a,b`` too."""
    wanted = [n.strip() for name in names for n in name.split(",") if n.strip()] or [DEFAULT]
    unknown = [n for n in wanted if n != ALL and n not in CLIENTS]
    if unknown:
        valid = ", ".join([*CLIENTS, ALL])
        raise UnknownClient(f"unknown client {unknown[0]!r}: choose from {valid}")
    if ALL in wanted:
        return list(CLIENTS.values())
    return [c for name, c in CLIENTS.items() if name in wanted]
