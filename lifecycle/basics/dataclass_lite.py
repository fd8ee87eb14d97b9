"""Record classes: what ``@dataclass`` gave the engine's value types, without its import cost.

Every hook is a fresh process, and creating a dataclass runs ``exec`` on generated source
for each of its methods: ~0.5 ms per class at import, plus ~5 ms to import ``dataclasses``
(``inspect``, ``ast``, ``dis``), about a third of a hook's own time for the ~25 value types
a hook loads. A record spells out its ``__slots__`` and ``__init__`` (the hot part,
as fast as a dataclass's) and inherits equality, hashing, ``repr`` and (``FrozenRecord``)
immutability from here; ``asdict`` and ``replace`` behave as the ``dataclasses`` ones.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any, TypeVar

_FIELDS: dict[type, tuple[str, ...]] = {}  # each record class's field names, in order


class Record:
    """Fields are the names annotated in the class body, in order (each also in its
    ``__slots__``); equal when of the same class with equal fields; unhashable
    (mutable), as an ``eq=True`` dataclass."""

    __slots__ = ()

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        names = _FIELDS.get(cls)
        if names is None:
            found: list[str] = []
            for klass in reversed(cls.__mro__):
                # the class's own annotations (strings here), not inspect's: no import
                found.extend(klass.__dict__.get("__annotations__", ()))  # noqa: RUF063
            names = _FIELDS[cls] = tuple(found)
        return names

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.field_names())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.field_names())
        return f"{type(self).__qualname__}({fields})"

    def __reduce__(self) -> tuple[type[Record], tuple[Any, ...]]:
        """Copied and pickled through ``__init__`` (fields in order), so frozen records
        and ones that derive state in ``__init__`` come back whole."""
        return (type(self), self._values())

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]


class FrozenRecord(Record):
    """A record whose fields cannot change after ``__init__`` (which sets them with
    ``object.__setattr__``); hashable by its fields, as a frozen dataclass."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")


# bound to the class, not the string "Record": a string bound is compiled at import
if TYPE_CHECKING:
    R = TypeVar("R", bound=Record)


def asdict(record: Record) -> dict[str, Any]:
    """The fields as a dict, records, lists, tuples and dicts inside copied recursively
    (as ``dataclasses.asdict``)."""
    return {name: _plain(getattr(record, name)) for name in record.field_names()}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, Record):
        return asdict(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple
        return type(value)(*(_plain(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    import copy

    return copy.deepcopy(value)


def replace(record: R, **changes: Any) -> R:
    """A copy of ``record`` with ``changes`` (as ``dataclasses.replace``: through ``__init__``)."""
    values = {name: getattr(record, name) for name in record.field_names()}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(record).__name__} has no field {sorted(unknown)[0]!r}")
    values.update(changes)
    return type(record)(**values)
