"""The policy file's schema, validated with pydantic.

Kept apart from ``lifecycle.policy`` so that pydantic is imported only when a
policy file's text actually needs validating: a hook command that finds the
already-validated policies cached in the store starts ~60 ms faster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import PolicyError
from .policy import CleanupStrategy, ConflictStrategy


class _PolicyFields(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ttl_seconds: float = Field(default=0, ge=0, description="0 = never expires")
    cleanup_strategy: CleanupStrategy = CleanupStrategy.MANUAL
    conflict_strategy: ConflictStrategy = ConflictStrategy.LAST_WRITE_WINS
    compression_enabled: bool = True
    compression_threshold_bytes: int = Field(default=1024, ge=0)
    max_siblings: int = Field(default=16, ge=1, le=1024)


class PolicyModel(_PolicyFields):
    namespace: str = Field(min_length=1)
    ttl_seconds: float = Field(ge=0, description="0 = never expires")
    cleanup_strategy: CleanupStrategy
    conflict_strategy: ConflictStrategy


class DefaultPolicyModel(_PolicyFields):
    """The ``default:`` section: rules for keys that match no namespace."""


class SettingsModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_value_bytes: int = Field(default=1024 * 1024, ge=1)
    tombstone_grace_seconds: float = Field(default=7 * 86400, ge=0)
    op_id_window: int = Field(default=1000, ge=1)


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
        err = exc.errors()[0]
        where = _describe_location(doc, err["loc"])
        extra = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise PolicyError(f"{source}: {where}: {err['msg']}{extra}", path=source) from exc
    return parsed.model_dump(mode="json")


def _describe_location(doc: Any, loc: Sequence[Any]) -> str:
    if len(loc) >= 2 and loc[0] == "namespaces" and isinstance(loc[1], int):
        idx = loc[1]
        name = None
        items = doc.get("namespaces") if isinstance(doc, dict) else None
        if isinstance(items, list) and idx < len(items) and isinstance(items[idx], dict):
            name = items[idx].get("namespace")
        what = f"policy '{name}'" if name else f"policy #{idx + 1}"
        rest = ".".join(str(x) for x in loc[2:]) or "(the policy itself)"
        return f"{what} (namespaces[{idx}]), field '{rest}'"
    if loc and loc[0] == "default":
        return f"policy 'default', field '{'.'.join(str(x) for x in loc[1:]) or 'default'}'"
    return "field '" + ".".join(str(x) for x in loc) + "'"
