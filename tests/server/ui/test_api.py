"""Every JSON endpoint the dashboard page uses, on SQLite and PostgreSQL: what each one
shows, the actions (delete, cleanup) going through the engine, the change feed as a
long-poll, and bad input answered with a clear JSON error that changes nothing."""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from server.ui import natural_order
from server.ui.dashboard import DASHBOARD_PATH
from tests.support.dashboard import (  # noqa: F401  (fixtures register under their pytest names)
    Dashboard,
    dashboard_fixture,
    open_dashboard_fixture,
)
from tests.support.semantic import embedding_model_fixture  # noqa: F401
from tests.support.store import (  # noqa: F401
    backend_fixture,
    store_url_factory_fixture,
    store_url_fixture,
)

pytestmark = pytest.mark.anyio

BIG = {"text": "compressible " * 40}


async def ok(d: Dashboard, path: str, **params: object) -> dict:
    response = await d.get(path, **params)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


async def refused(d: Dashboard, path: str, status: int = 400, **params: object) -> str:
    response = await d.get(path, **params)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error"}
    assert "\n" not in body["error"] and len(body["error"]) < 400
    return body["error"]


# ---------------------------------------------------------------- policies


async def test_stats_show_entries_bytes_compression_and_expired_pending_per_pattern(
    dashboard: Dashboard,
) -> None:
    d, now = dashboard, dashboard.clock.now()
    d.m.store("big/doc", BIG)  # compressed
    d.m.store("job/a", 1)
    d.m.store("job/old", 2, timestamp=now - 7200)  # 1 h TTL, written 2 h ago: expired
    stats = await ok(d, "api/stats")
    by = {p["pattern"]: p for p in stats["policies"]}
    assert by["big/*"]["compressed"] == 1
    assert by["big/*"]["stored_bytes"] < by["big/*"]["total_bytes"]
    assert by["job/*"]["entries"] == 2 and by["job/*"]["expired_pending"] == 1
    assert stats["total_entries"] == 3 and stats["expired_pending"] == 1
    assert stats["now"] == pytest.approx(now)


async def test_every_policy_shows_its_ttl_and_strategies_entries_or_not(
    dashboard: Dashboard,
) -> None:
    d = dashboard
    d.m.store("job/a", 1)
    stats = await ok(d, "api/stats")
    rows = stats["policies"]
    assert [r["pattern"] for r in rows] == ["big/*", "job/*", "keep/*", "mv/*", "tmp/*", "default"]
    by = {r["pattern"]: r for r in rows}
    assert by["job/*"]["entries"] == 1
    assert by["tmp/*"] == {
        "pattern": "tmp/*",
        "configured": True,
        "ttl_seconds": 600,
        "cleanup_strategy": "lazy",
        "conflict_strategy": "lww",
        "entries": 0,  # a policy that holds nothing yet still shows its rules
        "total_bytes": 0,
        "stored_bytes": 0,
        "compressed": 0,
        "expired_pending": 0,
        "next_expiry": None,
    }
    assert (by["mv/*"]["ttl_seconds"], by["mv/*"]["conflict_strategy"]) == (0, "multi_value")
    assert by["keep/*"]["cleanup_strategy"] == "manual"
    assert by["default"]["configured"] is True


