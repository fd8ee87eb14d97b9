"""Several real processes (standing in for hosts) on one PostgreSQL schema.

Each child is this file run as a script
(``python tests/lifecycle/store/test_postgres_multiprocess.py MODE URL AGENT ...``).
The children open the store concurrently on a schema that does
not exist yet, so every test also exercises the migration lock.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.env import child_env
from tests.support.store import UrlFactory, store_url_factory_fixture  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SCRIPT = str(Path(__file__).resolve())
TIMEOUT = 120


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, SCRIPT, *args],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )


def _finish(proc: subprocess.Popen[str]) -> str:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, err
    return out


def _ask(proc: subprocess.Popen[str], line: str) -> str:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    answer = proc.stdout.readline()  # the child answers every line; EOF means it died
    assert answer, proc.stderr.read() if proc.stderr else "child exited"
    return answer.strip()


@pytest.fixture
def shared_url(store_url_factory: UrlFactory) -> str:
    """A schema nobody has opened yet: the children race to create it."""
    return store_url_factory("postgres")


def test_processes_incrementing_one_counter_lose_no_increment(shared_url: str) -> None:
    from lifecycle import MemoryLifecycleManager

    writers, count = 4, 200
    procs = [_spawn("count", shared_url, f"host-{n}", str(count)) for n in range(writers)]
    for p in procs:
        assert _finish(p).strip() == "done"
    with MemoryLifecycleManager(store=shared_url) as m:
        assert m.retrieve("metrics/x") == writers * count
        assert m.retrieve("metrics/down") == -writers * count


def test_a_write_acknowledged_by_one_process_is_read_by_another_immediately(
    shared_url: str,
) -> None:
    writer = _spawn("serve", shared_url, "writer")
    reader = _spawn("serve", shared_url, "reader")
    try:
        for i in range(100):
            assert _ask(writer, f"put coordination/stale/{i % 3} {i}") == "ok"
            assert _ask(reader, f"get coordination/stale/{i % 3}") == str(i)
            assert _ask(writer, "put metrics/acked 1") == "ok"
            assert _ask(reader, "get metrics/acked") == str(i + 1)
    finally:
        for p in (writer, reader):
            _finish(p)  # closes stdin: the child's loop ends


def test_concurrent_maintenance_runs_never_overlap_on_postgresql(shared_url: str) -> None:
    hosts, rounds = 4, 25
    procs = [_spawn("maintain", shared_url, f"host-{n}", str(rounds)) for n in range(hosts)]
    for p in procs:  # everyone is connected before anyone starts
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready", p.stderr.read() if p.stderr else ""
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [json.loads(_finish(p).splitlines()[-1]) for p in procs]
    runs = sorted(run for r in results for run in r["runs"])
    skipped = sum(r["skipped"] for r in results)
    assert runs, "no process ever got the maintenance turn"
    assert skipped > 0, "the processes never competed for the maintenance turn"
    # inside the turn, a shared counter of "processes in here" is always exactly one ...
    assert {active for _, _, active in runs} == {1}
    # ... and no run starts before the previous one ended
    for (_, end, _), (start, _, _) in itertools.pairwise(runs):
        assert start >= end
    assert len(runs) + skipped == hosts * rounds


# ---------------------------------------------------------------- the child process


def _child(argv: list[str]) -> int:
    from lifecycle import MemoryLifecycleManager
    from lifecycle.maintenance import holder_id, run_maintenance

    mode, url, agent = argv[:3]
    with MemoryLifecycleManager(store=url, agent_id=agent) as m:
        if mode == "count":
            for _ in range(int(argv[3])):
                m.store("metrics/x", 1)
                m.store("metrics/down", -1)
            print("done", flush=True)
        elif mode == "serve":
            # every answer is printed only after the store call returned
            for line in sys.stdin:
                op, key, *rest = line.split()
                if op == "put":
                    m.store(key, int(rest[0]))
                    print("ok", flush=True)
                else:
                    print(json.dumps(m.retrieve(key)), flush=True)
        elif mode == "maintain":
            runs: list[tuple[float, float, int]] = []
            cleanup = m.cleanup

            def watched_cleanup(force: bool = False) -> dict:
                start = time.time()
                m.store("metrics/maintenance/active", 1)
                active = m.retrieve("metrics/maintenance/active")
                time.sleep(0.005)  # widen the window an overlap would need
                m.store("metrics/maintenance/active", -1)
                report = cleanup(force)
                runs.append((start, time.time(), active))
                return report

            m.cleanup = watched_cleanup  # type: ignore[method-assign]
            print("ready", flush=True)
            sys.stdin.readline()
            skipped = 0
            for _ in range(int(argv[3])):
                if not run_maintenance(m, holder_id(agent), turn_seconds=60).ran:
                    skipped += 1
            print(json.dumps({"runs": runs, "skipped": skipped}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
