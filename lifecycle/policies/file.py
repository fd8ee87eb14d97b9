"""A policy file's text, read defensively and validated into a ``PolicySet``.

A file that exists but is wrong is an error naming the file, the policy and the
field; the engine never falls back to defaults silently, because that would
expire (or keep) data against the user's intent.

The YAML is read defensively, before pydantic sees it: a policy file is at most
1 MiB, uses no anchors or aliases (a 400-byte "billion laughs" file expands to
gigabytes), nests at most ``MAX_YAML_DEPTH`` levels, and holds no integer longer
than ``MAX_INT_CHARS`` characters. Each refusal is one line naming the file and
the place, so a running server that reloads such a file stays fast. YAML and
pydantic are imported only when text needs validating: hooks usually find the
validated policies cached in the store.
"""

from __future__ import annotations

from functools import lru_cache

from lifecycle.errors import PolicyError, clip_text
from lifecycle.policies.retention import PolicySet, builtin_policies, policies_from_document

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

MAX_POLICY_BYTES = 1 << 20
MAX_YAML_DEPTH = 32
MAX_INT_CHARS = 30


def parse_policies(text: str, source: str = "<string>") -> PolicySet:
    """Validate policy YAML; every problem names the source, the policy and the field."""
    doc = _load_yaml(text, source)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise PolicyError(
            f"{source}: expected a mapping with a 'namespaces:' list, got "
            f"{type(doc).__name__}; see .claude/memory-retention-policies.yaml",
            path=source,
        )
    from lifecycle.policies.schema import validate_document

    normalized = validate_document(doc, source)
    return policies_from_document(normalized, source)


def _load_yaml(text: str, source: str) -> Any:
    """``yaml.safe_load`` with the limits above; every failure is one bounded line."""
    import yaml  # only when text needs parsing: hooks usually find the cached policies

    if len(text) > MAX_POLICY_BYTES:
        raise PolicyError(
            f"{source}: {len(text)} characters is over the policy file limit of "
            f"{MAX_POLICY_BYTES} (1 MiB); a policy file holds a few patterns",
            path=source,
        )
    try:
        return yaml.load(text, Loader=_bounded_loader())  # a SafeLoader subclass
    except _Refused as exc:
        raise PolicyError(f"{source}{_where(exc.mark)}: {exc.problem}", path=source) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(
            f"{source}: not valid YAML{_where(mark)}: {clip_text(problem, 200)}; fix the syntax",
            path=source,
        ) from exc
    except RecursionError as exc:  # belt and braces: the depth limit comes first
        raise PolicyError(
            f"{source}: nested too deeply; a policy file nests at most {MAX_YAML_DEPTH} levels",
            path=source,
        ) from exc


def _where(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


class _Refused(Exception):
    """A policy file the bounded loader will not read; ``mark`` is where."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


@lru_cache(maxsize=1)
def _bounded_loader() -> type:
    """A ``SafeLoader`` that refuses anchors, aliases, deep nesting and huge integers."""
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        _depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
                raise _Refused(
                    f"YAML anchors and aliases are not allowed in a policy file (found "
                    f"{sign}{clip_text(event.anchor, 40)}); write each value out",
                    event.start_mark,
                )
            self._depth += 1
            if self._depth > MAX_YAML_DEPTH:
                raise _Refused(
                    f"nested more than {MAX_YAML_DEPTH} levels deep; policies nest 3 levels",
                    event.start_mark,
                )
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def construct_yaml_int(self, node: Any) -> Any:
            if len(node.value) > MAX_INT_CHARS:
                raise _Refused(
                    f"an integer of {len(node.value)} characters; numbers in a policy file "
                    f"have at most {MAX_INT_CHARS}",
                    node.start_mark,
                )
            return super().construct_yaml_int(node)

    BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
    return BoundedLoader


def load_policies(path: Path | str | None) -> PolicySet:
    """Load a policy file; a missing file means the built-in policies."""
    if path is None:
        return builtin_policies()
    from pathlib import Path  # here: a hook reads its policies through policy_watch

    p = Path(path)
    if not p.exists():
        return builtin_policies()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{p}: cannot read policy file: {exc}", path=str(p)) from exc
    return parse_policies(text, str(p))
