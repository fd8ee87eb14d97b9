"""A TCP proxy in the test process, to cause a real database outage safely.

The store connects to the proxy, the proxy to the real server. ``stop()`` closes
the listening socket and every relayed connection (the server looks down: new
connections are refused, open ones are cut); ``blackhole()`` accepts connections
but never answers (the server looks unreachable: connects hang); ``stall()`` stops
relaying but keeps every socket open, old and new (the server looks frozen, or
partitioned away: nothing is refused, nothing comes back) until ``resume()``;
``start()`` listens on the same port again (``free_port()`` holds it for the test
meanwhile). The real server is never touched.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from types import TracebackType

from tests.support.ports import free_port


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._forward = True
        self._stopping = threading.Event()
        self._stalled = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, *, forward: bool = True) -> None:
        if not self.port:  # held until the test ends: no other test takes it between restarts
            self.port = free_port()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._forward = forward
        self._stopping.clear()
        self._spawn(self._accept, listener)

    def blackhole(self) -> None:
        """Connections are accepted and then nothing: like a dropped route."""
        self.stop()
        self.start(forward=False)

    def stall(self) -> None:
        """Relay nothing more, in either direction, and close nothing: open connections
        wait forever, new ones are accepted and never answered."""
        self._stalled.set()

    def resume(self) -> None:
        """Relay again what the stalled connections sent meanwhile, and new connections."""
        self._stalled.clear()

    def stop(self) -> None:
        self._stopping.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _track(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._open.update(sockets)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self._track(client)
            if not self._forward or self._stalled.is_set():
                continue  # held open, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._track(upstream)
            self._spawn(self._relay, client, upstream)

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        watch = self._watcher(a)
        try:
            while not self._stopping.is_set():
                if self._stalled.is_set():
                    time.sleep(0.02)  # the bytes wait in the kernel's buffers
                    continue
                ready, _, _ = select.select(list(peers), [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    watch(sock is a, data)  # before forwarding: the answer comes after
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                with suppress(OSError):
                    sock.close()

    def _watcher(self, client: socket.socket) -> Callable[[bool, bytes], None]:
        """What sees one connection's bytes, ``(from_client, data)``, before they are
        forwarded; a subclass that reads the protocol returns its reader here."""
        return lambda from_client, data: None

    def __enter__(self) -> TcpProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
