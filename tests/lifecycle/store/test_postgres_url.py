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
