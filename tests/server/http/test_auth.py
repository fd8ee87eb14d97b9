"""The bearer token and the Host/Origin check in front of the dashboard (the same
middleware as the MCP endpoint's), on the app in process: a token is required, a browser
shows it once through ``?token=`` and gets a dashboard-only cookie, and cross-site
requests are refused before anything runs."""

from __future__ import annotations

import pytest

from server.http.auth import COOKIE, cookie_value
from server.ui.dashboard import DASHBOARD_PATH
from tests.support.dashboard import (  # noqa: F401  (fixtures register under their pytest names)
    DashboardFactory,
    open_dashboard_fixture,
)
from tests.support.store import store_url_factory_fixture, store_url_fixture  # noqa: F401

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-token-for-tests"
STATS = f"{DASHBOARD_PATH}/api/stats"


@pytest.fixture(name="backend")
def sqlite_only() -> str:
    return "sqlite"


async def test_with_a_token_every_dashboard_request_needs_it(
    open_dashboard: DashboardFactory,
) -> None:
    async with open_dashboard(token=TOKEN) as d:
        bare = await d.http.get(STATS)
        page = await d.http.get(f"{DASHBOARD_PATH}/")
        wrong = await d.http.get(STATS, headers={"Authorization": "Bearer nope"})
        right = await d.http.get(STATS, headers={"Authorization": f"Bearer {TOKEN}"})
    for refused in (bare, page, wrong):
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_token"
        assert "/ui/?token=<token>" in refused.json()["error_description"]
    assert right.status_code == 200


async def test_a_browser_shows_the_token_once_and_then_holds_a_cookie(
    open_dashboard: DashboardFactory,
) -> None:
    async with open_dashboard(token=TOKEN) as d:
        login = await d.http.get(f"{DASHBOARD_PATH}/", params={"token": TOKEN})
        assert login.status_code == 303
        assert login.headers["location"] == f"{DASHBOARD_PATH}/"  # the token leaves the URL
        cookie = login.headers["set-cookie"]
        assert f"{COOKIE}={cookie_value(TOKEN)}" in cookie
        assert TOKEN not in cookie  # an HMAC of the token, not the token
        for attribute in ("HttpOnly", "SameSite=Strict", f"Path={DASHBOARD_PATH}"):
            assert attribute in cookie
        d.http.cookies.clear()  # (the client keeps cookies: send them by hand from here on)
        held = {"Cookie": f"{COOKIE}={cookie_value(TOKEN)}"}
        stats = await d.http.get(STATS, headers=held)
        outside = await d.http.get("/", headers=held)  # the cookie is for the dashboard only
        bad_login = await d.http.get(f"{DASHBOARD_PATH}/", params={"token": "guess"})
        forged = await d.http.get(STATS, headers={"Cookie": f"{COOKIE}={TOKEN}"})
    assert stats.status_code == 200
    assert outside.status_code == 401
    assert bad_login.status_code == 401 and "set-cookie" not in bad_login.headers
    assert forged.status_code == 401


async def test_a_login_link_keeps_the_other_query_parameters(
    open_dashboard: DashboardFactory,
) -> None:
    async with open_dashboard(token=TOKEN) as d:
        login = await d.http.get(f"{DASHBOARD_PATH}/", params={"token": TOKEN, "q": "auth"})
    assert login.headers["location"] == f"{DASHBOARD_PATH}/?q=auth"


async def test_a_rebound_host_is_refused_with_421(open_dashboard: DashboardFactory) -> None:
    async with open_dashboard() as d:
        rebound = await d.http.get(STATS, headers={"Host": "evil.example:8787"})
        by_name = await d.http.get(STATS, headers={"Host": "localhost:8787"})
    assert rebound.status_code == 421
    assert "--allowed-host" in rebound.json()["error_description"]
    assert by_name.status_code == 200


async def test_a_cross_site_action_is_refused_with_403_and_changes_nothing(
    open_dashboard: DashboardFactory,
) -> None:
    async with open_dashboard() as d:
        d.m.store("keep/a", 1)
        d.clock.tick(120)  # expired, waiting for a forced cleanup
        d.m.store("tmp/b", 2)
        evil = {"Origin": "http://evil.example"}
        cleanup = await d.http.post(
            f"{DASHBOARD_PATH}/api/cleanup", json={"force": True}, headers=evil
        )
        delete = await d.http.delete(
            f"{DASHBOARD_PATH}/api/entry", params={"key": "tmp/b"}, headers=evil
        )
        same_site = await d.http.post(
            f"{DASHBOARD_PATH}/api/cleanup", json={}, headers={"Origin": "http://127.0.0.1:8787"}
        )
        assert cleanup.status_code == 403 and delete.status_code == 403
        assert same_site.status_code == 200
        assert d.m.retrieve("tmp/b") == 2
        assert d.m.get_stats()["expired_pending"] == 1
