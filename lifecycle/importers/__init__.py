"""Bring another memory system's data into this store.

Each reader turns a foreign store into ``Candidate`` entries (key, value,
timestamp, the source's own expiry); ``apply`` writes them through the
engine's normal write path (``store_many``), so policies, CRDT merges and
compression apply as to any write. Imports are idempotent: every write carries
an ``op_id`` derived from the key, value and timestamp, so importing the same
source again changes nothing.

* ``claude_flow``: claude-flow's ``.swarm/memory.db`` (v2 and v3 schemas)
* ``seed``: the seed's file-per-key layout (``.claude-flow/memory/*.json``)
"""
