"""What the Engage simulator is given: computation definitions and membership snapshots.

Pure parsing of JSON values. Every error names the field and the rule, so the control API
and the CLI can show it as is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import InputError
from emulator.segment.engage.keys import engage_key

__all__ = [
    "COMPUTATION_CLASSES",
    "DEFAULT_INITIAL_SYNC_DELAY",
    "DEFAULT_SYNC_INTERVAL",
    "DEFAULT_SYNC_INTERVAL_MAX",
    "Computation",
    "EngageInputError",
    "Member",
    "parse_computation",
    "parse_members",
]

COMPUTATION_CLASSES: tuple[str, ...] = ("audience", "trait")
_ID_PREFIX = {"audience": "aud_", "trait": "tra_"}
_KEY = re.compile(r"^[A-Za-z0-9_]{1,255}$")
_DEFINITION_FIELDS = frozenset(
    {
        "name",
        "key",
        "computationClass",
        "computationId",
        "spaceId",
        "includeTraits",
        "initialSyncDelay",
        "syncInterval",
        "syncIntervalMax",
    }
)
_MEMBER_FIELDS = frozenset({"userId", "anonymousId", "email", "emails", "traits", "value"})
# Engage's initial sync of a new audience can take six hours or more; after it, Engage syncs
# every two to three hours (docs/reason-codes.md, "Engage timing"). The simulated clock
# follows that by default: nothing waits, the syncs' times say so.
DEFAULT_INITIAL_SYNC_DELAY = 6 * 3600.0
DEFAULT_SYNC_INTERVAL = 2 * 3600.0
DEFAULT_SYNC_INTERVAL_MAX = 3 * 3600.0


class EngageInputError(InputError):
    """A definition or snapshot the simulator cannot use; ``field`` is where the problem is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class Computation:
    """An Engage audience or computed trait whose destination is Refersion.

    ``include_traits`` are the profile traits Engage adds to each identify ("Include
    traits" in the destination settings of the audience); times are simulated epoch seconds.
    Each incremental sync comes a drawn time between ``sync_interval`` and
    ``sync_interval_max`` after the previous one (equal bounds: a fixed cadence).
    """

    name: str
    key: str
    computation_class: str
    computation_id: str
    space_id: str
    include_traits: tuple[str, ...] = ()
    initial_sync_delay: float = DEFAULT_INITIAL_SYNC_DELAY
    sync_interval: float = DEFAULT_SYNC_INTERVAL
    sync_interval_max: float = DEFAULT_SYNC_INTERVAL_MAX

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "key": self.key,
            "computationClass": self.computation_class,
            "computationId": self.computation_id,
            "spaceId": self.space_id,
            "includeTraits": list(self.include_traits),
            "initialSyncDelay": self.initial_sync_delay,
            "syncInterval": self.sync_interval,
            "syncIntervalMax": self.sync_interval_max,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """One profile in a snapshot: its identifiers, profile traits and (computed traits) value."""

    user_id: str | None
    anonymous_id: str | None
    emails: tuple[str, ...] = ()
    traits: Mapping[str, Any] = field(default_factory=dict)
    value: Any = None

    @property
    def identity(self) -> str:
        """The profile's identity across snapshots: its userId, else its anonymousId."""
        return self.user_id if self.user_id is not None else f"anonymousId:{self.anonymous_id}"


def parse_computation(
    data: Any, *, new_id: Callable[[str], str], default_space: str
) -> Computation:
    """A :class:`Computation` from a JSON definition; ``new_id(prefix)`` makes missing ids."""
    if not isinstance(data, dict):
        raise EngageInputError("", "the definition must be a JSON object with at least a name")
    _no_unknown(data, _DEFINITION_FIELDS, "")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise EngageInputError("name", "name is required: a non-empty string such as 'VIP Users'")
    key = data.get("key")
    if key is None:
        try:
            key = engage_key(name)
        except InputError as exc:
            raise EngageInputError("name", str(exc)) from None
    elif not isinstance(key, str) or not _KEY.match(key):
        raise EngageInputError(
            "key",
            "key must be 1-255 letters, digits or underscores, e.g. order_completed_last_30days",
        )
    computation_class = data.get("computationClass", "audience")
    if computation_class not in COMPUTATION_CLASSES:
        raise EngageInputError(
            "computationClass",
            f"computationClass must be one of {', '.join(COMPUTATION_CLASSES)}, "
            f"not {computation_class!r}",
        )
    return Computation(
        name=name.strip(),
        key=key,
        computation_class=computation_class,
        computation_id=_text(data, "computationId") or new_id(_ID_PREFIX[computation_class]),
        space_id=_text(data, "spaceId") or default_space,
        include_traits=_names(data.get("includeTraits", []), "includeTraits"),
        initial_sync_delay=_seconds(data, "initialSyncDelay", DEFAULT_INITIAL_SYNC_DELAY),
        **_interval(data),
    )


