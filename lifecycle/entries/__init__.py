"""The entry model and its CRDT rules: what is stored for a key, how a write, an
import and a delete change it, and how it is encoded. Pure: no store I/O but through
the ``Store`` contract."""
