"""The aiohttp application: every HTTP surface of the emulator on one server."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.destination.http import receiver as destination_api
from emulator.destination.http.receiver import DESTINATION_HOST
from emulator.destination.http.refersion_client import refersion_session
from emulator.destination.mapping import Mapping as MappingFn
from emulator.fake_refersion.http import api as refersion_api
from emulator.fake_refersion.http.api import REFERSION_HOST
from emulator.faults.http.api import routes as fault_routes
from emulator.faults.http.injection import fault_middleware
from emulator.faults.http.keys import FAULT_INJECTOR
from emulator.segment.http import tracking_api
from emulator.segment.http.engage_api import routes as engage_routes
from emulator.segment.http.host import SEGMENT_HOST
from emulator.segment.http.regulations_api import routes as regulations_routes
from emulator.server import control_api, openapi_api, ui
from emulator.server.access_middleware import access_middleware
from emulator.server.assumptions_api import routes as assumptions_routes
from emulator.server.keys import RUNTIME
from emulator.server.runtime import Runtime
from emulator.web.errors import BODY_TIMEOUT, SERVER_ERRORS, error_middleware

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
    runtime = app[RUNTIME]
    app[SERVER_ERRORS] = []
    app[BODY_TIMEOUT] = config.body_timeout
    # Each surface finds what it needs under its own key: the concepts never import the server.
    app[SEGMENT_HOST] = runtime
    app[DESTINATION_HOST] = runtime
    app[REFERSION_HOST] = runtime
    app[FAULT_INJECTOR] = runtime.faults
    app.middlewares.append(access_middleware)
    app.add_routes(tracking_api.routes)
    app.add_routes(destination_api.routes)
    app.add_routes(refersion_api.routes)
    app.add_routes(control_api.routes)
    app.add_routes(assumptions_routes)
    ui.setup(app)
    app.add_routes(engage_routes)
    app.add_routes(regulations_routes)
    app.add_routes(fault_routes)
    app.add_routes(openapi_api.routes)
    app.cleanup_ctx.append(_journal_lifetime)
    # Before the pipeline's: deliveries stop before the destination's client closes.
    app.cleanup_ctx.append(refersion_session)
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
