"""``hook`` (= ``hooks``): what Claude Code and claude-flow run around sessions, tasks,
edits and commands.

Hooks run on every session end, task, edit and shell command, so this module
imports only the engine, and each hook opens the store once. Each takes its
flags (ours and claude-flow's, see ``flags``) and else the JSON Claude
Code writes on stdin (``stdin``). Exit 0 on success, 1 on failure; never
2, which Claude Code reads as "block".
"""

from __future__ import annotations

from lifecycle.basics.lazy_logging import get_logger

from ... import output
from ..common import emit, open_manager
from . import summary
from .flags import ALIASES, HOOK_FLAGS, IGNORED_HOOKS, add_flags, warn_unknown
from .stdin import STDIN_FIRST_BYTE_SECONDS, HookInput, adopt_hook_cwd, read_hook_input

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from .stdin import Handler

HOOKS = tuple(HOOK_FLAGS)
# the flag that, when given, means the hook needs nothing from stdin
PRIMARY_FLAG = {
    "session-end": "session_id",
    "pre-task": "description",
    "post-task": "task_id",
    "pre-edit": "file",
    "post-edit": "file",
    "pre-command": "command",
    "post-command": "command",
    "notify": "message",
    "session-restore": "session_id",
    "session-start": "session_id",
}

# every hook name and alias -> the hook (ignored claude-flow hooks: themselves)
_HOOK_NAMES = {
    **{name: name for name in (*HOOKS, *IGNORED_HOOKS)},
    **{alias: name for name in HOOKS for alias in ALIASES.get(name, ())},
}

log = get_logger("memory_lifecycle.cli")


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], only: str | None = None
) -> None:
    """Add ``hook`` and its hooks' parsers: only the one named ``only`` when it names one
    (a hook process parses one hook's command line), else all of them (help, errors)."""
    hook = sub.add_parser(
        "hook",
        aliases=["hooks"],
        help="run a lifecycle hook (Claude Code's and claude-flow's; reads the hook JSON)",
        soft_errors=True,
        allow_abbrev=False,
    )
    names = hook.add_subparsers(dest="hook_name", metavar="HOOK", required=True)
    wanted = _HOOK_NAMES.get(only or "")
    for name in HOOKS:
        if wanted is not None and name != wanted:
            continue
        parser = names.add_parser(
            name,
            aliases=list(ALIASES.get(name, ())),
            help=handler(name).__doc__,
            soft_errors=True,
            allow_abbrev=False,
        )
        add_flags(parser, name)
        parser.add_argument("--output", default="text", help="text or json")
        parser.set_defaults(hook=name)
    for name in IGNORED_HOOKS:
        if wanted is not None and name != wanted:
            continue
        names.add_parser(name, soft_errors=True, allow_abbrev=False).set_defaults(hook=None)
    hook.set_defaults(handler=cmd_hook, warn_unknown=warn_unknown_hook_options)


def warn_unknown_hook_options(args: argparse.Namespace, unknown: list[str]) -> None:
    if getattr(args, "hook", None) is not None:  # an ignored hook's options are its own
        warn_unknown(args, unknown)


def cmd_hook(args: argparse.Namespace) -> int:
    if args.hook is None:
        log.warning(
            "hook %s is claude-flow's and has no memory effect here; nothing done", args.hook_name
        )
        return 0
    _normalize_output(args)
    given = getattr(args, PRIMARY_FLAG.get(args.hook, ""), None)
    inp = HookInput(read_hook_input(first_byte_seconds=0.0 if given else STDIN_FIRST_BYTE_SECONDS))
    adopt_hook_cwd(args, inp.data)
    with open_manager(args) as manager:
        result = handler(args.hook)(args, inp, manager)
    emit(args, result, summary.format_hook)
    return 0


def _normalize_output(args: argparse.Namespace) -> None:
    """``--output`` is ours (text|json), but claude-flow's post-command passes the command's
    output with it: keep that as the command's output."""
    if args.output in output.OUTPUT_FORMATS:
        return
    if args.hook == "post-command":
        args.command_output = args.output
    else:
        log.warning("--output %r is not text or json; using text", args.output[:40])
    args.output = "text"


def memory_cleanup(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
    """periodic maintenance; --force includes manual-strategy entries"""
    from lifecycle.hooks import actions

    return actions.memory_cleanup(manager, force=bool(args.force))


# what runs each hook: a function of this package's ``activity`` or ``session`` module (and
# the argument that makes it, for those made per phase), imported when the hook runs: a
# hook's process loads only its own hook's module (~0.5M instructions each)
HANDLERS: dict[str, tuple[str, str, tuple[Any, ...]]] = {
    "session-end": ("session", "session_end", ()),
    "pre-task": ("activity", "pre_task", ()),
    "post-task": ("activity", "post_task", ()),
    "pre-edit": ("activity", "edit", ("pre",)),
    "post-edit": ("activity", "edit", ("post",)),
    "pre-command": ("activity", "command", ("pre",)),
    "post-command": ("activity", "command", ("post",)),
    "notify": ("activity", "notify", ()),
    "session-start": ("session", "session_context", (True,)),
    "session-restore": ("session", "session_context", (False,)),
    "memory-cleanup": ("command", "memory_cleanup", ()),
}


def handler(hook: str) -> Handler:
    """The function that runs ``hook``."""
    module, name, made_with = HANDLERS[hook]
    found = getattr(__import__(f"{__package__}.{module}", fromlist=[name]), name)
    return found(*made_with) if made_with else found
