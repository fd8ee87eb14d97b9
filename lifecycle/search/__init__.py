"""Finding entries: by their words (the query syntax, keyword search over the
full-text index) and by their meaning (``semantic``: embeddings, hybrid ranking)."""

# here, not in ``keyword``: ``MemoryLifecycleManager.search`` declares it, and a hook that
# makes a manager need not compile the query syntax's patterns
DEFAULT_LIMIT = 10
