"""Wall time of the hook commands, as Claude Code runs them: a fresh process per hook.

A hook runs on every session end and task, so what matters is the whole
process: interpreter start, imports (never ``mcp``), opening the store, the
work, exit. Measured on a project store of 10,000 entries (``--quick``: 2,000),
a tenth of them expired, with the shipped policy file, against two floors: an
empty interpreter and one that only imports the engine.

Aim (issue: the memory-lifecycle command): ``hook session-end`` under 150 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lifecycle import MemoryLifecycleManager

CONFIG_ENV = (
    "MEMORY_LIFECYCLE_DIR",
    "MEMORY_LIFECYCLE_POLICY_FILE",
    "MEMORY_LIFECYCLE_STORE",
    "CLAUDE_PROJECT_DIR",
)
REPO = Path(__file__).resolve().parent.parent
SESSIONS = 100
KEYS_PER_SESSION = 10


def command() -> list[str]:
    script = Path(sys.executable).with_name("memory-lifecycle")
    return [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]


def seed(project: Path, entries: int) -> None:
    """Sessions, coordination, shared, knowledge and counters; every tenth entry expired."""
    now = time.time()
    items = []
    for s in range(SESSIONS):
        for k in range(KEYS_PER_SESSION):
            items.append({"key": f"session/s{s}/k{k}", "value": {"step": k}})
    namespaces = ("coordination/agent{}/progress", "swarm/shared/{}", "knowledge/{}", "metrics/{}")
    i = 0
    while len(items) < entries:
        ns = namespaces[i % len(namespaces)]
        value = 1 if ns.startswith("metrics") else {"i": i, "text": "x" * 200}
        item = {"key": ns.format(i), "value": value}
        if i % 10 == 0 and not ns.startswith(("knowledge", "metrics")):
            item["timestamp"] = now - 3 * 86400  # expired under the 1 h / 24 h policies
        items.append(item)
        i += 1
    with MemoryLifecycleManager(memory_dir=project / ".claude-flow" / "memory") as manager:
        for start in range(0, len(items), 1000):
            manager.store_many(items[start : start + 1000])


def timed(argv: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=60
    )
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "min_ms": round(ordered[0], 1),
    }


def run(quick: bool) -> dict[str, dict[str, float]]:
    entries, runs = (2000, 5) if quick else (10_000, 30)
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_ENV}
    env["PYTHONPATH"] = str(REPO)
    cmd = command()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        (project / ".git").mkdir(parents=True)
        (project / ".claude").mkdir()
        shutil.copy(REPO / ".claude" / "memory-retention-policies.yaml", project / ".claude")
        seed(project, entries)
        cases = {
            "python -c pass (floor)": lambda i: [sys.executable, "-c", "pass"],
            "python -c 'import lifecycle' (floor)": lambda i: [
                sys.executable,
                "-c",
                "import lifecycle",
            ],
            "hook session-end --session-id": lambda i: [
                *cmd,
                "hook",
                "session-end",
                "--session-id",
                f"s{i}",
            ],
            "hook pre-task": lambda i: [*cmd, "hook", "pre-task"],
            "hook memory-cleanup": lambda i: [*cmd, "hook", "memory-cleanup"],
        }
        results = {}
        for name, argv in cases.items():
            timed(argv(SESSIONS - 1), project, env)  # warm the page cache
            results[name] = summary([timed(argv(i), project, env) for i in range(runs)])
        stdin_samples = []
        for i in range(runs):
            payload = json.dumps(
                {
                    "session_id": f"s{SESSIONS // 2 + i}",
                    "hook_event_name": "SessionEnd",
                    "cwd": str(project),
                    "reason": "exit",
                }
            )
            stdin_samples.append(timed([*cmd, "hook", "session-end"], project, env, payload))
        results["hook session-end (Claude Code stdin JSON)"] = summary(stdin_samples)
    print(f"store: {entries} entries, {runs} runs each, command: {' '.join(cmd)}")
    width = max(map(len, results))
    for name, r in results.items():
        print(
            f"  {name:<{width}}  median {r['median_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  "
            f"min {r['min_ms']:7.1f} ms"
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 entries, 5 runs (CI)")
    args = parser.parse_args(argv)
    run(args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
