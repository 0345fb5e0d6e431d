"""Who may reach the emulator: loopback binding, the control-API token, cross-site requests.

Pure decisions over plain request facts; ``server/access_middleware.py`` applies them.

* Bound to loopback (the default), every request must name a loopback host in ``Host``, so a
  web page cannot reach the emulator by rebinding its own domain name to 127.0.0.1. Exposed
  (``--allow-remote``), the check stays on: ``Host`` may also be an IP address (typed by a
  person, never a rebound name) or one of the names the user exposes it under
  (``--allow-host``).
* Exposed, the fake Refersion API and ``/destination`` refuse requests from other machines
  while the fake account uses its default keys: they are printed in the docs, so anyone on the
  network could read the affiliates' personal data with them.
* With a control token (required when bound to any other address), ``/_emulator/*`` answers
  only requests that carry it; it is compared in constant time.
* Requests that could change state are refused when a browser says they come from another
  site (``Sec-Fetch-Site``) or another origin (``Origin``): on ``/_emulator/*``, on Segment's
  Public API (``/regulations``), on ``/destination`` and on the fake Refersion API, none of
  which a web page has any business driving. A ``text/plain`` or form POST needs no CORS
  preflight, so refusing by content type would not be enough. The one exception is the
  Tracking API (``/v1/*``), which Segment's browser library (analytics.js) posts to from any
  site. Clients that send neither header (curl, scripts, Segment's servers and libraries) are
  not browsers and are let through.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass

__all__ = [
    "CONTROL_PREFIX",
    "MIN_TOKEN_LENGTH",
    "TOKEN_COOKIE",
    "AccessPolicy",
    "Refusal",
    "check_access",
    "is_loopback_host",
    "new_control_token",
    "token_matches",
]

CONTROL_PREFIX = "/_emulator"
# What the fake account's keys open: refused to other machines while they are the defaults.
_KEYED_PREFIXES = ("/refersion/", "/destination")
# Segment's Tracking API answers browsers on every site; nothing else here does.
_BROWSER_SURFACE = "/v1/"
MIN_TOKEN_LENGTH = 16
TOKEN_COOKIE = "emulator_token"  # noqa: S105 (a cookie name)
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# "same-site" is refused too: another port on localhost is the same site.
_BROWSER_SAME_ORIGIN = frozenset({"same-origin", "none"})


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessPolicy:
    """What this emulator demands of a request."""

    loopback_only: bool
    control_token: str | None = None
    allowed_hosts: frozenset[str] = frozenset()
    """Host names allowed besides loopback names and IP addresses, when not loopback-only."""
    default_keys: bool = False
    """The fake account takes its public default keys: refused to other machines."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused, as the HTTP status, code and sentence of a JSON error."""

    status: int
    code: str
    message: str


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, without port) can only mean this machine."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def new_control_token() -> str:
    """A fresh random token for the control API."""
    return secrets.token_urlsafe(32)


def token_matches(sent: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing tells nothing about the token."""
    if sent is None:
        return False
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def check_access(
    policy: AccessPolicy,
    *,
    method: str,
    path: str,
    own_origin: str,
    host: str | None,
    origin: str | None,
    sec_fetch_site: str | None,
    tokens: tuple[str | None, ...] = (),
    peer: str | None = None,
) -> Refusal | None:
    """The refusal for this request, or ``None`` when it may proceed.

    ``own_origin`` is ``scheme://host[:port]`` as the request addressed this server; ``tokens``
    are every control token the request carries (bearer, header, cookie, query); ``peer`` is
    the address the request came from.
    """
    if host is not None and not _host_allowed(policy, _host_name(host)):
        if policy.loopback_only:
            return Refusal(
                403,
                "host_not_allowed",
                f"Host {host!r} is not a loopback name; the emulator is bound to loopback and "
                "answers only requests addressed to localhost or a loopback address",
            )
        return Refusal(
            403,
            "host_not_allowed",
            f"Host {host!r} is not a name this emulator is exposed under; start it with "
            f"--allow-host {_host_name(host)} to allow it (names are checked so that a web "
            "page cannot reach the emulator by rebinding its own domain name)",
        )
    keyed = path.startswith(_KEYED_PREFIXES)
    if keyed and policy.default_keys and peer is not None and not is_loopback_host(peer):
        return Refusal(
            403,
            "default_keys_refused",
            f"{path} takes no requests from other machines while the fake Refersion account "
            "uses its default keys, which are public; start the emulator with --public-key, "
            "--secret-key and --api-key of your own",
        )
    is_control = path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")
    if is_control and policy.control_token is not None:
        sent = [token for token in tokens if token]
        if not sent:
            return Refusal(
                401,
                "token_required",
                f"{CONTROL_PREFIX}/* needs the control token: send 'Authorization: Bearer "
                "<token>' or 'X-Emulator-Token: <token>'",
            )
        # Every candidate is compared, so timing does not say which source was checked.
        matches = [token_matches(token, policy.control_token) for token in sent]
        if not any(matches):
            return Refusal(401, "token_invalid", "the control token does not match")
    if method.upper() not in _STATE_CHANGING or path.startswith(_BROWSER_SURFACE):
        return None
    if sec_fetch_site is not None and sec_fetch_site.lower() not in _BROWSER_SAME_ORIGIN:
        return Refusal(
            403,
            "cross_site_request",
            f"a {sec_fetch_site} browser request may not change the emulator's state "
            f"({method} {path}); use the inspector page or a client without a browser",
        )
    if origin is not None and origin.lower() != own_origin.lower():
        return Refusal(
            403,
            "cross_site_request",
            f"a request from origin {origin!r} may not change the emulator's state "
            f"({method} {path}); only {own_origin} may",
        )
    return None


def _host_allowed(policy: AccessPolicy, name: str) -> bool:
    if is_loopback_host(name):
        return True
    if policy.loopback_only:
        return False
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return name.rstrip(".").lower() in policy.allowed_hosts
    return True


def _host_name(host: str) -> str:
    """``host`` without its port: ``[::1]:8765`` → ``::1``, ``localhost:8765`` → ``localhost``."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host
