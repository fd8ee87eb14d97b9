"""``init``: set a project up for its coding agents in one step.

For each client named with ``--client`` (Claude Code by default), registers the
server in the file that agent reads and wires the hooks it has that map to
ours; whichever clients are named, writes the default policy file if there is
none and ignores the store in ``.gitignore``. Every file is read and merged
before any is written, so a file init cannot read (invalid JSON or TOML, a
``hooks`` that is not an object) stops it with nothing changed. What each
client reads and gets is in ``server.clients``.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle import paths
from lifecycle.errors import ConfigurationError

from .. import output
from ..clients import project_files
from ..clients import registry as clients
from ..clients.config_file import COMMAND, ConfigFile
from ..clients.registry import Client
from ..program import PROG
from .common import UsageError, output_option

GITIGNORE = Path(".gitignore")
default_policies = project_files.default_policies


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
        "init",
        help="set a project up for its coding agents: server, hooks, policies, .gitignore",
    )
    init.add_argument("project_dir", nargs="?", default=".", metavar="PROJECT_DIR")
    init.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="NAME",
        help=f"the agent to set up: {', '.join(clients.CLIENTS)} or {clients.ALL} "
        f"(repeatable; default {clients.DEFAULT})",
    )
    init.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    output_option(init)
    init.set_defaults(handler=cmd_init)


def plan(project: Path, named: list[Client] | None = None) -> list[FileChange]:
    """Every change init would make; raises before anything is written."""
    configs = [f for client in named or clients.select([]) for f in client.files(project)]
    return [
        *(_config_change(project, config) for config in configs),
        _policy_change(project),
        _text_change(project, GITIGNORE),
    ]


def _read(path: Path) -> str | None:
    """The file's text as it is on disk (a CRLF file's line ends kept), None if absent."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            return f.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise ConfigurationError(
            f"{path}: not UTF-8 text; fix it by hand and rerun init (nothing was changed)",
            path=str(path),
        ) from None


def _config_change(project: Path, config: ConfigFile) -> FileChange:
    path = project / config.path
    before = _read(path)
    doc = None if before is None else config.parse(before, path)
    additions = config.plan(doc, path)
    changes = [line for a in additions for line in a.changes]
    after = config.render(before, additions) if additions else None
    return FileChange(config.path, before, after, changes)


def _policy_change(project: Path) -> FileChange:
    rel = paths.DEFAULT_POLICY_FILE
    before = _read(project / rel)
    if before is not None:
        return FileChange(rel, before, None)
    return FileChange(rel, None, default_policies(), ["the default retention policies"])


def _text_change(project: Path, rel: Path) -> FileChange:
    before = _read(project / rel)
    after, changes = project_files.merge_gitignore(before)
    return FileChange(rel, before, after if changes else None, changes)


def write(project: Path, change: FileChange) -> None:
    """Replace the file atomically, keeping its permissions."""
    if change.after is None:
        return
    target = project / change.path
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("x", encoding="utf-8", newline="") as f:
            f.write(change.after)
        if target.exists():
            shutil.copymode(target, temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def warnings(project: Path) -> list[str]:
    found = []
    if shutil.which(COMMAND) is None:
        here = Path(sys.argv[0]).resolve().parent
        where = f" ({here})" if (here / COMMAND).is_file() else ""
        found.append(
            f"'{COMMAND}' is not on PATH here, so the coding agents cannot start the "
            "server or the hooks; install it as a tool (pipx install, see the README) or add "
            f"its folder{where} to PATH"
        )
    parent = next((p for p in project.parents if paths.sets_server_up(p)), None)
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
    try:
        named = clients.select(args.client)
    except clients.UnknownClient as exc:
        raise UsageError(str(exc)) from None
    changes = plan(project, named)
    if not args.dry_run:
        for change in changes:
            write(project, change)
    report = _report(project, named, changes, args.dry_run, warnings(project))
    for warning in report["warnings"]:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    if args.output == "json":
        output.dump_json(report, sys.stdout)
    else:
        print(format_init(report, changes))
    return 0


def _report(
    project: Path, named: list[Client], changes: list[FileChange], dry_run: bool, found: list[str]
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
        "clients": [c.name for c in named],
        "dry_run": dry_run,
        "changed": any(c.after is not None for c in changes),
        "files": files,
        "store": str(project / paths.DEFAULT_MEMORY_DIR / paths.DB_NAME),
        "warnings": found,
        "next": [c.note.format(project=project) for c in named if c.note],
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
        lines += [f"next: {step}" for step in report["next"]]
    return "\n".join(lines)
