"""``refersion-emulator generate``: the public strategies' events as JSON lines."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import IO, Any

from hypothesis import strategies as st

from emulator import strategies
from emulator.commands.options import EXIT_OK, hypothesis_storage
from emulator.errors import InputError

__all__ = ["HELP", "KINDS", "NAME", "add_arguments", "run"]

NAME = "generate"
HELP = "print generated events as JSON lines"
_MAX_COUNT = 100_000

Strategy = Callable[[], st.SearchStrategy[strategies.GeneratedEvent]]
KINDS: Mapping[str, tuple[Strategy, Strategy]] = {
    "identify": (strategies.identify_events, strategies.invalid_identify_events),
    "delete": (strategies.delete_events, strategies.invalid_delete_events),
    "engage": (strategies.engage_events, strategies.invalid_engage_events),
}
"""kind → (valid events, invalid events)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", choices=tuple(KINDS), default="identify", help="event kind")
    parser.add_argument("--count", type=int, default=10, help="how many events (default 10)")
    parser.add_argument("--seed", type=int, help="the same seed prints the same events")
    parser.add_argument(
        "--invalid",
        action="store_true",
        help="events that each break one rule, with the code they must be turned away with",
    )
    parser.add_argument(
        "--with-expectations",
        action="store_true",
        help="print {event, variant, stage, reason, fields, warnings} instead of bare events",
    )


def run(args: argparse.Namespace, *, stdout: IO[str], stderr: IO[str]) -> int:
    if not 1 <= args.count <= _MAX_COUNT:
        raise InputError(f"--count must be 1..{_MAX_COUNT}, got {args.count}")
    valid, invalid = KINDS[args.kind]
    with hypothesis_storage():
        events = strategies.sample(
            (invalid if args.invalid else valid)(), count=args.count, seed=args.seed
        )
    for event in distinct_message_ids(events):
        line: Any = _annotated(event) if args.with_expectations else event.message
        print(json.dumps(line, ensure_ascii=False), file=stdout)
    return EXIT_OK


def distinct_message_ids(
    events: list[strategies.GeneratedEvent],
) -> list[strategies.GeneratedEvent]:
    """``events`` with every repeated messageId made unique by a ``-<n>`` suffix.

    Hypothesis repeats values on purpose (it hunts for collisions), but printed events are
    meant to be sent: a repeated messageId would end as Segment's ``duplicate`` instead of what
    the event was drawn to show. An event whose very point is its messageId is left alone.
    """
    seen: set[str] = set()
    unique = []
    for number, event in enumerate(events, start=1):
        message = event.message
        message_id = message.get("messageId")
        if isinstance(message_id, str) and "message_id" not in (event.reason or ""):
            if message_id in seen:
                message_id = f"{message_id}-{number}"
                event = dataclasses.replace(event, message={**message, "messageId": message_id})
            seen.add(message_id)
        unique.append(event)
    return unique


def _annotated(event: strategies.GeneratedEvent) -> dict[str, Any]:
    return {
        "event": event.message,
        "variant": event.variant,
        "stage": event.stage,
        "reason": event.reason,
        "fields": dict(event.fields),
        "warnings": sorted(event.warnings),
    }
