"""``SemanticEngine``: the one object the manager holds for recall by meaning.

It knows whether search by meaning is on (``status``: the extra installed, a
model to be had), loads the model on first need (once per process; a failed
load is remembered with its reason, so ``stats`` can say why and searches do
not retry a download on every call), keeps the in-memory copy of the vectors
(``index``), and answers ``search`` in every mode, ``index`` and the stats
fields. Creating it costs nothing: numpy and ONNX Runtime are imported only
when a search by meaning or an indexing run needs them.

Modes: ``keyword`` is the full-text search as it always was; ``semantic``
ranks by cosine similarity; ``hybrid`` fuses both (``ranking``). Without a
mode, a search is ``hybrid`` when a model is available here without a
download (a model folder, or a hub model already in the cache), else
``keyword``; ``smart: true`` means the same. Asking for ``semantic`` or
``hybrid`` when the model cannot be had is one ``SemanticUnavailableError``
that says how to enable it.
"""

from __future__ import annotations

import builtins
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.basics.clock import Clock
from lifecycle.basics.keys import scoped_prefix
from lifecycle.entries.tags import check_tags
from lifecycle.errors import ConfigurationError, InvalidQueryError, InvalidValueError
from lifecycle.search import keyword as full_text
from lifecycle.search.semantic.source import (
    PATH_HINT,
    ModelSource,
    cached_folder,
    folder_problem,
    missing_extra,
    model_id,
)
from lifecycle.search.syntax import match_words, parse
from lifecycle.store.base import SearchHit, Store

if TYPE_CHECKING:
    from lifecycle.search.semantic.embedder import Embedder
    from lifecycle.search.semantic.index import VectorIndex
    from lifecycle.search.semantic.indexer import Progress
    from lifecycle.search.semantic.ranking import Filters, Ranked

MODES = ("keyword", "semantic", "hybrid")
MAX_LIMIT = full_text.MAX_LIMIT
PENDING_FOR = 2.0  # seconds a keyword search's ``pending`` count is kept at one revision


class SemanticUnavailableError(ConfigurationError):
    """Search by meaning was asked for, and this process cannot do it."""


