"""The inspector: ``/_emulator/ui`` serves the static page under ``static/``.

No build step: the page is plain HTML, CSS and JavaScript that read the control API and the
live stream; it arrives with the newest event summaries in it, as JSON data. ``/``
redirects here, so the emulator's address opens the inspector.
"""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from emulator.server import inspector_api, live_stream
from emulator.server.keys import RUNTIME
from emulator.web.errors import BodyError

__all__ = ["STATIC_DIR", "UI_PATH", "routes", "setup"]

routes = web.RouteTableDef()

UI_PATH = "/_emulator/ui"
STATIC_DIR = Path(__file__).resolve().parent / "static"

_CONTENT_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
# Served by name from this fixed set, so no request path ever reaches the filesystem.
_ASSETS = {
    path.name: _CONTENT_TYPES[path.suffix]
    for path in STATIC_DIR.iterdir()
    if path.suffix in _CONTENT_TYPES
}
# The page shows payloads from anyone who can post to the emulator. Escaping is the defence;
# this policy makes sure a mistake in it still cannot run script or load anything foreign.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate every time (assets answer 304 from their ETag), so an upgrade shows.
    "Cache-Control": "no-cache",
}
# As many summaries as the page's list holds (MAX_ROWS in inspector.js).
_INITIAL_EVENTS = 500
_INITIAL_SLOT = "</head>"


def setup(app: web.Application) -> None:
    """Serve the inspector on ``app``: the page, the summaries it reads, the live stream."""
    app.add_routes(routes)
    app.add_routes(inspector_api.routes)
    live_stream.setup(app)


@routes.get("/")
async def root(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(UI_PATH)


@routes.get(UI_PATH + "/")
async def ui_slash(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(UI_PATH)


@routes.get(UI_PATH)
async def page(request: web.Request) -> web.StreamResponse:
    """The page with the newest summaries inside it, so the event list is filled as soon as
    the document is parsed, before the page's load event and before the live stream opens."""
    traces = request.app[RUNTIME].journal.query(limit=_INITIAL_EVENTS)
    summaries = json.dumps([trace.summary_dict() for trace in traces], ensure_ascii=False)
    # Inside <script>, "<" must not start "</script>" or "<!--": JSON may spell it \u003c.
    data = summaries.replace("<", "\\u003c")
    html = (
        (STATIC_DIR / "index.html")
        .read_text(encoding="utf-8")
        .replace(
            _INITIAL_SLOT,
            f'<script type="application/json" id="initial-events">{data}</script>\n{_INITIAL_SLOT}',
            1,
        )
    )
    return web.Response(text=html, content_type="text/html", headers=_HEADERS)


@routes.get(UI_PATH + "/{asset}")
async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["asset"]
    content_type = _ASSETS.get(name)
    if content_type is None:
        known = ", ".join(sorted(_ASSETS))
        raise BodyError(404, "not_found", f"no inspector file {name!r}; files: {known}")
    return web.FileResponse(STATIC_DIR / name, headers={**_HEADERS, "Content-Type": content_type})
