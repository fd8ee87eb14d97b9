"""``memory-lifecycle daemon``: one pass for cron, or scheduled runs, one daemon per store."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from server.background.daemon import LOCK_NAME, parse_at
from tests.support.cli import (
    assert_one_line_error,
    open_store,
    run_cli,
    seed,
    start_cli,
    stored_keys,
    wait_for_stderr,
)

pytestmark = pytest.mark.slow


def test_daemon_once_runs_one_maintenance_pass_and_exits_0(project: Path):
    seed(project, {"swarm/shared/live": 1}, expired={"swarm/shared/old": 1, "knowledge/k": 2})

    done = run_cli("daemon", "--once")

    assert done.returncode == 0, done.stderr
    assert "maintenance: deleted 1 expired entries" in done.stderr
    assert done.stdout == ""
    assert stored_keys(project) == {"swarm/shared/live", "knowledge/k"}


def test_a_second_daemon_on_the_same_store_is_refused(project: Path, tmp_path: Path):
    first = start_cli("daemon", "--interval-hours", "6")
    try:
        wait_for_stderr(first, "daemon started")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()

        second = run_cli("daemon", "--at", "03:30", cwd=elsewhere, CLAUDE_PROJECT_DIR=str(project))

        assert second.returncode == 1
        assert_one_line_error(second, "already running", "memory.db")
        # a daemon on another store is not affected by this one's lock
        other = run_cli("--memory-dir", str(tmp_path / "other"), "daemon", "--once")
        assert other.returncode == 0, other.stderr
    finally:
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=15)
    assert first.returncode == 0, err
    assert b"Traceback" not in err


def test_sigterm_stops_a_running_daemon_promptly_and_releases_its_lock(project: Path):
    daemon = start_cli("daemon", "--at", "02:00")
    try:
        started = wait_for_stderr(daemon, "daemon started")
        assert "daily at 02:00" in started
        with open_store(project) as manager:  # the lock is held while it runs
            assert not manager.backend.take_turn(LOCK_NAME, "probe", manager.clock.now(), 1)
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=5)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate(timeout=5)

    assert daemon.returncode == 0, err
    assert b"stopped (SIGTERM)" in err
    with open_store(project) as manager:
        assert manager.backend.take_turn(LOCK_NAME, "probe", manager.clock.now(), 1)


def test_a_scheduled_daemon_runs_maintenance_on_its_interval_and_logs_it(project: Path):
    seed(project, {}, expired={"swarm/shared/old": 1})
    daemon = start_cli("daemon", "--interval-hours", "0.0001")  # every 0.36 s
    try:
        wait_for_stderr(daemon, "maintenance: deleted 1 expired entries")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=5)
    assert daemon.returncode == 0
    assert stored_keys(project) == set()


def test_daemon_times_are_hh_mm_in_24_hour_form():
    assert parse_at("02:00") == (2, 0)
    assert parse_at("23:59") == (23, 59)
    for bad in ("24:00", "2", "02:7", "ab:cd", "-1:00"):
        with pytest.raises(ValueError, match="HH:MM"):
            parse_at(bad)
