"""Fault rules for the fake Refersion API, the destination receiver and Segment's delivery.

Pure: the HTTP adapter (``faults/http/injection.py``) asks :meth:`FaultInjector.decide` what
to do with each request and carries it out. A rule names a surface and an endpoint pattern,
one or more effects (one is drawn when the rule fires), and when it fires: with a
probability, and/or for the next N matching requests. Each rule draws from its own
``random.Random`` seeded from the injector's seed and the rule id, so the same rules with the
same seed fire on the same requests in every run that sends them in the same order.
Rules are read from text and JSON by :mod:`emulator.faults.specs`.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from emulator.errors import InputError
from emulator.refersion_endpoints import AFFILIATE_ENDPOINTS

__all__ = [
    "DEFAULT_HOLD",
    "FAULT_HEADER",
    "MAX_RULES",
    "SEGMENT_ENDPOINTS",
    "SURFACES",
    "Effect",
    "FaultAction",
    "FaultInjector",
    "FaultKind",
    "FaultResponse",
    "FaultRule",
    "FaultRuleError",
    "check_seconds",
    "fault_response",
    "format_seconds",
    "is_number",
]

SURFACES = ("refersion", "destination", "segment")
# The Segment side's one fault: deliver an event a second time (it delivers at least once).
# Its "endpoints" are the message types it delivers.
SEGMENT_ENDPOINTS = ("identify", "delete")
# Longer than any client's timeout (Segment's is 5 s), so the caller gives up first.
DEFAULT_HOLD = 30.0
# Every injected answer carries it: a fault must never pass for Refersion's real behaviour.
FAULT_HEADER = "X-Emulator-Fault"
_MAX_SECONDS = 3600.0
MAX_RULES = 1000
_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


class FaultRuleError(InputError):
    """A fault rule that cannot be used; the message names the field and what was expected."""


class FaultKind(StrEnum):
    STATUS = "status"
    LATENCY = "latency"
    TIMEOUT = "timeout"
    RESET = "reset"
    MALFORMED = "malformed"
    TRUNCATED = "truncated"
    REDELIVER = "redeliver"


@dataclass(frozen=True, slots=True, kw_only=True)
class Effect:
    """What happens to a request a rule fires on.

    ``latency`` (seconds, ``(low, high)`` drawn uniformly) comes first for every kind; a
    ``LATENCY`` effect then lets the request through. ``status`` is the answer of ``STATUS``
    and the status line of ``MALFORMED``/``TRUNCATED`` (200 unless given); ``body`` replaces
    the surface's usual error body; ``hold`` is how long ``TIMEOUT`` keeps the request.
    """

    kind: FaultKind
    status: int | None = None
    retry_after: float | None = None
    body: Any = None
    latency: tuple[float, float] | None = None
    hold: float = DEFAULT_HOLD

    def __post_init__(self) -> None:
        _check_effect(self)

    def spec(self) -> str:
        """The effect in the compact syntax (a custom ``body`` has no compact form)."""
        prefix = ""
        if self.latency is not None:
            low, high = self.latency
            prefix = f"latency:{format_seconds(low)}" + (
                f"-{format_seconds(high)}" if high != low else ""
            )
            if self.kind is FaultKind.LATENCY:
                return prefix
            prefix += "+"
        if self.kind is FaultKind.STATUS:
            base = str(self.status)
            if self.retry_after is not None:
                base += f":{format_seconds(self.retry_after)}"
        elif self.kind is FaultKind.TIMEOUT and self.hold != DEFAULT_HOLD:
            base = f"timeout:{format_seconds(self.hold)}"
        else:
            base = self.kind.value
        return prefix + base

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.status is not None:
            data["status"] = self.status
        if self.retry_after is not None:
            data["retryAfter"] = self.retry_after
        if self.body is not None:
            data["body"] = self.body
        if self.latency is not None:
            data["latency"] = list(self.latency)
        if self.kind is FaultKind.TIMEOUT:
            data["hold"] = self.hold
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRule:
    """Where a fault applies and when it fires. ``id`` is given by the injector if unset."""

    surface: str
    effects: tuple[Effect, ...]
    endpoint: str = "*"
    probability: float = 1.0
    times: int | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        if self.surface not in SURFACES:
            raise FaultRuleError(
                f"surface: must be one of {', '.join(SURFACES)}, got {self.surface!r}"
            )
        _check_endpoint(self.surface, self.endpoint)
        if not self.effects:
            raise FaultRuleError("effect: give at least one effect")
        for effect in self.effects:
            on_segment = self.surface == "segment"
            if on_segment != (effect.kind is FaultKind.REDELIVER):
                raise FaultRuleError(
                    "effect: the segment surface takes only redeliver, and redeliver only "
                    f"applies to the segment surface; got {effect.kind} on {self.surface}"
                )
        if isinstance(self.probability, bool) or not 0 < self.probability <= 1:
            raise FaultRuleError(f"probability: must be in (0, 1], got {self.probability!r}")
        if self.times is not None and (isinstance(self.times, bool) or self.times < 1):
            raise FaultRuleError(f"times: must be a whole number of at least 1, got {self.times!r}")
        if self.id is not None and not _ID.fullmatch(self.id):
            raise FaultRuleError(f"id: must be 1-40 letters, digits, '-' or '_', got {self.id!r}")

    def matches(self, surface: str, endpoint: str) -> bool:
        return surface == self.surface and fnmatch.fnmatchcase(endpoint, self.endpoint)

    def spec(self) -> str:
        """The rule in the compact syntax of ``serve --fault``."""
        target = self.surface if self.endpoint == "*" else f"{self.surface}:{self.endpoint}"
        when = "" if self.probability == 1 else f"@{format_seconds(self.probability)}"
        if self.times is not None:
            when += f"x{self.times}"
        return f"{target}={'|'.join(e.spec() for e in self.effects)}{when}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "surface": self.surface,
            "endpoint": self.endpoint,
            "effect": [e.to_dict() for e in self.effects],
            "probability": self.probability,
            "times": self.times,
            "spec": self.spec(),
        }


@dataclass(frozen=True, slots=True)
class FaultAction:
    """The decision for one request: which rule fired, its effect, and the drawn delay."""

    rule_id: str
    effect: Effect
    delay: float


@dataclass(frozen=True, slots=True)
class FaultResponse:
    """Bytes to answer with. ``declared_length`` larger than the body makes it truncated."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    declared_length: int | None = None


