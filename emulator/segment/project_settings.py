"""The project settings document the browser library loads at start, pointed at the emulator.

Analytics.js 2.0 (``@segment/analytics-next``) fetches ``{cdnURL}/v1/projects/{writeKey}/settings``
before it sends anything and builds its Segment.io plugin from
``integrations["Segment.io"]``: ``apiKey`` (the write key), ``apiHost`` (host and path prefix,
``api.segment.io/v1`` by default) and ``protocol``; its own error metrics go to ``metrics.host``.
The emulator answers with settings whose every address is its own, so a page only sets
``cdnURL``. Pure: the caller passes the host the request was addressed to.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_WRITE_KEY_LENGTH", "project_settings", "write_key_problem"]

# Far above any real write key (a short token); it only keeps hostile paths out of the answer.
MAX_WRITE_KEY_LENGTH = 256


def write_key_problem(write_key: str) -> str | None:
    """Why ``write_key`` cannot name a project, or ``None``."""
    if not write_key.strip():
        return "writeKey is empty; expected the source's write key"
    if len(write_key) > MAX_WRITE_KEY_LENGTH:
        return f"writeKey is {len(write_key)} characters; expected at most {MAX_WRITE_KEY_LENGTH}"
    if not write_key.isprintable():
        return "writeKey holds control or unprintable characters; expected a write key"
    return None


def project_settings(write_key: str, *, host: str, protocol: str) -> dict[str, Any]:
    """The settings for ``write_key`` with the Tracking API at ``protocol://host/v1``.

    Only the keys the library reads are set. No destination is listed besides Segment.io:
    Refersion runs in cloud mode, and a listed device-mode destination would make the
    library download its code from Segment's CDN.
    """
    api_host = f"{host}/v1"
    return {
        "integrations": {
            "Segment.io": {
                "apiKey": write_key,
                "apiHost": api_host,
                "protocol": protocol,
                "unbundledIntegrations": [],
                "addBundledMetadata": True,
                "maybeBundledConfigIds": {},
            }
        },
        "plan": {
            "track": {"__default": {"enabled": True, "integrations": {}}},
            "identify": {"__default": {"enabled": True}},
            "group": {"__default": {"enabled": True}},
        },
        # No metrics: the library takes their protocol only from inline settings, so with
        # cdnURL alone it would post them over https to this plain-http server.
        "metrics": {"host": api_host, "sampleRate": 0},
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
    }
