"""Fault rules read from text and JSON: ``serve --fault SPEC`` and ``POST /_emulator/faults``.

Compact syntax, one rule per ``--fault``::

    SURFACE[:ENDPOINT]=EFFECT[|EFFECT...][@PROBABILITY][xCOUNT]

    refersion:affiliate/new=503@0.3          503 on 30 % of affiliate/new calls
    refersion=429:2x5                        429 with Retry-After: 2 for the next 5 calls
    refersion:affiliate/*=429|500|503|reset|timeout@30%
    destination=latency:0.5-2                random 0.5-2 s delay, then the normal answer
    destination=latency:0.2+503x3            0.2 s delay, then 503, three times
    segment=redeliver@0.1                    Segment delivers 10 % of its events twice
    segment:delete=redeliverx1               the next delete is delivered twice

Effects: a status ``400``-``599`` (``STATUS:SECONDS`` adds ``Retry-After``), ``timeout[:HOLD]``
(no answer; the connection is dropped after HOLD seconds or when the client gives up),
``reset`` (TCP reset), ``malformed`` (200 with a body that is not JSON), ``truncated`` (200 whose
body stops short of its Content-Length), ``latency:S[-S]`` alone or as a ``+`` prefix, and,
on the ``segment`` surface only, ``redeliver`` (the event is delivered a second time). When a
rule has several effects, one is drawn (evenly, from the rule's seeded generator) each time it
fires.

JSON: a rule is an object ``{"surface", "endpoint", "effect", "probability", "times", "id"}``
whose ``effect`` is a compact effect string, an object ``{"kind", "status", "retryAfter",
"body", "latency", "hold"}``, or a list of either; or a whole rule as a compact string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from emulator.faults.rules import (
    DEFAULT_HOLD,
    MAX_RULES,
    Effect,
    FaultKind,
    FaultRule,
    FaultRuleError,
    is_number,
)

__all__ = ["parse_fault_spec", "rule_from_json", "rules_from_json"]

_RULE = re.compile(
    r"(?P<effects>.+?)(?:@(?P<probability>[0-9.]+%?))?(?:x(?P<times>[0-9]+))?",
    re.DOTALL,
)
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_LATENCY = re.compile(rf"latency:(?P<low>{_NUMBER})(?:-(?P<high>{_NUMBER}))?")
_STATUS = re.compile(rf"(?P<status>[0-9]{{3}})(?::(?P<retry_after>{_NUMBER}))?")
_TIMEOUT = re.compile(rf"timeout(?::(?P<hold>{_NUMBER}))?")


def parse_fault_spec(spec: str) -> FaultRule:
    """Read one rule in the compact syntax (see the module docstring)."""
    target, sep, rest = spec.strip().partition("=")
    if not sep or not rest:
        raise FaultRuleError(
            f"fault {spec!r}: expected SURFACE[:ENDPOINT]=EFFECT[@PROBABILITY][xCOUNT], "
            "e.g. refersion:affiliate/new=503@0.3"
        )
    surface, _, endpoint = target.partition(":")
    match = _RULE.fullmatch(rest)
    assert match is not None  # the pattern accepts any non-empty text
    try:
        effects = tuple(_parse_effect(text) for text in match["effects"].split("|"))
        probability = _parse_probability(match["probability"])
        return FaultRule(
            surface=surface,
            endpoint=endpoint or "*",
            effects=effects,
            probability=probability,
            times=int(match["times"]) if match["times"] else None,
        )
    except FaultRuleError as exc:
        raise FaultRuleError(f"fault {spec!r}: {exc}") from None


def rules_from_json(payload: Any) -> list[FaultRule]:
    """Rules from a JSON body: one rule, a list of rules, or ``{"rules": [...]}``.

    A rule is an object, or a string in the compact syntax.
    """
    if isinstance(payload, dict) and "rules" in payload:
        payload = payload["rules"]
        where = "rules"
    else:
        where = "rules" if isinstance(payload, list) else "rule"
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise FaultRuleError(f"{where}: empty; send a rule, a list of rules or {{rules: [...]}}")
    if len(items) > MAX_RULES:
        raise FaultRuleError(f"{where}: at most {MAX_RULES} rules at once")
    if where == "rule":
        return [rule_from_json(items[0], where="rule")]
    return [rule_from_json(item, where=f"{where}[{i}]") for i, item in enumerate(items)]


def rule_from_json(data: Any, *, where: str = "rule") -> FaultRule:
    """One rule from JSON; errors are prefixed with ``where`` (e.g. ``rules[2].status``)."""
    if isinstance(data, str):
        try:
            return parse_fault_spec(data)
        except FaultRuleError as exc:
            raise FaultRuleError(f"{where}: {exc}") from None
    if not isinstance(data, dict):
        raise FaultRuleError(f"{where}: must be an object or a compact rule string")
    unknown = sorted(set(data) - _RULE_KEYS)
    if unknown:
        known = ", ".join(sorted(_RULE_KEYS))
        raise FaultRuleError(f"{where}.{unknown[0]}: unknown field; fields are {known}")
    try:
        effect_data = data.get("effect")
        if effect_data is None:
            raise FaultRuleError('effect: missing; e.g. "503" or {"kind": "reset"}')
        listed = effect_data if isinstance(effect_data, list) else [effect_data]
        if not listed:
            raise FaultRuleError("effect: empty list; give at least one effect")
        effects = tuple(
            _effect_from_json(item, f"effect[{i}]" if isinstance(effect_data, list) else "effect")
            for i, item in enumerate(listed)
        )
        surface = _typed(data, "surface", str, required=True)
        endpoint = _typed(data, "endpoint", str) or "*"
        probability = _typed(data, "probability", (int, float))
        times = _typed(data, "times", int)
        rule_id = _typed(data, "id", str)
        return FaultRule(
            surface=surface,
            endpoint=endpoint,
            effects=effects,
            probability=1.0 if probability is None else float(probability),
            times=times,
            id=rule_id,
        )
    except FaultRuleError as exc:
        raise FaultRuleError(f"{where}.{exc}") from None


_RULE_KEYS = frozenset({"id", "surface", "endpoint", "effect", "probability", "times"})
_EFFECT_KEYS = frozenset({"kind", "status", "retryAfter", "body", "latency", "hold"})


def _effect_from_json(data: Any, where: str) -> Effect:
    if isinstance(data, str):
        try:
            return _parse_effect(data)
        except FaultRuleError as exc:
            raise FaultRuleError(f"{where}: {exc}") from None
    if isinstance(data, int) and not isinstance(data, bool):
        return _parse_effect(str(data))
    if not isinstance(data, dict):
        raise FaultRuleError(f"{where}: must be a compact effect string or an object")
    unknown = sorted(set(data) - _EFFECT_KEYS)
    if unknown:
        known = ", ".join(sorted(_EFFECT_KEYS))
        raise FaultRuleError(f"{where}.{unknown[0]}: unknown field; fields are {known}")
    try:
        kind_name = _typed(data, "kind", str) or ("status" if "status" in data else None)
        kinds = ", ".join(k.value for k in FaultKind)
        if kind_name not in {k.value for k in FaultKind}:
            raise FaultRuleError(f"kind: must be one of {kinds}, got {kind_name!r}")
        latency = data.get("latency")
        hold = _typed(data, "hold", (int, float))
        retry_after = _typed(data, "retryAfter", (int, float))
        return Effect(
            kind=FaultKind(kind_name),
            status=_typed(data, "status", int),
            retry_after=None if retry_after is None else float(retry_after),
            body=data.get("body"),
            latency=None if latency is None else _latency_from_json(latency),
            hold=DEFAULT_HOLD if hold is None else float(hold),
        )
    except FaultRuleError as exc:
        raise FaultRuleError(f"{where}.{exc}") from None


def _latency_from_json(value: Any) -> tuple[float, float]:
    if is_number(value):
        return (float(value), float(value))
    if isinstance(value, list) and len(value) == 2 and all(is_number(v) for v in value):
        return (float(value[0]), float(value[1]))
    raise FaultRuleError(f"latency: must be seconds or [low, high] seconds, got {value!r}")


def _parse_effect(text: str) -> Effect:
    parts = text.strip().split("+")
    latency: tuple[float, float] | None = None
    if len(parts) > 2:
        raise FaultRuleError(f"effect {text!r}: at most one 'latency:S+' prefix and one effect")
    if len(parts) == 2 or _LATENCY.fullmatch(parts[0]):
        found = _LATENCY.fullmatch(parts[0])
        if found is None:
            raise FaultRuleError(f"effect {text!r}: the part before '+' must be latency:S[-S]")
        low = float(found["low"])
        latency = (low, float(found["high"]) if found["high"] else low)
        if len(parts) == 1:
            return Effect(kind=FaultKind.LATENCY, latency=latency)
    base = parts[-1]
    if status := _STATUS.fullmatch(base):
        retry_after = float(status["retry_after"]) if status["retry_after"] else None
        return Effect(
            kind=FaultKind.STATUS,
            status=int(status["status"]),
            retry_after=retry_after,
            latency=latency,
        )
    if timeout := _TIMEOUT.fullmatch(base):
        hold = float(timeout["hold"]) if timeout["hold"] else DEFAULT_HOLD
        return Effect(kind=FaultKind.TIMEOUT, hold=hold, latency=latency)
    if base in ("reset", "malformed", "truncated", "redeliver"):
        return Effect(kind=FaultKind(base), latency=latency)
    raise FaultRuleError(
        f"effect {base!r}: expected a status 400-599 (429:SECONDS adds Retry-After), "
        "timeout[:HOLD], reset, malformed, truncated, latency:S[-S], or redeliver (segment)"
    )


def _parse_probability(text: str | None) -> float:
    if text is None:
        return 1.0
    percent = text.endswith("%")
    number = text.removesuffix("%")
    if not re.fullmatch(_NUMBER, number):
        raise FaultRuleError(f"probability: {text!r} is not a number such as 0.3 or 30%")
    return float(number) / 100 if percent else float(number)


def _typed(data: Mapping[str, Any], name: str, kind: Any, *, required: bool = False) -> Any:
    value = data.get(name)
    if value is None:
        if required:
            raise FaultRuleError(f"{name}: missing")
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = {str: "a string", int: "a whole number"}.get(kind, "a number")
        raise FaultRuleError(f"{name}: must be {expected}, got {json.dumps(value)[:60]}")
    return value
