"""The aiohttp application: every HTTP surface of the emulator on one server."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..clock import Clock
from ..config import EmulatorConfig
from ..mapping import Mapping as MappingFn
from . import control_api, destination_api, openapi_api, refersion_api, tracking_api, ui
from .access_middleware import access_middleware
from .engage_api import routes as engage_routes
from .fault_injection import fault_middleware
from .faults_api import routes as fault_routes
from .http_errors import SERVER_ERRORS, error_middleware
from .keys import RUNTIME
from .regulations_api import routes as regulations_routes
from .runtime import Runtime

__all__ = ["create_app"]

# Regulations may carry up to 4 MB of subject ids; every handler applies its own smaller cap.
_CLIENT_MAX_SIZE = 4 * 1024 * 1024 + 1024


def create_app(
    config: EmulatorConfig, *, clock: Clock | None = None, mapping: MappingFn | None = None
) -> web.Application:
    """Build the application; the delivery pipeline starts and stops with it."""
    app = web.Application(
        middlewares=[tracking_api.cors_middleware, error_middleware],
        client_max_size=_CLIENT_MAX_SIZE,
    )
    app.middlewares.append(fault_middleware)
    app[RUNTIME] = Runtime(config, clock=clock, mapping=mapping)
    app[SERVER_ERRORS] = []
    app.middlewares.append(access_middleware)
    app.add_routes(tracking_api.routes)
    app.add_routes(destination_api.routes)
    app.add_routes(refersion_api.routes)
    app.add_routes(control_api.routes)
    ui.setup(app)
    app.add_routes(engage_routes)
    app.add_routes(regulations_routes)
    app.add_routes(fault_routes)
    app.add_routes(openapi_api.routes)
    app.cleanup_ctx.append(_journal_lifetime)
    app.cleanup_ctx.append(_pipeline_lifetime)
    return app


async def _pipeline_lifetime(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    await runtime.pipeline.start()
    yield
    await runtime.pipeline.stop()
    runtime.store.close()


async def _journal_lifetime(app: web.Application) -> AsyncIterator[None]:
    # Registered before the pipeline's: the writer starts first and writes last.
    durable = app[RUNTIME].durable
    if durable is None:
        yield
        return
    await durable.start()
    yield
    await durable.stop()
