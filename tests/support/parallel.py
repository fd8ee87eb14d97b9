"""How a parallel run (``make test``: pytest-xdist, ``-n 4``) hands tests to its workers.

Most tests wait on subprocesses, servers and PostgreSQL rather than compute, so the run
uses more workers than the machine has cores. Two things keep it short and correct:

- **One test at a time, a module where tests share a fixture.** Each test is its own
  unit of work, handed to whichever worker is free (at most a few queued per worker), so
  no worker is left with a long tail. A module whose tests share a module-scoped fixture
  (a browser, a server) goes to one worker whole: split up, each worker would build the
  fixture again. pytest-xdist's ``--dist loadgroup`` would do this from an
  ``xdist_group`` mark, but it renames the test ids to do it, which pytest 9.2 no longer
  allows (the mark is silently ignored); hence the scheduler below, keyed on the module.
- **Slow tests first.** Tests marked ``slow`` (subprocesses, several processes, a
  browser) are handed out before the in-process ones, which then fill the gaps at the end.

``tests/conftest.py`` registers both hooks; a run without ``-n`` is not affected.
"""

from __future__ import annotations

from typing import Any

import pytest

# modules whose tests share a module-scoped fixture; tests/test_parallel.py keeps this
# list complete
ONE_WORKER_MODULES = frozenset(
    {
        "tests/server/http/test_readable_errors.py",  # one `serve --transport http`
        "tests/server/mcp/test_stdio_input.py",  # one stdio server for the unparseable lines
        "tests/server/ui/test_browser.py",  # one Chromium, one `ui`
    }
)


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its module if listed above, else itself."""
    module = module_of(nodeid)
    return module if module in ONE_WORKER_MODULES else nodeid


def make_scheduler(config: pytest.Config, log: Any) -> Any:
    """The scheduler for ``--dist load`` (what ``-n`` implies); None leaves any other
    ``--dist`` given on the command line to pytest-xdist."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class TestOrModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:  # the documented extension point
            return unit_of(nodeid)

    return TestOrModuleScheduling(config, log)


def slow_first(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker, put the tests marked ``slow`` first (stable otherwise).
    Every worker sorts the same way, so their collections still agree."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)
