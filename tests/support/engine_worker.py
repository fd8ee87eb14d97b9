"""A writer process for the multi-process tests.

Run as ``python tests/support/engine_worker.py MODE DIR AGENT COUNT``.
"""

from __future__ import annotations

import sys

from lifecycle import MemoryLifecycleManager


def main() -> int:
    mode, memory_dir, agent, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with MemoryLifecycleManager(memory_dir=memory_dir, agent_id=agent) as m:
        if mode == "race":
            for i in range(count):
                m.store("metrics/shared/count", 1)
                m.store("metrics/shared/down", -1)
                m.store("coordination/shared/last", {"agent": agent, "i": i})
                m.store(f"coordination/{agent}/progress", i)
                m.store("swarm/shared/board", f"{agent}-{i}")
                assert m.retrieve(f"coordination/{agent}/progress") == i
        elif mode == "retry":
            # every increment carries an op id and is sent twice: once at once, once at the end
            for i in range(count):
                m.store("metrics/shared/retried", 1, op_id=f"{agent}-{i}")
            for i in range(count):
                m.store("metrics/shared/retried", 1, op_id=f"{agent}-{i}")
        elif mode == "stream":
            # acknowledge each write on stdout only after store() returned
            for i in range(count):
                m.store(f"knowledge/stream/{i:06d}", {"i": i, "pad": "x" * 200})
                m.store("metrics/stream/acked", 1)
                print(i, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
