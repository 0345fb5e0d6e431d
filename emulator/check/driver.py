"""What the property suite needs from a running pipeline, and what it reads back from it.

The properties are written against :class:`Driver`;
:mod:`emulator.server.runners.check_driver` is the
implementation that speaks HTTP to an emulator (and to a receiver or a Refersion under test).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["ENTRIES", "Delivered", "Driver", "RefersionCall"]

ENTRIES: tuple[str, ...] = ("tracking-api", "delivery")
"""How an event enters: as a client sends it (``POST /v1/batch``), or as Segment delivers it
(deletes come from regulations, never from a client)."""


@dataclass(frozen=True, slots=True)
class RefersionCall:
    """One request a Refersion account answered: ``POST /<endpoint>`` → ``status``."""

    endpoint: str
    status: int | None


@dataclass(frozen=True, slots=True)
class Delivered:
    """What became of one sent event, as the Segment side and the destination journaled it.

    ``outcome`` is a journal outcome (:data:`emulator.journal.traces.OUTCOMES`); a Tracking API that
    refuses the whole request is reported as ``ingest_rejected`` with its error code as
    ``reason``. ``answer_status`` is the destination's HTTP answer to the last delivery
    attempt (``None``: never delivered). ``warnings``, ``refersion_calls`` and
    ``request_body`` are ``None`` when the destination is not this emulator's, whose journal
    is where they come from. ``affiliate_code`` is the code Refersion gave a created
    affiliate, when the destination's answer passes it on.
    """

    message: Mapping[str, Any]
    entry: str
    outcome: str
    reason: str | None
    answer_status: int | None
    violations: tuple[str, ...]
    warnings: frozenset[str] | None
    refersion_calls: tuple[RefersionCall, ...] | None
    request_body: Mapping[str, Any] | None
    trace: Mapping[str, Any]
    affiliate_code: str | None = None

    @property
    def violated_contracts(self) -> frozenset[str]:
        return frozenset(v.split(" ", 1)[0] for v in self.violations)


class Driver(Protocol):
    """A pipeline under check: this emulator, or its Segment side before a receiver under test.

    Every method blocks until the answer is known; ``send`` returns once each event is final
    or waits for a retry (which no passing example needs).
    """

    @property
    def own_destination(self) -> bool:
        """True when the destination is this emulator's: its mapping is journaled."""

    @property
    def status(self) -> str:
        """The ``status`` setting new affiliates must get (``PENDING`` or ``ACTIVE``)."""

    @property
    def offer(self) -> str | None:
        """The ``offer`` setting new affiliates must be opted into, if any."""

    def begin_example(self) -> None:
        """Forget everything the Segment side remembers (journal, dedupe, server errors) and,
        when the Refersion account is this emulator's, every affiliate."""

    def send(self, messages: Sequence[Mapping[str, Any]], *, entry: str) -> list[Delivered]:
        """Send ``messages`` in one request the ``entry`` way; wait until each is final."""

    def redeliver(self, message: Mapping[str, Any]) -> Delivered:
        """Deliver ``message`` again, same messageId: Segment delivers at least once, and its
        dedupe lets some duplicates through."""

    def search(self, keyword: str) -> list[dict[str, Any]]:
        """``POST affiliate/search``: the matching affiliates (all pages); empty when none."""

    def get(self, code: str) -> dict[str, Any] | None:
        """``POST affiliate/get`` by ``affiliate_code``; ``None`` when there is none."""

    def refersion_calls(self) -> list[RefersionCall] | None:
        """Every request the Refersion account answered since :meth:`begin_example`, or
        ``None`` when the account is not this emulator's."""

    def store_dump(self) -> str | None:
        """The Refersion account's whole database as SQL, or ``None`` when not this
        emulator's: proof that deleted data is gone."""

    def server_errors(self) -> list[str]:
        """Unhandled exceptions this emulator answered with a 500; empty when all is well."""