class SemanticEngine:
    """Model state, the vector copy, and search/index/stats by meaning for one store."""

    def __init__(self, store: Store, clock: Clock, source: Callable[[], ModelSource]) -> None:
        self._store = store
        self._clock = clock
        self._source = source
        self._lock = threading.Lock()
        self._embedder: Embedder | None = None
        self._index: VectorIndex | None = None
        self._failed: tuple[ModelSource, str] | None = None
        # (model id, store revision, store time, monotonic time, pending) of the last count
        self._pending_kept: tuple[str | None, int, float, float, int] | None = None

    # ------------------------------------------------------------ is it on?

    def status(self) -> tuple[ModelSource | None, Path | None, str | None]:
        """``(source, local folder, None)`` when a model is available without a download,
        else ``(source or None, None, why not)``. Imports nothing heavy."""
        source = self._source()
        if self._embedder is not None and self._embedder.source == source:
            return source, self._embedder.folder, None  # loaded: nothing to look at
        missing = missing_extra()
        if missing is not None:
            return None, None, missing
        if self._failed is not None and self._failed[0] == source:
            return source, None, self._failed[1]
        if source.path is not None:
            problem = folder_problem(source.path)
            return (source, None, problem) if problem else (source, source.path, None)
        folder = cached_folder(source.name)
        if folder is None:
            return (
                source,
                None,
                (
                    f"embedding model {source.name} is not downloaded yet: `memory-lifecycle "
                    f"index` fetches it where the network allows; or {PATH_HINT}"
                ),
            )
        return source, folder, None

    def cannot_try(self) -> str | None:
        """Why loading the model is not worth trying (no extra, a bad folder, a failed
        load), or None: it is loaded, in a folder, or a hub model worth fetching."""
        source, folder, why = self.status()
        if source is None or folder is not None:
            return why
        if source.path is not None or (self._failed is not None and self._failed[0] == source):
            return why
        return None

    def embedder(self, allow_download: bool = True) -> Embedder:
        """The loaded model (loading it now if needed); raises ``SemanticUnavailableError``."""
        source, folder, why = self.status()
        if self._embedder is not None and self._embedder.source == source:
            return self._embedder
        if source is None or (why is not None and (source.path is not None or not allow_download)):
            raise _unavailable(why)
        if self._failed is not None and self._failed[0] == source:
            raise _unavailable(self._failed[1])
        with self._lock:
            if self._embedder is None or self._embedder.source != source:
                self._embedder = self._load(source, folder)
                self._index = None
        return self._embedder

    def _load(self, source: ModelSource, folder: Path | None) -> Embedder:
        if folder is None and hub_offline():
            # no download can happen: say so without importing the hub client, numpy and
            # ONNX Runtime (half a second of CPU at every server start otherwise)
            why = (
                f"embedding model {source.name} is not downloaded and HF_HUB_OFFLINE is set; "
                f"{PATH_HINT}"
            )
            self._failed = (source, why)
            raise _unavailable(why)
        from lifecycle.search.semantic.embedder import ModelLoadError, fetch, load

        try:
            return load(source, folder or fetch(source.name, allow_download=True))
        except ModelLoadError as exc:
            self._failed = (source, str(exc))
            raise _unavailable(str(exc)) from exc

    def _current_index(self, embedder: Embedder) -> VectorIndex:
        from lifecycle.search.semantic.index import VectorIndex

        index = self._index
        if index is None or index.model_id != embedder.model_id:
            index = self._index = VectorIndex(embedder.model_id, embedder.dims)
        index.refresh(self._store)
        return index

    def refresh(self) -> None:
        """Bring the in-memory copy up to date, if a model is loaded (the server does this
        in the background, so a query finds little left to read)."""
        if self._embedder is not None:
            self._current_index(self._embedder)

    # ------------------------------------------------------------ search

    def search(
        self,
        query: str,
        *,
        prefix: str = "",
        tags: Any = None,
        limit: int = full_text.DEFAULT_LIMIT,
        cursor: str | None = None,
        namespace: str | None = None,
        provenance_filter: Any = None,
        mode: str | None = None,
        threshold: float | None = None,
        smart: bool | None = None,
    ) -> dict[str, Any]:
        """One page of results in ``mode`` (see the module docstring), with ``mode`` and
        ``pending`` beside ``results`` and ``next_cursor``."""
        asked = _check_mode(mode)
        minimum = _check_threshold(threshold)
        _check_smart(smart)
        embedder = self._embedder_for(asked)
        if embedder is None:
            return self._keyword(query, prefix, tags, limit, cursor, namespace, provenance_filter)
        return self._by_meaning(
            embedder,
            asked or "hybrid",
            query,
            ranking_filters(prefix, namespace, tags, provenance_filter),
            limit,
            cursor,
            minimum,
        )

    def _embedder_for(self, asked: str | None) -> Embedder | None:
        if asked == "keyword":
            return None
        if asked is None:  # the default: hybrid if a model is here without a download
            _, _, why = self.status()
            if why is not None:
                return None
            try:
                return self.embedder(allow_download=False)
            except SemanticUnavailableError:
                return None
        return self.embedder(allow_download=True)

    def _keyword(
        self,
        query: str,
        prefix: str,
        tags: Any,
        limit: int,
        cursor: str | None,
        namespace: str | None,
        provenance_filter: Any,
    ) -> dict[str, Any]:
        now = self._clock.now()
        found = full_text.search(
            self._store,
            query,
            prefix=prefix,
            tags=tags,
            limit=limit,
            cursor=cursor,
            namespace=namespace,
            provenance_filter=provenance_filter,
            now=now,
        )
        for result in found["results"]:
            result["similarity"] = None
            result["matched"] = "keyword"
        return {**found, "mode": "keyword", "pending": self._pending(now)}

    def _pending(self, now: float) -> int:
        """Live entries without a current vector (0 when search by meaning is off).

        Without the model loaded here, that is a count over every entry, which a keyword
        search must not pay each time (issue 24): the count is kept while the store's
        revision is unchanged, for ``PENDING_FOR`` seconds of real and store time (an
        indexer in another process does not move the revision; one here forgets it)."""
        index = self._index
        if index is not None:
            return index.count_pending(now)
        source, folder, why = self.status()
        if why is not None or source is None or folder is None:
            return 0
        model = model_id(source, folder)
        revision = self._store.current_revision()
        kept = self._pending_kept
        checked = time.monotonic()
        if (
            kept is not None
            and kept[:2] == (model, revision)
            and abs(now - kept[2]) < PENDING_FOR
            and checked - kept[3] < PENDING_FOR
        ):
            return kept[4]
        counts = self._store.vectors().counts(model, now)
        pending = counts.live - counts.embedded
        self._pending_kept = (model, revision, now, checked, pending)
        return pending

    def _by_meaning(
        self,
        embedder: Embedder,
        mode: str,
        query: str,
        filters: Filters,
        limit: int,
        cursor: str | None,
        threshold: float,
    ) -> dict[str, Any]:
        from lifecycle.search.semantic import ranking

        text = _check_text(query)
        _check_limit(limit)
        belongs = ranking.fingerprint(text, filters, mode, threshold)
        after = ranking.decode_cursor(cursor, belongs) if cursor else None
        now = self._clock.now()
        vector = embedder.embed_query(text)
        index = self._current_index(embedder)
        vectors = self._store.vectors()
        if mode == "semantic":
            ranked = ranking.semantic(
                index, vectors, vector, filters,
                now=now, threshold=threshold, after=after, count=limit + 1,
            )  # fmt: skip
            exact: set[str] = set()
            prefixes: tuple[str, ...] = ()
            cut_off = False
        else:
            meaning = ranking.semantic(
                index, vectors, vector, filters,
                now=now, threshold=threshold, after=None, count=ranking.DEPTH,
            )  # fmt: skip
            words, exact, prefixes, cut_off = self._keyword_ranking(text, filters, now)
            ranked = ranking.after_cursor(ranking.fuse(words, meaning), after)[: limit + 1]
        page = ranked[:limit]
        more = len(ranked) > limit and page
        out = {
            "results": [_result(r, exact, prefixes) for r in page],
            "next_cursor": ranking.encode_cursor(page[-1], belongs) if more else None,
            "mode": mode,
            "pending": index.count_pending(now),
        }
        if cut_off:
            out["cut_off"] = True  # the keyword side was ranked by recency windows
        return out

    def _keyword_ranking(
        self, text: str, filters: Filters, now: float
    ) -> tuple[builtins.list[tuple[Any, float]], set[str], tuple[str, ...], bool]:
        """The keyword side of hybrid: the full-text ranking to ``DEPTH`` (none for a
        query the keyword syntax refuses), the words a snippet marks, and whether that
        ranking was cut off (``lifecycle.store.sqlite.search_window``)."""
        from lifecycle.search.semantic.ranking import DEPTH

        try:
            parsed = parse(text)
        except InvalidQueryError:
            return [], set(), (), False
        full_text.ensure_indexed(self._store)
        hits = self._store.search(
            parsed, prefix=filters.prefix, tags=filters.tags, now=now, after=None, limit=DEPTH
        )
        exact, prefixes = match_words(parsed)
        # the store applied prefix, tags and expiry; provenance is in the stored document
        kept = [
            (h.row, h.score)
            for h in hits
            if not filters.provenance or full_text.provenance_allowed(h.row, filters.provenance)
        ]
        return kept, exact, prefixes, any(h.cut_off for h in hits)

    # ------------------------------------------------------------ index and stats

    def index(self, limit: int | None = None, progress: Progress | None = None) -> dict[str, Any]:
        """Embed what is pending now (``indexer.index_pending``); raises
        ``SemanticUnavailableError`` when there is no model."""
        if limit is not None and (type(limit) is not int or limit < 1):
            raise InvalidValueError(f"invalid limit {limit!r}: use a whole number from 1, or none")
        embedder = self.embedder(allow_download=True)
        from lifecycle.search.semantic.indexer import index_pending

        self._pending_kept = None
        return index_pending(self._store, embedder, self._clock, limit=limit, progress=progress)

    def index_step(self, limit: int) -> int:
        """Embed up to ``limit`` pending entries and bring the in-memory copy up to date;
        return how many vectors were saved (the server's background runs)."""
        if self._embedder is None and not self._anything_pending():
            return 0  # loading the model (~1.5 s of CPU) waits until there is work for it
        embedder = self.embedder(allow_download=True)
        from lifecycle.search.semantic.indexer import embed_some

        saved = embed_some(self._store, embedder, self._clock, limit=limit)
        self._pending_kept = None
        self._current_index(embedder)
        return saved

    def _anything_pending(self) -> bool:
        """Whether a live entry lacks a current vector of the model in its folder; True when
        that cannot be known without the model (a hub model not fetched yet). The query is
        the one the first indexing step would run, stopped at its first row."""
        source, folder, why = self.status()
        if why is not None or source is None or folder is None:
            return True
        found = model_id(source, folder)
        if found is None:
            return True
        return bool(self._store.vectors().pending(found, self._clock.now(), "", 1))

    def stats(self, now: float) -> dict[str, Any]:
        """``embedded_entries``, ``pending_embeddings``, ``embedding_model``,
        ``embedding_error`` (cheap: no model is loaded for this)."""
        source, folder, why = self.status()
        if why is not None or source is None or folder is None:
            return {
                "embedded_entries": 0,
                "pending_embeddings": 0,
                "embedding_model": None,
                "embedding_error": why,
            }
        counts = self._store.vectors().counts(model_id(source, folder), now)
        return {
            "embedded_entries": counts.embedded,
            "pending_embeddings": counts.live - counts.embedded,
            "embedding_model": source.label,
            "embedding_error": None,
        }


