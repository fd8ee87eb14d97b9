"""What init sets up whichever clients are named: the policy file and ``.gitignore``."""

from __future__ import annotations

from importlib import resources

from lifecycle.paths import DEFAULT_MEMORY_DIR

POLICY_TEMPLATE = "memory-retention-policies.yaml"  # package data of `lifecycle`
STORE_IGNORE = f"{DEFAULT_MEMORY_DIR.as_posix()}/"
_IGNORED_ALREADY = {".claude-flow", ".claude-flow/*", ".claude-flow/**", ".claude-flow/memory"}
_IGNORED_ALREADY |= {p + "/" for p in _IGNORED_ALREADY} | {".claude-flow/memory/*"}


def default_policies() -> str:
    """The shipped default policy file (the same text as this repository's own)."""
    return resources.files("lifecycle").joinpath(POLICY_TEMPLATE).read_text(encoding="utf-8")


def merge_gitignore(text: str | None) -> tuple[str, list[str]]:
    """``.gitignore`` ignoring the store (values are per machine; share them by export)."""
    text = text or ""
    lines = {line.strip().lstrip("/") for line in text.splitlines()}
    if lines & _IGNORED_ALREADY:
        return text, []
    nl = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith("\n"):
        text += nl
    block = f"# memory-lifecycle store (one per machine){nl}{STORE_IGNORE}{nl}"
    return text + (nl if text else "") + block, [f"ignore {STORE_IGNORE}"]
