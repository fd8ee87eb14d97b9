"""The dashboard in a real headless browser (Debian's Chromium driven by Playwright):
the page loads without console errors and shows the seeded memory, search narrows the
list and highlights what matched, a bad query is explained beside the search box, a
write by another process appears without a reload (in the list and in the recent
changes), delete removes an entry, a conflict shows its siblings, a forced cleanup asks
first, stored markup is shown as text and never runs, and on a phone (390 px) the page
fits the screen and opening an entry brings it into view.

One browser and one ``memory-lifecycle ui`` subprocess serve the whole module; each test
opens its own page. Skipped, saying why, where Chromium or Playwright is missing (CI
installs both and sets MEMORY_LIFECYCLE_REQUIRE_BROWSER=1, which fails instead)."""

from __future__ import annotations

import os
import re
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
DESKTOP = {"width": 1360, "height": 1000}
PHONE = {"width": 390, "height": 844}  # an iPhone 12-15 in CSS pixels
WIDTHS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]

# a parallel run hands the whole module to one worker (tests/support/parallel.py)
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

    def __init__(self, browser: Any, url: str, viewport: dict[str, int] = DESKTOP) -> None:
        self.errors: list[str] = []
        self.expected: list[str] = []  # console errors a test provokes on purpose
        self.page = browser.new_page()
        self.page.set_viewport_size(viewport)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        self.page.goto(url)
        self.page.wait_for_selector("#live[data-state='live']")
        self.page.wait_for_selector("#entries tbody tr[data-key]")

    def _console(self, message: Any) -> None:
        if message.type == "error" and not any(e in message.text for e in self.expected):
            self.errors.append(message.text)

    def shown_keys(self) -> list[str]:
        return self.page.locator("#entries tbody tr[data-key]").evaluate_all(
            "rows => rows.map(r => r.dataset.key)"
        )

    def row(self, key: str) -> Any:
        return self.page.locator(f'#entries tbody tr[data-key="{key}"]')

    def open_entry(self, key: str) -> None:
        """Click ``key`` in the entries list and wait for its detail."""
        self.page.locator("#entries").get_by_role("button", name=key, exact=True).click()
        self.page.locator("#detail-key").filter(has_text=key).wait_for()

    def cells(self, selector: str) -> list[str]:
        return self.page.locator(selector).evaluate_all("cells => cells.map(c => c.textContent)")

    def in_view(self, selector: str) -> bool:
        """Whether the element's top edge is on screen (not above it, not below it)."""
        return self.page.locator(selector).evaluate(
            "e => { const top = e.getBoundingClientRect().top;"
            " return top >= 0 && top < window.innerHeight; }"
        )

    def close(self) -> None:
        self.page.close()


@pytest.fixture(name="open_page")
def open_page_fixture(browser: Any, base_url: str) -> Iterator[Any]:
    """``open_page(viewport)``: a page of that size, closed (and checked for console
    errors) at the end of the test."""
    pages: list[Page] = []

    def open_(viewport: dict[str, int] = DESKTOP) -> Page:
        pages.append(Page(browser, base_url, viewport))
        return pages[-1]

    yield open_
    errors = [error for page in pages for error in page.errors]
    for page in pages:
        page.close()
    assert errors == [], errors  # no console error in any test


@pytest.fixture(name="page")
def page_fixture(open_page: Any) -> Page:
    return open_page()


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
    knowledge = p.locator('#policies tr[data-pattern="knowledge/*"]')
    # the large design note is compressed
    assert "saved" in knowledge.locator('td[data-label="compression"]').inner_text()
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
    page.open_entry("session/sess-42/scratch")
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
    page.open_entry("session/sess-42/context")
    p.click("#delete")
    p.click("#confirm-cancel")
    assert p.locator("#confirm[open]").count() == 0
    assert page.row("session/sess-42/context").count() == 1


def test_an_entry_in_conflict_shows_its_siblings_revision_and_actor(page: Page) -> None:
    p = page.page
    page.open_entry("swarm/shared/plan")
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


# ---------------------------------------------------------------- search


