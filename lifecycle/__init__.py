"""memory-lifecycle's engine: a lifecycle-managed memory for agent swarms.

Importable and useful without MCP: ``MemoryLifecycleManager`` stores JSON
values under keys, expires them by namespace policy, merges concurrent writes
as CRDTs and compresses large values, on one SQLite file or PostgreSQL.
"""

from .clock import HybridLogicalClock, ManualClock
from .codec import MemoryCompressor
from .crdt import CRDTResolver
from .entry import Conflict, DeleteResult, MemoryEntry, StoreResult
from .errors import (
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
from .gc import CleanupReport, MemoryGarbageCollector
from .manager import MemoryLifecycleManager
from .policy import CleanupStrategy, ConflictStrategy, PolicySet, RetentionPolicy

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
