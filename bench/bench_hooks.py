"""Wall time of the hook commands, as Claude Code runs them: a fresh process per hook.

A hook runs on every session end, task, edit and shell command, so what matters is
the whole process: interpreter start, imports (never ``mcp``, pydantic or YAML),
opening the store, the work, exit. Measured on a project store of 10,000 entries
(``--quick``: 2,000), a tenth of them expired, with the shipped policy file, against
the floor of an empty interpreter (``python -c pass``), all cases interleaved run by
run so drift on a shared machine hits them alike.

The package runs from two copies of the source: one byte-compiled (what an
installed tool has: pip and pipx compile at install, ``make`` runs ``compileall``)
and one without bytecode, as a checkout under ``PYTHONDONTWRITEBYTECODE=1`` (this
VM's setting) runs: every module compiled in every process.

Aims: ``hook session-end`` under 150 ms (issue: the memory-lifecycle command); every
hook within 3x of ``python -c pass`` with bytecode (issue 15, "Speed at scale").
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
AIM_RATIO = 3.0
FLOOR = "python -c pass (floor)"


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


def source_copy(root: Path, compiled: bool, tree: Path = REPO) -> Path:
    """A copy of ``tree``'s ``lifecycle`` and ``server`` (no ``__pycache__``), byte-compiled
    or not."""
    root.mkdir()
    for package in ("lifecycle", "server"):
        shutil.copytree(
            tree / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
        if compiled:
            compileall.compile_dir(root / package, quiet=1)
    return root


def run(quick: bool, baseline: Path | None = None) -> dict[str, dict[str, float]]:
    entries, runs = (2000, 5) if quick else (10_000, 30)
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_ENV}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the uncached copy stays uncached
    cmd = command()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        (project / ".git").mkdir(parents=True)
        (project / ".claude").mkdir()
        shutil.copy(REPO / ".claude" / "memory-retention-policies.yaml", project / ".claude")
        seed(project, entries)
        sources = {
            "": source_copy(Path(tmp) / "compiled", compiled=True),
            " [no bytecode]": source_copy(Path(tmp) / "source", compiled=False),
        }
        if baseline is not None:  # the code before a change, in the same runs
            sources[" [baseline]"] = source_copy(Path(tmp) / "baseline", True, baseline)
        hooks = {
            "hook session-end --session-id": lambda i: [
                *cmd,
                "hook",
                "session-end",
                "--session-id",
                f"s{i}",
            ],
            "hook pre-task": lambda i: [*cmd, "hook", "pre-task"],
            "hooks post-edit --file": lambda i: [*cmd, "hooks", "post-edit", "--file", f"f{i}.py"],
            "hook memory-cleanup": lambda i: [*cmd, "hook", "memory-cleanup"],
        }
        cases: dict[str, tuple[Callable[[int], list[str]], Path, bool]] = {
            FLOOR: (lambda i: [sys.executable, "-c", "pass"], sources[""], False),
            "python -c 'import lifecycle'": (
                lambda i: [sys.executable, "-c", "import lifecycle"],
                sources[""],
                False,
            ),
        }
        for offset, (suffix, root) in enumerate(sources.items()):
            for name, argv in hooks.items():
                # each copy's session-end deletes sessions of its own
                cases[name + suffix] = (_shifted(argv, offset * runs), root, False)
        cases["hook session-end (Claude Code stdin JSON)"] = (
            lambda i: [*cmd, "hook", "session-end"],
            sources[""],
            True,
        )
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for argv, root, stdin in cases.values():  # warm the page cache
            payload = _stdin(project, runs) if stdin else None
            timed(argv(SESSIONS - 1), project, {**env, "PYTHONPATH": str(root)}, payload)
        for i in range(runs):
            for name, (argv, root, stdin) in cases.items():
                payload = _stdin(project, i) if stdin else None
                samples[name].append(
                    timed(argv(i), project, {**env, "PYTHONPATH": str(root)}, payload)
                )
        results = {name: summary(values) for name, values in samples.items()}
    print(f"store: {entries} entries, {runs} runs each, interleaved; command: {' '.join(cmd)}")
    floor = results[FLOOR]["median_ms"]
    width = max(map(len, results))
    for name, r in results.items():
        r["vs_floor"] = round(r["median_ms"] / floor, 2)
        print(
            f"  {name:<{width}}  median {r['median_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  "
            f"min {r['min_ms']:7.1f} ms  {r['vs_floor']:5.2f}x floor"
        )
    compiled = [r["vs_floor"] for n, r in results.items() if n.startswith("hook") and "[" not in n]
    worst = max(compiled)
    verdict = "met" if worst <= AIM_RATIO else "missed"
    print(
        f"aim: every hook within {AIM_RATIO}x of python -c pass (with bytecode); "
        f"worst {worst:.2f}x: {verdict}"
    )
    return results


def _shifted(argv: Callable[[int], list[str]], offset: int) -> Callable[[int], list[str]]:
    return lambda i: argv(i + offset)


def _stdin(project: Path, i: int) -> str:
    """Claude Code's SessionEnd JSON (other hooks never read stdin given their flags)."""
    return json.dumps(
        {
            "session_id": f"s{SESSIONS - 2 - i}",  # sessions no other case deletes
            "hook_event_name": "SessionEnd",
            "cwd": str(project),
            "reason": "exit",
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 entries, 5 runs (CI)")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="also time the hooks of this source tree (e.g. `git archive` of the base "
        "commit), byte-compiled, interleaved with this one's",
    )
    args = parser.parse_args(argv)
    run(args.quick, args.baseline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
