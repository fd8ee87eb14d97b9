"""A hook's command line read without argparse: what argparse would make of it, or None.

Claude Code and claude-flow run a hook on every session end, task, edit and shell
command with the same few shapes of command line: ``[global options] hook NAME``
and that hook's flags (``flags``). Importing argparse and building the hook's parser
cost ~10M instructions of a process that does ~30M of its own work, so this module
reads those shapes itself. It takes only what it reads exactly as argparse would:
known options, their values given as ``--opt VALUE`` or ``--opt=VALUE``, booleans as
``--x``, ``--x true`` or ``--x=false``. Anything else (help, ``--version``, a positional
word, an option it does not know, a value that starts with ``-``, a bad boolean, a
missing value) returns None, and the parser reads the line as before: same results,
same warnings, same errors and exit codes.
"""

from __future__ import annotations

from types import SimpleNamespace

from ...program import GLOBAL_VALUE_OPTIONS, HOOK_COMMANDS
from . import command as hook_command
from .flags import ALIASES, BOOL, COMPAT_FLAGS, HOOK_FLAGS, IGNORED_HOOKS, VALUE, WORDS, bool_word

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

_NAMES = {
    **{name: name for name in HOOK_FLAGS},
    **{alias: name for name, aliases in ALIASES.items() for alias in aliases},
}
_IGNORED = frozenset(IGNORED_HOOKS)


def read(argv: Sequence[str]) -> argparse.Namespace | None:
    """The namespace argparse would give for ``argv`` (global options, ``hook NAME``, its
    flags), or None when the line is not one this reader takes whole."""
    values: dict[str, object] = {
        "memory_dir": None,
        "policy_file": None,
        "store": None,
        "global_output": None,
        "debug": False,
    }
    i = _globals(argv, values)
    if i is None or i + 1 >= len(argv) or argv[i] not in HOOK_COMMANDS:
        return None
    name, rest = argv[i + 1], argv[i + 2 :]
    values["command"], values["hook_name"] = argv[i], name
    if name in _IGNORED:
        if any(token.startswith(("-h", "--h")) or token == "--" for token in rest):
            return None  # help, or what argparse would read as it
        values["hook"] = None
    elif name in _NAMES:
        hook = _NAMES[name]
        if not _flags(hook, rest, values):
            return None
        values["hook"] = hook
    else:
        return None
    values["handler"] = hook_command.cmd_hook
    values["warn_unknown"] = hook_command.warn_unknown_hook_options
    return _namespace(values)


def _namespace(values: dict[str, object]) -> argparse.Namespace:
    """An attribute bag like ``argparse.Namespace`` (which would import argparse)."""
    return SimpleNamespace(**values)  # type: ignore[return-value]


def _is_value(token: str) -> bool:
    """Whether argparse surely reads ``token`` as a value (not an option); a token it may
    read either way (``-5``, ``-``, ``-a b``) is left to it."""
    return not token.startswith("-")


def _globals(argv: Sequence[str], values: dict[str, object]) -> int | None:
    """Read the global options before the command into ``values``; the command's index,
    or None for a line to leave to the parser."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--debug":
            values["debug"] = True
            i += 1
            continue
        option, equals, value = token.partition("=")
        if option not in GLOBAL_VALUE_OPTIONS:
            return i
        if equals:
            values[GLOBAL_VALUE_OPTIONS[option]] = value
            i += 1
        elif i + 1 < len(argv) and _is_value(argv[i + 1]):
            values[GLOBAL_VALUE_OPTIONS[option]] = argv[i + 1]
            i += 2
        else:
            return None  # a missing value: the parser's error
    return i


def _options(hook: str) -> dict[str, tuple[str, str]]:
    """Each option string of ``hook`` -> (dest, kind), as ``flags.add_flags`` declares them."""
    found = {
        option: (dest, kind) for options, dest, kind, _ in HOOK_FLAGS[hook] for option in options
    }
    for option in COMPAT_FLAGS[hook]:
        found[option] = ("compat_" + option.lstrip("-").replace("-", "_"), "compat")
    found["--output"] = ("output", VALUE)
    return found


def _flags(hook: str, rest: Sequence[str], values: dict[str, object]) -> bool:
    """Read ``hook``'s flags into ``values`` with argparse's defaults; False when a token is
    one to leave to the parser."""
    options = _options(hook)
    values.update(dict.fromkeys((dest for dest, _ in options.values()), None))
    values["output"] = "text"
    if hook in WORDS:
        values["words"] = []
    j = 0
    while j < len(rest):
        option, equals, given = rest[j].partition("=")
        if option not in options or (equals and not option.startswith("--")):
            return False  # a positional word, an unknown option, ``-x=value``
        dest, kind = options[option]
        value: object
        if equals:
            value = given
        elif j + 1 < len(rest) and _is_value(rest[j + 1]):
            value = rest[j + 1]
            j += 1
        elif kind == VALUE:
            return False  # a missing value: the parser's error
        else:
            value = True  # the option alone (argparse's const)
        if kind == BOOL:
            value = bool_word(value)
            if value is None:
                return False  # the parser says what is wrong with it
        values[dest] = value
        j += 1
    return True
