"""Regulations as plain data: request rules, the forwarded delete's shape, status, suppression."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.contract_checks.contract_set import default_contracts
from emulator.journal.traces import Journal, Trace
from emulator.segment.regulations.book import (
    MAX_SUBJECT_IDS,
    REGULATION_TYPES,
    RegulationBook,
    RegulationRequestError,
    delete_message,
    delivery_status,
    go_time_string,
    parse_regulation_request,
)
from emulator.segment.regulations.suppression import SuppressionList
from emulator.segment.timestamps import parse_timestamp

T0 = datetime(2020, 5, 9, 23, 54, 49, 209808, tzinfo=UTC).timestamp()


def body(**fields: Any) -> dict[str, Any]:
    return {
        "regulationType": "SUPPRESS_WITH_DELETE",
        "subjectType": "USER_ID",
        "subjectIds": ["u-1"],
        **fields,
    }


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ([], None, "JSON object"),
        ({}, "regulationType", "regulationType must be one of"),
        (body(regulationType="DELETE"), "regulationType", 'got "DELETE"'),
        (body(regulationType=["DELETE_ONLY"]), "regulationType", "must be one of"),
        (body(regulationType="delete_only"), "regulationType", "must be one of"),
        (body(subjectType=None), "subjectType", "got missing"),
        (body(subjectType="EMAIL"), "subjectType", "USER_ID or OBJECT_ID"),
        (body(subjectType={"USER_ID": 1}), "subjectType", "USER_ID or OBJECT_ID"),
        (body(subjectType="OBJECT_ID"), "subjectType", "Cloud Source"),
        (body(subjectIds=None), "subjectIds", "non-empty array"),
        (body(subjectIds="u-1"), "subjectIds", "non-empty array"),
        (body(subjectIds=[]), "subjectIds", "non-empty array"),
        (body(subjectIds=["u-1", 2]), "subjectIds[1]", "non-empty string"),
        (body(subjectIds=["u-1", "  "]), "subjectIds[1]", "non-empty string"),
        (body(subjectIds=[None]), "subjectIds[0]", "non-empty string"),
        (
            body(subjectIds=[f"u{i}" for i in range(MAX_SUBJECT_IDS + 1)]),
            "subjectIds",
            "at most 5000",
        ),
    ],
)
def test_invalid_requests_name_the_field_and_the_rule(
    payload: Any, field: str | None, words: str
) -> None:
    with pytest.raises(RegulationRequestError, match=re.escape(words)) as caught:
        parse_regulation_request(payload)
    assert caught.value.field == field


def test_5000_ids_are_accepted_and_repeats_are_regulated_once() -> None:
    ids = [f"u{i}" for i in range(MAX_SUBJECT_IDS)]
    assert len(parse_regulation_request(body(subjectIds=ids)).subject_ids) == MAX_SUBJECT_IDS
    request = parse_regulation_request(body(subjectIds=["b", "a", "b"]))
    assert request.subject_ids == ("b", "a")


@pytest.mark.parametrize(
    ("regulation_type", "forwards", "suppression"),
    [
        ("SUPPRESS_WITH_DELETE", True, "add"),
        ("DELETE_ONLY", True, None),
        ("SUPPRESS_WITH_DELETE_INTERNAL", False, "add"),
        ("DELETE_INTERNAL", False, None),
        ("DELETE_ARCHIVE_ONLY", False, None),
        ("SUPPRESS_ONLY", False, "add"),
        ("UNSUPPRESS", False, "remove"),
    ],
)
def test_what_each_regulation_type_does(
    regulation_type: str, forwards: bool, suppression: str | None
) -> None:
    kind = REGULATION_TYPES[regulation_type]
    assert (kind.forwards, kind.suppression) == (forwards, suppression)


def test_the_forwarded_delete_has_the_partner_spec_shape() -> None:
    message = delete_message(
        regulation_id="2aB",
        job=2,
        user_id="507f191e81",
        source_id="P0OJ3CTID1",
        created_at=T0 - 3600,
        now=T0,
        monotonic=70366.298768264,
    )
    assert message == {
        "type": "delete",
        "channel": "server",
        "userId": "507f191e81",
        "context": None,
        "integrations": None,
        "messageId": "delete-2aB::job-2-P0OJ3CTID1",
        "projectId": "P0OJ3CTID1",
        "timestamp": "2020-05-09T23:54:49.209Z",
        "receivedAt": "2020-05-09T23:54:49.209Z",
        "sentAt": "2020-05-09T22:54:49.209Z",
        "originalTimestamp": message["originalTimestamp"],
    }
    assert re.fullmatch(
        r"2020-05-09 23:54:49\.2098\d* \+0000 UTC m=\+70366\.298768264",
        message["originalTimestamp"],
    )
    original = parse_timestamp(message["originalTimestamp"])
    timestamp = parse_timestamp(message["timestamp"])
    assert original is not None
    assert timestamp is not None
    assert timedelta(0) <= original - timestamp < timedelta(milliseconds=1)
    assert default_contracts().validate("segment/delete", message) == []


def test_go_time_strings_trim_trailing_zeros_like_go() -> None:
    whole = datetime(2020, 5, 9, 23, 54, 49, tzinfo=UTC).timestamp()
    assert go_time_string(whole, monotonic=1.5) == "2020-05-09 23:54:49 +0000 UTC m=+1.500000000"
    assert go_time_string(whole + 0.25, monotonic=0).startswith("2020-05-09 23:54:49.25 +0000")


def traces(*states: tuple[str, int]) -> list[Trace]:
    journal = Journal(cap=100)
    made = []
    for index, (outcome, attempts) in enumerate(states):
        trace = journal.new_trace("regulation", {"type": "delete", "userId": f"u{index}"})
        trace.outcome, trace.attempts = outcome, attempts
        trace.add_hop("answer", outcome)
        made.append(trace)
    return made


@pytest.mark.parametrize(
    ("states", "status"),
    [
        ([("pending", 0), ("pending", 0)], "INITIALIZED"),
        ([("pending", 1), ("pending", 0)], "RUNNING"),
        ([("deleted", 1), ("pending", 0)], "RUNNING"),
        ([("retrying", 1)], "RUNNING"),
        ([("deleted", 1), ("not_found", 1)], "FINISHED"),
        ([("delivered", 1)], "FINISHED"),
        ([("deleted", 1), ("discarded", 1)], "FAILED"),
        ([("expired", 7)], "FAILED"),
        ([("rejected", 1)], "FAILED"),
    ],
)
def test_destination_status_follows_the_forwarded_deletes(
    states: list[tuple[str, int]], status: str
) -> None:
    found, error, finished_at = delivery_status(traces(*states))
    assert found == status
    assert (finished_at is not None) == (status in ("FINISHED", "FAILED"))
    assert (error is not None) == (status == "FAILED")


def test_a_failed_status_says_which_deletes_failed() -> None:
    found = traces(("deleted", 1), ("discarded", 1))
    found[1].reason = "discarded.400"
    _, error, _ = delivery_status(found)
    assert error == "1 of 2 deletes failed: userId 'u1': discarded (discarded.400)"


def test_internal_regulations_are_finished_at_once_with_no_destination() -> None:
    book = RegulationBook(rng=random.Random(1))
    regulation = book.create(parse_regulation_request(body(regulationType="SUPPRESS_ONLY")), now=T0)
    shown = regulation.to_dict(workspace_id="w", source_id="s", destination=("Refersion", "d"))
    assert shown["overallStatus"] == "FINISHED"
    assert shown["streamStatus"] == []
    assert shown["finishedAt"] == shown["createdAt"] == "2020-05-09T23:54:49.209Z"
    assert book.get(regulation.id) is regulation
    assert re.fullmatch(r"[0-9A-Za-z]{27}", regulation.id)


def test_suppression_blocks_a_user_id_until_unsuppressed() -> None:
    suppressed = SuppressionList()
    suppressed.suppress(["u-1"], regulation_id="reg-1")
    assert suppressed.blocking({"type": "identify", "userId": "u-1"}) == "reg-1"
    assert suppressed.blocking({"type": "identify", "userId": "u-2"}) is None
    # Regulations are keyed by userId: an anonymous-only message is not suppressed.
    assert suppressed.blocking({"type": "identify", "anonymousId": "u-1"}) is None
    assert suppressed.blocking(["u-1"]) is None
    suppressed.unsuppress(["u-1"])
    assert suppressed.blocking({"type": "identify", "userId": "u-1"}) is None
