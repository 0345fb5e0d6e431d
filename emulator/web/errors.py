"""JSON errors for every HTTP surface, shaped as each surface's real counterpart shapes them."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from emulator.errors import InputError
from emulator.json_limits import (
    JsonLimitExceeded,
    check_json_limits,
    loads_replacing_invalid_unicode,
    strict_dumps,
)
from emulator.web.quiet_log import note

__all__ = [
    "BODY_TIMEOUT",
    "SERVER_ERRORS",
    "BodyError",
    "check_limits",
    "error_middleware",
    "json_error",
    "json_response",
    "parse_json_body",
    "parse_json_body_replacing",
    "read_body",
    "read_json_object",
]

log = logging.getLogger("emulator.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The Content-Encodings aiohttp inflates on its own while reading a body.
_DECODED = frozenset({"gzip", "deflate", "br", "zstd"})
# The machine running out of something, not the emulator going wrong.
_RESOURCE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EMFILE, errno.ENFILE}
)


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """``web.json_response`` that writes strict JSON only: no NaN, no Infinity."""
    return web.json_response(data, status=status, headers=headers, dumps=strict_dumps)


def json_error(request: web.Request, status: int, code: str, message: str) -> web.Response:
    """An error in the shape the client of that path parses.

    Segment clients read ``{"code", "message"}``; Segment reads ``{"message"}`` from a
    destination; Refersion clients read ``{"error"}``; Public API clients read ``{"errors"}``.
    """
    path = request.path
    body: dict[str, Any]
    if path.startswith("/destination"):
        body = {"message": message, "reason": code}
    elif path.startswith("/refersion/"):
        body = {"error": message}
    elif path.startswith("/regulations"):
        # Segment's Public API: a RequestErrorEnvelope.
        body = {"errors": [{"type": code, "message": message, "status": status}]}
    else:
        body = {"code": code, "message": message}
    return json_response(body, status=status)


class BodyError(InputError):
    """A request the endpoint cannot take; the middleware turns it into a JSON 4xx."""

    def __init__(
        self, status: int, code: str, message: str, *, close_connection: bool = False
    ) -> None:
        super().__init__(message)
        self.status_code = status
        self.code = code
        self.message = message
        # For a body that cannot be read to its end: answer, then hang up.
        self.close_connection = close_connection


async def read_body(request: web.Request, *, limit: int, too_large_status: int = 413) -> bytes:
    """Read the (decompressed) body, refusing it as soon as it passes ``limit`` bytes.

    aiohttp inflates ``Content-Encoding: gzip`` while streaming, so counting here refuses a
    gzip bomb after ``limit`` bytes of output instead of after inflating all of it. A body
    that takes longer than the configured ``body_timeout`` to arrive is refused with 408, so
    a client trickling bytes cannot hold a connection and a handler forever.
    """
    if request.content_length is not None and request.content_length > limit:
        raise BodyError(too_large_status, "request_too_large", _too_large(request, limit))
    timeout = request.app[BODY_TIMEOUT]
    chunks: list[bytes] = []
    size = 0
    content = request.content
    try:
        if content.is_eof():
            # The whole body has arrived (and is inflated) already, as a small one has by
            # the time its handler runs: nothing to wait for, nothing more to inflate.
            whole = content.read_nowait()
            if len(whole) > limit:
                raise BodyError(too_large_status, "request_too_large", _too_large(request, limit))
            return whole
        async with asyncio.timeout(timeout):
            async for chunk in content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise BodyError(
                        too_large_status, "request_too_large", _too_large(request, limit)
                    )
                chunks.append(chunk)
    except TimeoutError:
        raise BodyError(
            408,
            "request_timeout",
            f"the body of {request.method} {request.path} did not arrive within {timeout:g} s "
            "(body_timeout)",
            close_connection=True,
        ) from None
    except web.RequestPayloadError as exc:
        # e.g. a body that claims Content-Encoding: gzip and is not gzip.
        raise BodyError(
            400,
            "invalid_body",
            f"cannot read the body: {exc.__cause__ or exc}",
            close_connection=True,
        ) from None
    return b"".join(chunks)


def _too_large(request: web.Request, limit: int) -> str:
    return f"body of {request.path} is over {limit} bytes (after decompression)"


def parse_json_body(raw: bytes, *, what: str = "body") -> Any:
    """Parse ``raw`` as JSON within the JSON limits, or raise a 400 naming the problem."""
    return _parse(raw, what, replacing=False)[0]


def parse_json_body_replacing(raw: bytes, *, what: str = "body") -> tuple[Any, tuple[str, ...]]:
    """:func:`parse_json_body` for Segment's own entrances under ``invalid-unicode=replace``:
    invalid Unicode in strings becomes U+FFFD instead of a 400. Also returns the JSON pointers
    of the strings and keys replaced."""
    return _parse(raw, what, replacing=True)


def _parse(raw: bytes, what: str, *, replacing: bool) -> tuple[Any, tuple[str, ...]]:
    if not raw.strip():
        raise BodyError(400, "empty_body", f"{what} is empty; expected a JSON object")
    try:
        if replacing:
            value, replaced = loads_replacing_invalid_unicode(raw)
        else:
            value, replaced = json.loads(raw), ()
    except UnicodeDecodeError:
        raise BodyError(400, "invalid_json", f"{what} is not valid UTF-8") from None
    except RecursionError:
        raise BodyError(400, "invalid_json", f"{what} nests too deeply to parse") from None
    except ValueError as exc:
        raise BodyError(400, "invalid_json", f"{what} is not valid JSON: {exc}") from None
    return check_limits(value, what=what), replaced


def check_limits(value: Any, *, what: str = "body") -> Any:
    """``value`` if it is within the JSON limits, else a 400 naming the limit it breaks."""
    try:
        check_json_limits(value, what=what)
    except JsonLimitExceeded as exc:
        raise BodyError(400, exc.code, str(exc)) from None
    return value


def read_json_object(
    raw: bytes, *, what: str = "body", replace_invalid_unicode: bool = False
) -> dict[str, Any]:
    """Parse ``raw`` as a JSON object or raise a 400 naming the problem (with
    ``replace_invalid_unicode``, as :func:`parse_json_body_replacing` reads it)."""
    value, _ = _parse(raw, what, replacing=replace_invalid_unicode)
    if not isinstance(value, dict):
        raise BodyError(400, "invalid_json", f"{what} must be a JSON object")
    return value


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as JSON; an unexpected exception is logged and counted, never hidden."""
    response = await _answer(request, handler)
    if _unread_encoded_body(request) and not response.prepared:
        # aiohttp would inflate the unread rest to drain it after the answer, and a corrupt
        # one raises there, outside any handler.
        await _answer_and_hang_up(request, response)
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BodyError as exc:
        response = json_error(request, exc.status_code, exc.code, exc.message)
        if exc.close_connection:
            await _answer_and_hang_up(request, response)
        return response
    except web.HTTPException as exc:
        if exc.status_code < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}.get(
            exc.status_code, "bad_request"
        )
        message = exc.text or exc.reason
        if exc.status_code == 404:
            message = f"no such endpoint: {request.method} {request.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.path}"
        return json_error(request, exc.status_code, code, message)
    except ConnectionError as exc:
        # The client hung up (mid-body, or while a fault held its answer): nobody to answer.
        note("client_gone", f"a client hung up during {request.method} {request.path}: {exc!r}")
        return json_error(request, 400, "client_gone", "the client closed the connection")
    except (sqlite3.OperationalError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno not in _RESOURCE_ERRNOS:
            return _bug(request, exc)
        # A store the emulator cannot write (disk full, I/O error, locked): not a bug.
        note("store_unavailable", f"storage failed on {request.method} {request.path}: {exc}")
        return json_error(
            request,
            503,
            "store_unavailable",
            f"the emulator's storage cannot be used right now ({exc}); nothing was changed, "
            "retry later",
        )
    except Exception as exc:  # noqa: BLE001 - a bug: answer, record, and keep serving
        return _bug(request, exc)


def _bug(request: web.Request, exc: Exception) -> web.Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    request.app[SERVER_ERRORS].append(f"{request.method} {request.path}: {exc!r}")
    return json_error(request, 500, "internal_error", f"emulator bug: {exc!r}")


def _unread_encoded_body(request: web.Request) -> bool:
    encoded = request.headers.get("Content-Encoding", "").strip().lower() in _DECODED
    return encoded and request.body_exists and not request.content.is_eof()


async def _answer_and_hang_up(request: web.Request, response: web.StreamResponse) -> None:
    """Send ``response`` now and close the connection once it is flushed.

    Otherwise aiohttp would drain the rest of the body after the answer: for a slow client
    that is more waiting, and for a body that failed to decode it raises the same error
    again, outside any handler.
    """
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()


SERVER_ERRORS = web.AppKey("server_errors", list[str])
# Seconds a request body may take to arrive (the configuration's body_timeout).
BODY_TIMEOUT = web.AppKey("body_timeout", float)
