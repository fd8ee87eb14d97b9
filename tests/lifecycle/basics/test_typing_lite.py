"""``typing_lite.NamedTuple`` makes the classes ``typing.NamedTuple`` makes (at run time the
engine's value types come from it), and importing it does not import ``typing``."""

from __future__ import annotations

import subprocess
import typing

import pytest

from lifecycle.basics import typing_lite
from tests.support.env import PYTHON, child_env


def _pair(base: type) -> type:
    class Point(base):
        """A point."""

        x: int
        y: int = 0
        label: str = "p"

        def norm(self) -> int:
            return abs(self.x) + abs(self.y)

        @property
        def doubled(self) -> tuple[int, int]:
            return (2 * self.x, 2 * self.y)

    return Point


def test_the_class_behaves_as_typing_namedtuple_makes_it() -> None:
    ours, theirs = _pair(typing_lite.NamedTuple), _pair(typing.NamedTuple)
    for cls in (ours, theirs):
        p = cls(3, -4)
        assert cls._fields == ("x", "y", "label")
        assert cls._field_defaults == {"y": 0, "label": "p"}
        assert p == (3, -4, "p") and isinstance(p, tuple)
        assert p.norm() == 7 and p.doubled == (6, -8)
        assert p._replace(label="q") == (3, -4, "q")
        assert p._asdict() == {"x": 3, "y": -4, "label": "p"}
        assert repr(p) == "Point(x=3, y=-4, label='p')"
        assert cls.__doc__ == "A point."
        assert cls.__qualname__.endswith("_pair.<locals>.Point")
        assert cls.__module__ == __name__
        assert list(cls.__annotations__) == ["x", "y", "label"]
        with pytest.raises(TypeError):
            cls()
        with pytest.raises(AttributeError):
            p.x = 1


def test_a_field_without_a_default_after_one_with_it_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default"):

        class Bad(typing_lite.NamedTuple):
            a: int = 1
            b: int


def test_a_namedtuple_attribute_cannot_be_replaced() -> None:
    with pytest.raises(AttributeError, match="_asdict"):

        class Bad(typing_lite.NamedTuple):
            a: int

            def _asdict(self) -> dict[str, int]:
                return {}


def test_importing_it_imports_no_typing() -> None:
    code = "import sys, lifecycle.basics.typing_lite; print('typing' in sys.modules)"
    done = subprocess.run(
        [PYTHON, "-c", code], env=child_env(), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def _fields(n: int) -> dict[str, object]:
    """A class body of ``n`` annotated fields, the last half of them with defaults."""
    body: dict[str, object] = {"__module__": __name__, "__annotations__": {}}
    for i in range(n):
        body["__annotations__"][f"f{i}"] = "int"
        if i >= n // 2:
            body[f"f{i}"] = -i
    return body


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 14, 16, 17, 20])
def test_every_size_behaves_as_collections_namedtuple(n: int) -> None:
    """Without ``exec``: ``__new__`` is a template's code renamed; past the templates
    (16 fields) namedtuple's own. Positional, keyword and default arguments, errors,
    ``_make``, ``_replace``, ``_asdict``, repr, equality, pickling and copying as
    ``collections.namedtuple``'s."""
    import copy
    from collections import namedtuple

    body = _fields(n)
    ours = type(typing_lite.NamedTuple)(f"Wide{n}", (typing_lite.NamedTuple,), dict(body))
    names = [f"f{i}" for i in range(n)]
    defaults = [-i for i in range(n) if i >= n // 2]
    theirs = namedtuple(f"Wide{n}", names, defaults=defaults)
    required = list(range(n // 2))
    for cls in (ours, theirs):
        assert cls._fields == tuple(names) and cls.__match_args__ == tuple(names)
        assert cls._field_defaults == dict(zip(names[n // 2 :], defaults, strict=True))
    a, b = ours(*required), theirs(*required)
    assert a == b and tuple(a) == tuple(b) and hash(a) == hash(b)
    assert repr(a) == repr(b) and a._asdict() == b._asdict()
    assert [getattr(a, f) for f in names] == [getattr(b, f) for f in names]
    assert ours(**{f: i for i, f in enumerate(names)}) == tuple(range(n))
    assert ours._make(range(n)) == theirs._make(range(n))
    if n:
        assert a._replace(f0=99) == b._replace(f0=99) and type(a._replace(f0=99)) is ours
        with pytest.raises(TypeError):
            ours(*range(n + 1))
        with pytest.raises(TypeError):
            ours(*range(n), f0=1)  # f0 given twice
    with pytest.raises(ValueError, match="unexpected field names"):
        a._replace(nope=1)
    with pytest.raises(TypeError, match="Expected"):
        ours._make(range(n + 1))
    assert ours.__doc__ == theirs.__doc__
    assert a.__getnewargs__() == tuple(a)
    assert copy.copy(a) == a and copy.deepcopy(a) == a and type(copy.deepcopy(a)) is ours


def test_the_engine_classes_pickle_and_keep_their_methods() -> None:
    import pickle

    from lifecycle.entries.crdt import View
    from lifecycle.entries.preconditions import Guard
    from lifecycle.store.base import LockState
    from lifecycle.store.text_index import SearchDoc

    for value in (
        View(True, {"a": 1}),
        Guard(if_revision=3),
        LockState("n", "o", 1, 2.5),
        SearchDoc("k", "b"),
    ):
        back = pickle.loads(pickle.dumps(value))
        assert back == value and type(back) is type(value)
        assert type(value).__new__.__qualname__ == f"{type(value).__qualname__}.__new__"
    assert LockState("n", "o", None, 1.0).acquired is True
    assert SearchDoc("k", "a b").strings() == [["a", "b"]]  # a class-body method


def test_a_field_name_starting_with_an_underscore_is_refused() -> None:
    with pytest.raises(ValueError, match="underscore"):
        type(typing_lite.NamedTuple)(
            "Bad",
            (typing_lite.NamedTuple,),
            {"__module__": __name__, "__annotations__": {"_a": "int"}},
        )
