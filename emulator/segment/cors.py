"""Which browser pages may call the Tracking API, and what its CORS headers say.

Web pages on every origin send events to Segment's Tracking API, so the emulator's ``/v1/*``
answers them: a preflight (``OPTIONS``) is granted for any origin and for the headers the
published libraries send, and every answer carries ``Access-Control-Allow-Origin``. No other
surface (the control API, the destination, the fake Refersion, the regulations API) sends a
CORS header, so a browser never lets a page of another origin read them.

Pure decisions over request facts; ``segment/http/tracking_api.py`` applies them. What exactly
Segment's servers answer to a preflight is not documented; the choices below are the
emulator's (docs/web-frontend.md, "Assumptions").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ALLOWED_HEADERS",
    "ALLOWED_METHODS",
    "TRACKING_PREFIX",
    "Preflight",
    "answers_browsers",
    "preflight",
    "response_headers",
]

TRACKING_PREFIX = "/v1/"
ALLOWED_METHODS = ("GET", "POST", "OPTIONS")
# What @segment/analytics-next sends (Content-Type: text/plain, Basic auth, X-Retry-Count on
# a retry) and analytics-react-native (application/json, X-Retry-Count).
ALLOWED_HEADERS = ("Authorization", "Content-Type", "X-Retry-Count")
# analytics-next honours Retry-After on a 429; a browser hides it unless it is exposed.
EXPOSED_HEADERS = ("Retry-After",)
MAX_AGE_SECONDS = 600
# What a browser sends as Origin: "null", or scheme://host[:port] in ASCII (RFC 6454).
_SERIALIZED_ORIGIN = re.compile(r"null|[A-Za-z][A-Za-z0-9+.-]*://[!-~]+")


@dataclass(frozen=True, slots=True)
class Preflight:
    """The answer to a preflight: headers that grant it, or why it is refused."""

    headers: Mapping[str, str]
    refusal: str | None = None


def answers_browsers(path: str) -> bool:
    """Whether ``path`` belongs to the Tracking API, the only surface that answers CORS."""
    return path.startswith(TRACKING_PREFIX)


def response_headers(origin: str | None) -> dict[str, str]:
    """The CORS headers of any Tracking API answer to a request from ``origin``.

    The page's origin is echoed with ``Allow-Credentials`` rather than ``*``: a beacon, or a
    fetch with ``credentials: 'include'``, is refused by the browser under ``*``. The Tracking
    API reads no cookie, so credentials give a page nothing more.
    """
    if origin is None or not _SERIALIZED_ORIGIN.fullmatch(origin):
        # Not a browser's origin: nothing to grant, and nothing odd echoed back.
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS),
        "Vary": "Origin",
    }


def preflight(
    origin: str | None,
    method: str | None,
    request_headers: str | None,
    *,
    extra_headers: tuple[str, ...] = (),
) -> Preflight:
    """Grant or refuse ``OPTIONS`` with ``Access-Control-Request-Method/-Headers``.

    ``extra_headers`` are allowed on top of the libraries' own (``serve --cors-allow-header``).
    """
    allowed_headers = (*ALLOWED_HEADERS, *extra_headers)
    granted = {
        **response_headers(origin),
        "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
        "Access-Control-Allow-Headers": ", ".join(allowed_headers),
        "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
    }
    if method is not None and method.strip().upper() not in ALLOWED_METHODS:
        return Preflight(
            granted,
            f"Access-Control-Request-Method {method!r} is not one the Tracking API takes "
            f"from browsers; allowed: {', '.join(ALLOWED_METHODS)}",
        )
    asked = [name.strip() for name in (request_headers or "").split(",") if name.strip()]
    allowed_names = {name.lower() for name in allowed_headers}
    refused = [name for name in asked if name.lower() not in allowed_names]
    if refused:
        return Preflight(
            granted,
            f"Access-Control-Request-Headers names {', '.join(map(repr, refused))}, which the "
            f"Tracking API does not allow from browsers; allowed: {', '.join(allowed_headers)} "
            "(allow more with serve --cors-allow-header NAME)",
        )
    return Preflight(granted)
