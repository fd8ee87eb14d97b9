"""The embedded SQLite store, one module per job: the store's queries (``store``), its
tables (``schema``), per-thread connections (``connections``), write transactions
(``transaction``), its files, the writers' gate, the change log, the full-text index,
vectors, reading a store that cannot be written, and giving space back."""
