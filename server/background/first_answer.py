"""``FirstAnswer``: background work waits until the server has answered its first request.

An editor starts the stdio server at every session and waits for its ``initialize``
answer (Gemini CLI's ``gemini mcp list`` gives it 5 s, at a busy machine's pace). What the
lifespan starts in the background (the maintenance scheduler, the indexer) is not needed
to answer, but it competed for the one interpreter lock while the first answer was being
prepared: APScheduler's import and set-up, and the indexer's first look, which loads the
semantic engine. The stdio transport calls ``answered()`` once its first answer is written;
the lifespan's background starter waits for that (``wait``), or for ``AT_LATEST_SECONDS``
when no request comes, so maintenance still starts for a client that connects and stays
silent. Over HTTP, and for in-process clients, there is no gate: everything starts at once.
"""

from __future__ import annotations

import anyio

AT_LATEST_SECONDS = 5.0


class FirstAnswer:
    """Set once, by the transport, on the event loop the lifespan runs on."""

    def __init__(self) -> None:
        self._answered = False
        self._event: anyio.Event | None = None

    @property
    def is_answered(self) -> bool:
        return self._answered

    def answered(self) -> None:
        """The first answer has been written (later calls do nothing)."""
        if self._answered:
            return
        self._answered = True
        if self._event is not None:
            self._event.set()

    async def wait(self, at_latest: float = AT_LATEST_SECONDS) -> None:
        """Return once ``answered()`` was called, or after ``at_latest`` seconds."""
        if self._answered:
            return
        if self._event is None:
            self._event = anyio.Event()  # made on the loop: anyio binds it to the backend
        with anyio.move_on_after(at_latest):
            await self._event.wait()
