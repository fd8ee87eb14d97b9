"""``export`` and ``import``: JSON lines with the full CRDT state, merged by the CRDT rules;
``import --from claude-flow|seed`` migrates another memory system's data."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from .. import output
from ..program import PROG
from .common import emit, open_existing, open_manager, output_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser("export", help="write every entry as JSON lines ('-' = stdout)")
    export.add_argument("file", metavar="FILE")
    output_option(export)
    export.set_defaults(handler=cmd_export)

    imp = sub.add_parser(
        "import",
        help="merge an export by the CRDT rules ('-' = stdin), or migrate claude-flow's "
        "database (--from claude-flow .swarm/memory.db) or a file-per-key store "
        "(--from seed .claude-flow/memory)",
    )
    imp.add_argument("file", metavar="PATH")
    imp.add_argument(
        "--from",
        dest="source",
        choices=SOURCES,
        default="export",
        help="what PATH is: our export (default), claude-flow's memory.db, a file-per-key dir",
    )
    output_option(imp)
    imp.set_defaults(handler=cmd_import)


@contextlib.contextmanager
def _export_target(name: str) -> Iterator[TextIO]:
    """stdout for '-', else a temp file renamed over FILE when complete (never half a file)."""
    if name == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    import tempfile

    target = Path(name)
    if target.is_dir():
        raise IsADirectoryError(
            errno.EISDIR, f"is a directory; name a file, e.g. {target / 'dump.jsonl'}", name
        )
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "directory does not exist", str(target.parent))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yield out
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def cmd_export(args: argparse.Namespace) -> int:
    from lifecycle.entries.export_format import write_jsonl

    with open_existing(args) as manager, _export_target(args.file) as out:
        count = write_jsonl(manager.export_entries(), out)
    result = {"exported": count, "file": args.file}
    # with '-', stdout carries the entries: the summary goes to stderr
    emit(args, result, output.format_export, sys.stderr if args.file == "-" else sys.stdout)
    return 0


SOURCES = ("export", "claude-flow", "seed")


def cmd_import(args: argparse.Namespace) -> int:
    if args.source != "export":
        return _migrate(args)
    from lifecycle.entries.export_format import read_jsonl
    from lifecycle.errors import ImportFormatError

    with contextlib.ExitStack() as stack:
        if args.file == "-":
            lines: TextIO = sys.stdin
            source = "<stdin>"
        else:
            lines = stack.enter_context(open(args.file, encoding="utf-8"))
            source = args.file
        manager = stack.enter_context(open_manager(args))
        try:
            report = manager.merge_entries(read_jsonl(lines, source))
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"{source}: not UTF-8 text ({exc.reason}); import a file written by {PROG} export",
                path=source,
            ) from exc
        except ImportFormatError as exc:
            if str(exc).startswith(f"{source}:"):
                raise
            # the entry checks name the line, not the file: say which file
            raise ImportFormatError(f"{source}: {exc}", path=source) from exc
    emit(args, {**report, "file": args.file}, output.format_import)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    """``import --from claude-flow PATH`` / ``--from seed DIR``: idempotent, counts reported."""
    from lifecycle.importers import claude_flow, seed

    read = claude_flow.import_database if args.source == "claude-flow" else seed.import_directory
    with open_manager(args) as manager:
        report = read(manager, args.file).to_dict()
    for rejected in report["rejected_entries"]:
        print(f"{PROG}: warning: not imported: {rejected['reason']}", file=sys.stderr)
    emit(args, report, output.format_migration)
    return 0
