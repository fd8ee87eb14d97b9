"""memory-lifecycle's engine: a lifecycle-managed memory for agent swarms.

Importable and useful without MCP: ``MemoryLifecycleManager`` stores JSON
values under keys, expires them by namespace policy, merges concurrent writes
as CRDTs and compresses large values, on one SQLite file or PostgreSQL.

The names below load on first use (module ``__getattr__``): a hook process
imports only the modules its command needs, and ``import lifecycle`` alone costs
next to nothing. Type checkers see ordinary imports.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

    from lifecycle.basics.clock import HybridLogicalClock, ManualClock
    from lifecycle.entries.codec import MemoryCompressor
    from lifecycle.entries.crdt import CRDTResolver
    from lifecycle.entries.entry import Conflict, DeleteResult, MemoryEntry, StoreResult
    from lifecycle.errors import (
        CompactedError,
        ConfigurationError,
        EntryNotFoundError,
        ImportFormatError,
        InvalidContextError,
        InvalidKeyError,
        InvalidQueryError,
        InvalidValueError,
        LifecycleError,
        LockTimeout,
        PolicyError,
        StoreBusyError,
        StoreError,
        ValueTooLargeError,
    )
    from lifecycle.gc import CleanupReport, MemoryGarbageCollector
    from lifecycle.manager import MemoryLifecycleManager
    from lifecycle.policies.retention import (
        CleanupStrategy,
        ConflictStrategy,
        PolicySet,
        RetentionPolicy,
    )

__all__ = [
    "CRDTResolver",
    "CleanupReport",
    "CleanupStrategy",
    "CompactedError",
    "ConfigurationError",
    "Conflict",
    "ConflictStrategy",
    "DeleteResult",
    "EntryNotFoundError",
    "HybridLogicalClock",
    "ImportFormatError",
    "InvalidContextError",
    "InvalidKeyError",
    "InvalidQueryError",
    "InvalidValueError",
    "LifecycleError",
    "LockTimeout",
    "ManualClock",
    "MemoryCompressor",
    "MemoryEntry",
    "MemoryGarbageCollector",
    "MemoryLifecycleManager",
    "PolicyError",
    "PolicySet",
    "RetentionPolicy",
    "StoreBusyError",
    "StoreError",
    "StoreResult",
    "ValueTooLargeError",
]

__version__ = "0.1.0"

# each exported name -> the submodule that defines it
_HOMES = {
    "HybridLogicalClock": "basics.clock",
    "ManualClock": "basics.clock",
    "MemoryCompressor": "entries.codec",
    "CRDTResolver": "entries.crdt",
    "Conflict": "entries.entry",
    "DeleteResult": "entries.entry",
    "MemoryEntry": "entries.entry",
    "StoreResult": "entries.entry",
    "CompactedError": "errors",
    "ConfigurationError": "errors",
    "EntryNotFoundError": "errors",
    "ImportFormatError": "errors",
    "InvalidContextError": "errors",
    "InvalidKeyError": "errors",
    "InvalidQueryError": "errors",
    "InvalidValueError": "errors",
    "LifecycleError": "errors",
    "LockTimeout": "errors",
    "PolicyError": "errors",
    "StoreBusyError": "errors",
    "StoreError": "errors",
    "ValueTooLargeError": "errors",
    "CleanupReport": "gc",
    "MemoryGarbageCollector": "gc",
    "MemoryLifecycleManager": "manager",
    "CleanupStrategy": "policies.retention",
    "ConflictStrategy": "policies.retention",
    "PolicySet": "policies.retention",
    "RetentionPolicy": "policies.retention",
}


def __getattr__(name: str) -> Any:
    """Import an exported name's module on first use, then keep the name here."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = f"{__name__}.{home}"
    __import__(module)  # importlib.import_module's work, without importing importlib (~2M)
    value = getattr(sys.modules[module], name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