def _interval(data: Mapping[str, Any]) -> dict[str, float]:
    """The bounds of the time between syncs; ``syncInterval`` alone is a fixed cadence."""
    low = _seconds(data, "syncInterval", DEFAULT_SYNC_INTERVAL)
    fixed = "syncInterval" in data and "syncIntervalMax" not in data
    high = low if fixed else _seconds(data, "syncIntervalMax", DEFAULT_SYNC_INTERVAL_MAX)
    if high < low:
        raise EngageInputError(
            "syncIntervalMax",
            f"syncIntervalMax ({high:g} s) must be at least syncInterval ({low:g} s)",
        )
    return {"sync_interval": low, "sync_interval_max": high}


def parse_members(data: Any, *, computation: Computation, limit: int) -> list[Member]:
    """The members of one snapshot, in order; an empty list means an empty audience."""
    if not isinstance(data, list):
        raise EngageInputError("members", "members must be an array of profiles")
    if len(data) > limit:
        raise EngageInputError("members", f"members has {len(data)} profiles; at most {limit}")
    members: list[Member] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        member = _member(item, f"members[{index}]", computation)
        if member.identity in seen:
            raise EngageInputError(
                f"members[{index}]", f"members[{index}] repeats the profile {member.identity}"
            )
        seen.add(member.identity)
        members.append(member)
    return members


def _member(item: Any, where: str, computation: Computation) -> Member:
    if not isinstance(item, dict):
        raise EngageInputError(where, f"{where} must be a JSON object (a profile)")
    _no_unknown(item, _MEMBER_FIELDS, where)
    user_id = _id(item, "userId", where)
    anonymous_id = _id(item, "anonymousId", where)
    if user_id is None and anonymous_id is None:
        raise EngageInputError(
            f"{where}.userId", f"{where} needs a userId or an anonymousId, as Engage identifies do"
        )
    emails: list[str] = []
    single = item.get("email")
    if single is not None:
        if not isinstance(single, str):
            raise EngageInputError(f"{where}.email", f"{where}.email must be a string")
        emails.append(single)
    emails.extend(_names(item.get("emails", []), f"{where}.emails"))
    traits = item.get("traits", {})
    if not isinstance(traits, dict):
        raise EngageInputError(f"{where}.traits", f"{where}.traits must be an object")
    if computation.computation_class == "trait" and "value" not in item:
        raise EngageInputError(
            f"{where}.value", f"{where} needs the computed trait's value for {computation.key}"
        )
    return Member(
        user_id=user_id,
        anonymous_id=anonymous_id,
        emails=tuple(dict.fromkeys(emails)),
        traits=traits,
        value=item.get("value"),
    )


def _no_unknown(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        place = f"{where}." if where else ""
        raise EngageInputError(
            f"{place}{unknown[0]}",
            f"unknown field {place}{unknown[0]}; allowed: {', '.join(sorted(allowed))}",
        )


def _id(item: Mapping[str, Any], name: str, where: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise EngageInputError(f"{where}.{name}", f"{where}.{name} must be a non-empty string")
    return value


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise EngageInputError(name, f"{name} must be a non-empty string")
    return value


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise EngageInputError(where, f"{where} must be an array of non-empty strings")
    return tuple(dict.fromkeys(value))


def _seconds(data: Mapping[str, Any], name: str, default: float) -> float:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1e9:
        raise EngageInputError(name, f"{name} must be a number of seconds, 0 or more")
    return float(value)
