"""Loggers that import ``logging`` only when a message is to be shown.

``import logging`` (with ``traceback``, ``threading``, ``string``, ``weakref``) is ~29M
instructions, as much as the rest of a hook's own work, and a hook logs nothing when all
goes well. A ``LazyLogger`` stands in for ``logging.getLogger(name)``: a message below
the level that will apply is dropped without importing anything; any other message, or
any message once ``logging`` is imported (by the application, a test, a library), goes
through the real logger, so handlers, levels and ``caplog`` see what they always saw.

A command that sets up logging calls ``when_logging_starts`` instead of configuring at
once: the set-up then runs right before the first message that is shown.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

TYPE_CHECKING = False  # typing's own flag, without importing typing (~16M instructions)
if TYPE_CHECKING:
    import logging
    from types import TracebackType

    ExcInfo = (
        bool
        | BaseException
        | tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None]
        | None
    )

DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50

# the set-up to run before the first message shown, and the root level it will set
_pending: list[Callable[[], None]] = []
_pending_level = [WARNING]  # logging's own default for the root logger


def when_logging_starts(configure: Callable[[], None], level: int) -> None:
    """Run ``configure`` before the first message a lazy logger shows (at once when
    ``logging`` is already imported); ``level`` is the root level it sets."""
    if "logging" in sys.modules:
        configure()
        return
    _pending[:] = [configure]
    _pending_level[0] = level


def _start() -> None:
    if _pending:
        configure = _pending.pop()
        configure()


class LazyLogger:
    """``logging.getLogger(name)``, looked up on the first message that is shown."""

    __slots__ = ("_logger", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: logging.Logger | None = None

    def _real(self) -> logging.Logger:
        if self._logger is None:
            import logging

            _start()
            self._logger = logging.getLogger(self.name)
        return self._logger

    def _shown(self, level: int) -> bool:
        """Whether a message at ``level`` may be shown; False only while ``logging`` is
        not imported and the level that will apply is above it."""
        return self._logger is not None or "logging" in sys.modules or level >= _pending_level[0]

    def log(
        self,
        level: int,
        msg: object,
        *args: object,
        exc_info: ExcInfo = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        if self._shown(level):
            self._real().log(
                level,
                msg,
                *args,
                exc_info=exc_info,
                stack_info=stack_info,
                stacklevel=stacklevel + 1,  # the caller's line, not this one
                extra=extra,
            )

    def debug(self, msg: object, *args: object, exc_info: ExcInfo = None) -> None:
        self.log(DEBUG, msg, *args, exc_info=exc_info, stacklevel=2)

    def info(self, msg: object, *args: object, exc_info: ExcInfo = None) -> None:
        self.log(INFO, msg, *args, exc_info=exc_info, stacklevel=2)

    def warning(self, msg: object, *args: object, exc_info: ExcInfo = None) -> None:
        self.log(WARNING, msg, *args, exc_info=exc_info, stacklevel=2)

    def error(self, msg: object, *args: object, exc_info: ExcInfo = None) -> None:
        self.log(ERROR, msg, *args, exc_info=exc_info, stacklevel=2)

    def exception(self, msg: object, *args: object, exc_info: ExcInfo = True) -> None:
        self.log(ERROR, msg, *args, exc_info=exc_info, stacklevel=2)

    def critical(self, msg: object, *args: object, exc_info: ExcInfo = None) -> None:
        self.log(CRITICAL, msg, *args, exc_info=exc_info, stacklevel=2)

    def isEnabledFor(self, level: int) -> bool:
        return self._shown(level) and self._real().isEnabledFor(level)


def get_logger(name: str) -> LazyLogger:
    """What ``logging.getLogger(name)`` would give, imported on first use."""
    return LazyLogger(name)
