"""``memory-lifecycle``: the one command for the server, hooks, daemon and store tools.

It replaces the seed's ``scripts/memory_cleanup_hook.py`` (now ``hook``) and
``scripts/scheduled_memory_cleanup.py`` (now ``daemon``), keeping their flags'
meaning. Hooks run on every session end and task, so this module imports only
the engine at the top; ``serve`` loads the MCP server lazily, and ``daemon``
loads APScheduler lazily.

Failures print one line on stderr naming what to fix and exit 1 (2 for usage
errors, as argparse does); ``--debug`` shows the traceback as well.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import select
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from lifecycle import paths
from lifecycle.errors import LifecycleError

from . import output

PROG = "memory-lifecycle"
HOOKS = ("session-end", "pre-task", "memory-cleanup")
COMMANDS = ("serve", "hook", "cleanup", "stats", "daemon", "export", "import")
ENV_MAINTENANCE = "MEMORY_LIFECYCLE_MAINTENANCE_SECONDS"
# Claude Code writes the hook JSON and closes the pipe at once; these bound the wait
# when something else left stdin open with nothing in it.
STDIN_FIRST_BYTE_SECONDS = 0.5
STDIN_IDLE_SECONDS = 0.5
STDIN_MAX_BYTES = 1 << 20
_GLOBAL_VALUE_OPTIONS = ("--memory-dir", "--policy-file", "--store")

log = logging.getLogger("memory_lifecycle.cli")


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class UsageError(Exception):
    """A command line that cannot work as given (exit 2, like argparse)."""


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A shared, self-maintaining memory for AI agent swarms (MCP server, "
        "hooks, maintenance daemon).",
    )
    parser.add_argument("--memory-dir", metavar="DIR", help="directory of the SQLite store")
    parser.add_argument("--policy-file", metavar="FILE", help="retention policies YAML")
    parser.add_argument(
        "--store", metavar="URL", help="store URL: a path, sqlite:///, postgresql://"
    )
    parser.add_argument("--debug", action="store_true", help="debug logging and tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    serve.add_argument("--host", help=f"http: address to bind (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=_port, help=f"http: port (default {DEFAULT_PORT})")
    serve.add_argument("--auth-token-file", metavar="FILE", help="http: bearer token file")
    serve.add_argument(
        "--maintenance-interval",
        type=_seconds_or_zero,
        metavar="SECONDS",
        help=f"background maintenance interval; 0 turns it off (default ${ENV_MAINTENANCE}, "
        "else 300)",
    )

    hook = sub.add_parser("hook", help="run a lifecycle hook (reads Claude Code's hook JSON)")
    hook.add_argument("name", choices=HOOKS)
    hook.add_argument("--session-id", metavar="ID", help="session-end: the session to remove")
    hook.add_argument("--task-id", metavar="ID", help="pre-task: the task about to start")
    hook.add_argument("--description", help="pre-task: what the task is")
    hook.add_argument("--force", action="store_true", help="memory-cleanup: include manual")
    _output_option(hook)

    cleanup = sub.add_parser("cleanup", help="delete expired entries now")
    cleanup.add_argument("--force", action="store_true", help="include manual-strategy entries")
    _output_option(cleanup)

    stats = sub.add_parser("stats", help="entries, sizes and expiry by policy")
    _output_option(stats)

    daemon = sub.add_parser("daemon", help="scheduled maintenance (one per store)")
    daemon.add_argument("--once", action="store_true", help="run one pass and exit (for cron)")
    when = daemon.add_mutually_exclusive_group()
    when.add_argument("--interval-hours", type=_positive_float, metavar="H")
    when.add_argument("--at", type=_clock_time, metavar="HH:MM", help="daily (default 02:00)")

    export = sub.add_parser("export", help="write every entry as JSON lines ('-' = stdout)")
    export.add_argument("file", metavar="FILE")
    _output_option(export)

    imp = sub.add_parser("import", help="merge an export by the CRDT rules ('-' = stdin)")
    imp.add_argument("file", metavar="FILE")
    _output_option(imp)
    return parser


def _output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", choices=output.OUTPUT_FORMATS, default="text")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _seconds_or_zero(text: str) -> float:
    """A maintenance interval: a positive number of seconds, or 0 for none."""
    if text.strip() in ("0", "0.0"):
        return 0.0
    return _positive_float(text)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def _clock_time(text: str) -> tuple[int, int]:
    from .daemon import parse_at

    try:
        return parse_at(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def with_default_command(argv: Sequence[str], command: str) -> list[str]:
    """Insert ``command`` after the global options unless a subcommand is named."""
    args = list(argv)
    i = 0
    while i < len(args):
        token = args[i]
        if token in COMMANDS or token in ("-h", "--help"):
            return args
        if token in _GLOBAL_VALUE_OPTIONS:
            i += 2
        elif token == "--debug" or token.split("=", 1)[0] in _GLOBAL_VALUE_OPTIONS:
            i += 1
        else:
            break
    return [*args[:i], command, *args[i:]]


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    try:
        return COMMAND_HANDLERS[args.command](args)
    except UsageError as exc:
        parser.exit(2, f"{PROG}: error: {_one_line(str(exc))}\n")
    except KeyboardInterrupt:
        return 130
    except (LifecycleError, OSError) as exc:
        return _fail(args, _describe(exc))
    except Exception as exc:  # a bug: say so in one line, the traceback is behind --debug
        return _fail(args, f"internal error: {type(exc).__name__}: {exc}; rerun with --debug")
    return 0  # pragma: no cover  (parser.exit raised)


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.debug else logging.INFO
    if args.command not in ("daemon", "serve") and not args.debug:
        level = logging.WARNING
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
    )
    if not args.debug:  # its job bookkeeping says nothing our own run lines do not
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, LifecycleError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _fail(args: argparse.Namespace, message: str) -> int:
    if args.debug:
        log.exception("failed")
    print(f"{PROG}: error: {_one_line(message)}", file=sys.stderr)
    if getattr(args, "output", None) == "json":
        output.dump_json({"ok": False, "error": _one_line(message)}, sys.stdout)
    return 1


def _manager(args: argparse.Namespace) -> Any:
    """The manager for the user's locations; None lets the engine resolve them."""
    from lifecycle import MemoryLifecycleManager

    return MemoryLifecycleManager(args.memory_dir, args.policy_file, args.store)


