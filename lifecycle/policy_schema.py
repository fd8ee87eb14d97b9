"""The policy file's schema, validated with pydantic.

Kept apart from ``lifecycle.policy`` so that pydantic is imported only when a
policy file's text actually needs validating: a hook command that finds the
already-validated policies cached in the store starts ~60 ms faster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .arguments import MAX_TTL_SECONDS
from .errors import PolicyError, clip, clip_text
from .keys import MAX_KEY_LENGTH
from .policy import BUILTIN_DEFAULT, CleanupStrategy, ConflictStrategy, Settings

_DEFAULT = BUILTIN_DEFAULT  # one home for every default: the dataclasses in policy.py
_SETTINGS = Settings()

MAX_PROBLEMS_SHOWN = 5
MAX_BYTES_SETTING = 1 << 30

# Numbers and booleans are strict: YAML's `true` is not a TTL of 1 s, `.inf` is not a TTL,
# and "yes" is not a boolean. Enum fields still take their YAML spellings ("lazy", "lww").
_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _PolicyFields(BaseModel):
    model_config = _STRICT

    ttl_seconds: float = Field(
        default=_DEFAULT.ttl_seconds,
        ge=0,
        le=MAX_TTL_SECONDS,
        strict=True,
        description="0 = never expires",
    )
    cleanup_strategy: CleanupStrategy = _DEFAULT.cleanup_strategy
    conflict_strategy: ConflictStrategy = _DEFAULT.conflict_strategy
    compression_enabled: bool = Field(default=_DEFAULT.compression_enabled, strict=True)
    compression_threshold_bytes: int = Field(
        default=_DEFAULT.compression_threshold_bytes, ge=0, le=MAX_BYTES_SETTING, strict=True
    )
    max_siblings: int = Field(default=_DEFAULT.max_siblings, ge=1, le=1024, strict=True)


class PolicyModel(_PolicyFields):
    namespace: str = Field(min_length=1, max_length=MAX_KEY_LENGTH, strict=True)
    ttl_seconds: float = Field(
        ge=0, le=MAX_TTL_SECONDS, strict=True, description="0 = never expires"
    )
    cleanup_strategy: CleanupStrategy
    conflict_strategy: ConflictStrategy


class DefaultPolicyModel(_PolicyFields):
    """The ``default:`` section: rules for keys that match no namespace."""


class SettingsModel(BaseModel):
    model_config = _STRICT

    max_value_bytes: int = Field(
        default=_SETTINGS.max_value_bytes, ge=1, le=MAX_BYTES_SETTING, strict=True
    )
    tombstone_grace_seconds: float = Field(
        default=_SETTINGS.tombstone_grace_seconds, ge=0, le=MAX_TTL_SECONDS, strict=True
    )
    op_id_window_seconds: float = Field(
        default=_SETTINGS.op_id_window_seconds, ge=0, le=MAX_TTL_SECONDS, strict=True
    )
    max_clock_skew_seconds: float = Field(
        default=_SETTINGS.max_clock_skew_seconds, ge=0, le=MAX_TTL_SECONDS, strict=True
    )
    change_log_max_entries: int = Field(default=_SETTINGS.change_log_max_entries, ge=1, strict=True)
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