@pytest.mark.parametrize("viewport", WIDTHS)
def test_search_snippets_highlight_the_matching_words(open_page: Any, viewport: Any) -> None:
    page = open_page(viewport)
    page.page.fill("#q", "auth")
    page.page.locator("#entries .snippet mark").first.wait_for()
    snippets = page.cells("#entries .snippet")
    assert snippets and not any("**" in s for s in snippets)  # markers drawn, not shown
    marked = page.cells("#entries .snippet mark")
    assert marked and all(word.lower() == "auth" for word in marked)


@pytest.mark.parametrize("viewport", WIDTHS)
def test_a_bad_query_is_explained_beside_the_search_box_and_lists_nothing(
    open_page: Any, viewport: Any
) -> None:
    page = open_page(viewport)
    page.expected.append("status of 400 (Bad Request)")  # the browser logs every 400
    p = page.page
    p.fill("#q", 'deploy "unclosed')
    error = p.locator("#filter-error")
    error.wait_for()
    assert "unterminated quote" in error.inner_text()
    assert "close the phrase" in error.inner_text()  # what to fix
    # beside the box, on screen while typing: not in a banner at the top of the page
    gap = p.evaluate(
        "() => document.querySelector('#filter-error').getBoundingClientRect().top"
        " - document.querySelector('#q').getBoundingClientRect().bottom"
    )
    assert 0 <= gap < 100, gap
    assert page.in_view("#q") and page.in_view("#filter-error")
    assert p.get_attribute("#q", "aria-invalid") == "true"
    assert p.locator("#notice").is_hidden()
    # the table lists nothing and says why (no silent fall back to every entry)
    assert page.shown_keys() == []
    table = p.locator("#entries tbody").inner_text()
    assert "not valid" in table and "unterminated quote" in table
    assert p.locator("#next").is_disabled()
    p.fill("#q", "")
    error.wait_for(state="hidden")
    p.wait_for_selector("#entries tbody tr[data-key]")
    assert p.get_attribute("#q", "aria-invalid") is None


def test_the_rev_column_never_says_null(page: Page) -> None:
    p = page.page
    listed = page.cells("#entries tbody tr[data-key] td:last-child")
    assert listed and all(re.fullmatch(r"\d+", rev) for rev in listed), listed
    p.fill("#q", "auth")
    p.wait_for_function("() => document.querySelector('#entries-extra').textContent === 'match'")
    found = page.cells("#entries tbody tr[data-key] td:last-child")
    # the revision, or a dash where a result does not carry one
    assert found and all(re.fullmatch(r"\d+|—", rev) for rev in found), found


def test_keys_sort_naturally(page: Page, memory: Path) -> None:
    with MemoryLifecycleManager(memory_dir=memory, policy_file=POLICIES) as m:
        for n in (12, 6, 100, 1):
            m.store(f"work/task{n}", {"n": n})
    page.page.fill("#prefix", "work/task")
    page.page.wait_for_function(
        "() => document.querySelectorAll('#entries tbody tr[data-key]').length === 4"
    )
    assert page.shown_keys() == ["work/task1", "work/task6", "work/task12", "work/task100"]


def test_stored_markup_is_shown_as_text_and_never_runs(page: Page, memory: Path) -> None:
    p = page.page
    key = 'xss/"><img src=x onerror="window.__xss=1">'
    note = (
        '<img src=x onerror="window.__xss=2"> **<b>bold</b>** zebrafish'
        " <script>window.__xss=3</script>"
    )
    with MemoryLifecycleManager(memory_dir=memory, policy_file=POLICIES) as m:
        m.store(key, {"note": note}, tags=["<i>t</i>"])
    p.fill("#q", "zebrafish")
    p.locator("#entries .snippet mark").first.wait_for()
    assert page.cells("#entries .snippet mark") == ["zebrafish"]
    snippet = page.cells("#entries .snippet")[0]
    assert '<img src=x onerror="window.__xss=2">' in snippet and "**<b>bold</b>**" in snippet
    assert page.shown_keys() == [key]
    assert page.cells("#entries .tag") == ["<i>t</i>"]
    page.open_entry(key)
    assert "<script>window.__xss=3</script>" in p.locator("#detail-value").inner_text()
    p.locator("#changes tbody tr[data-revision]").first.filter(has_text="xss/").wait_for()
    injected = "() => document.querySelectorAll('main img, main script, main b, main i').length"
    assert p.evaluate(injected) == 0 and p.evaluate("window.__xss") is None


# ---------------------------------------------------------------- policies and changes


