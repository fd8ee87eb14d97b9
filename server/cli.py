"""``memory-lifecycle``: the one command for the server, hooks, daemon and store tools.

It replaces the seed's ``scripts/memory_cleanup_hook.py`` (now ``hook``) and
``scripts/scheduled_memory_cleanup.py`` (now ``daemon``), keeping their flags'
meaning. The subcommands live in ``server.commands``, one module per group;
this module holds the global options, the dispatch and the error policy.

Failures print one line on stderr naming what to fix and exit 1 (2 for usage
errors, as argparse does, except under ``hook``: Claude Code reads 2 as "block",
so a hook's usage error exits 1 and an option it does not know is only a
warning); ``--debug`` shows the traceback as well.

A hook's usual command line (``hook NAME`` and its flags) is read without argparse
(``commands.hooks.command_line``), and logging starts with the first message shown
(``lifecycle.basics.lazy_logging``): a hook that has nothing to say imports neither.
A hook's process runs without cyclic garbage collection and leaves what it loaded to the
process's end (``main``).
Anything else, ``--help`` and every error included, goes through the parser.
"""

from __future__ import annotations

import gc

# No cyclic garbage collection while this module loads (``json``, ``re``, ``enum``: ~2M
# instructions of collections that find every new object still referenced), nor, in a
# process whose command line runs a hook, until it exits: a hook is a short process that
# leaves its garbage to the collection at exit (see the end of this module, and main()).
_collecting = gc.isenabled()
gc.disable()

import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from lifecycle import __version__  # noqa: E402
from lifecycle.basics.lazy_logging import INFO, WARNING, get_logger  # noqa: E402
from lifecycle.errors import LifecycleError  # noqa: E402

from . import output  # noqa: E402
from .commands import COMMANDS, register  # noqa: E402
from .commands.common import SoftUsageError, UsageError  # noqa: E402
from .logs import configure_logging, configure_logging_on_first_message  # noqa: E402
from .program import GLOBAL_VALUE_OPTIONS, HOOK_COMMANDS, PROG  # noqa: E402

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import argparse

EXIT_READER_GONE = 128 + 13  # 141, as for a process SIGPIPE (13) ended

