"""JSON errors for every HTTP surface, shaped as each surface's real counterpart shapes them."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..errors import EmulatorError

__all__ = [
    "SERVER_ERRORS",
    "BodyError",
    "error_middleware",
    "json_error",
    "parse_json_body",
    "read_body",
    "read_json_object",
]

log = logging.getLogger("emulator.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    return web.json_response(body, status=status)


class BodyError(EmulatorError):
    """A request the endpoint cannot take; the middleware turns it into a JSON 4xx."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status
        self.code = code
        self.message = message


async def read_body(request: web.Request, *, limit: int, too_large_status: int = 413) -> bytes:
    """Read the (decompressed) body, refusing it as soon as it passes ``limit`` bytes.

    aiohttp inflates ``Content-Encoding: gzip`` while streaming, so counting here refuses a
    gzip bomb after ``limit`` bytes of output instead of after inflating all of it.
    """
    if request.content_length is not None and request.content_length > limit:
        raise BodyError(too_large_status, "request_too_large", _too_large(request, limit))
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise BodyError(too_large_status, "request_too_large", _too_large(request, limit))
            chunks.append(chunk)
    except web.RequestPayloadError as exc:
        # e.g. a body that claims Content-Encoding: gzip and is not gzip.
        raise BodyError(
            400, "invalid_body", f"cannot read the body: {exc.__cause__ or exc}"
        ) from None
    return b"".join(chunks)


def _too_large(request: web.Request, limit: int) -> str:
    return f"body of {request.path} is over {limit} bytes (after decompression)"


def parse_json_body(raw: bytes, *, what: str = "body") -> Any:
    """Parse ``raw`` as JSON or raise a 400 naming the problem."""
    if not raw.strip():
        raise BodyError(400, "empty_body", f"{what} is empty; expected a JSON object")
    try:
        value = json.loads(raw)
    except UnicodeDecodeError:
        raise BodyError(400, "invalid_json", f"{what} is not valid UTF-8") from None
    except RecursionError:
        raise BodyError(400, "invalid_json", f"{what} nests too deeply to parse") from None
    except ValueError as exc:
        raise BodyError(400, "invalid_json", f"{what} is not valid JSON: {exc}") from None
    return value


def read_json_object(raw: bytes, *, what: str = "body") -> dict[str, Any]:
    """Parse ``raw`` as a JSON object or raise a 400 naming the problem."""
    value = parse_json_body(raw, what=what)
    if not isinstance(value, dict):
        raise BodyError(400, "invalid_json", f"{what} must be a JSON object")
    return value


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as JSON; an unexpected exception is logged and counted, never hidden."""
    try:
        return await handler(request)
    except BodyError as exc:
        return json_error(request, exc.status_code, exc.code, exc.message)
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
    except Exception as exc:  # a bug: answer, record, and keep serving
        log.exception("unhandled error on %s %s", request.method, request.path)
        request.app[SERVER_ERRORS].append(f"{request.method} {request.path}: {exc!r}")
        return json_error(request, 500, "internal_error", f"emulator bug: {exc!r}")


SERVER_ERRORS = web.AppKey("server_errors", list[str])