def ranking_filters(
    prefix: str, namespace: str | None, tags: Any, provenance_filter: Any
) -> Filters:
    """What every result must satisfy, checked once before anything is ranked."""
    from lifecycle.entries import provenance
    from lifecycle.search.semantic.ranking import Filters

    return Filters(
        scoped_prefix(prefix, namespace),
        check_tags(tags, field="tags filter") or (),
        provenance.check_filter(provenance_filter),
    )


def hub_offline() -> bool:
    """Whether the model hub client is told to stay offline (its own variable)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _result(ranked: Ranked, exact: set[str], prefixes: tuple[str, ...]) -> dict[str, Any]:
    """A result as keyword search makes it (one function for every mode's fields), plus
    ``similarity`` and ``matched``."""
    out = full_text._result(SearchHit(ranked.row, ranked.score), exact, prefixes)
    out["similarity"] = None if ranked.similarity is None else round(ranked.similarity, 4)
    out["matched"] = ranked.matched
    return out


def _unavailable(why: str | None) -> SemanticUnavailableError:
    return SemanticUnavailableError(
        f"search by meaning is off: {why or 'no embedding model'}; or search with mode 'keyword'"
    )


def _check_mode(mode: object) -> str | None:
    if mode is None or mode in MODES:
        return mode
    raise InvalidValueError(f"invalid mode {str(mode)[:40]!r}: use keyword, semantic or hybrid")


def _check_threshold(threshold: object) -> float:
    if threshold is None:
        return 0.0
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not 0 <= threshold <= 1
    ):
        raise InvalidValueError(
            f"invalid threshold {str(threshold)[:40]!r}: use a number from 0 to 1 (the "
            "minimum cosine similarity of a semantic match)"
        )
    return float(threshold)


def _check_smart(smart: object) -> None:
    if smart is not None and not isinstance(smart, bool):
        raise InvalidValueError(f"invalid smart {str(smart)[:40]!r}: use true or false")


def _check_limit(limit: object) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidValueError(f"invalid limit {limit!r}: use 1-{MAX_LIMIT}")


def _check_text(query: object) -> str:
    """Search by meaning takes any non-empty text (up to the keyword limit)."""
    from lifecycle.search.syntax import MAX_QUERY_CHARS

    if not isinstance(query, str) or not query.strip():
        raise InvalidQueryError(
            "invalid query: it is empty; pass words or a question, e.g. 'how do we log in'"
        )
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidQueryError(
            f"invalid query: {len(query)} characters, over the limit of {MAX_QUERY_CHARS}; "
            "ask a shorter question"
        )
    return query
