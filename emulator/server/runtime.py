"""The state one running emulator owns: journal, fake Refersion account, pipeline, settings."""

from __future__ import annotations

import random
from typing import Any

from ..clock import Clock, SystemClock
from ..config import EmulatorConfig
from ..contracts import ContractSet, default_contracts
from ..journal import Journal, Trace
from ..mapping import Mapping as MappingFn
from ..mapping import MappingSettings, map_message
from ..refersion import AffiliateStore, FakeRefersion, FakeRefersionOptions
from ..segment.delivery import RetryPolicy
from ..segment.routing import FILTER_REASONS, Deduplicator, route
from .pipeline import DeliveryPipeline

__all__ = ["Runtime"]


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
        self.contracts = contracts or default_contracts()
        self.journal = Journal(cap=config.journal_cap)
        self.store = AffiliateStore()
        self.refersion = FakeRefersion(
            store=self.store,
            credentials=config.credentials,
            options=FakeRefersionOptions(seed=config.seed),
        )
        self.mapping: MappingFn = mapping or map_message
        self.mapping_settings = MappingSettings.from_destination(config.destination)
        self.retry_policy = RetryPolicy(
            initial=config.retry_initial_backoff,
            maximum=config.retry_max_backoff,
            budget=config.retry_budget,
        )
        self.deduper = Deduplicator(window=config.dedupe_window)
        self.pipeline = DeliveryPipeline(self)
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

    def accept(self, trace: Trace) -> None:
        """Dedupe, route and queue a message that Segment has accepted."""
        message: Any = trace.message
        message_id = trace.message_id
        if message_id is not None and self.deduper.seen(message_id, now=self.clock.now()):
            trace.outcome = "duplicate"
            trace.reason = "duplicate_message_id"
            trace.add_hop("dedupe", f"messageId {message_id} already seen; dropped", ok=False)
            self.journal.changed(trace)
            return
        decision = route(message)
        if not decision.deliver:
            reason = decision.reason or "filtered"
            trace.outcome = "filtered"
            trace.reason = reason
            trace.add_hop("routing", f"filtered: {FILTER_REASONS.get(reason, reason)}", ok=False)
            self.journal.changed(trace)
            return
        contract = f"segment/{message['type']}"
        violations = self.contracts.validate(contract, message)
        trace.add_hop(
            "routing",
            f"to Refersion at {self.destination_url}",
            ok=True,
            detail={"contract": contract},
            violations=violations,
        )
        self.pipeline.enqueue(trace)

    def reset(self) -> None:
        self.pipeline.clear()
        self.journal.clear()
        self.deduper.clear()
        self.refersion.reset()

    def reconfigure(self, config: EmulatorConfig, *, mapping: MappingFn | None = None) -> None:
        """Take new destination settings, API key and mapping while running (per-test settings).

        Only what is read per event changes: addresses, credentials and workers stay as started.
        """
        self.config = config
        self.mapping = mapping or map_message
        self.mapping_settings = MappingSettings.from_destination(config.destination)
