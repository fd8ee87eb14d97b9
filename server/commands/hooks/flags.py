"""The hook subcommands' command lines: ours, and claude-flow's (v2 and v3).

A claude-flow hook configuration must run unchanged once ``npx claude-flow@alpha
hooks`` is replaced by ``memory-lifecycle hooks``. So each hook takes
claude-flow's names and short options, booleans given as ``--x``, ``--x true``
or ``--x false``, and claude-flow options that mean nothing in memory terms
(``--auto-spawn-agents``, ``--validate-safety``, ``--train-neural``, ...) are
accepted quietly. An option nobody knows is a warning on stderr, never a
failure, and a usage error exits 1, never 2 (Claude Code reads 2 as "block").
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from server.program import PROG

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import argparse

VALUE, BOOL, COMPAT = "value", "bool", "compat"
Flag = tuple[tuple[str, ...], str, str, str]  # option strings, dest, kind, help

_SESSION = (("--session-id",), "session_id", VALUE, "the session (default: Claude Code's)")
_RESTORE = (("-i", "--session-id"), "session_id", VALUE, "the session to give back")

HOOK_FLAGS: dict[str, tuple[Flag, ...]] = {
    "session-end": (
        _SESSION,
        (("--generate-summary",), "generate_summary", BOOL, "print a summary of the session"),
        (
            ("-s", "--persist-state", "--save-state"),
            "persist_state",
            BOOL,
            "save the session's entries under swarm/agent/state/sessions/<id> first",
        ),
        (("--export-metrics",), "export_metrics", BOOL, "store and print the session's metrics"),
    ),
    "pre-task": (
        (("-i", "--task-id"), "task_id", VALUE, "the task (default: tool_use_id, else a new id)"),
        (("-d", "--description"), "description", VALUE, "what the task is"),
        (("--agent-id",), "agent", VALUE, "the agent that runs it"),
    ),
    "post-task": (
        (("-i", "--task-id"), "task_id", VALUE, "the task that finished"),
        (("-s", "--success"), "success", BOOL, "whether it succeeded"),
        (("-q", "--quality"), "quality", VALUE, "a quality score (0-1)"),
        (("-a", "--agent", "--agent-id"), "agent", VALUE, "the agent that ran it"),
        (("-t", "--task"), "description", VALUE, "what the task was"),
        (("--duration",), "duration_ms", VALUE, "how long it took, in milliseconds"),
    ),
    "pre-edit": (
        (("-f", "--file"), "file", VALUE, "the file about to be edited"),
        (("-o", "--operation"), "operation", VALUE, "create, update, delete, refactor"),
        (("-c", "--context"), "context", VALUE, "what the edit is about"),
    ),
    "post-edit": (
        (("-f", "--file"), "file", VALUE, "the file that was edited"),
        (("--memory-key",), "memory_key", VALUE, "also store the edit record under this key"),
        (("-s", "--success"), "success", BOOL, "whether the edit succeeded"),
        (("-o", "--outcome"), "outcome", VALUE, "what came of it"),
        (("-m", "--metrics"), "metrics", VALUE, 'e.g. "time:500ms,quality:0.95"'),
    ),
    "pre-command": (
        (("-c", "--command"), "command", VALUE, "the command about to run"),
        (("--cwd",), "cwd", VALUE, "where it runs"),
    ),
    "post-command": (
        (("-c", "--command"), "command", VALUE, "the command that ran"),
        (("-e", "--exit-code"), "exit_code", VALUE, "its exit code"),
        (("-s", "--success"), "success", BOOL, "whether it succeeded"),
        (("-d", "--duration"), "duration_ms", VALUE, "how long it took, in milliseconds"),
    ),
    "notify": (
        (("-m", "--message"), "message", VALUE, "the notification"),
        (("-l", "--level"), "level", VALUE, "info, warn, error, ..."),
        (("-c", "--channel"), "channel", VALUE, "where it was sent"),
        (("--swarm-status",), "swarm_status", VALUE, "the swarm's state"),
    ),
    "session-start": (_RESTORE,),
    "session-restore": (_RESTORE,),
    "memory-cleanup": (
        (("--force",), "force", BOOL, "also delete expired entries of manual policies"),
    ),
}

# claude-flow options with no meaning in memory terms: accepted, no effect, no warning
COMPAT_FLAGS: dict[str, tuple[str, ...]] = {
    "session-end": ("--summary",),
    "pre-task": (
        "-a",
        "--auto-spawn",
        "--auto-spawn-agents",
        "--load-context",
        "--load-memory",
        "--optimize-topology",
        "--estimate-complexity",
        "--complexity",
    ),
    "post-task": (
        "--agent-role",
        "--latency-budget-ms",
        "--consensus-alignment",
        "--store-results",
        "--parent-agent-id",
        "--depth",
        "--analyze-performance",
        "--generate-insights",
        "--export-learnings",
        "--update-memory",
        "--generate-report",
    ),
    "pre-edit": (
        "--auto-assign-agents",
        "--load-context",
        "--validate-syntax",
        "--check-conflicts",
        "--backup-file",
        "--backup",
    ),
    "post-edit": ("--format", "--update-memory", "--train-neural", "--auto-format"),
    "pre-command": (
        "-d",
        "--dry-run",
        "--validate-safety",
        "--prepare-resources",
        "--check-permissions",
        "--estimate-duration",
    ),
    "post-command": ("--track-metrics", "--store-results", "--update-memory"),
    "notify": ("--telemetry", "--broadcast"),
    "session-start": (
        "-a",
        "-t",
        "--restore-agents",
        "--restore-tasks",
        "--auto-configure",
        "--restore-context",
        "--load-context",
        "--load-memory",
        "--merge-memory",
    ),
    "session-restore": (
        "-a",
        "-t",
        "--restore-agents",
        "--restore-tasks",
        "--load-memory",
        "--merge-memory",
        "--restore-context",
    ),
    "memory-cleanup": (),
}

ALIASES = {"pre-command": ("pre-bash",), "post-command": ("post-bash",)}

# claude-flow hooks that have no memory effect here: they run, say so, and exit 0. Those
# that claude-flow 2.x lists or wires (``pre-search`` ... ``modify-git-commit``), those of
# claude-flow 3.x's ``hooks --help``, and those its settings.json runs through
# ``.claude/helpers/hook-handler.cjs`` (``compact-manual``, ``compact-auto``, ``status``,
# ``stats``) and ``auto-memory-hook.mjs`` (``import``, ``sync``: its bridge to Claude
# Code's own auto memory).
IGNORED_HOOKS = (
    "pre-search",
    "post-search",
    "modify-bash",
    "modify-file",
    "modify-git-commit",
    "mcp-initialized",
    "agent-spawned",
    "task-orchestrated",
    "neural-trained",
    "route",
    "route-task",
    "explain",
    "pretrain",
    "build-agents",
    "metrics",
    "transfer",
    "list",
    "ls",  # list's alias
    "intelligence",
    "worker",
    "progress",
    "statusline",
    "coverage-route",
    "coverage-suggest",
    "coverage-gaps",
    "token-optimize",
    "model-route",
    "model-outcome",
    "model-stats",
    "teammate-idle",
    "task-completed",
    "refresh-funnel",
    "refresh-advisor",
    "compact-manual",
    "compact-auto",
    "status",
    "stats",
    "import",
    "sync",
)

WORDS = ("pre-command", "post-command", "notify")  # take the command / message as words too


def bool_word(text: str | bool) -> bool | None:
    """True or False for a boolean option's value, None for a word that is neither."""
    if isinstance(text, bool):
        return text
    value = text.strip().lower()
    if value in ("true", "yes", "1", "on", "y"):
        return True
    if value in ("false", "no", "0", "off", "n"):
        return False
    return None