def _emit(
    args: argparse.Namespace,
    result: Mapping[str, Any],
    text: Callable[[Mapping[str, Any]], str],
    out: TextIO | None = None,
) -> None:
    out = out or sys.stdout
    if args.output == "json":
        output.dump_json(result, out)
    else:
        print(text(result), file=out)


# ---------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    http_only = [
        flag
        for flag, value in (
            ("--host", args.host),
            ("--port", args.port),
            ("--auth-token-file", args.auth_token_file),
        )
        if value is not None
    ]
    if args.transport != "http" and http_only:
        # else `serve --port 8765` silently serves stdio and waits on the terminal
        raise UsageError(
            f"{', '.join(http_only)} {'applies' if len(http_only) == 1 else 'apply'} only to "
            "HTTP; add --transport http "
            "(the default transport, stdio, has no address)"
        )
    interval = args.maintenance_interval
    if interval is None and os.environ.get(ENV_MAINTENANCE):
        try:
            interval = _seconds_or_zero(os.environ[ENV_MAINTENANCE])
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"${ENV_MAINTENANCE}: {exc}; use a number of seconds") from None
    from server.run import serve  # lazy: importing mcp costs ~0.7 s, hooks never pay it

    return serve(
        memory_dir=args.memory_dir,
        policy_file=args.policy_file,
        store=args.store,
        transport=args.transport,
        host=DEFAULT_HOST if args.host is None else args.host,
        port=DEFAULT_PORT if args.port is None else args.port,
        auth_token_file=args.auth_token_file,
        maintenance_interval=interval,
    )


# ---------------------------------------------------------------- hooks


def read_hook_input(
    stream: TextIO | None = None,
    first_byte_seconds: float = STDIN_FIRST_BYTE_SECONDS,
) -> dict[str, Any]:
    """The JSON object Claude Code writes to a hook's stdin, or {} when there is none.

    Never waits on a terminal, and never blocks on an open pipe with no data:
    it waits at most ``first_byte_seconds`` for data to start, and stops when
    the pipe closes or stays idle. Anything but a JSON object is ignored with
    a warning: a hook that has its flags must not fail over unrelated input.
    """
    stream = sys.stdin if stream is None else stream
    try:
        fd = stream.fileno()
        if os.isatty(fd):
            return {}
        chunks: list[bytes] = []
        timeout, size = first_byte_seconds, 0
        while size < STDIN_MAX_BYTES and select.select([fd], [], [], timeout)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            timeout = STDIN_IDLE_SECONDS
    except (OSError, ValueError, AttributeError):  # closed, no fd, or select unsupported
        return {}
    text = b"".join(chunks).decode("utf-8", errors="replace").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        data = exc.msg
    if not isinstance(data, dict):  # flags may still say all the hook needs: do not fail here
        log.warning("ignoring hook stdin: not a JSON object like Claude Code's hook input")
        return {}
    return data


