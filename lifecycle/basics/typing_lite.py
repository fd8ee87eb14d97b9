"""``NamedTuple`` and ``Protocol`` for the engine's classes, without importing ``typing``.

Every hook is a fresh process, and ``import typing`` costs ~16M instructions (~40% of
an empty interpreter's start), more than a hook's own work; ``typing.NamedTuple`` also
turns each string annotation into a compiled ``ForwardRef``. The engine's modules
import their type-only names under ``if TYPE_CHECKING:`` (a module constant, False
at run time: mypy reads the name as true), and their two class-making names from here:
type checkers see ``typing``'s, the interpreter these equivalents.

- ``NamedTuple``: the class syntax makes a ``collections.namedtuple`` with the class's
  annotated fields, defaults, methods and docstring, as ``typing.NamedTuple`` does;
  its ``__annotations__`` stay the class body's (strings under ``from __future__
  import annotations``), as nothing reads them at run time.
- ``Protocol``: a plain base class; the engine's protocols are never instantiated,
  subclassed or used with ``isinstance``, so they need nothing from ``typing`` at run
  time.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
    from typing import Protocol as Protocol
else:
    from collections import namedtuple

    # what namedtuple makes and a class body must not replace (as typing.NamedTuple)
    _PROHIBITED = frozenset(
        {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
        | {"_make", "_replace", "_asdict", "_source"}
    )
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _NamedTupleMeta(type):
        def __new__(cls, typename, bases, namespace):
            fields = tuple(namespace.get("__annotations__", {}))
            defaults = [namespace[name] for name in fields if name in namespace]
            if any(name not in namespace for name in fields[len(fields) - len(defaults) :]):
                raise TypeError(f"{typename}: a field without a default follows one with it")
            made = namedtuple(typename, fields, defaults=defaults, module=namespace["__module__"])
            made.__annotations__ = dict(namespace.get("__annotations__", {}))
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in fields:
                    setattr(made, key, value)
            return made

    NamedTuple = type.__new__(_NamedTupleMeta, "NamedTuple", (), {"__module__": __name__})

    class Protocol:
        """Run-time stand-in for ``typing.Protocol`` (a structural type for mypy)."""

        __slots__ = ()
