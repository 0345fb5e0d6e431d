"""The inspector: ``/_emulator/ui`` serves the static page under ``static/`` as it is.

No build step: the page is plain HTML, CSS and JavaScript that read the control API and the
live stream. ``/`` redirects here, so the emulator's address opens the inspector.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from emulator.server import inspector_api, live_stream
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
    # Revalidate every time (FileResponse answers 304 from its ETag), so an upgrade shows.
    "Cache-Control": "no-cache",
}


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
async def page(_request: web.Request) -> web.StreamResponse:
    return web.FileResponse(
        STATIC_DIR / "index.html", headers={**_HEADERS, "Content-Type": "text/html"}
    )


@routes.get(UI_PATH + "/{asset}")
async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["asset"]
    content_type = _ASSETS.get(name)
    if content_type is None:
        known = ", ".join(sorted(_ASSETS))
        raise BodyError(404, "not_found", f"no inspector file {name!r}; files: {known}")
    return web.FileResponse(STATIC_DIR / name, headers={**_HEADERS, "Content-Type": content_type})