def parse_bool(text: str | bool) -> bool:
    """``bool_word`` as an argparse type: a bad word is a usage error naming the option."""
    value = bool_word(text)
    if value is None:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not true or false")
    return value


def add_flags(parser: argparse.ArgumentParser, hook: str) -> None:
    import argparse

    for options, dest, kind, text in HOOK_FLAGS[hook]:
        if kind == BOOL:
            parser.add_argument(
                *options,
                dest=dest,
                nargs="?",
                const=True,
                default=None,
                type=parse_bool,
                metavar="true|false",
                help=text,
            )
        else:
            parser.add_argument(*options, dest=dest, help=text)
    for option in COMPAT_FLAGS[hook]:
        dest = "compat_" + option.lstrip("-").replace("-", "_")
        parser.add_argument(option, dest=dest, nargs="?", const=True, help=argparse.SUPPRESS)
    if hook in WORDS:
        parser.add_argument("words", nargs="*", help=argparse.SUPPRESS)


def warn_unknown(args: argparse.Namespace, unknown: Sequence[str]) -> None:
    """What ``cli.main`` calls with the options no hook parser knew: one warning each."""
    name = getattr(args, "hook_name", None) or "hook"
    for token in unknown:
        if token.startswith("-") and token != "-":
            option = token.split("=", 1)[0]
            print(
                f"{PROG}: warning: hook {name}: ignoring unknown option {option}",
                file=sys.stderr,
            )