log = get_logger("memory_lifecycle.cli")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for every command, or, when ``argv`` names a command, only for that
    command's module: a hook process then skips importing and building the others."""
    from .commands.parser import CommandParser

    parser = CommandParser(
        prog=PROG,
        description="A shared, self-maintaining memory for AI agent swarms (MCP server, "
        "hooks, maintenance daemon).",
    )
    parser.add_argument("--memory-dir", metavar="DIR", help="directory of the SQLite store")
    parser.add_argument("--policy-file", metavar="FILE", help="retention policies YAML")
    parser.add_argument(
        "--store", metavar="URL", help="store URL: a path, sqlite:///, postgresql://"
    )
    parser.add_argument(
        "--output",
        dest="global_output",
        metavar="FORMAT",
        help="text or json: the command's --output, given before the command",
    )
    parser.add_argument("--debug", action="store_true", help="debug logging and tracebacks")
    parser.add_argument(
        "--version", action="version", version=f"{PROG} {__version__}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    args = list(argv or ())
    i = _after_global_options(args)
    command = args[i] if i < len(args) and args[i] in COMMANDS else None
    register(sub, command, args[i + 1 :] if command else ())
    return parser


def commands() -> tuple[str, ...]:
    """Every subcommand name (aliases included)."""
    return tuple(COMMANDS)


def _after_global_options(args: Sequence[str]) -> int:
    """The index of the first token that is not a global option or its value."""
    i = 0
    while i < len(args):
        token = args[i]
        if token in GLOBAL_VALUE_OPTIONS:
            i += 2
        elif token == "--debug" or token.split("=", 1)[0] in GLOBAL_VALUE_OPTIONS:
            i += 1
        else:
            break
    return i


def with_default_command(argv: Sequence[str], command: str) -> list[str]:
    """Insert ``command`` after the global options unless a subcommand is named."""
    args = list(argv)
    i = _after_global_options(args)
    if i < len(args) and (args[i] in COMMANDS or args[i] in ("-h", "--help", "--version")):
        return args
    return [*args[:i], command, *args[i:]]


def _version_format(argv: Sequence[str]) -> str | None:
    """``text`` or ``json`` when the command line asks only for the version."""
    rest, fmt, i = [], "text", 0
    while i < len(argv):
        if argv[i] == "--output" and i + 1 < len(argv):
            fmt, i = argv[i + 1], i + 2
            continue
        if argv[i].startswith("--output="):
            fmt = argv[i].split("=", 1)[1]
        else:
            rest.append(argv[i])
        i += 1
    return fmt if rest == ["--version"] and fmt in output.OUTPUT_FORMATS else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line; a reader that goes away (``| head``) ends it quietly.

    A hook runs without cyclic garbage collection (``_hook_line``); if collection was on
    when main() started (an in-process call), it is on again when main() returns. In a
    hook's own process nothing runs after main() but the interpreter's exit, whose last
    collection would take apart every module, class and function the hook loaded (~8M
    instructions, as much as the hook's own work): ``gc.freeze()`` leaves them to the
    process's end instead. (Objects in reference cycles are then not finalized at exit,
    which Python never promised; the store is closed and the output flushed before.)"""
    collecting = gc.isenabled()
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, not at interpreter exit, where a failure is a traceback
    except BrokenPipeError:
        return _reader_gone()
    finally:
        if collecting:
            gc.enable()
        elif _HOOK_PROCESS:
            gc.freeze()
    return code


def _reader_gone() -> int:
    """stdout's reader closed its end: stop without a word (what was asked for was done
    or is moot) and exit as a process killed by SIGPIPE would, so a shell pipeline with
    ``pipefail`` still sees the output was cut short."""
    import contextlib

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing left to flush into the closed pipe
        os.close(devnull)
    return EXIT_READER_GONE


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if _version_format(argv) == "json":  # plain --version is argparse's
        output.dump_json({"name": PROG, "version": __version__}, sys.stdout)
        return 0
    args = _hook_line(argv)
    if args is None:
        parser = build_parser(argv)
        try:
            args, unknown = parser.parse_known_args(argv)
        except SoftUsageError as exc:
            print(f"{PROG}: error: {_one_line(str(exc))}", file=sys.stderr)
            return 1
        if unknown:
            warn_unknown = getattr(args, "warn_unknown", None)
            if warn_unknown is None:
                parser.error(f"unrecognized arguments: {' '.join(unknown)}")
            warn_unknown(args, unknown)
    _configure_logging(args)
    try:
        _apply_global_output(args)
    except UsageError as exc:
        build_parser(argv).error(str(exc))
    try:
        code: int = args.handler(args)
        return code
    except UsageError as exc:
        build_parser(argv).exit(2, f"{PROG}: error: {_one_line(str(exc))}\n")
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise  # the reader went away: main() ends quietly
    except (LifecycleError, OSError) as exc:
        return _fail(args, _describe(exc))
    except Exception as exc:  # a bug: say so in one line, the traceback is behind --debug
        return _fail(args, f"internal error: {type(exc).__name__}: {exc}; rerun with --debug")
    return 0  # pragma: no cover  (parser.exit raised)


def _names_hook(argv: Sequence[str]) -> bool:
    """Whether a command line runs a hook (``[global options] hook NAME ...``)."""
    i = _after_global_options(argv)
    return i < len(argv) and argv[i] in HOOK_COMMANDS


def _hook_line(argv: Sequence[str]) -> argparse.Namespace | None:
    """A hook's command line read without argparse, or None for the parser to read."""
    if not _names_hook(argv):
        return None
    gc.disable()  # a short process: its garbage waits for the collection at exit
    from .commands.hooks.command_line import read

    return read(argv)


def _is_hook(args: argparse.Namespace) -> bool:
    """Whether ``args`` runs a hook. Not ``args.command``: the pre- and post-command hooks'
    ``--command`` shares its name (``hooks pre-bash --command ls`` has ``command='ls'``)."""
    return hasattr(args, "hook_name")


def _apply_global_output(args: argparse.Namespace) -> None:
    """``memory-lifecycle --output json stats`` means ``stats --output json``. The
    command's own ``--output json`` wins over a global ``text``; a hook takes any value,
    as its own option does (it warns and uses text)."""
    given = args.global_output
    if given is None:
        return
    if not hasattr(args, "output"):
        if _is_hook(args):  # a hook never exits 2 (Claude Code: "block")
            log.warning("--output does not apply to this hook; ignored")
            return
        raise UsageError(f"--output does not apply to {args.command}: it has no --output option")
    if not _is_hook(args) and given not in output.OUTPUT_FORMATS:
        raise UsageError(f"--output {given!r}: use text or json")
    if args.output == "text":
        args.output = given


def _configure_logging(args: argparse.Namespace) -> None:
    """Long-running commands log what they do; one-shot ones only warnings and errors, in
    the ``memory-lifecycle: warning: ...`` style of their other messages. A hook sets
    logging up only before its first message (every logger on its path is lazy)."""
    quiet = args.command not in ("daemon", "serve", "ui")
    if _is_hook(args):
        configure_logging_on_first_message(WARNING, debug=args.debug, one_shot=True)
    else:
        configure_logging(WARNING if quiet else INFO, debug=args.debug, one_shot=quiet)


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


# Collection on again now this module has loaded, unless this process's command line runs
# a hook (the console script's, ``python -m server hook ...``): then it stays off to the
# end (see main()), and the interpreter's exit skips its collection before the modules'
# teardown too (~4M instructions).
_HOOK_PROCESS = _names_hook(getattr(sys, "argv", [])[1:])
if _collecting and not _HOOK_PROCESS:
    gc.enable()

if __name__ == "__main__":
    sys.exit(main())
