"""How ``send`` and ``replay`` show a case run: the trace for a person, or JSON for machines."""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any

from emulator.cases.payloads import FORMATS
from emulator.journal.rendering import Style, explain, format_trace

if TYPE_CHECKING:
    from emulator.server.runners.case_runner import CaseResult

__all__ = ["case_json", "print_case"]

_ENTRIES = {
    "tracking-api": "through the Tracking API",
    "delivery": "as delivered to the destination",
}


def case_json(result: CaseResult) -> dict[str, Any]:
    """The case as data, each event with its :func:`~emulator.journal.rendering.explain`."""
    data = result.to_dict()
    data["events"] = [{**event, "explanation": explain(event)} for event in data["events"]]
    return data


def print_case(result: CaseResult, style: Style, out: IO[str]) -> None:
    case = result.case
    title = case.name + (f" — {case.description}" if case.description else "")
    print(style.bold(title), file=out)
    read_as = FORMATS.get(case.format, case.format)
    print(style.dim(f"  read as {read_as}; sent {_ENTRIES[case.entry]}"), file=out)
    for index, event in enumerate(result.events, start=1):
        for line in format_trace(event, index=index, style=style):
            print(line, file=out)
    if case.recorded is not None:
        print(_recorded_line(case.recorded, result.events, style), file=out)
    if result.affiliates:
        print(f"  affiliates in the fake Refersion account: {len(result.affiliates)}", file=out)
    verdict = style.good("PASS") if result.passed else style.bad("FAIL")
    print(f"{verdict} {case.name}", file=out)
    for failure in result.failures:
        print(style.bad(f"  - {failure}"), file=out)
    print(file=out)


def _recorded_line(recorded: Any, events: list[dict[str, Any]], style: Style) -> str:
    status = recorded.get("status")
    body = json.dumps(recorded.get("body"), ensure_ascii=False)
    if len(body) > 120:
        body = body[:119] + "…"
    line = f"  Segment recorded (Response from Destination): {status or '?'} {body}"
    answers = [
        hop["detail"].get("status")
        for event in events
        for hop in event.get("hops", [])
        if hop.get("name") == "answer" and isinstance(hop.get("detail"), dict)
    ]
    if status is None or not answers:
        return line
    if answers[-1] == status:
        return line + style.good(f"; the emulator answered {status} too")
    return line + style.bad(f"; the emulator answered {answers[-1]}")
