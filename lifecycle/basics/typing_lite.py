"""``NamedTuple`` and ``Protocol`` for the engine's classes, without importing ``typing``.

Every hook is a fresh process, and ``import typing`` costs ~16M instructions (~40% of
an empty interpreter's start), more than a hook's own work; ``typing.NamedTuple`` also
turns each string annotation into a compiled ``ForwardRef``. The engine's modules
import their type-only names under ``if TYPE_CHECKING:`` (a module constant, False
at run time: mypy reads the name as true), and their two class-making names from here:
type checkers see ``typing``'s, the interpreter these equivalents.

- ``NamedTuple``: the class syntax makes the class ``collections.namedtuple`` would make
  with the class's annotated fields, defaults, methods and docstring, as
  ``typing.NamedTuple`` does, but without ``namedtuple``'s ``eval``: its compiling of a
  ``__new__`` per class was ~0.25M instructions of the ~0.4M a class cost, 10 classes on
  every hook's path. ``__new__`` is instead a template's code (one per number of fields,
  compiled with this module) given the fields' names as its parameters', and the other
  methods (``_make``, ``_replace``, ``_asdict``, ``__repr__``, ``__getnewargs__``) are
  shared by every class, reading its ``_fields``. Its ``__annotations__`` stay the class
  body's (strings under ``from __future__ import annotations``), as nothing reads them
  at run time.
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
    from collections import _tuplegetter

    # what a named tuple class has and a class body must not replace (as typing.NamedTuple)
    _PROHIBITED = frozenset(
        {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
        | {"_make", "_replace", "_asdict", "_source"}
    )
    _tuple_new = tuple.__new__

    # ``__new__`` of a class of N fields: the Nth template's code with the fields' names as
    # its parameters' (``collections.namedtuple`` compiles a ``lambda`` per class instead,
    # two thirds of what making the class costs)
    _NEW = (
        lambda _cls: _tuple_new(_cls, ()),
        lambda _cls, _0: _tuple_new(_cls, (_0,)),
        lambda _cls, _0, _1: _tuple_new(_cls, (_0, _1)),
        lambda _cls, _0, _1, _2: _tuple_new(_cls, (_0, _1, _2)),
        lambda _cls, _0, _1, _2, _3: _tuple_new(_cls, (_0, _1, _2, _3)),
        lambda _cls, _0, _1, _2, _3, _4: _tuple_new(_cls, (_0, _1, _2, _3, _4)),
        lambda _cls, _0, _1, _2, _3, _4, _5: _tuple_new(_cls, (_0, _1, _2, _3, _4, _5)),
        lambda _cls, _0, _1, _2, _3, _4, _5, _6: _tuple_new(_cls, (_0, _1, _2, _3, _4, _5, _6)),
        lambda _cls, _0, _1, _2, _3, _4, _5, _6, _7: _tuple_new(
            _cls, (_0, _1, _2, _3, _4, _5, _6, _7)
        ),
        lambda _cls, _0, _1, _2, _3, _4, _5, _6, _7, _8: _tuple_new(
            _cls, (_0, _1, _2, _3, _4, _5, _6, _7, _8)
        ),
        lambda _cls, _0, _1, _2, _3, _4, _5, _6, _7, _8, _9: _tuple_new(
            _cls, (_0, _1, _2, _3, _4, _5, _6, _7, _8, _9)
        ),
        lambda _cls, _0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10: _tuple_new(
            _cls, (_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10)
        ),
        lambda _cls, _0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11: _tuple_new(
            _cls, (_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11)
        ),
        lambda _cls, _0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12: _tuple_new(
            _cls, (_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12)
        ),
        lambda _cls, _0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13: _tuple_new(
            _cls, (_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13)
        ),
        lambda _cls, _0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14: _tuple_new(
            _cls, (_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14)
        ),
        lambda _cls, _0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15: (
            _tuple_new(_cls, (_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15))
        ),
    )

    # the methods every named tuple class shares (namedtuple's, reading the class's fields)
    @classmethod
    def _make(cls, iterable):
        result = _tuple_new(cls, iterable)
        if len(result) != len(cls._fields):
            raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(result)}")
        return result

    def _replace(self, /, **kwds):
        result = self._make(map(kwds.pop, self._fields, self))
        if kwds:
            raise ValueError(f"Got unexpected field names: {list(kwds)!r}")
        return result

    def __repr__(self):
        fields = ", ".join(
            [f"{name}={value!r}" for name, value in zip(self._fields, self, strict=False)]
        )
        return f"{self.__class__.__name__}({fields})"

    def _asdict(self):
        return dict(zip(self._fields, self, strict=False))

    def __getnewargs__(self):
        return tuple(self)

    FunctionType = type(_replace)
    _GETTERS: list[_tuplegetter] = []  # field i's, shared by every class

    def _getter(index):
        while len(_GETTERS) <= index:
            _GETTERS.append(_tuplegetter(len(_GETTERS), f"Alias for field number {len(_GETTERS)}"))
        return _GETTERS[index]

    class _NamedTupleMeta(type):
        def __new__(cls, typename, bases, namespace):
            annotations = namespace.get("__annotations__", {})
            fields = tuple(annotations)
            defaults = tuple(namespace[name] for name in fields if name in namespace)
            if any(name not in namespace for name in fields[len(fields) - len(defaults) :]):
                raise TypeError(f"{typename}: a field without a default follows one with it")
            if any(name.startswith("_") for name in fields):
                raise ValueError(f"{typename}: field names cannot start with an underscore")
            if len(fields) < len(_NEW):
                template = _NEW[len(fields)]
                code = template.__code__.replace(
                    co_varnames=("_cls", *fields),
                    co_name="__new__",
                    co_qualname=f"{namespace.get('__qualname__', typename)}.__new__",
                )
                new = FunctionType(code, template.__globals__, "__new__", defaults or None)
            else:  # more fields than templates: namedtuple's compiled one
                from collections import namedtuple

                new = namedtuple(typename, fields, defaults=defaults).__new__
            made = {
                "__doc__": f"{typename}({', '.join(fields)}{',' if len(fields) == 1 else ''})",
                "__slots__": (),
                "_fields": fields,
                "_field_defaults": dict(
                    zip(fields[len(fields) - len(defaults) :], defaults, strict=True)
                ),
                "__new__": new,
                "_make": _make,
                "_replace": _replace,
                "__repr__": __repr__,
                "_asdict": _asdict,
                "__getnewargs__": __getnewargs__,
                "__match_args__": fields,
                "__annotations__": dict(annotations),
            }
            made.update((name, _getter(i)) for i, name in enumerate(fields))
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"cannot overwrite NamedTuple attribute {key}")
                if key not in fields and key != "__annotations__":
                    made[key] = value
            return type.__new__(type, typename, (tuple,), made)

    NamedTuple = type.__new__(_NamedTupleMeta, "NamedTuple", (), {"__module__": __name__})

    class Protocol:
        """Run-time stand-in for ``typing.Protocol`` (a structural type for mypy)."""

        __slots__ = ()
