"""A SQLite write transaction's batch path: new rows queued without reading them
(``entries.batch_write``).

``SQLiteTransaction`` (``transaction.py``) queues its writes and flushes them in bulk;
these are the methods only the batch path calls, which queue a batch's new keys
straight into those queues: ``take_absent`` / ``take_all_absent`` take keys the
transaction read as absent, ``insert_new`` queues one new row and
``insert_new_many`` a whole batch's, column by column. Their own module so that the
transaction's stays short; a mixin, because they work on the transaction's queues."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from itertools import repeat

from lifecycle.store.base import Row
from lifecycle.store.sqlite import search
from lifecycle.store.text_index import STRING_SEPARATOR, SearchDoc

_MISSING = object()
# what an index body's strings are apart by in SQLite's index (``search.render``)
_SQLITE_SEPARATOR = f" {search.SEPARATOR} "

TYPE_CHECKING = False  # typing's flag without importing typing


class NewRows:
    """``SQLiteTransaction``'s batch-only methods (its state is set in its ``__init__``)."""

    # what an index body's strings are apart by here: the batch path renders its bodies
    # so (``insert_new_many``)
    index_separator = _SQLITE_SEPARATOR

    if TYPE_CHECKING:  # (``SQLiteTransaction``'s)
        _announced: Sequence[str] | None
        _prefetched: dict[str, Row | None]
        _indexed: dict[str, search.Indexed | None]
        revisions: dict[str, int]
        _next_id: int
        _next_revision: int
        _queued_keys: set[str]
        _inserts: list[tuple[object, ...]]
        _inserts_bare: list[tuple[object, ...]]
        _index_ops: list[tuple[object, ...]]
        _index_new: list[tuple[int, str, str]]
        _changes: dict[int, tuple[str, str, str]]

        def _prefetch(self, keys: Sequence[str]) -> None: ...

        def _read_highest(self) -> None: ...

    def take_absent(self, key: str) -> bool:
        """True when the batch's read found no row for ``key`` and nothing has touched
        it since; the key is then taken, as ``get`` would take it, for ``insert_new``."""
        if self._announced is not None:
            self._prefetch(self._announced)
        if self._prefetched.get(key, _MISSING) is not None:
            return False
        del self._prefetched[key]
        return True

    def take_all_absent(self, keys: Collection[str]) -> bool:
        """``take_absent`` of every key of ``keys`` when it is true of each; else False
        and none is taken (a bulk load's batch, checked at once: ``batch_write``)."""
        if self._announced is not None:
            self._prefetch(self._announced)
        found = self._prefetched.get
        for key in keys:
            if found(key, _MISSING) is not None:
                return False
        taken = self._prefetched.pop
        for key in keys:
            taken(key)
        return True

    def insert_new(
        self,
        key: str,
        policy: str,
        strategy: str,
        cleanup: str,
        codec: str,
        payload: bytes,
        size_bytes: int,
        created_at: float,
        updated_at: float,
        expires_at: float | None,
        ttl_seconds: float | None,
        actor: str,
        tags: Sequence[str] | None,
        doc: SearchDoc,
    ) -> int:
        """What ``put`` does for a live row of a key ``take_absent`` took: the row, its
        change and its index entry queued (``entries.batch_write``); its revision."""
        row_id = self._next_id
        if not row_id:
            self._read_highest()
            row_id = self._next_id
        self._next_id = row_id + 1
        revision = self.revisions[key] = self._next_revision
        self._next_revision = revision + 1
        self._changes[revision] = (key, "put", policy)
        self._queue_new(
            strategy,
            row_id,
            key,
            policy,
            cleanup,
            codec,
            bytearray(payload),  # (see transaction._BLOB)
            size_bytes,
            created_at,
            updated_at,
            expires_at,
            ttl_seconds,
            actor,
            tags,
            revision,
            doc[0],
            doc[1].replace(STRING_SEPARATOR, _SQLITE_SEPARATOR),  # ``search.render``
        )
        self._queued_keys.add(key)
        return revision

    def insert_new_many(
        self,
        keys: Sequence[str],
        policies: Sequence[str],
        strategy: str,
        cleanups: Sequence[str],
        codecs: Sequence[str],
        payloads: Sequence[bytes],
        sizes: Sequence[int],
        created: Sequence[float],
        updated: Sequence[float],
        actors: Sequence[str],
        key_texts: Sequence[str],
        rendered: Sequence[str],
        expires: Sequence[float | None] | None = None,
        ttls: Sequence[float | None] | None = None,
        tags: Sequence[Sequence[str] | None] | None = None,
    ) -> range:
        """``insert_new`` of every row of a batch whose keys ``take_all_absent`` took,
        given column by column (``expires``, ``ttls``, ``tags``: None when all are; the
        index bodies ``rendered``: their strings apart by ``index_separator``); their
        revisions, in order. The queued tuples and the bookkeeping are zipped in C
        (``zip``, ``dict.update``) rather than built by a call per row."""
        n = len(keys)
        if not (self._next_id and self._next_revision):
            self._read_highest()
        ids = range(self._next_id, self._next_id + n)
        revisions = range(self._next_revision, self._next_revision + n)
        self._next_id += n
        self._next_revision += n
        self.revisions.update(zip(keys, revisions, strict=False))
        self._changes.update(zip(revisions, zip(keys, repeat("put"), policies), strict=False))
        blobs = map(bytearray, payloads)  # (see transaction._BLOB)
        if expires is None and ttls is None and tags is None:
            self._inserts_bare.extend(
                zip(
                    ids,
                    keys,
                    policies,
                    repeat(strategy),
                    cleanups,
                    codecs,
                    blobs,
                    sizes,
                    created,
                    updated,
                    actors,
                    revisions,
                    key_texts,
                    rendered,
                )
            )
            self._index_new.extend(zip(ids, key_texts, rendered, strict=False))
            self._indexed.update(
                zip(keys, zip(ids, key_texts, rendered, repeat(None)), strict=False)
            )
        else:
            none = [None] * n
            for row in zip(
                ids,
                keys,
                policies,
                cleanups,
                codecs,
                blobs,
                sizes,
                created,
                updated,
                none if expires is None else expires,
                none if ttls is None else ttls,
                actors,
                none if tags is None else tags,
                revisions,
                key_texts,
                rendered,
                strict=False,
            ):
                self._queue_new(strategy, *row)
        self._queued_keys.update(keys)
        return revisions

    def _queue_new(
        self,
        strategy: str,
        row_id: int,
        key: str,
        policy: str,
        cleanup: str,
        codec: str,
        blob: bytearray,
        size_bytes: int,
        created_at: float,
        updated_at: float,
        expires_at: float | None,
        ttl_seconds: float | None,
        actor: str,
        tags: Sequence[str] | None,
        revision: int,
        text_key: str,
        text_body: str,
    ) -> None:
        """Queue a new row, its index entry and what later reads need (``insert_new``;
        ``insert_new_many``'s rows when its batch has an expiry, a TTL or tags): a row with
        no expiry, TTL or tags without those NULL columns (no NULLs to bind, see transaction._BLOB),
        and its index insert without tags (sqlite3 looks for an adapter for each None,
        ~1.5k instructions; a new row's index insert has no order to keep with other ops)."""
        tags_json = search.tags_text(tags) if tags else None
        if expires_at is None and ttl_seconds is None and tags_json is None:
            self._inserts_bare.append(
                (
                    row_id,
                    key,
                    policy,
                    strategy,
                    cleanup,
                    codec,
                    blob,
                    size_bytes,
                    created_at,
                    updated_at,
                    actor,
                    revision,
                    text_key,
                    text_body,
                )
            )
        else:
            self._inserts.append(
                (
                    row_id,
                    key,
                    policy,
                    strategy,
                    cleanup,
                    codec,
                    blob,
                    size_bytes,
                    created_at,
                    updated_at,
                    expires_at,
                    ttl_seconds,
                    actor,
                    0,
                    tags_json,
                    revision,
                    text_key,
                    text_body,
                )
            )
        if tags:
            self._index_ops.append(
                (None, row_id, text_key, text_body, search.tag_tokens(tags_json))
            )
        else:
            self._index_new.append((row_id, text_key, text_body))
        self._indexed[key] = (row_id, text_key, text_body, tags_json)
