"""Finding entries: by their words (the query syntax, keyword search over the
full-text index) and by their meaning (``semantic``: embeddings, hybrid ranking)."""
