"""The outcome of a check run: per property, what was exercised, and the counterexamples.

Rendered three ways: lines for a person, a JSON document, and JUnit XML for CI.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from emulator.check.exercised import Exercised
from emulator.journal.rendering import Style
from emulator.junit import JUnitCase, junit_xml

__all__ = ["CheckReport", "Failure", "PropertyResult"]

_SHOWN_EVENT = 400
_SHOWN_COUNTS = 12


@dataclass(slots=True)
class Failure:
    """Why a property failed, and its shrunk counterexample as a fixture (``None`` when the
    failure came before any event was sent)."""

    message: str
    kind: str
    fixture: dict[str, Any] | None
    saved_to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "kind": self.kind,
            "fixture": self.fixture,
            "saved_to": self.saved_to,
        }


@dataclass(slots=True)
class PropertyResult:
    """One property's run. ``digest`` hashes every event sent: same seed, same digest."""

    name: str
    invariant: str
    examples: int
    seconds: float
    digest: str
    exercised: Exercised
    failure: Failure | None

    @property
    def passed(self) -> bool:
        return self.failure is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "invariant": self.invariant,
            "passed": self.passed,
            "examples": self.examples,
            "events": self.exercised.events,
            "seconds": round(self.seconds, 3),
            "events_digest": self.digest,
            "exercised": self.exercised.to_dict(),
            "failure": self.failure.to_dict() if self.failure else None,
        }


@dataclass(slots=True)
class CheckReport:
    """Every property's result; ``target`` names the destination and Refersion checked."""

    results: list[PropertyResult]
    examples: int
    seed: int | None
    seconds: float
    target: dict[str, str]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failures(self) -> list[Failure]:
        return [result.failure for result in self.results if result.failure is not None]

    def exercised(self) -> Exercised:
        total = Exercised()
        for result in self.results:
            total.merge(result.exercised)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "examples": self.examples,
            "seed": self.seed,
            "seconds": round(self.seconds, 3),
            "target": self.target,
            "properties": [result.to_dict() for result in self.results],
            "exercised": self.exercised().to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def junit_xml(self) -> str:
        """One ``testcase`` per property; a failure carries the counterexample's events."""
        shown_seed = "random" if self.seed is None else str(self.seed)
        properties = [
            ("examples", str(self.examples)),
            ("seed", shown_seed),
            *sorted(self.target.items()),
        ]
        cases = [_junit_case(result) for result in self.results]
        return junit_xml(
            "refersion-emulator check", cases, properties=properties, seconds=self.seconds
        )

    def lines(self, style: Style) -> list[str]:
        """The report for a person: a verdict per property, failures, what was exercised."""
        shown_seed = "a random seed" if self.seed is None else f"seed {self.seed}"
        out = [
            style.bold(
                f"refersion-emulator check: {len(self.results)} properties, "
                f"up to {self.examples} examples each, {shown_seed}"
            )
        ]
        out.extend(f"  {key}: {value}" for key, value in sorted(self.target.items()))
        out.append("")
        for result in self.results:
            verdict = style.good("PASS") if result.passed else style.bad("FAIL")
            out.append(
                f"{verdict} {result.name:<26} {result.examples:>5} examples "
                f"{result.exercised.events:>6} events {result.seconds:>7.1f}s"
            )
            out.append(style.dim(f"     {result.invariant}"))
            if result.failure is not None:
                out.extend(style.bad(f"     {line}") for line in _failure_lines(result.failure))
        out.append("")
        out.append(style.bold("exercised"))
        out.extend(_exercised_lines(self.exercised()))
        out.append("")
        passed = sum(result.passed for result in self.results)
        total = f"{passed} passed, {len(self.results) - passed} failed in {self.seconds:.1f}s"
        out.append(style.good(total) if self.passed else style.bad(total))
        return out


def _junit_case(result: PropertyResult) -> JUnitCase:
    output = (
        f"{result.invariant}\n{result.examples} examples, {result.exercised.events} events\n"
        + json.dumps(result.exercised.to_dict(), ensure_ascii=False)
    )
    case = JUnitCase(
        name=result.name,
        seconds=result.seconds,
        classname="refersion_emulator.check",
        output=output,
    )
    if result.failure is None:
        return case
    return dataclasses.replace(
        case,
        failure="\n".join(_failure_lines(result.failure)),
        message=result.failure.message,
        kind=result.failure.kind,
    )


def _failure_lines(failure: Failure) -> list[str]:
    lines = [failure.message]
    if failure.fixture is None:
        return lines
    lines.append("shrunk counterexample:")
    expect = failure.fixture["expect"]
    for index, event in enumerate(failure.fixture["events"]):
        shown = json.dumps(event, ensure_ascii=False)
        if len(shown) > _SHOWN_EVENT:
            shown = shown[: _SHOWN_EVENT - 1] + "…"
        lines.append(f"  event {index + 1} must end {expect['outcomes'][index]}: {shown}")
    if failure.saved_to is not None:
        lines.append(
            f"saved as a fixture: {failure.saved_to} (replay: refersion-emulator send FILE)"
        )
    else:
        lines.append("keep it as a fixture with --save-failures DIR")
    return lines


def _exercised_lines(exercised: Exercised) -> list[str]:
    rows = (
        ("outcomes", exercised.outcomes),
        ("reason codes", exercised.reasons),
        ("warnings", exercised.warnings),
        ("Refersion answers", exercised.refersion_statuses),
        ("Segment fields", exercised.segment_fields),
        ("Refersion fields", exercised.refersion_fields),
        ("variants", exercised.variants),
    )
    lines = [f"  {'events':<18} {exercised.events}"]
    for label, counts in rows:
        lines.append(f"  {label:<18} {_counts(counts)}")
    return lines


def _counts(counts: Counter[str]) -> str:
    if not counts:
        return "none"
    common = counts.most_common(_SHOWN_COUNTS)
    text = ", ".join(f"{key} {count}" for key, count in common)
    hidden = len(counts) - len(common)
    return text + (f", … {hidden} more" if hidden else "")