@pytest.mark.parametrize("viewport", WIDTHS)
def test_the_policy_table_shows_each_policys_ttl_and_strategies(
    open_page: Any, viewport: Any
) -> None:
    p = open_page(viewport).page

    def rules(pattern: str) -> list[str]:
        row = p.locator(f'#policies tbody tr[data-pattern="{pattern}"]')
        return row.locator("td.ttl, td.cleanup, td.conflicts").all_inner_texts()

    assert rules("coordination/*") == ["1 h", "lazy", "lww"]
    assert rules("swarm/shared/*") == ["1 d", "scheduled", "multi_value"]
    assert rules("swarm/agent/state/*") == ["7 d", "scheduled", "lww"]
    assert rules("knowledge/*") == ["never", "manual", "multi_value"]
    assert rules("metrics/*") == ["never", "manual", "counter"]
    assert rules("default") == ["never", "manual", "lww"]  # the policy of every other key
    ttl = p.locator('#policies tbody tr[data-pattern="session/*"] td.ttl')
    assert ttl.get_attribute("data-label") == "TTL"  # what a phone shows before the value


def test_recent_changes_list_the_feed_newest_first_and_follow_it(page: Page, memory: Path) -> None:
    p = page.page
    rows = p.locator("#changes tbody tr[data-revision]")
    rows.first.wait_for()
    revisions = [int(r) for r in rows.evaluate_all("rs => rs.map(r => r.dataset.revision)")]
    with MemoryLifecycleManager(memory_dir=memory, policy_file=POLICIES) as m:
        head = m.get_stats()["revision"]
    assert revisions[0] == head and revisions == sorted(revisions, reverse=True)
    assert 1 < len(revisions) <= 20
    put = cli(memory, "put", "knowledge/fresh-change", '{"n": 1}')
    assert put.returncode == 0, put.stderr
    p.wait_for_function(
        "() => document.querySelector('#changes tbody tr').textContent"
        ".includes('knowledge/fresh-change')"
    )
    assert rows.first.get_attribute("data-op") == "put"
    written = int(rows.first.get_attribute("data-revision"))
    assert written > head
    deleted = cli(memory, "delete", "knowledge/fresh-change")
    assert deleted.returncode == 0, deleted.stderr
    p.wait_for_function("() => document.querySelector('#changes tbody tr').dataset.op === 'delete'")
    assert "knowledge/fresh-change" in rows.first.inner_text()
    assert int(rows.first.get_attribute("data-revision")) > written
    assert p.locator(f'#changes tbody tr[data-revision="{written}"]').count() == 1  # both kept


# ---------------------------------------------------------------- a phone

SEEDED = ("coordination/", "session/", "swarm/", "knowledge/a", "knowledge/d", "metrics/")


def line_count(p: Any, selector: str) -> dict[str, int]:
    """How many lines each element's text takes on screen."""
    return dict(
        p.locator(selector).evaluate_all(
            """els => els.map(e => {
                const range = document.createRange();
                range.selectNodeContents(e);
                const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                return [e.textContent, tops.size];
            })"""
        )
    )


def test_on_a_phone_the_page_fits_the_screen_and_keys_read_whole(open_page: Any) -> None:
    page = open_page(PHONE)
    p = page.page
    p.wait_for_selector("#policies tbody tr[data-pattern]")
    p.wait_for_selector("#changes tbody tr[data-revision]")
    assert p.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    keys = line_count(p, "#entries tbody tr[data-key] td.key button")
    seeded = {k: n for k, n in keys.items() if k.startswith(SEEDED)}
    assert len(seeded) >= 10 and max(seeded.values()) <= 2, seeded
    patterns = line_count(p, "#policies tbody td.key")
    assert patterns and max(patterns.values()) == 1, patterns


def test_on_a_phone_opening_an_entry_brings_it_into_view(open_page: Any) -> None:
    page = open_page(PHONE)
    p = page.page
    page.open_entry("swarm/shared/release")
    p.wait_for_function(
        "() => { const top = document.querySelector('#detail').getBoundingClientRect().top;"
        " return top >= 0 && top < window.innerHeight; }"
    )
    assert page.in_view("#detail-key")
    p.click("#back")  # and back to where the entry is in the list
    assert page.in_view("#entries tbody tr.selected")
    assert not page.in_view("#detail")


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
