"""A failing example as a fixture file: the events, how they enter, what each must end as.

``send`` (and the fixture corpus) replay it with the same expectations, so the file fails
until the bug is fixed and guards against it afterwards.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from emulator.check.example import Step
from emulator.errors import InputError

__all__ = ["fixture_for", "write_fixture"]


def fixture_for(
    *,
    name: str,
    invariant: str,
    message: str,
    steps: Sequence[Step],
    affiliates: Sequence[Mapping[str, Any]],
    settings: Mapping[str, str],
    seed: int | None,
) -> dict[str, Any]:
    """The fixture of one shrunk counterexample of property ``name``.

    Events that entered different ways all enter as deliveries: a fixture has one entry,
    and delivery keeps every message as it was sent.
    """
    entries = {step.entry for step in steps}
    entry = entries.pop() if len(entries) == 1 else "delivery"
    rerun = f" --seed {seed}" if seed is not None else ""
    return {
        "description": f"check {name}: {invariant}. Failed with: {message}",
        "source": f"refersion-emulator check{rerun} (shrunk counterexample of {name})",
        "entry": entry,
        "settings": dict(settings),
        "events": [dict(step.message) for step in steps],
        "expect": {
            "outcomes": [step.outcome for step in steps],
            "reasons": [step.reason for step in steps],
            "affiliates": [dict(affiliate) for affiliate in affiliates],
        },
    }


def write_fixture(directory: Path, name: str, fixture: Mapping[str, Any]) -> Path:
    """Write ``fixture`` as ``check-<name>-<hash>.json`` under ``directory`` (created)."""
    text = json.dumps(fixture, indent=2, ensure_ascii=False) + "\n"
    digest = hashlib.sha256(json.dumps(fixture["events"], sort_keys=True).encode()).hexdigest()
    path = directory / f"check-{name}-{digest[:10]}.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{directory}: cannot write the counterexample ({exc.strerror})") from None
    return path
