"""One log line per kind of trouble the emulator cannot help, at most every few seconds.

A client that hangs up mid-body, a request that is not HTTP, or a process out of file
descriptors is the world misbehaving, not the emulator: each earns one line naming what
happened (with a count of the lines held back since), never a traceback, and never the words
"emulator bug", which stay reserved for real bugs. aiohttp and asyncio log such events with
tracebacks of their own, so :func:`install` also filters their loggers through the same limit.
"""

from __future__ import annotations

import logging
import threading
import time

__all__ = ["install", "note"]

log = logging.getLogger("emulator.server")

_INTERVAL = 10.0
_lock = threading.Lock()
# kind → (when it was last logged, how many were held back since)
_last: dict[str, tuple[float, int]] = {}


def note(kind: str, message: str) -> None:
    """Log ``message`` as a warning unless a line of this ``kind`` went out lately."""
    line = _admit(kind, message)
    if line is not None:
        log.warning("%s", line)


def _admit(kind: str, message: str) -> str | None:
    """The line to log for this ``kind`` now, or ``None`` to hold it back."""
    now = time.monotonic()
    with _lock:
        last, held = _last.get(kind, (float("-inf"), 0))
        if now - last < _INTERVAL:
            _last[kind] = (last, held + 1)
            return None
        _last[kind] = (now, 0)
    more = f" ({held} more like it in the last {_INTERVAL:g} s)" if held else ""
    return f"{message}{more}"


class _OneLine(logging.Filter):
    """Turns aiohttp's and asyncio's tracebacks for outside trouble into rate-limited lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        kind = _kind(record)
        if kind is None:
            return True
        error = record.exc_info[1] if record.exc_info else None
        detail = f": {error!r}" if error is not None else ""
        line = _admit(kind, f"{_WORDS[kind]}{detail}")
        if line is None:
            return False
        record.msg, record.args = "%s", (line,)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_WORDS = {
    "malformed_http": "a request that is not valid HTTP was refused",
    "client_gone": "a client hung up before its answer was sent",
    "out_of_descriptors": "out of file descriptors: new connections wait until some close",
}


def _kind(record: logging.LogRecord) -> str | None:
    error = record.exc_info[1] if record.exc_info else None
    message = record.getMessage()
    if "out of system resource" in message or (
        isinstance(error, OSError) and error.errno in (23, 24)  # ENFILE, EMFILE
    ):
        return "out_of_descriptors"
    if error is None:
        return None
    name = type(error).__name__
    if name in ("BadHttpMessage", "BadStatusLine", "LineTooLong", "InvalidHeader") or any(
        cls.__name__ == "HttpProcessingError" for cls in type(error).__mro__
    ):
        return "malformed_http"
    if isinstance(error, ConnectionError):
        return "client_gone"
    return None


_FILTER = _OneLine()


def install() -> None:
    """Filter aiohttp's server logger and asyncio's logger (once per process)."""
    for name in ("aiohttp.server", "asyncio"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
