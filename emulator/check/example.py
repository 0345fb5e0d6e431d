"""One example of a property: the events it sends, what each must end as, the checks it makes.

An :class:`Example` keeps every step, so a failing example can be written out as a fixture
that ``send`` replays with the same expectations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.check.driver import Delivered, Driver, RefersionCall
from emulator.check.exercised import Exercised
from emulator.errors import EmulatorError

__all__ = ["EXPECTED_REASONS", "Example", "Expect", "InvariantBroken", "Step"]

# The reason this emulator journals with each success outcome; rejections carry their own.
EXPECTED_REASONS: Mapping[str, str | None] = {
    "created": None,
    "deleted": None,
    "already_exists": "email_taken",
    "not_found": "affiliate_not_found",
    "duplicate": "duplicate_message_id",
}
# What a receiver that is not this emulator's is seen to do instead: Segment only knows 2xx
# (delivered) and a 400 (discarded) unless the answer body names the outcome.
_GENERIC_OUTCOMES: Mapping[str, str] = {
    "created": "delivered",
    "already_exists": "delivered",
    "deleted": "delivered",
    "not_found": "delivered",
    "rejected": "discarded",
}
_SEGMENT_SIDE = frozenset({"ingest_rejected", "duplicate", "filtered"})
_MAX_SHOWN = 300


class InvariantBroken(EmulatorError):
    """Raised when the pipeline breaks an invariant; the message says which, and how."""


@dataclass(frozen=True, slots=True)
class Expect:
    """An event to send and the outcome (and reason) it must end with."""

    message: Mapping[str, Any]
    outcome: str
    reason: str | None = None
    variant: str = ""

    @property
    def expected_reason(self) -> str | None:
        return self.reason if self.reason is not None else EXPECTED_REASONS.get(self.outcome)


@dataclass(frozen=True, slots=True)
class Step:
    """One event a property sent, how it entered, and what it had to end as."""

    message: Mapping[str, Any]
    entry: str
    outcome: str
    reason: str | None


class Example:
    """Sends events through ``driver`` and checks them; starts from a clean pipeline."""

    def __init__(self, driver: Driver, exercised: Exercised) -> None:
        self.driver = driver
        self.exercised = exercised
        self.steps: list[Step] = []
        # What the Refersion account must hold once every step ran (affiliate store fields).
        self.affiliates: list[dict[str, Any]] = []
        # What the fake Refersion answered during the latest send (None: not observable).
        self.last_refersion_calls: list[RefersionCall] | None = None
        driver.begin_example()

    def send(self, entry: str, *expected: Expect) -> list[Delivered]:
        """Send the messages in one request; check each ended as expected, never with a 5xx."""
        before = self.driver.refersion_calls()
        delivered = self.driver.send([e.message for e in expected], entry=entry)
        after = self.driver.refersion_calls()
        if before is not None and after is not None:
            self.last_refersion_calls = after[len(before) :]
        for want, got in zip(expected, delivered, strict=True):
            self.steps.append(Step(want.message, entry, want.outcome, want.expected_reason))
            self.exercised.record(got, want.variant)
        for want, got in zip(expected, delivered, strict=True):
            self.check_outcome(want, got)
        return delivered

    def redeliver(self, want: Expect) -> Delivered:
        """Deliver an already-seen message again and check it ended as ``want`` says."""
        got = self.driver.redeliver(want.message)
        self.exercised.record(got, want.variant)
        self.check_outcome(want, got)
        return got

    def check_outcome(self, want: Expect, got: Delivered) -> None:
        self.healthy(got)
        outcome_ok = got.outcome == want.outcome or (
            not self.driver.own_destination
            and want.outcome not in _SEGMENT_SIDE
            and got.outcome == _GENERIC_OUTCOMES.get(want.outcome)
        )
        # Only this emulator's own parts are known to journal reason codes.
        reason_known = self.driver.own_destination or want.outcome in _SEGMENT_SIDE
        reason_ok = not reason_known or got.reason == want.expected_reason
        self.require(
            outcome_ok and reason_ok,
            f"expected {_describe(want.outcome, want.expected_reason)}, "
            f"got {_describe(got.outcome, got.reason)}{_hops(got)}",
        )

    def healthy(self, got: Delivered) -> None:
        """Never a 5xx, and no unhandled exception anywhere in this emulator."""
        errors = self.driver.server_errors()
        self.require(not errors, f"the emulator hit unhandled exceptions: {errors[:3]}")
        status = got.answer_status
        self.require(
            status is None or status < 500,
            f"the destination answered {status}, a 5xx, to {_shown(got.message)}",
        )
        calls = [*(got.refersion_calls or ()), *(self.last_refersion_calls or ())]
        broken = sorted({_call(c) for c in calls if c.status is not None and c.status >= 500})
        self.require(not broken, f"Refersion answered with a 5xx: {broken}")

    def find(self, email: str) -> dict[str, Any] | None:
        """The one affiliate whose email is ``email`` (ignoring case), read via search and get."""
        matches = [a for a in self.driver.search(email) if _same_email(a.get("email"), email)]
        self.require(
            len(matches) <= 1,
            f"{len(matches)} affiliates have the email {email!r}; Refersion allows one",
        )
        if not matches:
            return None
        found = self.driver.get(str(matches[0]["id"]))
        self.require(found is not None, f"affiliate/search lists {email!r} but get finds no code")
        return found

    def require(self, condition: bool, message: str) -> None:
        if not condition:
            raise InvariantBroken(message)

    def refersion_calls_made(self, delivered: Delivered) -> list[str] | None:
        """The requests Refersion got while ``delivered`` (sent alone) went through, or
        ``None`` when neither the fake nor the destination is this emulator's.

        The fake's own log is preferred to the destination's journal: a receiver under test
        journals nothing here.
        """
        calls = self.last_refersion_calls
        if calls is None and delivered.refersion_calls is not None:
            calls = list(delivered.refersion_calls)
        return None if calls is None else [_call(c) for c in calls]


def _call(call: RefersionCall) -> str:
    return f"{call.endpoint} → {call.status}"


def _same_email(value: object, email: str) -> bool:
    return isinstance(value, str) and value.strip().lower() == email.strip().lower()


def _describe(outcome: str, reason: str | None) -> str:
    return outcome if reason is None else f"{outcome} ({reason})"


def _hops(got: Delivered) -> str:
    hops = [f"{h['name']}: {h['summary']}" for h in got.trace.get("hops", [])]
    shown = "; ".join(hops) if hops else "no hops"
    return f" — {_shown(got.message)} — {shown}"


def _shown(message: Mapping[str, Any]) -> str:
    text = repr(dict(message))
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
