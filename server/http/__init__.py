"""The HTTP side shared by ``serve --transport http`` and ``ui``: running an ASGI app
under our rules, bearer-token auth, allowed hosts, and readable answers to bodies the
SDK cannot read.

Imports nothing: ``import server.http.x`` costs only ``x``."""