def _location_configured(args: argparse.Namespace) -> bool:
    flags = (args.memory_dir, args.policy_file, args.store)
    env = (paths.ENV_DIR, paths.ENV_POLICY, paths.ENV_STORE, paths.ENV_PROJECT)
    return any(f is not None for f in flags) or any(os.environ.get(name) for name in env)


def _adopt_hook_cwd(args: argparse.Namespace, data: Mapping[str, Any]) -> None:
    """Resolve paths from the session's ``cwd`` when nothing else names a location."""
    cwd = data.get("cwd")
    if not isinstance(cwd, str) or not cwd or _location_configured(args):
        return
    if Path(cwd).is_dir():
        os.chdir(cwd)
    else:
        log.warning("hook JSON cwd %r is not a directory; resolving from %s", cwd, Path.cwd())


def _text_field(data: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def cmd_hook(args: argparse.Namespace) -> int:
    from lifecycle import hooks

    wait = 0.0 if args.session_id else STDIN_FIRST_BYTE_SECONDS
    data = read_hook_input(first_byte_seconds=wait)
    _adopt_hook_cwd(args, data)
    if args.name == "session-end":
        session_id = args.session_id or _text_field(data, "session_id")
        if not session_id:
            raise UsageError(
                "hook session-end needs a session id: pass --session-id ID, or pipe "
                "Claude Code's hook JSON (with session_id) on stdin"
            )
        with _manager(args) as manager:
            result = hooks.session_end(manager, session_id)
    elif args.name == "pre-task":
        tool_input = data.get("tool_input") if isinstance(data.get("tool_input"), dict) else {}
        task_id = args.task_id or _text_field(data, "task_id", "tool_use_id")
        description = args.description or _text_field(data, "description")
        description = description or _text_field(tool_input, "description")
        with _manager(args) as manager:
            result = hooks.pre_task(manager, task_id, description)
    else:
        with _manager(args) as manager:
            result = hooks.memory_cleanup(manager, force=args.force)
    _emit(args, result, output.format_hook)
    return 0


# ---------------------------------------------------------------- cleanup, stats


def cmd_cleanup(args: argparse.Namespace) -> int:
    with _manager(args) as manager:
        report = manager.cleanup(force=args.force)
    _emit(args, report, lambda r: f"cleanup: {output.format_cleanup(r)}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with _manager(args) as manager:
        stats = manager.get_stats()
    _emit(args, stats, output.format_stats)
    return 0


# ---------------------------------------------------------------- daemon


def cmd_daemon(args: argparse.Namespace) -> int:
    from .daemon import Daemon, Schedule, run_once

    with _manager(args) as manager:
        if args.once:
            run_once(manager)  # logs what it did, or that another process holds the lease
            return 0
        schedule = Schedule(interval_hours=args.interval_hours, at=args.at or (2, 0))
        return Daemon(manager, schedule).run()


# ---------------------------------------------------------------- export, import


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
    from lifecycle.transfer import write_jsonl

    with _manager(args) as manager, _export_target(args.file) as out:
        count = write_jsonl(manager.export_entries(), out)
    result = {"exported": count, "file": args.file}
    # with '-', stdout carries the entries: the summary goes to stderr
    _emit(args, result, output.format_export, sys.stderr if args.file == "-" else sys.stdout)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from lifecycle.errors import ImportFormatError
    from lifecycle.transfer import read_jsonl

    with contextlib.ExitStack() as stack:
        if args.file == "-":
            lines: TextIO = sys.stdin
            source = "<stdin>"
        else:
            lines = stack.enter_context(open(args.file, encoding="utf-8"))
            source = args.file
        manager = stack.enter_context(_manager(args))
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
    _emit(args, {**report, "file": args.file}, output.format_import)
    return 0


COMMAND_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": cmd_serve,
    "hook": cmd_hook,
    "cleanup": cmd_cleanup,
    "stats": cmd_stats,
    "daemon": cmd_daemon,
    "export": cmd_export,
    "import": cmd_import,
}


if __name__ == "__main__":
    sys.exit(main())
