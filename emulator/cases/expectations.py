"""What the test helpers check, and the failure messages they give, over journal and account data.

Pure: the helpers of :class:`~emulator.server.background.BackgroundEmulator` (and so the pytest
fixture) fetch traces (``Trace.to_dict()``) and affiliates (``Affiliate.to_public_dict()``) and
hand them here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from emulator.destination.mapping import REJECTION_REASONS
from emulator.segment.ingest import INGEST_REASONS

__all__ = [
    "REJECTED_OUTCOMES",
    "affiliate_differences",
    "describe_account",
    "describe_event",
    "describe_journal",
    "is_rejection",
    "mapping_warnings",
    "unexpected_problems",
    "unknown_reason_hint",
]

REJECTED_OUTCOMES = frozenset(
    {"rejected", "refersion_rejected", "unauthorized", "ingest_rejected", "discarded"}
)
"""Outcomes :meth:`assert_rejected` matches: the event was refused and will not be retried."""

_UNFINISHED = frozenset({"pending", "retrying"})
_SHOWN_EVENTS = 20
_KNOWN_REASONS = frozenset({*REJECTION_REASONS, *INGEST_REASONS, "invalid_api_key"})
# Refersion's refusals carry its status (refersion_422); other destinations' Segment's label.
_KNOWN_REASON_SHAPES = re.compile(r"refersion_\d{3}|discarded\.\w+")


def affiliate_differences(affiliate: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """One line per expected field that the stored affiliate does not have."""
    lines = []
    for name, want in expected.items():
        if name not in affiliate:
            known = ", ".join(sorted(affiliate))
            lines.append(f"{name}: affiliates have no such field (fields: {known})")
        elif affiliate[name] != want:
            lines.append(f"{name}: stored {affiliate[name]!r}, expected {want!r}")
    return lines


def is_rejection(
    event: Mapping[str, Any], *, reason: str, email: str | None, user_id: str | None
) -> bool:
    """Whether ``event`` was refused for ``reason`` (and belongs to ``email``/``user_id``)."""
    if event.get("outcome") not in REJECTED_OUTCOMES or event.get("reason") != reason:
        return False
    if email is not None and not _email_is(event, email):
        return False
    return user_id is None or event.get("userId") == user_id


def unknown_reason_hint(reason: str) -> str:
    """A hint when ``reason`` is no code the built-in mapping or Segment's ingest uses."""
    if reason in _KNOWN_REASONS or _KNOWN_REASON_SHAPES.fullmatch(reason):
        return ""
    known = ", ".join([*sorted(_KNOWN_REASONS), "refersion_<status>", "discarded.<status>"])
    return f"\n({reason!r} is not a reason the built-in mapping or Segment uses; known: {known})"


def unexpected_problems(
    events: Sequence[Mapping[str, Any]],
    server_errors: Sequence[str],
    *,
    allowed_violations: Collection[str] = (),
) -> list[str]:
    """Unhandled server errors, contract violations not allowed, and events still unfinished."""
    problems = [f"unhandled server error: {error}" for error in server_errors]
    for event in events:
        for violation in event.get("violations", []):
            if violation.get("contract") in allowed_violations:
                continue
            pointer = violation.get("pointer") or "(the whole message)"
            problems.append(
                f"{_event_label(event)} broke {violation.get('contract')} at {pointer}: "
                f"{violation.get('message')}"
            )
        if event.get("outcome") in _UNFINISHED:
            problems.append(f"{_event_label(event)} is still {event.get('outcome')}")
    return problems


def describe_event(event: Mapping[str, Any]) -> str:
    """``t000001 identify userId=u1 email=… → rejected (name_incomplete): <why>``."""
    line = f"{_event_label(event)} → {event.get('outcome')}"
    if event.get("reason"):
        line += f" ({event['reason']})"
    why = _why(event)
    return f"{line}: {why}" if why else line


def describe_journal(events: Sequence[Mapping[str, Any]]) -> str:
    """The journal as a few readable lines, oldest first, the latest 20 at most."""
    if not events:
        return "The journal is empty: no event reached the emulator."
    shown = events[-_SHOWN_EVENTS:]
    head = f"The journal has {len(events)} event{'s' if len(events) != 1 else ''}"
    if len(shown) < len(events):
        head += f" (the latest {len(shown)} shown)"
    return "\n".join([f"{head}:", *(f"  {describe_event(e)}" for e in shown)])


def describe_account(affiliates: Sequence[Mapping[str, Any]]) -> str:
    """The fake Refersion account in one line."""
    if not affiliates:
        return "The fake Refersion account has no affiliates."
    listed = ", ".join(f"{a.get('email')} (id {a.get('id')})" for a in affiliates)
    plural = "s" if len(affiliates) != 1 else ""
    return f"The fake Refersion account has {len(affiliates)} affiliate{plural}: {listed}."


def mapping_warnings(events: Sequence[Mapping[str, Any]], email: str) -> list[str]:
    """Warnings the mapping gave for the latest event of ``email`` (why a field is missing)."""
    for event in reversed([e for e in events if _email_is(e, email)]):
        for hop in event.get("hops", []):
            if hop.get("name") == "mapping":
                warnings = hop.get("detail", {}).get("warnings", [])
                return [f"{w.get('code')}: {w.get('message')}" for w in warnings]
    return []


def _email_is(event: Mapping[str, Any], email: str) -> bool:
    stored = event.get("email")
    return isinstance(stored, str) and stored.strip().lower() == email.strip().lower()


def _event_label(event: Mapping[str, Any]) -> str:
    parts = [str(event.get("id")), str(event.get("type") or "(no type)")]
    if event.get("userId"):
        parts.append(f"userId={event['userId']}")
    if event.get("email"):
        parts.append(f"email={event['email']}")
    return " ".join(parts)


def _why(event: Mapping[str, Any]) -> str:
    """The sentence that explains a refusal: the mapping's, else the last failing hop's."""
    hops = event.get("hops", [])
    for hop in hops:
        detail = hop.get("detail", {})
        if hop.get("name") == "mapping" and detail.get("kind") == "rejection":
            return str(detail.get("message"))
    failing = [hop for hop in hops if hop.get("ok") is False]
    return str(failing[-1].get("summary")) if failing else ""
