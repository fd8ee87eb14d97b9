"""An entry's embedded text, and the hash that says when its vector is stale.

The embedded text is the entry's searchable text, written as a person would
read it rather than as index tokens: the key's segments, every string of the
value (each with the name of the member holding it, ``decision: use JWT``; all
siblings of a multi-value key), and the tags. Numbers alone are not text, as
in keyword search. Any change to this text changes ``text_hash``, so the
vector made from the old text is never used again; a write that leaves it as
it was (a TTL refresh, a counter bump, the same value stored again) keeps the
vector, and the indexer only stamps the new revision on it.

The text is cut at ``MAX_CHARS`` before it is tokenized: the model reads its
first 256 word pieces anyway (about 1,000 characters of English), and cutting
first keeps a 1 MB value from costing a 1 MB tokenization.
"""

from __future__ import annotations

import hashlib

from lifecycle.entries import crdt, searchable, transitions
from lifecycle.errors import LifecycleError
from lifecycle.store.base import Row

MAX_CHARS = 4000
HASH_BYTES = 16


def embedding_text(row: Row) -> str:
    """The text the model embeds for ``row``."""
    parts = [" / ".join(row.key.split("/"))]
    try:
        seen = crdt.view(row.strategy, transitions.decode(row).state)
    except (LifecycleError, ValueError, KeyError, TypeError, OSError, EOFError):
        seen = None  # one undecodable row must not stop the indexer: its key still counts
    if seen is not None and seen.exists:
        size = len(parts[0])
        for line in searchable.snippet_texts(seen):
            parts.append(line)
            size += len(line) + 1
            if size > MAX_CHARS:
                break
    if row.tags:
        parts.append("tags: " + ", ".join(row.tags))
    return "\n".join(parts)[:MAX_CHARS]


def text_hash(embedded: str) -> bytes:
    """A short, stable digest of an embedded text."""
    data = embedded.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=HASH_BYTES).digest()
