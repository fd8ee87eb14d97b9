"""libpq parameters in a PostgreSQL store URL reach the server as written."""

from __future__ import annotations

import pytest

from lifecycle import MemoryLifecycleManager
from lifecycle.store.postgres import store as postgres
from tests.support.store import UrlFactory, store_url_factory_fixture  # noqa: F401


@pytest.mark.postgres
def test_a_server_setting_with_a_space_in_the_url_is_applied(
    store_url_factory: UrlFactory,
) -> None:
    url = store_url_factory("postgres") + "&options=-c%20synchronous_commit%3Doff"
    with MemoryLifecycleManager(store=url) as m:
        m.store("notes/a", 1)
        store = m._store
        assert isinstance(store, postgres.PostgresStore)
        with store._connection() as conn:
            assert conn.execute("SHOW synchronous_commit").fetchone() == ("off",)
        assert m.retrieve("notes/a") == 1


@pytest.mark.postgres
def test_text_round_trips_whatever_client_encoding_the_url_asks_for(
    store_url_factory: UrlFactory,
) -> None:
    """The hot statements go out as UTF-8 bytes (``wire``), so the store's connections
    speak utf8 even where the URL (or the database's default) says otherwise."""
    url = store_url_factory("postgres") + "&client_encoding=LATIN1"
    text = "naïve café, 50 € — 東京 ✓"
    with MemoryLifecycleManager(store=url) as m:
        m.store("notes/unicode", {"text": text})
        assert m.retrieve("notes/unicode") == {"text": text}
        assert [r["key"] for r in m.search("café")["results"]] == ["notes/unicode"]
        store = m._store
        assert isinstance(store, postgres.PostgresStore)
        with store._connection() as conn:
            assert conn.execute("SHOW client_encoding").fetchone() == ("UTF8",)
