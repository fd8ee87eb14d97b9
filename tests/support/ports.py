"""Loopback ports for the servers a test starts, held so a parallel run never hands one
port to two tests.

``free_port()`` binds a socket to port 0 and keeps it until ``release_ports()`` (the
autouse fixture in ``tests/conftest.py`` calls it after each test). Closing the probe at
once would leave a gap before the server binds, in which another pytest-xdist worker's
``bind(("127.0.0.1", 0))`` or an outgoing connection may take the port. The socket kept
here is bound with SO_REUSEADDR and never listens: Linux then gives the port to no one
else, yet lets our server (``server.http.runner.listen`` sets SO_REUSEADDR too) bind it and
listen on it.
"""

from __future__ import annotations

import socket

_held: list[socket.socket] = []


def free_port() -> int:
    """A free loopback port, held for the running test (see the module docstring)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    _held.append(sock)
    return sock.getsockname()[1]


def release_ports() -> None:
    """Close the sockets holding the ports ``free_port()`` handed out."""
    while _held:
        _held.pop().close()
