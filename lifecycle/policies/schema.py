"""The policy file's schema, validated with pydantic.

Kept apart from ``lifecycle.policies.retention`` so that pydantic is imported only when a
policy file's text actually needs validating: a hook command that finds the
already-validated policies cached in the store starts ~60 ms faster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lifecycle.basics.arguments import MAX_TTL_SECONDS
from lifecycle.basics.keys import MAX_KEY_LENGTH
from lifecycle.errors import PolicyError, clip, clip_text
from lifecycle.policies.retention import (
    BUILTIN_DEFAULT,
    CleanupStrategy,
    ConflictStrategy,
    Settings,
)

_DEFAULT = BUILTIN_DEFAULT  # one home for every default: the dataclasses in policy.py
_SETTINGS = Settings()

MAX_PROBLEMS_SHOWN = 5
MAX_BYTES_SETTING = 1 << 30

# Numbers and booleans are strict: YAML's `true` is not a TTL of 1 s, `.inf` is not a TTL,
# and "yes" is not a boolean. Enum fields still take their YAML spellings ("lazy", "lww").
_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# The descriptions are the policy-file reference of the docs (docs/reference/generate.py)
_TTL = "Time to live in seconds from the entry's last write; 0 = never expires."
_CLEANUP = (
    "When an expired entry is deleted: lazy = when read after expiry, and by any cleanup; "
    "scheduled = by cleanup (background maintenance, the daemon, hooks); manual = only by "
    "a forced cleanup or a delete. An expired entry is never returned, whatever this says."
)
_CONFLICT = (
    "How concurrent writes combine: lww = the last write wins, by (timestamp, agent); "
    "multi_value = concurrent writes kept as siblings; counter = each store adds its number."
)


class _PolicyFields(BaseModel):
    model_config = _STRICT

    ttl_seconds: float = Field(
        default=_DEFAULT.ttl_seconds, ge=0, le=MAX_TTL_SECONDS, strict=True, description=_TTL
    )
    cleanup_strategy: CleanupStrategy = Field(
        default=_DEFAULT.cleanup_strategy, description=_CLEANUP
    )
    conflict_strategy: ConflictStrategy = Field(
        default=_DEFAULT.conflict_strategy, description=_CONFLICT
    )
    compression_enabled: bool = Field(
        default=_DEFAULT.compression_enabled,
        strict=True,
        description="Gzip values larger than compression_threshold_bytes.",
    )
    compression_threshold_bytes: int = Field(
        default=_DEFAULT.compression_threshold_bytes,
        ge=0,
        le=MAX_BYTES_SETTING,
        strict=True,
        description="Only values larger than this (serialized, in bytes) are compressed.",
    )
    max_siblings: int = Field(
        default=_DEFAULT.max_siblings,
        ge=1,
        le=1024,
        strict=True,
        description="multi_value: keep at most this many siblings; the oldest go first.",
    )


class PolicyModel(_PolicyFields):
    namespace: str = Field(
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        strict=True,
        description="The key pattern: '*' matches any characters, '/' included; '?' one. "
        "An exact pattern beats a glob; among globs the most literal characters win.",
    )
    ttl_seconds: float = Field(ge=0, le=MAX_TTL_SECONDS, strict=True, description=_TTL)
    cleanup_strategy: CleanupStrategy = Field(description=_CLEANUP)
    conflict_strategy: ConflictStrategy = Field(description=_CONFLICT)


class DefaultPolicyModel(_PolicyFields):
    """The ``default:`` section: rules for keys that match no namespace."""


class SettingsModel(BaseModel):
    model_config = _STRICT

    max_value_bytes: int = Field(
        default=_SETTINGS.max_value_bytes,
        ge=1,
        le=MAX_BYTES_SETTING,
        strict=True,
        description="The largest serialized value a write may store.",
    )
    tombstone_grace_seconds: float = Field(
        default=_SETTINGS.tombstone_grace_seconds,
        ge=0,
        le=MAX_TTL_SECONDS,
        strict=True,
        description="How long a delete is remembered (its tombstone) so that importing an "
        "older export does not bring the entry back; replicas must exchange exports within it.",
    )
    op_id_window_seconds: float = Field(
        default=_SETTINGS.op_id_window_seconds,
        ge=0,
        le=MAX_TTL_SECONDS,
        strict=True,
        description="How long a retried op_id is recognised and counted once.",
    )
    max_clock_skew_seconds: float = Field(
        default=_SETTINGS.max_clock_skew_seconds,
        ge=0,
        le=MAX_TTL_SECONDS,
        strict=True,
        description="How far ahead of the store's clock a write's timestamp may be.",
    )
    change_log_max_entries: int = Field(
        default=_SETTINGS.change_log_max_entries,
        ge=1,
        strict=True,
        description="How many of the newest changes the change feed (memory_changes) keeps.",
    )
    op_id_window: int | None = Field(
        default=None, ge=1, strict=True, description="deprecated: the old per-key count"
    )
    embedding_model_path: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        strict=True,
        description="a folder holding model.onnx and tokenizer.json (search by meaning)",
    )


class PolicyFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespaces: list[PolicyModel] = Field(default_factory=list)
    default: DefaultPolicyModel | None = None
    settings: SettingsModel = Field(default_factory=SettingsModel)


def validate_document(doc: dict[str, Any], source: str) -> dict[str, Any]:
    """Validate a parsed policy document; return it normalized (plain JSON types)."""
    try:
        parsed = PolicyFileModel.model_validate(doc)
    except ValidationError as exc:
        # every problem, unknown fields first: a misspelt field usually explains the
        # "Field required" next to it
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        problems = [
            f"{_describe_location(doc, e['loc'])}: {_message(e)}"
            for e in errors[:MAX_PROBLEMS_SHOWN]
        ]
        if len(errors) > MAX_PROBLEMS_SHOWN:
            problems.append(f"and {len(errors) - MAX_PROBLEMS_SHOWN} more problems")
        raise PolicyError(f"{source}: " + "; ".join(problems), path=source) from exc
    return parsed.model_dump(mode="json")


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field; check its spelling against the fields listed in the shipped file"
    return clip_text(str(error["msg"]), 200)


def _describe_location(doc: Any, loc: Sequence[Any]) -> str:
    if len(loc) >= 2 and loc[0] == "namespaces" and isinstance(loc[1], int):
        idx = loc[1]
        name = None
        items = doc.get("namespaces") if isinstance(doc, dict) else None
        if isinstance(items, list) and idx < len(items) and isinstance(items[idx], dict):
            name = items[idx].get("namespace")
        what = f"policy {clip(name)}" if name else f"policy #{idx + 1}"
        rest = _path(loc[2:]) or "(the policy itself)"
        return f"{what} (namespaces[{idx}]), field '{rest}'"
    if loc and loc[0] == "default":
        return f"policy 'default', field '{_path(loc[1:]) or 'default'}'"
    return f"field '{_path(loc)}'"


def _path(loc: Sequence[Any]) -> str:
    """A field path; a field name is whatever the file says, so it is cut short."""
    return ".".join(clip_text(str(x), 60) for x in loc)