async def test_a_pattern_no_longer_configured_keeps_its_counts_without_rules(
    dashboard: Dashboard, store_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    old = tmp_path / "old.yaml"
    rule = '{namespace: "old/*", ttl_seconds: 60, cleanup_strategy: lazy, conflict_strategy: lww}'
    old.write_text(f"namespaces:\n  - {rule}\n")
    with MemoryLifecycleManager(policy_file=old, store=store_url, clock=clock) as before:
        before.store("old/a", 1)  # written under a policy the dashboard's file no longer has
    stats = await ok(dashboard, "api/stats")
    row = {r["pattern"]: r for r in stats["policies"]}["old/*"]
    assert row["entries"] == 1 and row["configured"] is False
    assert (row["ttl_seconds"], row["cleanup_strategy"], row["conflict_strategy"]) == (
        None,
        None,
        None,
    )


async def test_expiries_count_what_expires_in_each_slice_ahead(dashboard: Dashboard) -> None:
    d = dashboard
    d.m.store("tmp/a", 1)  # +10 min: first hour
    d.m.store("job/a", 1)  # +1 h: second hour
    d.m.store("keep/a", 1, ttl_seconds=5 * 3600)  # outside a 4 h window
    data = await ok(d, "api/expiries", horizon_seconds=4 * 3600, buckets=4)
    assert [b["entries"] for b in data["buckets"]] == [1, 1, 0, 0]
    assert data["buckets"][0]["by_policy"] == {"tmp/*": 1}
    assert data["total"] == 2 and data["bucket_seconds"] == 3600


async def test_expiries_refuse_a_bad_window(dashboard: Dashboard) -> None:
    assert "horizon_seconds" in await refused(dashboard, "api/expiries", horizon_seconds="soon")
    assert "invalid buckets 0" in await refused(dashboard, "api/expiries", buckets=0)
    assert "whole number" in await refused(dashboard, "api/expiries", buckets="-3")


async def test_locks_show_each_holder_with_its_expiry(dashboard: Dashboard) -> None:
    d = dashboard
    taken = d.m.lock("deploy/prod", owner="agent-7", ttl_seconds=120)
    data = await ok(d, "api/locks")
    assert data["locks"] == [
        {"name": "deploy/prod", "owner": "agent-7", "token": taken["token"],
         "expires_at": taken["expires_at"]}
    ]  # fmt: skip


# ---------------------------------------------------------------- entries


async def test_entries_page_in_key_order_under_a_prefix_with_tags(dashboard: Dashboard) -> None:
    d = dashboard
    for n in range(5):
        d.m.store(f"job/{n}", n, tags=["even"] if n % 2 == 0 else [])
    d.m.store("tmp/x", 1)
    first = await ok(d, "api/entries", prefix="job/", limit=2)
    assert first["mode"] == "list"
    assert [e["key"] for e in first["entries"]] == ["job/0", "job/1"]
    second = await ok(d, "api/entries", prefix="job/", limit=2, cursor=first["next_cursor"])
    assert [e["key"] for e in second["entries"]] == ["job/2", "job/3"]
    tagged = await ok(d, "api/entries", tag="even")
    assert [e["key"] for e in tagged["entries"]] == ["job/0", "job/2", "job/4"]
    row = tagged["entries"][0]
    assert set(row) >= {"policy", "size_bytes", "expires_at", "updated_at", "revision", "tags"}


async def test_entries_list_in_natural_key_order_across_pages(dashboard: Dashboard) -> None:
    d = dashboard
    numbers = [1, 2, 6, 9, 10, 12, 20, 100, 101]
    for n in reversed(numbers):
        d.m.store(f"job/task{n}", n)
    d.m.store("job/task06", 6)  # the same number: the text settles it
    seen, cursor = [], None
    while True:
        page = await ok(d, "api/entries", prefix="job/", limit=4, cursor=cursor or "")
        assert page["order"] == "natural"
        seen += [e["key"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = [f"job/task{n}" for n in numbers]
    expected.insert(2, "job/task06")
    assert seen == expected


async def test_an_entry_added_between_pages_shifts_nothing(dashboard: Dashboard) -> None:
    d = dashboard
    for n in (1, 2, 3, 4):
        d.m.store(f"job/{n}", n)
    first = await ok(d, "api/entries", prefix="job/", limit=2)
    d.m.store("job/0", 0)  # before the cursor: neither repeated nor skipping one
    second = await ok(d, "api/entries", prefix="job/", limit=2, cursor=first["next_cursor"])
    assert [e["key"] for e in second["entries"]] == ["job/3", "job/4"]


async def test_beyond_the_window_the_list_pages_in_text_order(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(natural_order, "WINDOW", 4)  # (1000 in use)
    d = dashboard
    for n in (1, 2, 10, 11, 12, 20):
        d.m.store(f"job/{n}", n)
    seen, cursor = [], None
    while True:
        page = await ok(d, "api/entries", prefix="job/", limit=4, cursor=cursor or "")
        assert page["order"] == "text"
        seen += [e["key"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["job/1", "job/10", "job/11", "job/12", "job/2", "job/20"]
    narrowed = await ok(d, "api/entries", prefix="job/1", limit=4)
    assert narrowed["order"] == "natural"  # few enough again under a narrower prefix


async def test_a_list_outgrowing_the_window_between_pages_goes_on_after_the_cursor(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A natural page's cursor past the whole window (entries added before it in text
    order): the next page is what follows the cursor, not an empty page pointing back."""
    monkeypatch.setattr(natural_order, "WINDOW", 4)
    d = dashboard
    for n in (1, 2, 3):
        d.m.store(f"job/{n}", n)
    first = await ok(d, "api/entries", prefix="job/", limit=2)
    assert (first["order"], [e["key"] for e in first["entries"]]) == ("natural", ["job/1", "job/2"])
    for name in ("0a", "0b", "0c"):
        d.m.store(f"job/{name}", name)  # the window now ends at job/1
    second = await ok(d, "api/entries", prefix="job/", limit=2, cursor=first["next_cursor"])
    assert (second["order"], [e["key"] for e in second["entries"]]) == ("text", ["job/3"])
    assert second["next_cursor"] is None


async def test_a_search_narrows_the_entries_best_match_first(dashboard: Dashboard) -> None:
    d = dashboard
    d.m.store("job/auth", {"note": "rotate the auth tokens hourly"}, tags=["auth"])
    d.m.store("job/db", {"note": "move to PostgreSQL"})
    d.m.store("tmp/auth", {"note": "auth"})
    found = await ok(d, "api/entries", q="auth")
    assert found["mode"] == "search"
    assert {e["key"] for e in found["entries"]} == {"job/auth", "tmp/auth"}
    assert all("snippet" in e and "score" in e for e in found["entries"])
    narrowed = await ok(d, "api/entries", q="auth", prefix="job/", tag="auth")
    assert [e["key"] for e in narrowed["entries"]] == ["job/auth"]


async def test_the_search_box_offers_the_modes_and_says_how_to_get_search_by_meaning(
    dashboard: Dashboard, embedding_model: object
) -> None:
    d = dashboard
    d.m.store("job/auth", {"note": "We sign API users in with JWT tokens"})
    d.m.store("job/db", {"note": "move to PostgreSQL"})
    await anyio.to_thread.run_sync(d.m.index)
    meaning = await ok(d, "api/entries", q="how do people log in", search_mode="semantic", limit=1)
    assert meaning["search_mode"] == "semantic" and meaning["pending"] == 0
    assert [e["key"] for e in meaning["entries"]] == ["job/auth"]
    assert 0 < meaning["entries"][0]["similarity"] <= 1
    default = await ok(d, "api/entries", q="JWT")
    assert default["search_mode"] == "hybrid" and default["entries"][0]["key"] == "job/auth"
    words = await ok(d, "api/entries", q="how do people log in", search_mode="keyword")
    assert words["search_mode"] == "keyword" and words["entries"] == []
    assert "keyword, semantic or hybrid" in await refused(d, "api/entries", q="x", search_mode="x")


async def test_without_a_model_the_search_box_by_meaning_is_a_clear_error(
    dashboard: Dashboard,
) -> None:
    dashboard.m.store("job/auth", {"note": "JWT"})
    error = await refused(dashboard, "api/entries", q="log in", search_mode="semantic")
    assert error.startswith("search by meaning is off")
    assert (await ok(dashboard, "api/entries", q="JWT"))["search_mode"] == "keyword"


async def test_a_query_with_no_words_is_a_clear_error(dashboard: Dashboard) -> None:
    error = await refused(dashboard, "api/entries", q="!!!")
    assert error.startswith("invalid query:") and "no words" in error


async def test_bad_paging_and_unknown_parameters_are_refused(dashboard: Dashboard) -> None:
    assert "invalid limit 0" in await refused(dashboard, "api/entries", limit=0)
    assert "whole number" in await refused(dashboard, "api/entries", limit="ten")
    assert "invalid cursor" in await refused(dashboard, "api/entries", cursor="%%%")
    assert "invalid cursor '~%%%'" in await refused(dashboard, "api/entries", cursor="~%%%")
    assert "invalid limit 1001" in await refused(dashboard, "api/entries", limit=1001)
    assert "did you mean 'prefix'" in await refused(dashboard, "api/entries", prefx="job/")


# ---------------------------------------------------------------- one entry


async def test_an_entry_shows_its_value_revision_actor_and_expiry(dashboard: Dashboard) -> None:
    d = dashboard
    d.m.store("job/a", {"step": 3, "files": ["a.py"]}, agent_id="agent-3", tags=["t"])
    entry = await ok(d, "api/entry", key="job/a")
    assert entry["found"] is True
    assert entry["value"] == {"step": 3, "files": ["a.py"]}
    assert entry["actor"] == "agent-3"
    assert entry["revision"] == d.m.retrieve_entry("job/a").revision
    assert entry["expires_at"] == pytest.approx(d.clock.now() + 3600)
    assert entry["tags"] == ["t"] and entry["conflicts"] == []


async def test_a_multi_value_key_in_conflict_shows_its_siblings(dashboard: Dashboard) -> None:
    d = dashboard
    d.m.store("mv/plan", {"next": "split"}, agent_id="planner")
    d.m.store("mv/plan", {"next": "migrate"}, agent_id="reviewer")
    entry = await ok(d, "api/entry", key="mv/plan")
    values = [entry["value"], *(c["value"] for c in entry["conflicts"])]
    assert sorted(v["next"] for v in values) == ["migrate", "split"]
    assert {c["actor"] for c in entry["conflicts"]} <= {"planner", "reviewer"}
    assert all("timestamp" in c for c in entry["conflicts"])


async def test_an_entry_that_is_not_there_is_found_false(dashboard: Dashboard) -> None:
    entry = await ok(dashboard, "api/entry", key="job/nothing")
    assert entry["found"] is False and entry["key"] == "job/nothing"


async def test_an_invalid_key_is_a_clear_error(dashboard: Dashboard) -> None:
    assert "empty path segment" in await refused(dashboard, "api/entry", key="job//a")
    assert "parameter 'key' is required" in await refused(dashboard, "api/entry")


# ---------------------------------------------------------------- actions


async def test_delete_removes_the_entry_through_the_engine(dashboard: Dashboard) -> None:
    d = dashboard
    d.m.store("job/a", 1)
    revision = d.m.retrieve_entry("job/a").revision
    response = await d.http.delete(
        f"{DASHBOARD_PATH}/api/entry", params={"key": "job/a", "if_revision": revision}
    )
    assert response.status_code == 200
    assert response.json()["deleted"] is True
    assert d.m.retrieve("job/a") is None
    feed = d.m.changes(since=revision)
    assert [(c["key"], c["op"]) for c in feed["changes"]] == [("job/a", "delete")]


async def test_delete_of_a_changed_entry_is_a_conflict_and_deletes_nothing(
    dashboard: Dashboard,
) -> None:
    d = dashboard
    d.m.store("job/a", 1)
    shown = d.m.retrieve_entry("job/a").revision
    d.m.store("job/a", 2)  # another agent wrote after the page showed it
    response = await d.http.delete(
        f"{DASHBOARD_PATH}/api/entry", params={"key": "job/a", "if_revision": shown}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["deleted"] is False and body["conflict"] == "revision"
    assert body["revision"] == d.m.retrieve_entry("job/a").revision
    assert d.m.retrieve("job/a") == 2


async def test_bad_delete_input_is_refused_and_deletes_nothing(dashboard: Dashboard) -> None:
    d = dashboard
    d.m.store("job/a", 1)
    url = f"{DASHBOARD_PATH}/api/entry"
    for params in ({"key": "job/a", "if_revision": "latest"}, {"kee": "job/a"}, {}):
        response = await d.http.delete(url, params=params)
        assert response.status_code == 400, params
        assert response.json()["error"]
    assert d.m.retrieve("job/a") == 1


async def test_cleanup_collects_expired_entries_and_force_includes_manual_ones(
    dashboard: Dashboard,
) -> None:
    d = dashboard
    d.m.store("job/old", 1)
    d.m.store("keep/old", 2)  # manual: only a forced cleanup deletes it
    d.m.store("job/new", 3, ttl_seconds=86400)
    d.clock.tick(4000)
    url = f"{DASHBOARD_PATH}/api/cleanup"
    plain = await d.http.post(url, json={})
    assert plain.status_code == 200, plain.text
    assert plain.json()["deleted_count"] == 1
    assert plain.json()["by_namespace"] == {"job/*": 1}
    forced = await d.http.post(url, json={"force": True})
    assert forced.json()["by_namespace"] == {"keep/*": 1}
    assert d.m.get_stats()["total_entries"] == 1


async def test_bad_cleanup_requests_are_refused_and_collect_nothing(dashboard: Dashboard) -> None:
    d = dashboard
    d.m.store("keep/old", 1)
    d.clock.tick(120)
    url = f"{DASHBOARD_PATH}/api/cleanup"
    cases = [
        (await d.http.post(url, json={"force": "yes"}), 400, "invalid force 'yes'"),
        (await d.http.post(url, json={"forse": True}), 400, "unknown field 'forse'"),
        (await d.http.post(url, json=[True]), 400, "must be a JSON object"),
        (await d.http.post(url, content=b"{force", headers=_json()), 400, "not JSON"),
        (await d.http.post(url, data={"force": "true"}), 415, "application/json"),
        (await d.http.get(url), 405, "GET is not allowed"),
    ]
    for response, status, fragment in cases:
        assert response.status_code == status, response.text
        assert fragment in response.json()["error"]
    assert d.m.get_stats()["expired_pending"] == 1


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


# ---------------------------------------------------------------- the change feed


async def test_changes_without_since_give_a_cursor_to_start_from(dashboard: Dashboard) -> None:
    d = dashboard
    d.m.store("job/a", 1)
    start = await ok(d, "api/changes")
    assert start == {"changes": [], "next": d.m.changes()["next"]}


async def test_a_long_poll_returns_a_write_made_meanwhile_by_another_writer(
    dashboard: Dashboard,
) -> None:
    d = dashboard
    since = (await ok(d, "api/changes"))["next"]
    results: dict[str, dict] = {}

    async def poll() -> None:
        results["page"] = await ok(d, "api/changes", since=since, wait_seconds=20)

    started = time.monotonic()
    with anyio.fail_after(15):
        async with anyio.create_task_group() as tg:
            tg.start_soon(poll)
            await anyio.to_thread.run_sync(lambda: d.m.store("job/new", {"by": "agent"}))
    assert time.monotonic() - started < 10  # woken by the write, not by the 20 s bound
    changes = results["page"]["changes"]
    assert [(c["key"], c["op"]) for c in changes] == [("job/new", "put")]
    assert results["page"]["next"] == changes[-1]["revision"]


async def test_a_long_poll_with_nothing_new_ends_at_its_bound(dashboard: Dashboard) -> None:
    d = dashboard
    since = (await ok(d, "api/changes"))["next"]
    started = time.monotonic()
    with anyio.fail_after(10):
        page = await ok(d, "api/changes", since=since, wait_seconds=0.3)
    assert time.monotonic() - started >= 0.25
    assert page == {"changes": [], "next": since}


async def test_bad_change_feed_cursors_are_clear_errors(dashboard: Dashboard) -> None:
    d = dashboard
    assert "invalid since 99" in await refused(d, "api/changes", since=99)
    assert "use 0 to 30 seconds" in await refused(d, "api/changes", wait_seconds=31)
    assert "whole number" in await refused(d, "api/changes", since="-1")


async def test_a_cursor_older_than_the_log_is_gone_naming_the_oldest(dashboard: Dashboard) -> None:
    d = dashboard
    for n in range(4):
        d.m.store(f"job/{n}", n)
    d.m.backend.compact_changes(2)  # keep revisions 3 and 4
    response = await d.get("api/changes", since=0)
    assert response.status_code == 410
    body = response.json()
    assert body["oldest"] == 3 and "compacted" in body["error"]
