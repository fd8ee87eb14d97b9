"""A hook runs without cyclic garbage collection, and its process leaves what it loaded to
the process's end (``gc.freeze``, issue 24): a collection during its imports finds every
new object still referenced, and the one at exit takes apart every module it loaded.
Every other command, and any in-process caller, keeps the collector as it was."""

from __future__ import annotations

import gc
import subprocess
from pathlib import Path

import pytest

from server.cli import main
from tests.support.env import PYTHON, child_env

# the collector's state at the end of main(), as a hook process would leave it
PROBE = (
    "import gc, sys\n"
    "from server.cli import main\n"
    "code = main({argv})\n"
    "print(gc.isenabled(), gc.get_freeze_count() > 0)\n"
    "sys.exit(code)\n"
)


def _collector_after(project: Path, *argv: str, in_argv: str = "None") -> str:
    done = subprocess.run(
        [PYTHON, "-c", PROBE.format(argv=in_argv), *argv],
        cwd=project,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "argv",
    [("hook", "memory-cleanup"), ("--debug", "hook", "pre-task"), ("hooks", "post-edit")],
)
def test_a_hook_process_ends_with_collection_off_and_its_objects_frozen(
    project: Path, argv: tuple[str, ...]
) -> None:
    assert _collector_after(project, *argv) == "False True"
    # python -m server's way: main() given the process's own command line
    assert _collector_after(project, *argv, in_argv="sys.argv[1:]") == "False True"


def test_any_other_command_collects_as_usual(project: Path) -> None:
    assert _collector_after(project, "put", "notes/a", "text") == "True False"
    assert _collector_after(project, "stats") == "True False"


def test_importing_the_cli_keeps_collection_on_unless_the_command_line_runs_a_hook() -> None:
    done = subprocess.run(
        [PYTHON, "-c", "import gc, server.cli; print(gc.isenabled())", "hook", "x"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    # a command line naming a hook: off until main() has run it
    assert done.stdout.strip() == "False", done.stderr
    done = subprocess.run(
        [PYTHON, "-c", "import gc, server.cli; print(gc.isenabled())"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "True", done.stderr


def test_an_in_process_hook_turns_collection_back_on(project: Path) -> None:
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    assert main(["hook", "memory-cleanup"]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    gc.disable()
    try:  # a caller that had it off finds it off, and nothing frozen
        assert main(["hook", "memory-cleanup"]) == 0
        assert not gc.isenabled() and gc.get_freeze_count() == frozen
    finally:
        gc.enable()
