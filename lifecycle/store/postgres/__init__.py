"""The PostgreSQL store, one module per job: the store's queries (``store``), its
tables (``schema``), the pool (``connections``), the URL's options (``settings``), the
two-round-trip transaction, the change log, locks and revisions, LISTEN/NOTIFY, call
deadlines, the full-text index and vectors."""
