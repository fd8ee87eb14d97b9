"""The hooks' own command-line reader against argparse: the same namespace for every line
it takes, and None (the parser reads it) for every line it must not."""

from __future__ import annotations

import subprocess

import pytest

from server.cli import build_parser
from server.commands.hooks.command_line import read
from server.commands.hooks.flags import HOOK_FLAGS, IGNORED_HOOKS
from tests.support.env import PYTHON, child_env

TAKEN = [
    ("hook", "pre-task"),
    ("hooks", "pre-task", "--description", "build it", "--task-id", "t1"),
    ("hook", "pre-task", "-d", "", "-i", "t 1", "--agent-id", "a"),
    ("hook", "pre-task", "--auto-spawn-agents", "false", "--load-memory"),
    ("hook", "pre-task", "-a", "--complexity", "high"),
    ("--memory-dir", "m", "--store=s", "--debug", "hook", "session-end", "--session-id=s1"),
    ("--output", "json", "--policy-file", "p.yaml", "hook", "session-end"),
    ("hook", "session-end", "--generate-summary", "true", "-s", "--export-metrics=no"),
    ("hook", "session-end", "--generate-summary", "--persist-state", "Yes"),
    ("hooks", "post-edit", "--file", "src/a.py", "--memory-key", "k", "-s", "false"),
    ("hooks", "post-edit", "-f", "a.py", "--train-neural", "true", "--format"),
    ("hooks", "pre-bash", "--command", "make test", "--cwd", "/tmp"),
    ("hooks", "post-bash", "-c", "ls", "-e", "0", "-d", "12", "--success"),
    ("hook", "post-command", "--command", "ls", "--output", "the listing"),
    ("hook", "post-task", "--task-id", "t", "--success=true", "--quality", "0.9"),
    ("hook", "notify", "--message", "hi", "--level", "warn", "--telemetry"),
    ("hook", "session-restore", "-i", "latest", "--load-memory", "--restore-context", "x"),
    ("hook", "session-start"),
    ("hook", "memory-cleanup", "--force"),
    ("hook", "memory-cleanup", "--force", "false", "--output", "json"),
    ("hooks", "pre-task", "--output=json"),
    ("hooks", "route", "--task", "x", "-y", "z"),
    ("--debug", "hooks", "statusline"),
]

LEFT_TO_THE_PARSER = [
    ("hook",),
    ("hook", "no-such-hook"),
    ("hook", "pre-task", "--help"),
    ("hook", "pre-task", "-h"),
    ("hooks", "route", "--help"),
    ("hook", "pre-task", "--descr", "abbreviated"),
    ("hook", "pre-task", "--unknown"),
    ("hook", "pre-task", "--description"),
    ("hook", "pre-task", "--description", "-starts-with-a-dash"),
    ("hook", "pre-task", "-dx"),
    ("hook", "pre-task", "-d=x"),
    ("hook", "post-task", "--quality", "-1"),
    ("hook", "session-end", "--generate-summary", "maybe"),
    ("hook", "session-end", "--generate-summary="),
    ("hooks", "pre-bash", "make", "test"),
    ("hook", "pre-task", "--", "x"),
    ("hook", "pre-task", "positional"),
    ("--memory-dir", "hook", "pre-task"),
    ("--memory-dir",),
    ("--version",),
    ("--mem", "x", "hook", "pre-task"),
    ("stats",),
    ("put", "k", "v"),
]


@pytest.mark.parametrize("argv", TAKEN, ids=" ".join)
def test_a_line_it_takes_reads_as_argparse_reads_it(argv: tuple[str, ...]) -> None:
    ours = read(list(argv))
    theirs, unknown = build_parser(list(argv)).parse_known_args(list(argv))

    assert ours is not None
    assert vars(ours) == vars(theirs)
    if theirs.hook is not None:  # an ignored hook's options are its own, silently
        assert unknown == []


@pytest.mark.parametrize("argv", LEFT_TO_THE_PARSER, ids=" ".join)
def test_a_line_it_does_not_take_is_left_to_the_parser(argv: tuple[str, ...]) -> None:
    assert read(list(argv)) is None


def test_every_hook_and_its_every_option_is_read_as_argparse_reads_it() -> None:
    for hook, flags in HOOK_FLAGS.items():
        for options, _, _, _ in flags:
            for option in options:
                argv = ["hook", hook, option, "true"]
                ours = read(argv)
                assert ours is not None, argv
                assert vars(ours) == vars(build_parser(argv).parse_known_args(argv)[0]), argv
    for hook in IGNORED_HOOKS:
        argv = ["hook", hook]
        assert vars(read(argv) or {}) == vars(build_parser(argv).parse_known_args(argv)[0])


@pytest.mark.parametrize(
    "argv",
    [("hook", "pre-task", "-d", "x"), ("hooks", "pre-bash", "--command", "ls"), ("hook", "route")],
    ids=" ".join,
)
def test_a_hook_process_imports_neither_argparse_nor_logging(
    argv: tuple[str, ...], project: object
) -> None:
    probe = (
        "import sys\n"
        "from server.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(sorted({'argparse', 'logging'} & set(sys.modules)), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", probe, *argv],
        env=child_env(),
        cwd=str(project),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # an ignored hook says so (a warning): logging, but still no parser
    expected = "['logging']" if argv[1] == "route" else "[]"
    assert done.stderr.strip().splitlines()[-1] == expected, done.stderr
