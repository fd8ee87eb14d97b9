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
