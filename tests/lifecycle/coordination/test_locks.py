"""Locks through the manager: lock / unlock / locked(), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from lifecycle import (
    InvalidKeyError,
    InvalidValueError,
    LifecycleError,
    LockTimeout,
    ManualClock,
    MemoryLifecycleManager,
)
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    backend_fixture,
    make_backend_manager_fixture,
    manager_fixture,
    store_url_factory_fixture,
)

NOW = 1_800_000_000.0


def test_a_lock_belongs_to_the_agent_by_default_and_reports_its_fields(
    manager: MemoryLifecycleManager,
) -> None:
    held = manager.lock("deploy", ttl_seconds=30)
    assert held == {
        "acquired": True,
        "name": "deploy",
        "owner": manager.agent_id,
        "token": held["token"],
        "expires_at": NOW + 30,
    }
    assert isinstance(held["token"], int) and held["token"] > 0
    assert manager.list_locks() == [
        {
            "name": "deploy",
            "owner": manager.agent_id,
            "token": held["token"],
            "expires_at": NOW + 30,
        }
    ]
    assert manager.get_stats()["locks_held"] == 1


def test_another_owner_is_refused_with_the_holder_and_its_expiry(
    manager: MemoryLifecycleManager, clock: ManualClock
) -> None:
    manager.lock("deploy", owner="alice", ttl_seconds=30)
    clock.tick(5)
    refused = manager.lock("deploy", owner="bob")
    assert refused == {
        "acquired": False,
        "name": "deploy",
        "owner": "alice",
        "token": None,
        "expires_at": NOW + 30,
    }


def test_the_owner_renews_with_the_same_token_and_a_later_expiry(
    manager: MemoryLifecycleManager, clock: ManualClock
) -> None:
    first = manager.lock("deploy", owner="alice", ttl_seconds=30)
    clock.tick(20)
    renewed = manager.lock("deploy", owner="alice", ttl_seconds=30)
    assert (renewed["token"], renewed["expires_at"]) == (first["token"], NOW + 50)


def test_an_expired_lock_is_free_and_the_next_token_is_greater(
    manager: MemoryLifecycleManager, clock: ManualClock
) -> None:
    first = manager.lock("deploy", owner="alice", ttl_seconds=10)
    clock.tick(10)
    assert manager.get_stats()["locks_held"] == 0
    second = manager.lock("deploy", owner="bob")
    assert second["acquired"] and second["token"] > first["token"]
    again = manager.lock("deploy", owner="alice")  # the old holder is no longer the holder
    assert not again["acquired"]
    assert manager.unlock("deploy", first["token"]) is False
    assert manager.unlock("deploy", second["token"]) is True
    assert manager.lock("deploy", owner="alice")["acquired"]


def test_locked_holds_the_lock_for_the_block_and_releases_it(
    manager: MemoryLifecycleManager,
) -> None:
    with manager.locked("migration", ttl_seconds=60) as token:
        assert manager.list_locks()[0]["token"] == token
        assert manager.put("task/a", 1, lock="migration", lock_token=token).applied
    assert manager.list_locks() == []


def test_locked_raises_lock_timeout_when_another_owner_keeps_the_lock(
    manager: MemoryLifecycleManager,
) -> None:
    manager.lock("migration", owner="other", ttl_seconds=60)
    block = manager.locked("migration")
    with pytest.raises(LockTimeout, match="'migration' is held by 'other'") as caught, block:
        pytest.fail("the block must not run")
    assert isinstance(caught.value, LifecycleError)
    assert (caught.value.owner, caught.value.expires_at) == ("other", NOW + 60)


def test_a_waiter_gets_the_lock_as_soon_as_the_holder_releases_it(
    manager: MemoryLifecycleManager,
) -> None:
    held = manager.lock("deploy", owner="alice", ttl_seconds=60)
    release = threading.Timer(0.2, manager.unlock, args=("deploy", held["token"]))
    started = time.monotonic()
    release.start()
    try:
        taken = manager.lock("deploy", owner="bob", wait_seconds=10)
    finally:
        release.join()
    assert taken["acquired"] and taken["token"] > held["token"]
    assert time.monotonic() - started < 5  # woken by the release, not the 10 s deadline


def test_a_waiter_gives_up_after_wait_seconds(manager: MemoryLifecycleManager) -> None:
    manager.lock("deploy", owner="alice", ttl_seconds=60)
    started = time.monotonic()
    refused = manager.lock("deploy", owner="bob", wait_seconds=0.3)
    assert not refused["acquired"] and refused["owner"] == "alice"
    assert 0.25 < time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"ttl_seconds": -1}, InvalidValueError, "invalid ttl_seconds -1 for lock 'deploy'"),
        ({"ttl_seconds": 0}, InvalidValueError, "more than 0"),
        ({"ttl_seconds": float("inf")}, InvalidValueError, "ttl_seconds"),
        ({"ttl_seconds": True}, InvalidValueError, "ttl_seconds"),
        ({"wait_seconds": 31}, InvalidValueError, "invalid wait_seconds 31: use 0 to 30"),
        ({"wait_seconds": -1}, InvalidValueError, "wait_seconds"),
        ({"owner": ""}, InvalidValueError, "agent_id"),
        ({"name": "a//b"}, InvalidKeyError, "invalid lock name 'a//b'"),
        ({"name": ""}, InvalidKeyError, "lock name"),
    ],
)
def test_bad_lock_arguments_are_refused_and_change_nothing(
    manager: MemoryLifecycleManager,
    kwargs: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    held = manager.lock("deploy", owner="alice")
    args: dict[str, object] = {"name": "deploy", "owner": "bob", **kwargs}
    with pytest.raises(error, match=message):
        manager.lock(**args)  # type: ignore[arg-type]
    assert manager.list_locks() == [
        {"name": "deploy", "owner": "alice", "token": held["token"], "expires_at": NOW + 60}
    ]


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (999, "unknown lock token 999: this store has issued tokens up to"),
        (0, "invalid token for lock 'deploy': 0"),
        ("1", "invalid token for lock 'deploy': '1'"),
        (True, "invalid token for lock 'deploy': True"),
    ],
)
def test_unlocking_with_a_token_never_issued_is_an_error_that_changes_nothing(
    manager: MemoryLifecycleManager, token: object, message: str
) -> None:
    held = manager.lock("deploy")
    with pytest.raises(InvalidValueError, match=message):
        manager.unlock("deploy", token)  # type: ignore[arg-type]
    assert manager.list_locks()[0]["token"] == held["token"]
