"""Saving a case that was just sent as a fixture: ``send --save-fixture``'s rules.

A fixture never keeps the write key; personal data is replaced by fakes unless asked not to;
and it expects what happened, checked by running the saved (redacted) case again. The command
runs the pipeline; the rules are here, over plain data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from emulator.cases.payloads import FORMATS, Case
from emulator.cases.redaction import Redactor
from emulator.cases.writer import build_fixture, dump_json, observed_expectation
from emulator.config import DestinationSettings
from emulator.errors import InputError

__all__ = ["fixture_from_run", "saved_message", "to_save", "write_fixture"]

_DEFAULTS = DestinationSettings()


def to_save(case: Case, redactor: Redactor | None) -> Case:
    """The case as it is saved: without its write key, redacted by ``redactor`` if given."""
    saved = _without_write_key(case)
    if redactor is None:
        return saved
    events = tuple(redactor.message(event) for event in saved.events)
    body = saved.tracking_body
    if body is not None:
        fields = redactor.batch_fields({k: v for k, v in body.items() if k != "batch"})
        body = {**fields, "batch": list(events)}
    return dataclasses.replace(saved, events=events, tracking_body=body)


def fixture_from_run(
    case: Case,
    saved: Case,
    *,
    destination: DestinationSettings,
    assumptions: Mapping[str, str],
    observed: Sequence[Mapping[str, Any]],
    rerun_events: Sequence[Mapping[str, Any]],
    rerun_affiliates: Sequence[Mapping[str, Any]],
    redacted: bool,
) -> dict[str, Any]:
    """The fixture for ``saved`` (from :func:`to_save`), expecting what its rerun did under
    the ``assumptions`` (variants) pinned in it.

    :class:`InputError` when redaction changed an outcome: the fixture would not reproduce
    what the original payload did.
    """
    before = [(e.get("outcome"), e.get("reason")) for e in observed]
    after = [(e.get("outcome"), e.get("reason")) for e in rerun_events]
    if before != after:
        raise InputError(
            f"redaction changed the outcome ({before} → {after}); "
            "save with --no-redact and redact by hand"
        )
    settings = {
        key: value
        for key, value in (
            ("status", destination.status),
            ("send_welcome", destination.send_welcome),
            ("offer", destination.offer),
        )
        if value != getattr(_DEFAULTS, key)
    }
    settings.update(case.settings)
    batch = saved.tracking_body
    return build_fixture(
        description=case.description
        or f"Reproduced with refersion-emulator send from {FORMATS.get(case.format, case.format)}",
        source=case.source
        or (
            "customer payload; personal data redacted by send --save-fixture"
            if redacted
            else "customer payload (not redacted)"
        ),
        entry=case.entry,
        settings=settings,
        batch_fields={k: v for k, v in batch.items() if k != "batch"} if batch else None,
        assumptions=assumptions,
        events=saved.events,
        expect=observed_expectation(rerun_events, rerun_affiliates),
    )


def write_fixture(path: Path, fixture: Mapping[str, Any]) -> None:
    """Write ``fixture`` as the corpus formats it; :class:`InputError` names an unwritable path."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_json(fixture) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None


def saved_message(path: Path, redactor: Redactor | None) -> str:
    """The line ``send`` prints about the saved fixture."""
    if redactor is None:
        return f"saved fixture {path} (personal data kept: --no-redact)"
    return f"saved fixture {path} ({redactor.replaced} personal values replaced by fakes)"


def _without_write_key(case: Case) -> Case:
    """A fixture never stores a write key: it is a credential, and replay does not need it."""
    events = tuple({k: v for k, v in e.items() if k != "writeKey"} for e in case.events)
    body = case.tracking_body
    if body is not None:
        body = {k: v for k, v in body.items() if k in ("context", "integrations", "sentAt")}
        body["batch"] = list(events)
    return dataclasses.replace(case, events=events, tracking_body=body)
