"""``init``: set a project up for Claude Code in one step.

Registers the server in ``.mcp.json``, wires the hooks in
``.claude/settings.json``, writes the default policy file if there is none and
ignores the store in ``.gitignore``. Every file is read and merged before any
is written, so a file init cannot read (invalid JSON, a ``hooks`` that is not
an object) stops it with nothing changed. The merges themselves are in
``server.claude_config``.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from lifecycle import paths
from lifecycle.errors import ConfigurationError

from .. import claude_config, output
from .common import PROG, output_option

MCP_CONFIG = Path(paths.MCP_CONFIG)
SETTINGS = Path(".claude") / "settings.json"
GITIGNORE = Path(".gitignore")
POLICY_TEMPLATE = "memory-retention-policies.yaml"  # package data of `lifecycle`


@dataclass
class FileChange:
    """One file: what it holds now and what init would make it hold."""

    path: Path  # relative to the project
    before: str | None  # None: the file does not exist
    after: str | None  # None: left as it is
    changes: list[str] = field(default_factory=list)

    @property
    def action(self) -> str:
        if self.after is None:
            return "unchanged"
        return "create" if self.before is None else "update"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = sub.add_parser(
        "init", help="set a project up for Claude Code: server, hooks, policies, .gitignore"
    )
    init.add_argument("project_dir", nargs="?", default=".", metavar="PROJECT_DIR")
    init.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    output_option(init)
    init.set_defaults(handler=cmd_init)


def default_policies() -> str:
    """The shipped default policy file (the same text as this repository's own)."""
    return resources.files("lifecycle").joinpath(POLICY_TEMPLATE).read_text(encoding="utf-8")


def plan(project: Path) -> list[FileChange]:
    """Every change init would make; raises before anything is written."""
    return [
        _json_change(project, MCP_CONFIG, claude_config.merge_server),
        _json_change(project, SETTINGS, claude_config.merge_hooks),
        _policy_change(project),
        _text_change(project, GITIGNORE),
    ]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise ConfigurationError(
            f"{path}: not UTF-8 text; fix it by hand and rerun init (nothing was changed)",
            path=str(path),
        ) from None


def _json_change(
    project: Path, rel: Path, merge: Callable[[Any, Path], tuple[Any, list[str]]]
) -> FileChange:
    before = _read(project / rel)
    doc = None if before is None else claude_config.parse_json(before, project / rel)
    merged, changes = merge(doc, project / rel)
    after = claude_config.render_json(merged, before) if changes else None
    return FileChange(rel, before, after, changes)


def _policy_change(project: Path) -> FileChange:
    rel = paths.DEFAULT_POLICY_FILE
    before = _read(project / rel)
    if before is not None:
        return FileChange(rel, before, None)
    return FileChange(rel, None, default_policies(), ["the default retention policies"])


def _text_change(project: Path, rel: Path) -> FileChange:
    before = _read(project / rel)
    after, changes = claude_config.merge_gitignore(before)
    return FileChange(rel, before, after if changes else None, changes)


def write(project: Path, change: FileChange) -> None:
    """Replace the file atomically, keeping its permissions."""
    if change.after is None:
        return
    target = project / change.path
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("x", encoding="utf-8") as f:
            f.write(change.after)
        if target.exists():
            shutil.copymode(target, temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def warnings(project: Path) -> list[str]:
    found = []
    if shutil.which(claude_config.COMMAND) is None:
        here = Path(sys.argv[0]).resolve().parent
        where = f" ({here})" if (here / claude_config.COMMAND).is_file() else ""
        found.append(
            f"'{claude_config.COMMAND}' is not on PATH here, so Claude Code cannot start the "
            "server or the hooks; install it as a tool (pipx install, see the README) or add "
            f"its folder{where} to PATH"
        )
    parent = next((p for p in project.parents if paths.registers_server(p / MCP_CONFIG)), None)
    if parent is not None:
        found.append(
            f"{parent} already sets memory-lifecycle up; {project} becomes a separate project "
            "with its own store (Claude Code started in any subfolder finds the parent's)"
        )
    return found


def cmd_init(args: argparse.Namespace) -> int:
    project = Path(args.project_dir).expanduser().resolve()
    if not project.is_dir():
        raise ConfigurationError(
            f"{project}: not a directory; name the project's folder (or create it first)",
            path=str(project),
        )
    changes = plan(project)
    if not args.dry_run:
        for change in changes:
            write(project, change)
    report = _report(project, changes, args.dry_run, warnings(project))
    for warning in report["warnings"]:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    if args.output == "json":
        output.dump_json(report, sys.stdout)
    else:
        print(format_init(report, changes))
    return 0


def _report(
    project: Path, changes: list[FileChange], dry_run: bool, found: list[str]
) -> dict[str, Any]:
    files = []
    for c in changes:
        entry: dict[str, Any] = {"path": c.path.as_posix(), "action": c.action}
        entry["changes"] = c.changes
        if dry_run and c.after is not None:
            entry["diff"] = diff(c)
        files.append(entry)
    return {
        "project": str(project),
        "dry_run": dry_run,
        "changed": any(c.after is not None for c in changes),
        "files": files,
        "store": str(project / paths.DEFAULT_MEMORY_DIR / paths.DB_NAME),
        "warnings": found,
    }


def diff(change: FileChange) -> str:
    """A unified diff of the change; a new policy file is summarised, not spelled out."""
    rel = change.path.as_posix()
    old = "/dev/null" if change.before is None else f"a/{rel}"
    if change.path == paths.DEFAULT_POLICY_FILE and change.after is not None:
        lines = len(change.after.splitlines())
        return f"--- {old}\n+++ b/{rel}\n+ ({lines} lines: the default retention policies)\n"
    return "".join(
        difflib.unified_diff(
            (change.before or "").splitlines(keepends=True),
            (change.after or "").splitlines(keepends=True),
            fromfile=old,
            tofile=f"b/{rel}",
        )
    )


def format_init(report: dict[str, Any], changes: list[FileChange]) -> str:
    dry = report["dry_run"]
    if not report["changed"]:
        return f"nothing to change: {report['project']} is already set up for memory-lifecycle"
    verbs = {"create": "created", "update": "updated", "unchanged": "unchanged"}
    if dry:
        verbs = {"create": "would create", "update": "would update", "unchanged": "unchanged"}
    width = max(len(v) for v in verbs.values())
    lines = [f"{PROG} init {report['project']}"]
    for f in report["files"]:
        detail = f": {'; '.join(f['changes'])}" if f["changes"] else ""
        lines.append(f"  {verbs[f['action']].ljust(width)}  {f['path']}{detail}")
    if dry:
        lines += ["", *(diff(c).rstrip("\n") for c in changes if c.after is not None)]
        lines += ["", "dry run: nothing written"]
    else:
        lines.append(f"store: {report['store']} (from any folder of the project)")
    return "\n".join(lines)
