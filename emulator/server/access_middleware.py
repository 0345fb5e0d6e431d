"""Applies :mod:`emulator.access` to every request before any handler sees it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from emulator.access import (
    TOKEN_COOKIE,
    AccessPolicy,
    check_access,
    is_loopback_host,
    token_matches,
)
from emulator.config import EmulatorConfig
from emulator.server.keys import RUNTIME
from emulator.web.errors import json_error

__all__ = ["access_middleware"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_TOKEN_HEADER = "X-Emulator-Token"  # noqa: S105 (a header name)


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse with a JSON 401/403 what :func:`emulator.access.check_access` refuses."""
    config = request.app[RUNTIME].config
    policy = _policy(config)
    query_token: str | None = None
    tokens: tuple[str | None, ...] = ()
    if policy.control_token is not None:
        # Only a control token makes them matter: no query or cookie parsing per request else.
        query_token = request.query.get("token")
        tokens = (
            _bearer(request.headers.get("Authorization")),
            request.headers.get(_TOKEN_HEADER),
            request.cookies.get(TOKEN_COOKIE),
            query_token,
        )
    refusal = check_access(
        policy,
        method=request.method,
        path=request.path,
        own_origin=f"{request.scheme}://{request.host}",
        host=request.headers.get("Host"),
        origin=request.headers.get("Origin"),
        sec_fetch_site=request.headers.get("Sec-Fetch-Site"),
        peer=request.remote,
        tokens=tokens,
    )
    if refusal is not None:
        refused = json_error(request, refusal.status, refusal.code, refusal.message)
        if refusal.status == 401:
            refused.headers["WWW-Authenticate"] = 'Bearer realm="refersion-emulator"'
        return refused
    response = await handler(request)
    if config.control_token is not None and token_matches(query_token, config.control_token):
        # A person opening /_emulator/ui?token=… once; the page's own requests carry the cookie.
        response.set_cookie(
            TOKEN_COOKIE,
            config.control_token,
            path="/_emulator",
            httponly=True,
            samesite="Strict",
        )
    return response


# The policy of the configuration last seen, built once, not per request (a configuration is
# frozen; a process usually runs one). Compared by identity: another configuration rebuilds it.
_last: tuple[EmulatorConfig, AccessPolicy] | None = None


def _policy(config: EmulatorConfig) -> AccessPolicy:
    global _last
    last = _last
    if last is not None and last[0] is config:
        return last[1]
    policy = AccessPolicy(
        loopback_only=is_loopback_host(config.host),
        control_token=config.control_token,
        allowed_hosts=frozenset(name.rstrip(".").lower() for name in config.allowed_hosts),
        default_keys=config.default_keys,
    )
    _last = (config, policy)
    return policy


def _bearer(header: str | None) -> str | None:
    if header is None or header[:7].lower() != "bearer ":
        return None
    return header[7:].strip()
