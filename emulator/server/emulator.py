"""Run the application on a real socket: ``async with Emulator(config) as emu: ...``."""

from __future__ import annotations

from types import TracebackType

from aiohttp import web

from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.destination.mapping import Mapping as MappingFn
from emulator.faults.rules import FaultRule
from emulator.faults.specs import parse_fault_spec
from emulator.journal.reconcile import Reconciliation, reconcile
from emulator.server.app import create_app
from emulator.server.keys import RUNTIME
from emulator.server.runtime import Runtime
from emulator.web import quiet_log
from emulator.web.errors import SERVER_ERRORS

__all__ = ["Emulator"]


class Emulator:
    """A started emulator bound to ``config.host:config.port`` (port 0 picks a free one)."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Clock | None = None,
        mapping: MappingFn | None = None,
    ) -> None:
        self.config = config or EmulatorConfig(port=0)
        self.app = create_app(self.config, clock=clock, mapping=mapping)
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def runtime(self) -> Runtime:
        return self.app[RUNTIME]

    @property
    def app_errors(self) -> list[str]:
        """Unhandled exceptions the server answered with 500; empty when all is well."""
        return self.app[SERVER_ERRORS]

    @property
    def segment_host(self) -> str:
        """What to give a Segment client library as ``host``."""
        return self.url

    @property
    def refersion_url(self) -> str:
        return self.runtime.refersion_url

    @property
    def destination_url(self) -> str:
        return self.runtime.destination_url

    def add_fault(self, rule: FaultRule | str) -> FaultRule:
        """Put a fault rule in force; returns it with its id.

        ``rule`` is a :class:`FaultRule` or the ``serve --fault`` syntax, such as
        ``"refersion:affiliate/new=503@0.3"``.
        """
        return self.runtime.faults.add(parse_fault_spec(rule) if isinstance(rule, str) else rule)

    def remove_fault(self, rule_id: str) -> bool:
        return self.runtime.faults.remove(rule_id)

    def clear_faults(self) -> None:
        self.runtime.faults.clear()

    @property
    def faults(self) -> list[FaultRule]:
        """The fault rules in force, in the order they are tried."""
        return self.runtime.faults.rules()

    def report(self) -> Reconciliation:
        """accepted = delivered + filtered + discarded + expired + pending, by outcome."""
        return reconcile(self.runtime.journal.tallies())

    async def start(self) -> None:
        quiet_log.install()
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            keepalive_timeout=self.config.header_timeout,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self.config.host, self.config.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{port}"
        self.runtime.base_url = self.url
        # Deliveries an earlier run left unfinished go to this address.
        self.runtime.pipeline.resume()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
