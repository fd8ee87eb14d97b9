"""Who writes: agent ids, this store's replica id, and the CRDT component ids made of both.

Counter components and multi-value dots are keyed by ``<agent>#<replica>``, so
one agent id writing to two stores that later exchange exports counts twice,
not once (a PN-counter merges each component by max). Readers see the plain
agent id.
"""

from __future__ import annotations

import os

from lifecycle.store.base import Store

ENV_AGENT = "MEMORY_LIFECYCLE_AGENT_ID"
REPLICA_META = "replica_id"


def default_agent_id() -> str:
    return os.environ.get(ENV_AGENT) or f"{_hostname()}-{os.getpid()}-{os.urandom(3).hex()}"


def _hostname() -> str:
    """``socket.gethostname()`` without importing ``socket`` (~3 ms of every hook) on POSIX."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def replica_id(store: Store) -> str:
    """This store's id, made once and kept in the store."""
    existing = store.get_meta(REPLICA_META)
    if existing:
        return existing
    store.set_meta(REPLICA_META, f"r{os.urandom(5).hex()}")  # random hex, as uuid4's was
    return store.get_meta(REPLICA_META) or ""


def component_id(agent_id: str, replica: str) -> str:
    """The id a write's CRDT state is keyed by: ``<agent>#<replica>``."""
    return f"{agent_id}#{replica}"


def display_actor(component_id: str) -> str:
    """The agent id inside a CRDT component id ``<agent>#<replica>``."""
    agent, sep, _ = component_id.rpartition("#")
    return agent if sep else component_id
