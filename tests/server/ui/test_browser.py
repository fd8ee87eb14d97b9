"""The dashboard in a real headless browser (Debian's Chromium driven by Playwright):
the page loads without console errors and shows the seeded memory, search narrows the
list, a write by another process appears without a reload, delete removes an entry, a
conflict shows its siblings, and a forced cleanup asks first.

One browser and one ``memory-lifecycle ui`` subprocess serve the whole module; each test
opens its own page. Skipped, saying why, where Chromium or Playwright is missing (CI
installs both and sets MEMORY_LIFECYCLE_REQUIRE_BROWSER=1, which fails instead)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifecycle import MemoryLifecycleManager
from tests.support.dashboard import browser_missing, chromium, seed, ui_server
from tests.support.env import PYTHON, REPO, child_env
from tests.support.server import free_port

POLICIES = REPO / ".claude" / "memory-retention-policies.yaml"
ENV_REQUIRE = "MEMORY_LIFECYCLE_REQUIRE_BROWSER"
WAIT_MS = 5000  # every wait for the page is bounded

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module", autouse=True)
def _needs_a_browser() -> None:
    missing = browser_missing()
    if missing is None:
        return
    if os.environ.get(ENV_REQUIRE, "").strip() not in ("", "0", "false", "no"):
        pytest.fail(f"{ENV_REQUIRE}=1 but {missing}")
    pytest.skip(missing)


@pytest.fixture(scope="module", name="memory")
def memory_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    memory = tmp_path_factory.mktemp("dashboard") / "memory"
    with MemoryLifecycleManager(memory_dir=memory, policy_file=POLICIES) as m:
        seed(m)
    return memory


@pytest.fixture(scope="module", name="base_url")
def base_url_fixture(memory: Path) -> Iterator[str]:
    port = free_port()
    with ui_server(memory, port, policy_file=POLICIES):
        yield f"http://127.0.0.1:{port}/ui/"


@pytest.fixture(scope="module", name="browser")
def browser_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        context.set_default_timeout(WAIT_MS)
        yield context


class Page:
    """A page of the dashboard that records every console error and uncaught exception."""

    def __init__(self, browser: Any, url: str) -> None:
        self.errors: list[str] = []
        self.page = browser.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        self.page.goto(url)
        self.page.wait_for_selector("#live[data-state='live']")
        self.page.wait_for_selector("#entries tbody tr[data-key]")

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def shown_keys(self) -> list[str]:
        return self.page.locator("#entries tbody tr[data-key]").evaluate_all(
            "rows => rows.map(r => r.dataset.key)"
        )

    def row(self, key: str) -> Any:
        return self.page.locator(f'#entries tbody tr[data-key="{key}"]')

    def close(self) -> None:
        self.page.close()


@pytest.fixture(name="page")
def page_fixture(browser: Any, base_url: str) -> Iterator[Page]:
    page = Page(browser, base_url)
    yield page
    errors = page.errors
    page.close()
    assert errors == [], errors  # no console error in any test


def cli(memory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Another process on the same store: the ``memory-lifecycle`` command."""
    return subprocess.run(
        [
            PYTHON,
            "-m",
            "server",
            "--memory-dir",
            str(memory),
            "--policy-file",
            str(POLICIES),
            *args,
        ],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
        timeout=60,
    )


def test_the_page_shows_the_seeded_memory(page: Page) -> None:
    p = page.page
    assert {
        "coordination/agent-1/status",
        "knowledge/architecture/auth",
        "metrics/tasks_done",
    } <= set(page.shown_keys())
    patterns = p.locator("#policies tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.pattern)"
    )
    assert {"coordination/*", "knowledge/*", "swarm/shared/*"} <= set(patterns)
    knowledge = p.locator('#policies tr[data-pattern="knowledge/*"] td')
    assert "saved" in knowledge.nth(4).inner_text()  # the large design note is compressed
    assert p.locator('#locks tr[data-lock="deploy/production"]').inner_text().count("agent-2") == 1
    assert p.locator("#chart rect").count() > 0
    assert p.locator("#store").inner_text().startswith("sqlite:///")


def test_search_narrows_the_list(page: Page, memory: Path) -> None:
    with MemoryLifecycleManager(memory_dir=memory, policy_file=POLICIES) as m:
        expected = {r["key"] for r in m.search("auth", limit=100)["results"]}
    assert 0 < len(expected) < len(page.shown_keys())
    page.page.fill("#q", "auth")
    page.page.wait_for_function(
        "n => document.querySelectorAll('#entries tbody tr[data-key]').length === n",
        arg=len(expected),
    )
    assert set(page.shown_keys()) == expected
    assert page.page.locator("#entries-extra").inner_text() == "match"
    page.page.fill("#q", "")
    page.page.wait_for_function(
        "n => document.querySelectorAll('#entries tbody tr[data-key]').length > n",
        arg=len(expected),
    )


