"""What the stdio server has imported when it answers ``initialize``: not what only
HTTP, the dashboard, background maintenance or search by meaning need (issue 24: an editor
starts the server at every session and waits for that answer).

The server runs in a real subprocess under ``tests/support/modules_at_first_answer.py``,
which writes ``sys.modules`` as the first answer is written. No timing: the facts checked
are which modules were loaded before the answer, and that what was deferred still runs.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from server.background.first_answer import FirstAnswer
from server.mcp.server import build_server
from tests.support.env import PYTHON, REPO, child_env
from tests.support.server import RawStdioServer

PROBE = REPO / "tests" / "support" / "modules_at_first_answer.py"

# each is needed only after the first answer, or never over stdio
DEFERRED = (
    "apscheduler",  # the maintenance scheduler starts after the first answer
    "lifecycle.search.semantic.engine",  # the indexer's first look, later still
    "numpy",
    "server.mcp.tools",  # the tools are built at the first tools/list or tools/call
    "server.mcp.models",
    "server.ui.dashboard",  # HTTP only
    "server.http.readable_errors",  # HTTP only
    "server.commands.hooks",  # another command
)


def _modules_at_first_answer(tmp_path: Path) -> tuple[set[str], str]:
    out = tmp_path / "modules.txt"
    args = [PYTHON, str(PROBE), "--memory-dir", str(tmp_path / "memory"), "serve"]
    server = RawStdioServer(args, child_env(MODULES_AT_FIRST_ANSWER=str(out)))
    try:
        init = server.initialize()
        assert init["result"]["serverInfo"]["name"] == "memory-lifecycle"
        listed = server.request("tools/list")["result"]["tools"]
        assert "memory_store" in {t["name"] for t in listed}
        code, _ = server.stop_with("eof")
        stderr = server.stderr_text()
    finally:
        server.kill()
    assert code == 0, stderr
    return set(out.read_text().split()), stderr


def test_the_first_answer_comes_before_what_stdio_does_not_need_to_answer(
    tmp_path: Path,
) -> None:
    modules, stderr = _modules_at_first_answer(tmp_path)
    assert "server.mcp.stdio" in modules  # the snapshot was taken while serving
    loaded = sorted(m for m in modules if m.split(".")[0] in {d.split(".")[0] for d in DEFERRED})
    early = [d for d in DEFERRED if d in modules or any(m.startswith(d + ".") for m in loaded)]
    assert early == [], f"imported before the first answer: {early}"
    # deferred, not dropped: the scheduler started once the first request was answered
    assert "maintenance every 300 s" in stderr


def test_tools_are_built_at_the_first_look_with_the_same_names(tmp_path: Path) -> None:
    mcp = build_server(tmp_path / "memory")
    manager = mcp._tool_manager
    assert manager._build is not None  # type: ignore[attr-defined]  # nothing built yet
    names = [t.name for t in manager.list_tools()]
    assert manager._build is None  # type: ignore[attr-defined]
    assert "memory_store" in names and len(names) == len(set(names))
    assert manager.get_tool("memory_store") is manager.get_tool("memory_store")  # built once


@pytest.mark.parametrize("answered_first", [True, False])
def test_background_work_waits_for_the_first_answer_or_gives_up_waiting(
    answered_first: bool,
) -> None:
    async def main() -> bool:
        gate = FirstAnswer()
        if answered_first:
            gate.answered()
        with anyio.fail_after(30):
            await gate.wait(at_latest=0.01 if not answered_first else 30)
        return gate.is_answered

    assert anyio.run(main) is answered_first


def test_an_answer_while_waiting_releases_the_wait() -> None:
    async def main() -> bool:
        gate = FirstAnswer()
        with anyio.fail_after(30):  # the wait would end only at its 300 s without the answer
            async with anyio.create_task_group() as tg:
                tg.start_soon(gate.wait, 300)
                await anyio.sleep(0)  # let the waiter start waiting
                gate.answered()
        return gate.is_answered

    assert anyio.run(main) is True
