"""Fixtures that run one test against every storage backend.

SQLite always runs (a real file under ``tmp_path``). PostgreSQL runs when
``MEMORY_LIFECYCLE_TEST_POSTGRES`` names a server; each test gets its own
schema, dropped afterwards, so tests never see each other's rows. When CI sets
``MEMORY_LIFECYCLE_REQUIRE_POSTGRES=1``, a missing or unreachable server fails
the PostgreSQL tests instead of skipping them, so they cannot silently vanish.

Fixtures are defined under ``<name>_fixture`` and registered as ``<name>``; import
the ones a module uses (and those they depend on), e.g.
``from tests.support.store import backend_fixture, store_url_factory_fixture, ...``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.store.backend import open_store
from lifecycle.store.base import Store

ENV_DSN = "MEMORY_LIFECYCLE_TEST_POSTGRES"
ENV_REQUIRE = "MEMORY_LIFECYCLE_REQUIRE_POSTGRES"
SKIP_REASON = f"set {ENV_DSN}=postgresql://... to run"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

_reachable: dict[str, str | None] = {}  # dsn -> None when reachable, else the reason


def postgres_required() -> bool:
    return os.environ.get(ENV_REQUIRE, "").strip() not in ("", "0", "false", "no")


def postgres_dsn() -> str:
    """The test server's DSN; skips (or fails, when required) if there is none to reach."""
    dsn = os.environ.get(ENV_DSN, "").strip()
    if not dsn:
        if postgres_required():
            pytest.fail(f"{ENV_REQUIRE}=1 but {ENV_DSN} is unset; {SKIP_REASON}")
        pytest.skip(SKIP_REASON)
    if dsn not in _reachable:
        _reachable[dsn] = _probe(dsn)
    reason = _reachable[dsn]
    if reason is not None:
        message = f"PostgreSQL from {ENV_DSN} is unreachable: {reason}"
        if postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    return dsn


def _probe(dsn: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'memory-lifecycle[postgres]')"
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        from lifecycle.store.url import redact_url

        return f"{redact_url(dsn)}: {str(exc).strip()}"
    return None


def with_schema(dsn: str, schema: str) -> str:
    parts = urlsplit(dsn)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"] + [("schema", schema)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def new_schema() -> str:
    return f"ml_test_{uuid.uuid4().hex[:12]}"


def drop_schema(dsn: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


UrlFactory = Callable[..., str]


@pytest.fixture(name="store_url_factory")
def store_url_factory_fixture(tmp_path: Path) -> Iterator[UrlFactory]:
    """Fresh store URLs: ``make("sqlite", "a")`` or ``make("postgres", "a")``."""
    schemas: list[tuple[str, str]] = []

    def make(backend: str, name: str = "store") -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / name / 'memory.db'}"
        if backend == "postgres":
            dsn = postgres_dsn()
            schema = new_schema()
            schemas.append((dsn, schema))
            return with_schema(dsn, schema)
        raise ValueError(f"unknown backend {backend!r}")

    yield make
    for dsn, schema in schemas:
        drop_schema(dsn, schema)


@pytest.fixture(name="backend", params=BACKENDS)
def backend_fixture(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(name="store_url")
def store_url_fixture(backend: str, store_url_factory: UrlFactory) -> str:
    return store_url_factory(backend)


@pytest.fixture(name="store")
def store_fixture(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


ManagerFactory = Callable[..., MemoryLifecycleManager]


@pytest.fixture(name="make_backend_manager")
def make_backend_manager_fixture(
    backend: str, store_url_factory: UrlFactory, tmp_path: Path, clock: ManualClock
) -> Iterator[ManagerFactory]:
    """Managers on fresh stores of the test's backend (or of ``backend=`` when given)."""
    opened: list[MemoryLifecycleManager] = []

    def make(
        name: str = "store",
        policies: str | None = None,
        *,
        on: str | None = None,
        **kwargs: object,
    ) -> MemoryLifecycleManager:
        policy_file = None
        if policies is not None:
            policy_file = tmp_path / f"{name}-policies.yaml"
            policy_file.write_text(policies)
        kwargs.setdefault("clock", clock)
        manager = MemoryLifecycleManager(
            policy_file=policy_file, store=store_url_factory(on or backend, name), **kwargs
        )
        opened.append(manager)
        return manager

    yield make
    for manager in opened:
        manager.close()


@pytest.fixture(name="manager")
def manager_fixture(make_backend_manager: ManagerFactory) -> MemoryLifecycleManager:
    return make_backend_manager()