def test_prefix_and_tag_filters_narrow_the_list(page: Page) -> None:
    p = page.page
    p.fill("#prefix", "session/")
    p.wait_for_function(
        "() => [...document.querySelectorAll('#entries tbody tr[data-key]')]"
        ".every(r => r.dataset.key.startsWith('session/'))"
    )
    assert page.shown_keys() and all(k.startswith("session/") for k in page.shown_keys())
    p.fill("#prefix", "")
    p.fill("#tags", "design, auth")  # all of them
    p.wait_for_function(
        "() => document.querySelectorAll('#entries tbody tr[data-key]').length === 1"
    )
    assert page.shown_keys() == ["knowledge/architecture/auth"]


def test_a_write_by_another_process_appears_without_a_reload(page: Page, memory: Path) -> None:
    p = page.page
    p.evaluate("window.__sameDocument = true")
    put = cli(memory, "put", "knowledge/live-note", '{"from": "another process"}')
    assert put.returncode == 0, put.stderr
    written = time.monotonic()
    page.row("knowledge/live-note").wait_for(timeout=3000)  # a second or two, bounded
    seconds = time.monotonic() - written
    assert p.evaluate("window.__sameDocument") is True  # no reload happened
    assert seconds < 3


def test_delete_removes_an_entry(page: Page, memory: Path) -> None:
    p = page.page
    p.get_by_role("button", name="session/sess-42/scratch").click()
    p.locator("#detail-key").filter(has_text="session/sess-42/scratch").wait_for()
    assert '"notes": "scratch of session 42"' in p.locator("#detail-value").inner_text()
    p.click("#delete")
    p.locator("#confirm[open]").wait_for()
    assert "session/sess-42/scratch" in p.locator("#confirm-text").inner_text()
    p.click("#confirm-ok")
    page.row("session/sess-42/scratch").wait_for(state="detached")
    assert "deleted 'session/sess-42/scratch'" in p.locator("#notice").inner_text()
    gone = cli(memory, "get", "session/sess-42/scratch")
    assert gone.returncode == 1  # deleted in the store, not only on the page


def test_cancelling_a_delete_keeps_the_entry(page: Page) -> None:
    p = page.page
    p.get_by_role("button", name="session/sess-42/context").click()
    p.locator("#detail-key").filter(has_text="session/sess-42/context").wait_for()
    p.click("#delete")
    p.click("#confirm-cancel")
    assert p.locator("#confirm[open]").count() == 0
    assert page.row("session/sess-42/context").count() == 1


def test_an_entry_in_conflict_shows_its_siblings_revision_and_actor(page: Page) -> None:
    p = page.page
    p.get_by_role("button", name="swarm/shared/plan").click()
    p.locator("#detail-key").filter(has_text="swarm/shared/plan").wait_for()
    assert "newest of 2 concurrent values" in p.locator("#value-title").inner_text()
    siblings = p.locator("#detail-conflicts pre")
    assert siblings.count() == 1
    shown = p.locator("#detail-value").inner_text() + siblings.inner_text()
    assert "split the auth module" in shown and "write the migration first" in shown
    meta = p.locator("#detail-meta").inner_text()
    assert "revision" in meta and "actor" in meta and "expires" in meta


def test_a_forced_cleanup_asks_first(page: Page) -> None:
    p = page.page
    p.check("#force")
    p.click("#cleanup")
    p.locator("#confirm[open]").wait_for()
    assert "manual-strategy" in p.locator("#confirm-text").inner_text()
    p.click("#confirm-cancel")
    assert p.locator("#cleanup-result").inner_text() == ""
    p.click("#cleanup")
    p.click("#confirm-ok")
    p.locator("#cleanup-result").filter(has_text="forced cleanup deleted").wait_for()
    assert "swarm/shared/*: 1" in p.locator("#cleanup-result").inner_text()  # the stale heartbeat


def test_the_search_box_searches_by_meaning_and_shows_the_similarity(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.semantic import model_folder

    env = {"MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH": str(model_folder())}
    monkeypatch.setenv("MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH", str(model_folder()))  # seeding
    memory = tmp_path / "memory"
    with MemoryLifecycleManager(memory_dir=memory, policy_file=POLICIES) as m:
        seed(m)
        m.index()
    port = free_port()
    with ui_server(memory, port, policy_file=POLICIES, **env):
        page = Page(browser, f"http://127.0.0.1:{port}/ui/")
        p = page.page
        p.select_option("#search-mode", "semantic")
        p.fill("#q", "who is working on what")
        p.wait_for_function(
            "() => [...document.querySelectorAll('#entries tbody tr[data-key] td.num')]"
            ".some(td => td.textContent.endsWith('%'))"
        )
        first = page.row(page.shown_keys()[0]).locator("td.num").first.inner_text()
        assert first.endswith("%") and 0 < int(first[:-1]) <= 100
        p.select_option("#search-mode", "keyword")
        p.wait_for_selector("#entries td.empty")  # no entry holds all those words
        errors = page.errors
        page.close()
    assert errors == []
