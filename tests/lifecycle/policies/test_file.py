"""Hostile policy files are refused before pydantic sees them, in one short line.

A 411-byte YAML alias bomb once took 3.8 GB and 11.7 s; a file nested 10,000
deep or holding a 5,000-digit integer ended in an internal error. Each is now a
``PolicyError`` naming the file and the place, and a manager whose policy file
is edited into one keeps serving with its last good policies.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lifecycle import MemoryLifecycleManager, PolicyError
from lifecycle.policies.file import MAX_YAML_DEPTH, parse_policies
from tests.support.env import REPO

MakeManager = Callable[..., MemoryLifecycleManager]

GOOD = (
    'namespaces:\n  - {namespace: "jobs/*", ttl_seconds: 60, cleanup_strategy: lazy, '
    "conflict_strategy: lww}\n"
)


def alias_bomb(levels: int = 5) -> str:
    """Each level lists the previous one nine times: 9**levels strings from ~300 bytes."""
    lines = ['namespaces: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


HOSTILE = {
    "alias bomb": (alias_bomb(), "YAML anchors and aliases are not allowed"),
    "a harmless-looking anchor": (
        "default: &d {ttl_seconds: 5}\nnamespaces: []\n",
        "found &d",
    ),
    "flow nesting 10,000 deep": ("namespaces: " + "[" * 10_000 + "]" * 10_000, "nested more"),
    "block nesting 5,000 deep": (
        "".join("  " * i + f"k{i}:\n" for i in range(5_000))[:1_000_000],
        "nested more",
    ),
    "a 5,000-digit integer": (
        'namespaces:\n  - {namespace: "a/*", ttl_seconds: ' + "9" * 5000 + ", "
        "cleanup_strategy: lazy, conflict_strategy: lww}\n",
        "an integer of 5000 characters",
    ),
    "a 5,000-digit hex integer": (
        "settings: {max_value_bytes: 0x" + "f" * 5000 + "}\n",
        "an integer of 5002 characters",
    ),
    "a TTL of 1e300": (
        'namespaces:\n  - {namespace: "a/*", ttl_seconds: 1.0e+300, '
        "cleanup_strategy: lazy, conflict_strategy: lww}\n",
        "ttl_seconds': Input should be less than or equal to",
    ),
    "over 1 MiB": ("# " + "x" * (1 << 20) + "\n", "over the policy file limit"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_policy_file_is_one_short_line_naming_the_file(name: str) -> None:
    text, fragment = HOSTILE[name]
    with pytest.raises(PolicyError) as caught:
        parse_policies(text, "hostile.yaml")
    message = str(caught.value)
    assert message.startswith("hostile.yaml")
    assert fragment in message
    assert "\n" not in message and len(message) < 400


def test_the_depth_limit_leaves_room_for_every_real_policy_file() -> None:
    nested = "settings: " + "[" * (MAX_YAML_DEPTH - 1) + "]" * (MAX_YAML_DEPTH - 1) + "\n"
    with pytest.raises(PolicyError, match="field 'settings'"):  # past the YAML limits
        parse_policies(nested, "deep.yaml")
    shipped = REPO / ".claude" / "memory-retention-policies.yaml"
    assert parse_policies(shipped.read_text(), str(shipped)).policies


def test_many_problems_are_summarised_not_listed_one_by_one() -> None:
    text = "namespaces:\n" + "".join(
        f"  - {{namespace: n{i}, ttl_seconds: -1}}\n" for i in range(500)
    )
    with pytest.raises(PolicyError) as caught:
        parse_policies(text, "many.yaml")
    assert "more problems" in str(caught.value)
    assert len(str(caught.value)) < 1000


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            'namespaces:\n  - {namespace: "a/*", ' + "f" * 1000 + ": 1}\n",
            "... (1000 characters)': unknown field",
        ),
        (
            "namespaces:\n  - {namespace: " + "n" * 5000 + ", ttl_seconds: 1, "
            "cleanup_strategy: lazy, conflict_strategy: lww}\n",
            "at most 512 characters",
        ),
    ],
)
def test_echoed_names_from_the_file_are_cut_short(text: str, fragment: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policies(text, "long.yaml")
    assert fragment in str(caught.value)
    assert len(str(caught.value)) < 1000


def test_a_running_manager_keeps_its_policies_when_the_file_becomes_a_bomb(
    make_manager: MakeManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lifecycle.policy_watch as policy_watch

    monkeypatch.setattr(policy_watch, "RECHECK_SECONDS", 0.0)
    m = make_manager(policies=GOOD)
    (tmp_path / "store-policies.yaml").write_text(alias_bomb(levels=7))
    m.store("jobs/a", 1)
    stats = m.get_stats()
    assert m.get_policy("jobs/a").ttl_seconds == 60
    assert "YAML anchors and aliases are not allowed" in stats["policy_error"]
    assert len(stats["policy_error"]) < 400
