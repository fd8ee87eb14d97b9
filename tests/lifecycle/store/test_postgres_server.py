"""The PostgreSQL store against a real server that goes away and comes back.

The outage is real but private to the test: the store reaches the machine's
PostgreSQL through a TCP proxy in this process (``tests.support.tcp_proxy``),
which the test stops, blackholes and restarts. Every call must fail within a few
seconds with the "cannot reach" error, not after the pool's 30 s, and the first
call after the server is back must succeed at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from lifecycle import LifecycleError, MemoryLifecycleManager, StoreError
from lifecycle.store.backend import open_store
from lifecycle.store.postgres.pool import IDLE_CHECK_SECONDS
from tests.support.store import drop_schema, new_schema, postgres_dsn, with_schema
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FAIL_FAST_BOUND = 8.0  # seconds: connect_timeout=2 in the URL, plus the quick pool wait
RECOVERY_BOUND = 5.0


@pytest.fixture
def proxied() -> Iterator[tuple[TcpProxy, str]]:
    """A proxy to the test server and a store URL through it (own schema, 2 s timeout)."""
    dsn = postgres_dsn()
    parts = urlsplit(dsn)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxy.start()
    netloc = (
        f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
    )
    schema = new_schema()
    url = with_schema(urlunsplit(parts._replace(netloc=netloc)), schema)
    url += "&connect_timeout=2"
    try:
        yield proxy, url
    finally:
        proxy.stop()
        drop_schema(dsn, schema)


def timed_failure(fn: object) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        fn()  # type: ignore[operator]
    return str(caught.value), time.monotonic() - started


def timed(fn: object) -> tuple[object, float]:
    started = time.monotonic()
    result = fn()  # type: ignore[operator]
    return result, time.monotonic() - started


@pytest.mark.parametrize("outage", ["refused", "blackhole"])
def test_calls_fail_fast_while_the_server_is_down_and_recover_at_once(
    proxied: tuple[TcpProxy, str], outage: str
) -> None:
    proxy, url = proxied
    with MemoryLifecycleManager(store=url) as m:
        m.store("knowledge/before", 1)
        time.sleep(2.5)  # let the pooled connection go idle, as between an agent's calls
        proxy.blackhole() if outage == "blackhole" else proxy.stop()
        failures = [timed_failure(lambda: m.store("knowledge/during", 2)) for _ in range(3)]
        failures.append(timed_failure(lambda: m.retrieve("knowledge/before")))
        proxy.stop()
        proxy.start()
        stored, recovery = timed(lambda: m.put("knowledge/after", 3))
        assert m.retrieve("knowledge/before") == 1
    for message, seconds in failures:
        assert "cannot reach the database" in message, message
        assert seconds < FAIL_FAST_BOUND, (message, seconds)
        assert "\n" not in message
    assert stored.applied  # type: ignore[attr-defined]
    assert recovery < RECOVERY_BOUND


def test_a_server_restart_between_calls_costs_the_next_call_nothing_visible(
    proxied: tuple[TcpProxy, str],
) -> None:
    proxy, url = proxied
    with MemoryLifecycleManager(store=url) as m:
        m.store("knowledge/a", 1)
        proxy.stop()  # every open connection is cut, as by a server restart
        time.sleep(IDLE_CHECK_SECONDS + 0.5)  # a restart takes a moment
        proxy.start()
        value, seconds = timed(lambda: m.retrieve("knowledge/a"))
    assert value == 1
    assert seconds < RECOVERY_BOUND


def test_a_call_on_a_connection_cut_a_moment_ago_fails_once_then_the_next_succeeds(
    proxied: tuple[TcpProxy, str],
) -> None:
    proxy, url = proxied
    with MemoryLifecycleManager(store=url) as m:
        m.store("knowledge/a", 1)
        proxy.stop()
        proxy.start()  # back within IDLE_CHECK_SECONDS: the pooled connection is not probed
        try:
            m.retrieve("knowledge/a")
        except StoreError as exc:
            assert "cannot reach the database" in str(exc)
        value, seconds = timed(lambda: m.retrieve("knowledge/a"))
    assert value == 1
    assert seconds < RECOVERY_BOUND


def test_the_connect_timeout_in_the_url_bounds_a_hanging_connect(
    proxied: tuple[TcpProxy, str],
) -> None:
    proxy, url = proxied
    proxy.blackhole()
    message, seconds = timed_failure(lambda: open_store(url))
    assert "cannot reach the database" in message or "timeout" in message
    assert seconds < FAIL_FAST_BOUND


def test_size_counts_every_table_of_the_schema() -> None:
    dsn = postgres_dsn()
    schema = new_schema()
    store = open_store(with_schema(dsn, schema))
    try:
        empty = store.size_bytes()
        with MemoryLifecycleManager(store=store) as m:
            m.store_many([{"key": f"knowledge/k{i}", "value": "x" * 500} for i in range(300)])
            grown = store.size_bytes()
        assert empty is not None and grown is not None
        assert empty > 0  # entries, meta, leases, schema_migrations and their indexes
        assert grown > empty
    finally:
        drop_schema(dsn, schema)


def test_threads_calling_as_the_server_comes_back_all_succeed(
    proxied: tuple[TcpProxy, str],
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    proxy, url = proxied
    with MemoryLifecycleManager(store=url) as m:
        m.store("knowledge/a", 1)
        proxy.stop()
        message, _ = timed_failure(lambda: m.retrieve("knowledge/a"))  # the outage is noticed
        assert "cannot reach the database" in message
        proxy.start()
        with ThreadPoolExecutor(max_workers=8) as threads:
            started = time.monotonic()
            values = list(threads.map(lambda _: m.retrieve("knowledge/a"), range(32)))
            seconds = time.monotonic() - started
    assert values == [1] * 32
    assert seconds < RECOVERY_BOUND


# ---------------------------------------------------------------- a server that stops answering

TIMEOUT = 1.0  # the store URL's timeout in these tests: short, so they are quick
CUT_OFF_BOUND = TIMEOUT + 0.75  # the watchdog's own slack, on a busy 2-core machine


@pytest.mark.parametrize("idle", [False, True], ids=["in-use", "idle-then-checked"])
def test_a_call_on_a_pooled_connection_fails_within_the_timeout_when_the_server_goes_silent(
    proxied: tuple[TcpProxy, str], idle: bool
) -> None:
    """The socket stays open and nothing comes back (a partition, a frozen host): the
    call on the connection already in the pool is cut off at the URL's timeout, later
    calls fail within the connect timeout, and once the server answers again the store
    recovers by itself."""
    proxy, url = proxied
    with MemoryLifecycleManager(store=f"{url}&timeout={TIMEOUT:g}") as m:
        m.store("knowledge/a", 1)
        if idle:  # the pool probes a connection idle this long before handing it out
            time.sleep(IDLE_CHECK_SECONDS + 0.5)
        proxy.stall()
        first = timed_failure(lambda: m.retrieve("knowledge/a"))
        later = [timed_failure(lambda: m.store("knowledge/b", 2)) for _ in range(2)]
        proxy.resume()
        value, recovery = timed(lambda: m.retrieve("knowledge/a"))
        m.store("knowledge/c", 3)
        assert m.retrieve("knowledge/c") == 3
    message, seconds = first
    assert seconds < CUT_OFF_BOUND, first
    assert "cannot reach the database" in message and "within 1 s" in message, message
    for message, seconds in [first, *later]:
        assert "\n" not in message and "Traceback" not in message
        assert seconds < FAIL_FAST_BOUND, (message, seconds)
    assert value == 1
    assert recovery < RECOVERY_BOUND


def test_the_timeout_parameter_must_be_a_positive_number() -> None:
    dsn = postgres_dsn()
    for bad in ("0", "-1", "soon", "inf"):
        with pytest.raises(LifecycleError, match=f"timeout={bad!r} must be a number of seconds"):
            open_store(f"{with_schema(dsn, new_schema())}&timeout={bad}")


def test_the_change_listener_notices_a_silent_server_and_listens_again_once_it_answers(
    proxied: tuple[TcpProxy, str],
) -> None:
    """A LISTEN connection only reads, so without a ping it would wait on a dead
    connection forever and never hear a change again."""
    proxy, url = proxied
    store = open_store(f"{url}&timeout={TIMEOUT:g}")
    try:
        before = store.change_token()  # starts the listener
        proxy.stall()
        time.sleep(3 * TIMEOUT)  # quiet for the timeout, then a ping that gets no answer
        proxy.resume()
        deadline = time.monotonic() + 15
        while store.change_token() == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert store.change_token() != before  # reconnected: a new LISTEN is in place
    finally:
        store.close()
