"""A two-minute tour of the engine on the embedded SQLite store (``make run``).

It writes into a throwaway directory unless ``--memory-dir`` is given, so it
never touches a real project's memory.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from lifecycle import ManualClock, MemoryLifecycleManager


def _show(label: str, value: object) -> None:
    print(f"  {label:<44} {json.dumps(value, default=str)}")


def run(memory_dir: Path) -> None:
    clock = ManualClock()  # the demo moves time forward instead of waiting for TTLs
    with MemoryLifecycleManager(memory_dir=memory_dir, clock=clock) as memory:
        print(f"store: {memory.store_url}\npolicies: {memory.policies.source}\n")

        print("coordination/* - 1 h TTL, lazy cleanup, last write wins")
        memory.store("coordination/agent1/progress", {"step": 1, "status": "running"})
        memory.store("coordination/agent1/progress", {"step": 2, "status": "running"})
        _show(
            "retrieve coordination/agent1/progress", memory.retrieve("coordination/agent1/progress")
        )

        print("\nknowledge/* - permanent, multi-value: concurrent writes kept as siblings")
        memory.store("knowledge/api-style", "REST", agent_id="architect")
        memory.store("knowledge/api-style", "GraphQL", agent_id="frontend")
        entry = memory.retrieve_entry("knowledge/api-style")
        assert entry is not None
        _show("value", entry.value)
        _show("conflicts", [(c.value, c.actor) for c in entry.conflicts])
        memory.store("knowledge/api-style", "REST + GraphQL gateway", context=entry.context)
        entry = memory.retrieve_entry("knowledge/api-style")
        assert entry is not None
        _show("after a write carrying the context", [entry.value, len(entry.conflicts)])

        print("\nmetrics/* - a PN-counter; a retried op_id counts once")
        memory.store("metrics/tasks/done", 5, agent_id="agent-1", op_id="batch-1")
        memory.store("metrics/tasks/done", 5, agent_id="agent-1", op_id="batch-1")
        memory.store("metrics/tasks/done", 3, agent_id="agent-2")
        memory.store("metrics/tasks/done", -1, agent_id="agent-2")
        _show("retrieve metrics/tasks/done", memory.retrieve("metrics/tasks/done"))

        print("\nlarge values are gzip-compressed transparently")
        memory.store("knowledge/big-report", {"text": "lorem ipsum " * 2000})
        big = memory.retrieve_entry("knowledge/big-report")
        assert big is not None
        _show("size / stored bytes", [big.size_bytes, big.stored_bytes])

        print("\ntwo hours later ...")
        clock.tick(2 * 3600)
        _show(
            "retrieve coordination/agent1/progress", memory.retrieve("coordination/agent1/progress")
        )
        memory.store("coordination/agent2/status", "stale")
        clock.tick(2 * 3600)
        report = memory.cleanup()
        _show("cleanup", {k: report[k] for k in ("deleted_count", "by_namespace")})
        stats = memory.get_stats()
        _show(
            "stats",
            {k: stats[k] for k in ("total_entries", "compressed_entries", "namespace_counts")},
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lifecycle.demo", description=__doc__)
    parser.add_argument("--memory-dir", type=Path, help="store here instead of a temp dir")
    args = parser.parse_args(argv)
    if args.memory_dir:
        run(args.memory_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="memory-lifecycle-demo-") as tmp:
            run(Path(tmp))
    print("\nNext: `make serve` starts the MCP server; see README.md.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
