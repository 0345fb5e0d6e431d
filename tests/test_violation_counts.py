"""One event's violation count and the per-contract counts tell the same story."""

from __future__ import annotations

import aiohttp

from emulator.contract_checks.contract_set import default_contracts
from emulator.server.emulator import Emulator

NUMERIC_USER_ID = {
    "type": "identify",
    "userId": 12345,
    "messageId": "numeric-user-id",
    "traits": {"name": "Ada Lovelace", "email": "ada@example.com"},
}


def test_one_value_failing_one_keyword_in_two_layers_is_one_violation() -> None:
    # segment/identify says string, the segment/message it builds on says string or null.
    [violation] = default_contracts().validate("segment/identify", NUMERIC_USER_ID)
    assert (violation.pointer, violation.rule) == ("/userId", "type")


def test_required_members_missing_at_one_pointer_stay_separate() -> None:
    violations = default_contracts().validate("refersion/affiliate-new.request", {})
    assert len({v.message for v in violations if v.rule == "required"}) > 1


async def test_the_event_and_the_contracts_tab_count_the_same_violations(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{emulator.url}/_emulator/deliver", json=NUMERIC_USER_ID) as response:
        assert response.status == 200
    async with http.get(f"{emulator.url}/_emulator/events") as response:
        [event] = (await response.json())["events"]
    async with http.get(f"{emulator.url}/_emulator/contracts") as response:
        rows = {row["contract"]: row for row in (await response.json())["contracts"]}
    # Checked when Segment routes it and when the destination receives it: found twice.
    assert event["violations"] == rows["segment/identify"]["violations"] == 2
    assert rows["segment/identify"]["failed"] == 2
