"""The page and its assets: served by the app itself (no CDN, nothing fetched from
elsewhere), small, under a strict Content-Security-Policy; the store-free paths of the
dashboard app, so SQLite only."""

from __future__ import annotations

import re

import pytest

from server.ui.dashboard import ASSETS, DASHBOARD_PATH, asset
from tests.support.dashboard import (  # noqa: F401  (fixtures register under their pytest names)
    Dashboard,
    dashboard_fixture,
    open_dashboard_fixture,
)
from tests.support.env import REPO
from tests.support.store import store_url_factory_fixture, store_url_fixture  # noqa: F401

pytestmark = pytest.mark.anyio

MAX_ASSET_BYTES = 64 * 1024  # all three together: small enough to read, no build step


@pytest.fixture(name="backend")
def sqlite_only() -> str:
    return "sqlite"


async def test_the_page_script_and_stylesheet_are_served_with_their_types(
    dashboard: Dashboard,
) -> None:
    page = await dashboard.http.get(f"{DASHBOARD_PATH}/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert 'src="static/app.js"' in page.text and 'href="static/style.css"' in page.text
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        response = await dashboard.http.get(f"{DASHBOARD_PATH}/static/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(kind)
        assert response.content == asset(name)


async def test_every_asset_carries_a_strict_content_security_policy(dashboard: Dashboard) -> None:
    for path in ("/", "/static/app.js", "/static/style.css"):
        headers = (await dashboard.http.get(DASHBOARD_PATH + path)).headers
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"


async def test_the_root_and_the_bare_path_lead_to_the_page(dashboard: Dashboard) -> None:
    root = await dashboard.http.get("/")
    assert root.status_code == 307 and root.headers["location"] == f"{DASHBOARD_PATH}/"
    bare = await dashboard.http.get(DASHBOARD_PATH)
    assert bare.status_code in (307, 308)
    assert bare.headers["location"].endswith(f"{DASHBOARD_PATH}/")


async def test_an_unknown_path_is_a_json_404(dashboard: Dashboard) -> None:
    response = await dashboard.http.get(f"{DASHBOARD_PATH}/api/nothing")
    assert response.status_code == 404
    assert response.json() == {"error": "no such page '/ui/api/nothing'"}


def test_the_assets_work_offline_and_stay_small() -> None:
    total = 0
    for name in ASSETS:
        text = asset(name).decode()
        total += len(text.encode())
        # nothing loaded from another host (the SVG namespace is a name, not a fetch)
        urls = set(re.findall(r"https?://[^\s\"'`)]+", text)) - {"http://www.w3.org/2000/svg"}
        assert not urls, f"{name} refers to {urls}"
        assert "<script>" not in text and " on" + "click=" not in text  # no inline script
    assert total < MAX_ASSET_BYTES, total


def test_the_docs_page_documents_every_endpoint_and_part_of_the_page() -> None:
    docs = REPO / "docs"
    page = (docs / "dashboard.md").read_text()
    script = asset("app.js").decode()
    for name in set(re.findall(r"api/(\w+)", script)):
        assert f"/ui/api/{name}" in page, f"docs/dashboard.md: api/{name} is missing"
    html = asset("index.html").decode()
    for heading in re.findall(r"<h2[^>]*>\s*([A-Z][a-z]+(?: [a-z]+)*)", html):
        assert f"**{heading}**" in page, f"docs/dashboard.md: the {heading} part is missing"
    for picture in re.findall(r"\]\(([\w-]+\.png)\)", page):
        assert (docs / picture).read_bytes().startswith(b"\x89PNG"), picture
    assert "](ui.png)" in page and "](ui-phone.png)" in page
