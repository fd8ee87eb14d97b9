"""docs/clients.md shows what ``init --client all`` really writes, and names every client."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.cli import run_cli
from tests.support.clients import CLIENTS, CONFIG
from tests.support.env import REPO

PAGE = REPO / "docs" / "clients.md"


def shown_files(text: str) -> dict[str, str]:
    """Each ``\\`path\\`:`` line followed by a fenced block: the block's text by path."""
    found = re.findall(r"^`([^`\n]+)`:\n\n```[a-z]*\n(.*?)```", text, flags=re.M | re.S)
    return dict(found)


def test_the_pages_file_examples_are_what_init_writes(project: Path):
    assert run_cli("init", "--client", "all", cwd=project).returncode == 0

    shown = shown_files(PAGE.read_text())

    assert set(shown) == set(CONFIG.values()) - {".mcp.json"}
    for name, text in shown.items():
        assert (project / name).read_text().rstrip("\n") == text.rstrip("\n"), name


def test_the_table_has_a_row_for_every_client_with_its_file_and_command():
    rows = [line for line in PAGE.read_text().splitlines() if line.startswith("| ")]
    for client in CLIENTS:
        command = "memory-lifecycle init" if client == "claude-code" else f"init --client {client}"
        assert any(f"`{CONFIG[client]}`" in row and f"`{command}`" in row for row in rows), client