@dataclass(slots=True)
class _Armed:
    rule: FaultRule
    rng: random.Random
    matched: int = 0
    fired: int = 0

    @property
    def exhausted(self) -> bool:
        return self.rule.times is not None and self.fired >= self.rule.times


class FaultInjector:
    """The rules in force, in the order added; the first matching rule that fires wins."""

    def __init__(self, rules: Iterable[FaultRule] = (), *, seed: int | None = None) -> None:
        # Without a seed one is drawn and shown in the listing, so a run can be repeated.
        self.seed = seed if seed is not None else random.randrange(2**32)
        self._armed: list[_Armed] = []
        self._ids = itertools.count(1)
        for rule in rules:
            self.add(rule)

    def __len__(self) -> int:
        return len(self._armed)

    def add(self, rule: FaultRule) -> FaultRule:
        """Put ``rule`` in force after the others; returns it with its id."""
        if len(self._armed) >= MAX_RULES:
            raise FaultRuleError(f"at most {MAX_RULES} fault rules; clear some first")
        taken = {armed.rule.id for armed in self._armed}
        if rule.id is None:
            rule_id = next(f"f{n}" for n in self._ids if f"f{n}" not in taken)
            rule = FaultRule(
                surface=rule.surface,
                effects=rule.effects,
                endpoint=rule.endpoint,
                probability=rule.probability,
                times=rule.times,
                id=rule_id,
            )
        elif rule.id in taken:
            raise FaultRuleError(f"id: a rule with id {rule.id!r} is already in force")
        self._armed.append(_Armed(rule, random.Random(f"{self.seed}:{rule.id}")))
        return rule

    def remove(self, rule_id: str) -> bool:
        before = len(self._armed)
        self._armed = [armed for armed in self._armed if armed.rule.id != rule_id]
        return len(self._armed) < before

    def clear(self) -> None:
        self._armed.clear()

    def rules(self) -> list[FaultRule]:
        return [armed.rule for armed in self._armed]

    def listing(self) -> list[dict[str, Any]]:
        """Every rule with how often it matched and fired, and how many firings remain."""
        return [
            {
                **armed.rule.to_dict(),
                "matched": armed.matched,
                "fired": armed.fired,
                "remaining": None
                if armed.rule.times is None
                else max(0, armed.rule.times - armed.fired),
            }
            for armed in self._armed
        ]

    def decide(self, surface: str, endpoint: str) -> FaultAction | None:
        """What to do with one request to ``surface``/``endpoint``; ``None``: answer normally."""
        for armed in self._armed:
            rule = armed.rule
            if armed.exhausted or not rule.matches(surface, endpoint):
                continue
            armed.matched += 1
            if rule.probability < 1 and armed.rng.random() >= rule.probability:
                continue
            armed.fired += 1
            effects = rule.effects
            effect = effects[0] if len(effects) == 1 else armed.rng.choice(effects)
            delay = 0.0
            if effect.latency is not None:
                low, high = effect.latency
                delay = low if high == low else armed.rng.uniform(low, high)
            assert rule.id is not None  # every armed rule got an id in add()
            return FaultAction(rule.id, effect, delay)
        return None


