"""The manual (README.md and docs/) says what the code does, and its examples run.

The reference pages are generated from the code at every docs build
(``docs/reference/generate.py``, a mkdocs hook); these tests check that the generator
misses nothing (every tool field, command, option, policy field, module), that no copy of
a generated page is committed, that the hand-written pages keep what they must say, that
their Python and command-line examples give the results their comments show, and that no
page names a repository file that does not exist.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import re
import shlex
import subprocess
from functools import cache
from pathlib import Path
from types import ModuleType

import anyio
import pytest
from mcp import Client
from mcp.types import Tool

from lifecycle import MemoryLifecycleManager
from lifecycle.policies import schema
from server.cli import build_parser
from server.mcp.server import build_server
from tests.support.cli import run_cli
from tests.support.env import REPO
from tests.support.server import bounded

DOCS = REPO / "docs"
README = REPO / "README.md"
GENERATOR = DOCS / "reference" / "generate.py"
MAX_README_LINES = 200


@cache
def generator() -> ModuleType:
    """``docs/reference/generate.py``, loaded as mkdocs loads a hook: from its path."""
    spec = importlib.util.spec_from_file_location("docs_reference_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def generated(uri: str) -> str:
    return str(generator().PAGES[uri]())


def pages() -> dict[Path, str]:
    """Every hand-written page: the README and docs/**/*.md."""
    found = {README: README.read_text()}
    found |= {path: path.read_text() for path in sorted(DOCS.rglob("*.md"))}
    return found


def doc_section(name: str) -> tuple[Path, str]:
    """The page holding ``<!-- section:NAME -->`` (exactly one does) and the section."""
    pattern = rf"<!-- section:{name} -->(.*?)<!-- /section:{name} -->"
    hits = [
        (path, m.group(1))
        for path, text in pages().items()
        for m in re.finditer(pattern, text, re.S)
    ]
    assert len(hits) == 1, f"one page must hold section {name!r}; found {[p for p, _ in hits]}"
    return hits[0]


def heading_block(page: str, heading: str) -> str:
    """The text under ``heading`` (a whole heading line) up to the next heading as deep."""
    level = heading.split(" ", 1)[0]
    start = page.index(f"\n{heading}\n")
    rest = page[start + len(heading) + 2 :]
    end = re.search(rf"^#{{1,{len(level)}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


# ---------------------------------------------------------------- generated reference pages


def listed_tools(memory_dir: Path) -> list[Tool]:
    """The tools a client sees (the generator must not be run inside an event loop)."""
    server = build_server(memory_dir=memory_dir, maintenance_interval=0)

    async def listing() -> list[Tool]:
        with bounded():
            async with Client(server, mode="legacy") as client:
                return (await client.list_tools()).tools

    return anyio.run(listing)


def test_every_registered_tool_is_documented_with_its_inputs_and_results(
    tmp_path: Path,
) -> None:
    page = generated("reference/tools.md")
    tools = listed_tools(tmp_path / "memory")
    assert tools
    for tool in tools:
        block = heading_block(page, f"## `{tool.name}`")
        assert tool.description and tool.description in block
        for field in tool.input_schema.get("properties", {}):
            assert f"| `{field}` |" in block, f"{tool.name}: input {field!r} missing"
        assert tool.output_schema is not None
        for field in tool.output_schema["properties"]:
            assert f"| `{field}` |" in block, f"{tool.name}: result {field!r} missing"
    batch = heading_block(page, "## `memory_store_batch`")
    assert "| `entries[].if_revision` |" in batch  # nested models are spelled out
    assert "| `conflicts[].actor` |" in heading_block(page, "## `memory_retrieve`")
    assert "### `memory://{+key}`" in page  # the resource template


def test_the_tools_page_names_every_tool_and_the_rules_they_share() -> None:
    path, section = doc_section("tools")
    assert path == DOCS / "tools.md"
    assert section.lstrip().startswith("# MCP tools")
    rows = re.findall(r"^\| `(\w+)`(?: / `(\w+)`)? \|", section, re.M)
    overview = {name for row in rows for name in row if name}
    names = set(re.findall(r"^## `(\w+)`$", generated("reference/tools.md"), re.M))
    assert names and names <= overview, f"tools.md overview misses {names - overview}"
    for words in ("memory://{key}", "isError", "-32602", "-32700", "--allowed-host"):
        assert words in section, words


def subcommands(parser: argparse.ArgumentParser) -> list[list[str]]:
    """Each subcommand once, as its names (the name, then its aliases)."""
    names: dict[int, list[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                names.setdefault(id(sub), []).append(name)
    return list(names.values())


def subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    found = [
        action.choices[name]
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    return found[0]


def test_every_command_and_option_is_in_the_cli_reference() -> None:
    page = generated("reference/cli.md")
    headings = set(re.findall(r"^#+ `(memory-lifecycle[^`]*)`$", page, re.M))
    quiet = re.findall(r"^Accepted with no memory effect .*$", page, re.M)
    checked = 0
    pending = [("memory-lifecycle", build_parser())]
    while pending:
        path, parser = pending.pop()
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):  # -h, --help: every command has it
                continue
            for option in action.option_strings:
                assert f"`{option}`" in page, f"{path}: option {option} missing"
                checked += 1
        for name, *aliases in subcommands(parser):
            command = f"{path} {name}"
            listed = command in headings or any(f"`{name}`" in line for line in quiet)
            assert listed, f"command {command!r} missing"
            for alias in aliases:
                assert f"`{alias}`" in page, f"{command}: alias {alias} missing"
            pending.append((command, subparser(parser, name)))
    assert checked > 100
    assert {"memory-lifecycle serve", "memory-lifecycle hook session-end"} <= headings
    assert "`--session-id`" in heading_block(page, "### `memory-lifecycle hook session-end`")


def test_every_policy_file_field_is_in_the_policy_reference_with_its_default() -> None:
    page = generated("reference/policy-file.md")
    models = {
        "## `namespaces[]`: one policy per key pattern": schema.PolicyModel,
        "## `default`: keys that match no pattern": schema.DefaultPolicyModel,
        "## `settings`: store-wide": schema.SettingsModel,
    }
    for heading, model in models.items():
        block = heading_block(page, heading)
        for name, field in model.model_fields.items():
            row = next((r for r in block.splitlines() if r.startswith(f"| `{name}` |")), None)
            assert row is not None, f"{heading}: {name} missing"
            if field.is_required():
                assert "| required |" in row, row
            elif isinstance(field.default, int) and not isinstance(field.default, bool):
                assert f"`{field.default}`" in row, row
            if name != "op_id_window":
                assert field.description and field.description in row.replace("\\|", "|"), row
    shipped = (REPO / "lifecycle" / "memory-retention-policies.yaml").read_text()
    assert shipped.strip() in page


def test_every_module_is_in_the_module_map_with_its_docstring() -> None:
    page = generated("reference/modules.md")
    modules = [p for pkg in ("lifecycle", "server") for p in (REPO / pkg).rglob("*.py")]
    assert len(modules) > 50
    for path in modules:
        relative = path.relative_to(REPO).as_posix()
        assert f"| `{relative}` |" in page, relative
    doc = ast.get_docstring(ast.parse((REPO / "lifecycle" / "entries" / "crdt.py").read_text()))
    assert doc and " ".join(doc.split("\n\n")[0].split()) in page


def test_the_generated_pages_are_built_not_committed() -> None:
    config = (REPO / "mkdocs.yml").read_text()
    assert "hooks:\n  - docs/reference/generate.py" in config
    for uri in generator().PAGES:
        assert not (DOCS / uri).exists(), f"docs/{uri} is generated at build time: delete it"
        assert f": {uri}\n" in config, f"mkdocs.yml's nav does not list {uri}"
    tracked = subprocess.run(
        ["git", "ls-files", "docs/reference"], cwd=REPO, capture_output=True, text=True
    )
    if tracked.returncode == 0:  # a checkout without git (an sdist) has nothing to check
        assert not [name for name in tracked.stdout.split() if name.endswith(".md")]


# ---------------------------------------------------------------- hand-written pages


def test_the_debugging_section_shows_the_inspector_commands() -> None:
    _, section = doc_section("debugging")
    assert section.lstrip().startswith("# Debugging with the MCP Inspector")
    assert "--method tools/list" in section
    assert "--tool-name memory_stats" in section
    assert "--tool-args-json" in section
    assert "stderr" in section


def test_the_dashboard_section_documents_every_endpoint_the_page_uses() -> None:
    path, section = doc_section("dashboard")
    assert section.lstrip().startswith("# Dashboard: the memory in a browser")
    script = (REPO / "server" / "ui" / "static" / "app.js").read_text()
    used = set(re.findall(r"api/(\w+)", script))
    assert {"stats", "expiries", "locks", "entries", "entry", "changes", "cleanup"} <= used
    for name in used:
        assert f"/ui/api/{name}" in section, f"{path.name}: the dashboard's api/{name} is missing"
    image = re.search(r"!\[[^]]*\]\(([^)]+\.png)\)", section)
    assert image, "the dashboard section shows no screenshot"
    assert (path.parent / image.group(1)).resolve() == DOCS / "ui.png"
    assert (DOCS / "ui.png").read_bytes().startswith(b"\x89PNG")
    for words in ("memory-lifecycle ui", "--open", "/ui", "?token=", "421", "403", "401"):
        assert words in section, words


def test_the_readme_is_one_screen_that_points_into_the_manual() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= MAX_README_LINES
    for words in ("pipx install", "make run", "make test", ".mcp.json", "memory-lifecycle put"):
        assert words in text, words
    linked = set(re.findall(r"\]\(docs/([\w./-]+\.md)", text))
    hand_written = {p.relative_to(DOCS).as_posix() for p in DOCS.glob("*.md")}
    assert {"getting-started.md", "tools.md", "cli.md", "architecture.md"} <= linked
    assert linked <= hand_written


LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")
REPO_DIRS = ("lifecycle/", "server/", "tests/", "bench/", "docs/", "scripts/", ".ci/", ".claude/")


FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def named_repository_files(path: Path, text: str) -> set[str]:
    """Repository paths a page names: relative links; in code (blocks and spans), the words
    that start with one of the repository's folders or name a Markdown file, and the
    modules run with ``python -m``."""
    names = set()
    for target, _ in LINK.findall(text):
        if "://" not in target and not target.startswith("mailto:"):
            names.add((path.parent / target).resolve().relative_to(REPO).as_posix())
    blocks = FENCE.findall(text)
    spans = re.findall(r"`([^`]+)`", FENCE.sub("", text))
    for code in [*blocks, *spans]:
        words = [w.lstrip("'\"(").rstrip("'\")].,:;") for w in code.split()]
        for before, word in zip(["", *words], words, strict=False):
            if any(c in word for c in "<>*{}$…="):  # a placeholder, not a name
                continue
            if before == "-m" and word.startswith(("bench.", "lifecycle.", "server.")):
                names.add(word.replace(".", "/") + ".py")
            if word.startswith(REPO_DIRS) or re.fullmatch(r"[\w.-]+\.md", word):
                names.add(word)
    return names


def in_repository(name: str) -> bool:
    """A file of the checkout, or a page the docs build generates."""
    return (REPO / name).exists() or name.removeprefix("docs/") in generator().PAGES


def test_no_page_names_a_file_that_is_not_in_the_repository() -> None:
    missing = {
        f"{path.relative_to(REPO)}: {name}"
        for path, text in pages().items()
        for name in named_repository_files(path, text)
        if not in_repository(name)
    }
    assert not missing, sorted(missing)
    for path, text in pages().items():
        for stale in (r"DESIGN\.md", r"SEED\.md", r"Issue 15\b", r"\bthe seed\b"):
            assert not re.search(stale, text), f"{path.relative_to(REPO)} cites {stale!r}"


# ---------------------------------------------------------------- examples that run

EXAMPLE = re.compile(r"<!-- example:([\w-]+) -->\n```(\w+)\n(.*?)```", re.S)


def examples(language: str) -> list[tuple[str, str]]:
    found = [
        (f"{path.relative_to(REPO)}:{name}", body)
        for path, text in pages().items()
        for name, lang, body in EXAMPLE.findall(text)
        if lang == language
    ]
    assert found, f"no {language} examples marked <!-- example:NAME -->"
    return found


def checked(source: str) -> str:
    """The example with each ``expression  # literal`` line turned into an assertion that
    the expression gives that literal (comments that are not literals stay comments)."""
    lines = []
    for line in source.splitlines():
        code, sep, comment = line.partition("  # ")
        expected = _literal(comment) if sep else None
        if expected is not None and _is_expression(code.strip()):
            indent = code[: len(code) - len(code.lstrip())]
            line = f"{indent}assert ({code.strip()}) == ({comment.strip()}), {code.strip()!r}"
        lines.append(line)
    return "\n".join(lines)


def _literal(comment: str) -> object | None:
    if "..." in comment or "…" in comment:
        return None
    try:
        return ast.literal_eval(comment.strip())
    except (ValueError, SyntaxError):
        return None


def _is_expression(code: str) -> bool:
    try:
        ast.parse(code, mode="eval")
    except SyntaxError:
        return False
    return True


@pytest.mark.parametrize(
    "name, source", [pytest.param(*e, id=e[0].split(":")[-1]) for e in examples("python")]
)
def test_the_python_examples_run_and_give_what_their_comments_show(name: str, source: str) -> None:
    script = checked(source)
    assert "assert (" in script or "store(" in script
    with MemoryLifecycleManager() as m:  # the project store in this test's own directory
        exec(compile(script, name, "exec"), {"m": m, "memory": m})


def test_the_readme_command_line_example_stores_and_reads_back(project: Path) -> None:
    (_, block), *_ = [e for e in examples("bash") if e[0].endswith(":readme-cli")]
    for line in block.splitlines():
        args = shlex.split(line, comments=True)
        assert args[0] == "memory-lifecycle"
        done = run_cli(*args[1:], cwd=project)
        assert done.returncode == 0, done.stderr
        if "  # " in line:
            assert json.loads(done.stdout) == json.loads(line.split("  # ", 1)[1])
