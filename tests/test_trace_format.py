"""The trace for a person: hops in order, the field-lineage table, problems with one-line fixes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from emulator.cases.payloads import parse_cases
from emulator.destination.mapping import WARNING_CODES
from emulator.journal.fixes import REASON_FIXES, WARNING_FIXES, fix_for_reason
from emulator.journal.rendering import Style, explain, field_label, format_trace
from emulator.segment.ingest import INGEST_REASONS
from emulator.segment.routing import FILTER_REASONS
from emulator.server.runners.case_runner import run_case
from tests.support import cli, fast_config, write

CUSTOMER = {
    "type": "identify",
    "userId": "cust-1",
    "traits": {
        "name": "Cher",
        "email": "cher@example.com",
        "address": {"postalCode": 94103, "country": "EGY"},
    },
}


async def trace_of(message: dict[str, Any]) -> dict[str, Any]:
    [case] = parse_cases("m.json", json.dumps(message).encode())
    result = await run_case(case, base=fast_config())
    [event] = result.events
    return event


def test_every_warning_code_and_segment_side_reason_has_a_one_line_fix() -> None:
    assert set(WARNING_FIXES) == set(WARNING_CODES)
    assert set(INGEST_REASONS) <= set(REASON_FIXES)
    assert set(FILTER_REASONS) <= set(REASON_FIXES)
    for fix in [*WARNING_FIXES.values(), *REASON_FIXES.values()]:
        assert "\n" not in fix
        assert len(fix) < 100
    assert fix_for_reason("refersion_503") is not None
    assert fix_for_reason(None) is None


def test_field_labels_read_like_segment_fields() -> None:
    assert field_label("/traits/address/postalCode") == "traits.address.postalCode"
    # status, send_welcome and offer are the emulator's choices, not Segment settings.
    assert field_label("settings:status") == "(assumed status)"
    assert field_label("generated") == "(generated)"
    assert field_label("/traits/a~1b") == "traits.a/b"


async def test_explain_gives_lineage_and_every_problem_with_its_fix() -> None:
    explained = explain(await trace_of(CUSTOMER))
    rows = {(row["segment"], row["refersion"]): row for row in explained["lineage"]}
    assert rows[("traits.email", "email")]["rule"] == "traits.email → email"
    assert rows[("traits.address.postalCode", "zip")]["value"] == "94103"
    assert rows[("userId", "unique_merchant_id")]["value"] == "cust-1"
    problems = {problem["code"]: problem for problem in explained["problems"]}
    assert problems["name_incomplete"]["kind"] == "rejection"
    assert problems["name_incomplete"]["fix"] == "send lastName or a two-word name"
    assert problems["name_incomplete"]["field"] == "traits.name"
    assert problems["unsupported_country"]["kind"] == "warning"
    assert "leave address.country out" in problems["unsupported_country"]["fix"]
    assert problems["value_coerced"]["field"] == "traits.address.postalCode"


async def test_a_filtered_event_explains_the_drop_and_its_fix() -> None:
    message = {**CUSTOMER, "traits": {"name": "Peter Gibbons", "email": "p@example.com"}}
    trace = await trace_of({**message, "integrations": {"All": False}})
    [problem] = explain(trace)["problems"]
    assert (problem["kind"], problem["code"]) == ("filtered", "FILTERED_BY_INTEGRATIONS_OBJECT")
    assert problem["fix"] == REASON_FIXES["FILTERED_BY_INTEGRATIONS_OBJECT"]
    assert "filtered" in problem["message"]


async def test_the_text_trace_shows_hops_in_order_then_fields_then_problems() -> None:
    lines = format_trace(await trace_of(CUSTOMER), index=1, style=Style(color=False))
    text = "\n".join(lines)
    hops = ["ingest", "routing", "delivery", "receive", "mapping", "answer"]
    positions = [text.index(f" {hop} ") for hop in hops]
    assert positions == sorted(positions)
    assert "    ✗ mapping    rejected: name_incomplete" in text  # under its delivery attempt
    assert text.index("Segment field") < text.index("rejection name_incomplete")
    assert "traits.address.postalCode  → zip" in text
    assert "      fix: send lastName or a two-word name" in text
    assert "! warning unsupported_country" in text
    assert text.rstrip().endswith("contracts: no violations")
    assert "\x1b[" not in text


async def test_colour_on_a_terminal_only() -> None:
    trace = await trace_of(CUSTOMER)
    coloured = "\n".join(format_trace(trace, index=1, style=Style(color=True)))
    assert "\x1b[31m✗ rejection name_incomplete" in coloured
    assert "\x1b[36mfix: send lastName or a two-word name\x1b[0m" in coloured


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_send_colours_a_terminal_and_not_a_pipe(tmp_path: Path) -> None:
    from emulator.cli import run

    path = write(tmp_path, "c.json", CUSTOMER)
    terminal, errors = Terminal(), io.StringIO()
    assert run(["send", path], stdout=terminal, stderr=errors) == 1
    assert "\x1b[" in terminal.getvalue()
    _, piped, _ = cli("send", path)
    assert "\x1b[" not in piped


def test_send_json_carries_the_explanation(tmp_path: Path) -> None:
    code, out, _ = cli("send", "--json", write(tmp_path, "c.json", CUSTOMER))
    assert code == 1
    [case] = json.loads(out)["cases"]
    assert case["format"] == "message"
    [event] = case["events"]
    codes = [problem["code"] for problem in event["explanation"]["problems"]]
    assert codes[0] == "name_incomplete"
    assert "unsupported_country" in codes
