"""What runs in the background: maintenance on a schedule inside the server, indexing
for search by meaning, and the ``daemon`` command's process.

Imports nothing: ``import server.background.x`` costs only ``x``."""
