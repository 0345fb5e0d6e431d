"""The state one running emulator owns: journal, fake Refersion account, pipeline, settings."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable

from emulator.clock import Clock, SystemClock
from emulator.config import EmulatorConfig
from emulator.contract_checks.contract_set import ContractSet, default_contracts
from emulator.contract_checks.tally import ContractTally
from emulator.destination.mapping import Mapping as MappingFn
from emulator.destination.mapping import MappingSettings, map_message
from emulator.fake_refersion import AffiliateStore, FakeRefersion, FakeRefersionOptions
from emulator.faults.rules import FaultInjector
from emulator.journal.durability import DurableJournal, JournalWriteError
from emulator.journal.incidents import Incidents
from emulator.journal.store import JournalStore
from emulator.journal.traces import Journal, Trace
from emulator.segment import intake
from emulator.segment.delivery_policy import delivery_timeout, retry_policy
from emulator.segment.engage.space import EngageSpace
from emulator.segment.http.delivery_pipeline import DeliveryPipeline
from emulator.segment.intake import REDELIVERY
from emulator.segment.regulations.book import RegulationBook
from emulator.segment.regulations.suppression import SuppressionList
from emulator.segment.routing import Deduplicator

__all__ = ["REDELIVERY", "Runtime"]

log = logging.getLogger("emulator.server")


class Runtime:
    """Everything the HTTP handlers share. One per application."""

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        clock: Clock | None = None,
        mapping: MappingFn | None = None,
        contracts: ContractSet | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.rng = random.Random(config.seed)
        # Its own stream, so whether a repeat escapes dedupe does not shift retry jitter.
        self._dedupe_rng = random.Random(config.seed)
        self.contract_tally = ContractTally()
        self.contracts = (contracts or default_contracts()).observed(self.contract_tally.record)
        self.journal = Journal(cap=config.journal_cap)
        self.incidents = Incidents()
        # Opened first: it names the file in its error if the file is not a usable database.
        journal_store = JournalStore(config.journal_path) if config.journal_path else None
        # With a journal file, the fake Refersion account lives in the same file.
        try:
            self.store = AffiliateStore(config.journal_path or ":memory:")
        except BaseException:
            if journal_store is not None:
                journal_store.close()
            raise
        self.refersion = FakeRefersion(
            store=self.store,
            credentials=config.credentials,
            options=FakeRefersionOptions(seed=config.seed, assumptions=config.assumptions_in_force),
        )
        self.mapping: MappingFn = mapping or map_message
        self.engage = EngageSpace(rng=random.Random(config.seed))
        self._follow_assumptions(config)
        self.deduper = Deduplicator(window=config.dedupe_window, cap=config.dedupe_cap)
        self.faults = FaultInjector(config.faults, seed=config.seed)
        self.durable: DurableJournal | None = None
        if journal_store is not None:
            self.durable = DurableJournal(journal_store, self.journal, self.incidents)
            self._restore(journal_store)
        self.pipeline = DeliveryPipeline(self)
        self.regulations = RegulationBook(rng=random.Random(config.seed))
        self.suppressions = SuppressionList()
        # Set once the server is bound, so "this emulator's own part" has an address.
        self.base_url: str | None = None

    @property
    def destination_url(self) -> str:
        return self.config.destination_url or f"{self._base()}/destination"

    @property
    def refersion_url(self) -> str:
        return (self.config.refersion_url or f"{self._base()}/refersion/v2").rstrip("/")

    def _base(self) -> str:
        if self.base_url is None:
            raise RuntimeError("the emulator is not bound to an address yet")
        return self.base_url

    def accept(self, trace: Trace, *, dedupe: bool = True, enqueue: bool = True) -> bool:
        """Dedupe (unless ``dedupe`` is false), route and queue a message Segment accepted;
        whether it is to be delivered. With ``enqueue=False`` the caller queues it once it
        is stored (see :meth:`keep`).

        Segment's dedupe is an ingest step; its delivery (``/_emulator/deliver``, a
        redelivery) sends what it is given.
        """
        delivered = intake.accept(
            trace,
            now=self.clock.now(),
            dedupe=dedupe,
            deduper=self.deduper,
            repeats=intake.Repeats(self.config.assumptions_in_force, self._dedupe_rng),
            contracts=self.contracts,
            journal=self.journal,
            destination_url=lambda: self.destination_url,
        )
        if delivered and enqueue:
            self._queue(trace)
        return delivered

    def _queue(self, trace: Trace) -> None:
        """Queue a routed trace, and its copy when a fault rule asks for a redelivery."""
        self.pipeline.enqueue(trace)
        if trace.entry != REDELIVERY:
            action = self.faults.decide("segment", str(trace.message["type"]))
            if action is not None:
                self.redeliver(trace, f"fault rule {action.rule_id}")

    def redeliver(self, original: Trace, why: str, *, enqueue: bool = True) -> Trace:
        """Deliver ``original``'s message again, as a new trace (Segment delivers at least
        once, so a destination can get the same event twice)."""
        trace = intake.redelivery(original, why, journal=self.journal)
        self.accept(trace, dedupe=False, enqueue=enqueue)
        return trace

    async def accept_all(self, traces: Iterable[Trace], *, chunk: int = 100) -> None:
        """:meth:`accept` each trace, letting the event loop run between chunks.

        Checking a message's contract takes about a millisecond, so thousands of generated
        messages (a regulation, an Engage sync) would otherwise stall every other request.
        """
        for count, trace in enumerate(traces, start=1):
            self.accept(trace)
            if count % chunk == 0:
                await asyncio.sleep(0)

    def suppress(self, trace: Trace) -> bool:
        """Drop a Tracking-API message whose userId a regulation suppresses; say if it did."""
        return intake.suppress(trace, suppressions=self.suppressions, journal=self.journal)

    async def persist(self, traces: Iterable[Trace]) -> None:
        """Return once ``traces`` are on disk (at once without a journal file)."""
        if self.durable is not None:
            await self.durable.sync(traces)

    async def keep(self, traces: list[Trace], to_deliver: list[Trace]) -> None:
        """Store a request's ``traces``, then queue ``to_deliver`` (accepted with
        ``enqueue=False``); or, if the journal file cannot take them, keep none of them.

        Raises :class:`JournalWriteError` when nothing was kept, and marks every trace so:
        no event of a request answered "not stored" is ever delivered, and its messageIds
        are forgotten, so the client's retry is taken as new rather than as a duplicate.
        """
        try:
            await self.persist(traces)
        except JournalWriteError as exc:
            queued = {trace.id for trace in to_deliver}
            for trace in traces:
                if trace.id in queued and trace.message_id is not None:
                    self.deduper.forget(trace.message_id)
                if trace.outcome != "ingest_rejected":
                    trace.outcome = "ingest_rejected"
                    trace.reason = "journal_unavailable"
                    trace.add_hop(
                        "journal",
                        f"not stored ({exc}); the request was answered 503, so nothing of it "
                        "was kept or delivered and the client may send it again",
                        ok=False,
                    )
                    self.journal.changed(trace)
            raise
        for trace in to_deliver:
            self._queue(trace)

    def _restore(self, store: JournalStore) -> None:
        """Take back the journal and dedupe memory of an earlier run on the same file.

        The pipeline resumes unfinished traces once the emulator has an address.
        """
        stored = store.load(
            cap=self.config.journal_cap,
            dedupe_since=self.clock.now() - self.config.dedupe_window,
        )
        for line in stored.quarantined:
            log.warning("%s", line)
            self.incidents.record("journal file", line)
        self.journal.restore(stored.traces, unloaded=stored.unloaded)
        for message_id, seen_at in stored.message_ids:
            self.deduper.seen(message_id, now=seen_at)

    def reset(self) -> None:
        self.pipeline.clear()
        self.journal.clear()
        self.deduper.clear()
        self.refersion.reset()
        self.contract_tally.clear()
        self.engage.clear()
        self.regulations.clear()
        self.suppressions.clear()
        if self.durable is not None:
            self.durable.clear()

    def reconfigure(self, config: EmulatorConfig, *, mapping: MappingFn | None = None) -> None:
        """Take a new API key, choices about new affiliates and mapping while running.

        Only what is read per event changes: addresses, credentials and workers stay as started.
        """
        self.config = config
        self.mapping = mapping or map_message
        self._follow_assumptions(config)

    def _follow_assumptions(self, config: EmulatorConfig) -> None:
        """Settings read per event that depend on the assumption variants in force."""
        choices = config.assumptions_in_force
        self.mapping_settings = MappingSettings.from_destination(config.destination, choices)
        self.retry_policy = retry_policy(
            choices,
            initial=config.retry_initial_backoff,
            maximum=config.retry_max_backoff,
            budget=config.retry_budget,
        )
        self.delivery_timeout = delivery_timeout(choices, config.delivery_timeout)
        self.refersion.assume(choices)
        self.engage.assume(choices)
