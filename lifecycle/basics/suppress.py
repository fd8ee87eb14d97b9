"""``contextlib.suppress`` without importing ``contextlib``.

Every hook opens a SQLite store, whose modules ignore an error in a few places (a file
already there, a connection already closed); ``import contextlib`` for that costs each
hook ~3M instructions. This is the same context manager: it swallows the exceptions of
the given classes (and their subclasses) and lets any other through.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from types import TracebackType


class suppress:
    __slots__ = ("_kinds",)

    def __init__(self, *kinds: type[BaseException]) -> None:
        self._kinds = kinds

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return kind is not None and issubclass(kind, self._kinds)
