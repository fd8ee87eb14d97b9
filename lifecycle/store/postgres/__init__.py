"""The PostgreSQL store, one module per job: the store (``store``), the two-round-trip
transaction, the change log, locks and revisions, LISTEN/NOTIFY, call deadlines, the
full-text index and vectors."""