# -- the answers ----------------------------------------------------------------------------

# Refersion's v1 error table (docs/sources.md#refersion-api-v2): the wording its API documents.
_REFERSION_ERRORS = {
    400: "Missing required field",
    401: "Invalid API credentials (error 2).",
    404: "Bad request, no body",
    429: "You're making too many API calls. Please limit your usage.",
    500: "We had a problem with our server. Try again later.",
    503: "We're temporarily offline for maintenance. Please try again later.",
}
# 502 and 504 come from a load balancer in front of an API, which answers HTML, not JSON.
_GATEWAY_PAGE = "<html><head><title>{0} {1}</title></head><body><h1>{0} {1}</h1></body></html>"
_MALFORMED = {
    "refersion": b'{"id": "a1b2", "link": "https://emulator.refersion.com/c/a1b2", "mess',
    "destination": b'{"message": "Affiliate created", "outcome": "crea',
}
_COMPLETE = {
    "refersion": b'{"id": "a1b2", "link": "https://emulator.refersion.com/c/a1b2", '
    b'"message": "The affiliate 37569297 has been created with the status of PENDING."}',
    "destination": b'{"message": "Affiliate created", "outcome": "created"}',
}


def fault_response(surface: str, action: FaultAction) -> FaultResponse:
    """The answer for a ``STATUS``, ``MALFORMED`` or ``TRUNCATED`` effect on ``surface``."""
    effect = action.effect
    headers = {FAULT_HEADER: action.rule_id, "Content-Type": "application/json"}
    if effect.kind is FaultKind.MALFORMED:
        return FaultResponse(effect.status or 200, headers, _MALFORMED[surface])
    if effect.kind is FaultKind.TRUNCATED:
        full = _COMPLETE[surface]
        return FaultResponse(effect.status or 200, headers, full[: len(full) // 2], len(full))
    if effect.kind is not FaultKind.STATUS or effect.status is None:
        raise ValueError(f"{effect.kind} has no answer of its own")
    status = effect.status
    if effect.retry_after is not None:
        headers["Retry-After"] = format_seconds(effect.retry_after)
    if effect.body is not None:
        return FaultResponse(status, headers, json.dumps(effect.body).encode())
    phrase = _phrase(status)
    if status in (502, 504):
        headers["Content-Type"] = "text/html"
        return FaultResponse(status, headers, _GATEWAY_PAGE.format(status, phrase).encode())
    if surface == "destination":
        body: Any = {"message": f"{phrase} (injected fault {action.rule_id})"}
    elif status == 422:
        body = {"errors": ["The data that you're sending has errors."]}
    else:
        body = {"error": _REFERSION_ERRORS.get(status, phrase)}
    return FaultResponse(status, headers, json.dumps(body).encode())


def _check_effect(effect: Effect) -> None:
    kind = effect.kind
    if effect.status is not None:
        lowest = 400 if kind is FaultKind.STATUS else 200
        if isinstance(effect.status, bool) or not lowest <= effect.status <= 599:
            raise FaultRuleError(f"status: must be {lowest}-599 for {kind}, got {effect.status!r}")
        if kind not in (FaultKind.STATUS, FaultKind.MALFORMED, FaultKind.TRUNCATED):
            raise FaultRuleError(f"status: a {kind} effect has no status")
    elif kind is FaultKind.STATUS:
        raise FaultRuleError("status: missing; a status effect needs a status 400-599")
    if effect.retry_after is not None:
        if kind is not FaultKind.STATUS:
            raise FaultRuleError(f"retryAfter: only a status effect sends Retry-After, not {kind}")
        check_seconds("retryAfter", effect.retry_after, allow_zero=True)
    if effect.body is not None and kind is not FaultKind.STATUS:
        raise FaultRuleError(f"body: only a status effect takes a body, not {kind}")
    if effect.latency is not None:
        low, high = effect.latency
        check_seconds("latency", low, allow_zero=True)
        check_seconds("latency", high, allow_zero=True)
        if high < low:
            raise FaultRuleError(
                f"latency: the range {format_seconds(low)}-{format_seconds(high)} runs backwards"
            )
    elif kind is FaultKind.LATENCY:
        raise FaultRuleError("latency: missing; a latency effect needs seconds or [low, high]")
    check_seconds("hold", effect.hold, allow_zero=False)
    if kind is FaultKind.REDELIVER and effect.latency is not None:
        raise FaultRuleError("latency: a redeliver effect takes no latency")


def check_seconds(name: str, value: float, *, allow_zero: bool) -> None:
    """Raise :class:`FaultRuleError` unless ``value`` is a duration the rules accept."""
    low_ok = value >= 0 if allow_zero else value > 0
    if not is_number(value) or not low_ok or value > _MAX_SECONDS:
        bound = "0" if allow_zero else "more than 0"
        raise FaultRuleError(f"{name}: must be {bound} to {_MAX_SECONDS:g} seconds, got {value!r}")


def _check_endpoint(surface: str, endpoint: str) -> None:
    if not endpoint or len(endpoint) > 200:
        raise FaultRuleError("endpoint: must be 1-200 characters (a glob such as affiliate/*)")
    if surface == "segment":
        if not any(fnmatch.fnmatchcase(name, endpoint) for name in SEGMENT_ENDPOINTS):
            raise FaultRuleError(
                f"endpoint: the segment surface's endpoints are the message types it delivers "
                f"({', '.join(SEGMENT_ENDPOINTS)}); got {endpoint!r}"
            )
        return
    if surface == "destination":
        if endpoint != "*":
            raise FaultRuleError(
                f"endpoint: the destination has one endpoint; leave it out, got {endpoint!r}"
            )
        return
    known = AFFILIATE_ENDPOINTS
    if not any(fnmatch.fnmatchcase(name, endpoint) for name in known):
        raise FaultRuleError(
            f"endpoint: {endpoint!r} matches no fake Refersion endpoint ({', '.join(known)})"
        )


def is_number(value: Any) -> bool:
    """A JSON number: not a bool, not NaN."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def format_seconds(value: float) -> str:
    """``0.5`` → ``"0.5"``, ``2.0`` → ``"2"``: numbers as the compact syntax writes them."""
    return f"{value:g}"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
