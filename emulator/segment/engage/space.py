"""The Engage sync simulator: audience and computed-trait syncs as the identifies Engage sends.

docs/sources.md#engage. The first sync sends an identify for every member (an
audience's key ``true``, or the trait's value); each later sync sends only the changes:
members who entered (``true``), who exited (``false``), whose computed value changed, and
new email identifiers of unchanged members. A profile with several emails gets one identify
per email. Changes to other profile traits of an unchanged member send nothing, as in
Engage. Pure: simulated time and randomness come in; nothing waits.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emulator.assumptions import AssumptionChoices
from emulator.errors import InputError
from emulator.segment.engage.input import (
    SYNC_TIMINGS,
    Computation,
    EngageInputError,
    Member,
    parse_computation,
    parse_members,
)
from emulator.segment.routing import DESTINATION_NAME
from emulator.segment.timestamps import format_timestamp, split_nanoseconds

__all__ = [
    "ComputationExists",
    "EngageSpace",
    "SyncChange",
    "SyncResult",
    "SyncedMessage",
    "UnknownComputation",
]

_BASE62 = string.digits + string.ascii_letters
# The last moment a sync (and the one after it) may fall on: dates end with the year 9999.
_LATEST = datetime(9999, 12, 31, tzinfo=UTC).timestamp()


class UnknownComputation(InputError):
    """Raised for a key no audience or computed trait was defined with."""


class ComputationExists(InputError):
    """Raised when a definition reuses the key of an existing audience or computed trait."""


@dataclass(frozen=True, slots=True)
class SyncChange:
    """Why one profile is in a sync, and the emails it is sent for (one identify each).

    ``change`` is ``entered``/``exited`` (audiences), ``computed``/``changed`` (computed
    traits), or ``new_identifier`` (an email added to a profile that stays).
    """

    member: Member
    change: str
    value: Any
    emails: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "userId": self.member.user_id,
            "anonymousId": self.member.anonymous_id,
            "change": self.change,
            "value": self.value,
            "emails": list(self.emails),
        }


@dataclass(frozen=True, slots=True)
class SyncedMessage:
    """One identify of a sync and the change it tells."""

    change: SyncChange
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SyncResult:
    """One sync: its number (1 is the initial sync), simulated time, changes and identifies."""

    computation: Computation
    number: int
    at: float
    changes: tuple[SyncChange, ...]
    sent: tuple[SyncedMessage, ...]
    next_at: float

    @property
    def kind(self) -> str:
        return "initial" if self.number == 1 else "incremental"

    @property
    def messages(self) -> tuple[dict[str, Any], ...]:
        return tuple(item.message for item in self.sent)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.computation.key,
            "sync": self.number,
            "kind": self.kind,
            "at": format_timestamp(datetime.fromtimestamp(self.at, UTC)),
            "nextSyncAt": format_timestamp(datetime.fromtimestamp(self.next_at, UTC)),
            "changes": [change.to_dict() for change in self.changes],
            "messages": len(self.messages),
        }


@dataclass(slots=True)
class _State:
    computation: Computation
    created_at: float
    members: dict[str, Member] | None = None
    syncs: int = 0
    last_at: float | None = None
    next_at: float | None = None


class EngageSpace:
    """One Engage space: its computations and what each one last synced to Refersion."""

    def __init__(
        self,
        *,
        rng: random.Random,
        member_limit: int = 100_000,
        choices: AssumptionChoices | None = None,
    ) -> None:
        self._rng = rng
        self._member_limit = member_limit
        self._timing = SYNC_TIMINGS[(choices or AssumptionChoices()).variant("engage-timing")]
        self.space_id = "spa_" + self._token(22)
        self._states: dict[str, _State] = {}

    def assume(self, choices: AssumptionChoices) -> None:
        """Time computations defined from now on by ``choices``' ``engage-timing`` variant."""
        self._timing = SYNC_TIMINGS[choices.variant("engage-timing")]

    def define(self, data: Any, *, now: float) -> Computation:
        """Add an audience or computed trait from its JSON definition, created at ``now``."""
        computation = parse_computation(
            data,
            new_id=lambda prefix: prefix + self._token(27),
            default_space=self.space_id,
            timing=self._timing,
        )
        if computation.key in self._states:
            raise ComputationExists(
                f"an Engage computation with key {computation.key!r} exists; Engage keys are "
                "unique in a space (reset the emulator, or give another key)"
            )
        self._states[computation.key] = _State(computation, created_at=now)
        return computation

    def get(self, key: str) -> Computation:
        return self._state(key).computation

    def __iter__(self) -> Iterator[Computation]:
        return iter([state.computation for state in self._states.values()])

    def clear(self) -> None:
        self._states.clear()

    def sync(self, key: str, members: Any, *, at: float | None = None) -> SyncResult:
        """Sync the snapshot ``members`` (JSON profiles); ``at`` overrides the simulated time."""
        state = self._state(key)
        computation = state.computation
        snapshot = {
            member.identity: member
            for member in parse_members(members, computation=computation, limit=self._member_limit)
        }
        when = self._when(state, at)
        if state.members is None:
            changes = [_first(computation, member) for member in snapshot.values()]
        else:
            changes = list(_changes(computation, state.members, snapshot))
        sent = tuple(
            SyncedMessage(change, self._identify(computation, change, email, when))
            for change in changes
            for email in (change.emails or (None,))
        )
        state.members = snapshot
        state.syncs += 1
        state.last_at = when
        state.next_at = when + self._next_interval(computation)
        return SyncResult(computation, state.syncs, when, tuple(changes), sent, state.next_at)

    def _next_interval(self, computation: Computation) -> float:
        low, high = computation.sync_interval, computation.sync_interval_max
        return low if high == low else self._rng.uniform(low, high)

    def _state(self, key: str) -> _State:
        state = self._states.get(key)
        if state is None:
            known = ", ".join(self._states) or "none yet"
            raise UnknownComputation(
                f"no Engage audience or computed trait {key!r} (known: {known})"
            )
        return state

    def _when(self, state: _State, at: float | None) -> float:
        interval = state.computation.sync_interval_max
        if at is None:
            if state.next_at is None:
                when = state.created_at + state.computation.initial_sync_delay
            else:
                when = state.next_at
        elif state.last_at is not None and at < state.last_at:
            previous = format_timestamp(datetime.fromtimestamp(state.last_at, UTC))
            raise EngageInputError("at", f"at is before the previous sync ({previous})")
        else:
            when = at
        if when + interval > _LATEST:
            # Every answer shows nextSyncAt, which must still be a date.
            raise EngageInputError(
                "at",
                f"the sync after this one (up to {interval:g} s later) would fall after "
                "the year 9999; give an earlier at",
            )
        return when

    def _identify(
        self, computation: Computation, change: SyncChange, email: str | None, at: float
    ) -> dict[str, Any]:
        """The identify as Engage delivers it (the observed sample in docs/sources.md#engage,
        keys in its order)."""
        member = change.member
        included = [name for name in computation.include_traits if name in member.traits]
        traits = {name: member.traits[name] for name in included}
        if email is not None:
            traits["email"] = email
        traits[computation.key] = change.value
        message: dict[str, Any] = {}
        if member.anonymous_id is not None:
            message["anonymousId"] = member.anonymous_id
        message.update(
            {
                "context": {
                    "integrations": {"personas": False},
                    "library": {"name": "unknown", "version": "unknown"},
                    "personas": {
                        "computation_class": computation.computation_class,
                        "computation_id": computation.computation_id,
                        "computation_key": computation.key,
                        "namespace": computation.space_id,
                        "space_id": computation.space_id,
                    },
                },
                "integrations": {
                    "All": False,
                    DESTINATION_NAME: True,
                    "Warehouses": {"all": False},
                },
                "messageId": "personas_" + self._token(27),
                "originalTimestamp": _nanosecond_timestamp(at),
                "receivedAt": format_timestamp(datetime.fromtimestamp(at, UTC)),
                "sentAt": None,
                "timestamp": format_timestamp(datetime.fromtimestamp(at, UTC)),
                "traits": traits,
                "type": "identify",
            }
        )
        if member.user_id is not None:
            message["userId"] = member.user_id
        return message

    def _token(self, length: int) -> str:
        return "".join(self._rng.choice(_BASE62) for _ in range(length))


def _first(computation: Computation, member: Member) -> SyncChange:
    if computation.computation_class == "audience":
        return SyncChange(member, "entered", True, member.emails)
    return SyncChange(member, "computed", member.value, member.emails)


def _changes(
    computation: Computation, before: dict[str, Member], after: dict[str, Member]
) -> Iterator[SyncChange]:
    is_audience = computation.computation_class == "audience"
    for identity, member in after.items():
        old = before.get(identity)
        if old is None:
            yield _first(computation, member)
        elif not is_audience and member.value != old.value:
            yield SyncChange(member, "changed", member.value, member.emails)
        else:
            added = tuple(email for email in member.emails if email not in old.emails)
            if added:
                value = True if is_audience else member.value
                yield SyncChange(member, "new_identifier", value, added)
    if is_audience:
        for identity, old in before.items():
            if identity not in after:
                yield SyncChange(old, "exited", False, old.emails)


def _nanosecond_timestamp(at: float) -> str:
    """``2024-05-03T19:42:50.066179717Z``: Engage's originalTimestamp has nanoseconds."""
    seconds, fraction = split_nanoseconds(at)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{fraction:09d}Z"
