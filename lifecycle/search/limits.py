"""How many results a search returns when not told: its own module, not ``keyword``'s,
because ``MemoryLifecycleManager.search`` declares it as a default, and a hook that makes
a manager need not import keyword search (nor compile its query syntax's patterns)."""

DEFAULT_LIMIT = 10
