"""``send --save-fixture``: a reproduced payload becomes a redacted, passing regression fixture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support import cli, write

# What support pastes: the Event Delivery copy of a customer's failing identify.
PERSONAL = [
    "u-48213-berlin",
    "Cher",
    "cher.sarkisian@gmail.com",
    "Unter den Linden 77",
    "Linden",
    "Berlin",
    "10117",
    "+49 30 2270",
    "81.2.69.160",
    "Sarkisian Ventures",
]
TICKET = {
    "You Sent": {"note": "what the customer sent; the request below wins"},
    "Request to Destination": {
        "type": "identify",
        "userId": "u-48213-berlin",
        "messageId": "api-2fyFNSKX4MjAbsNJF5ZnNzCq0OV",
        "receivedAt": "2024-05-03T19:42:50.162Z",
        "context": {"ip": "81.2.69.160"},
        "traits": {
            "name": "Cher",
            "email": "cher.sarkisian@gmail.com",
            "phone": "+49 30 2270",
            "company": "Sarkisian Ventures",
            "address": {
                "street": "Unter den Linden 77",
                "city": "Berlin",
                "postalCode": 10117,
                "country": "DEU",
            },
        },
    },
    "Response from Destination": {"status": 400, "body": {"message": "Last name is required"}},
}


def saved(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_a_saved_fixture_is_redacted_and_replays_with_the_same_outcome(tmp_path: Path) -> None:
    target = tmp_path / "fixtures" / "tickets" / "4711.json"
    code, out, _ = cli("send", "--save-fixture", str(target), write(tmp_path, "t.json", TICKET))
    assert code == 1  # the payload itself is still rejected
    assert f"saved fixture {target}" in out
    assert "personal values replaced by fakes" in out
    text = target.read_text()
    for value in PERSONAL:
        assert value not in text, value
    fixture = saved(target)
    assert fixture["entry"] == "delivery"
    assert fixture["expect"] == {
        "outcomes": ["rejected"],
        "reasons": ["name_incomplete"],
        "affiliates": [],
    }
    traits = fixture["events"][0]["traits"]
    assert len(traits["name"].split()) == 1
    assert traits["address"]["country"] == "DEU"
    assert isinstance(traits["address"]["postalCode"], int)
    code, out, _ = cli("replay", str(target.parent))
    assert code == 0, out


def test_no_redact_keeps_the_payload_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "kept.json"
    code, out, _ = cli(
        "send", "--save-fixture", str(target), "--no-redact", write(tmp_path, "t.json", TICKET)
    )
    assert code == 1
    assert "personal data kept" in out
    [event] = saved(target)["events"]
    assert event == TICKET["Request to Destination"]


def test_a_tracking_body_keeps_its_batch_fields_redacted_and_never_its_write_key(
    tmp_path: Path,
) -> None:
    body = {
        "writeKey": "wk_live_customer_secret",
        "context": {"ip": "81.2.69.160", "library": {"name": "analytics-node"}},
        "integrations": {"All": False, "Refersion": True},
        "batch": [
            {
                "type": "identify",
                "userId": "u-1",
                "writeKey": "wk_live_customer_secret",
                "traits": {"name": "Peter Gibbons", "email": "peter@initech.com"},
            },
            {"type": "identify", "userId": "u-1", "traits": {"email": "peter@initech.com"}},
        ],
    }
    target = tmp_path / "batch.json"
    code, _, _ = cli(
        "send", "--status", "ACTIVE", "--save-fixture", str(target), write(tmp_path, "b.json", body)
    )
    assert code == 1  # the second identify has no name
    text = target.read_text()
    assert "wk_live_customer_secret" not in text
    assert "81.2.69.160" not in text
    assert "peter@initech.com" not in text
    fixture = saved(target)
    assert fixture["settings"] == {"status": "ACTIVE"}
    assert fixture["batch_fields"]["integrations"] == {"All": False, "Refersion": True}
    assert fixture["batch_fields"]["context"]["library"] == {"name": "analytics-node"}
    assert fixture["expect"]["outcomes"] == ["created", "rejected"]
    assert fixture["expect"]["affiliates"][0]["status"] == "ACTIVE"
    assert cli("replay", str(target))[0] == 0


def test_save_fixture_refuses_to_overwrite_or_to_merge_files(tmp_path: Path) -> None:
    payload = write(tmp_path, "t.json", TICKET)
    existing = write(tmp_path, "existing.json", {"keep": True})
    code, _, err = cli("send", "--save-fixture", existing, payload)
    assert code == 2
    assert "already exists" in err
    assert json.loads(Path(existing).read_text()) == {"keep": True}
    code, _, err = cli("send", "--save-fixture", str(tmp_path / "n.json"), payload, payload)
    assert code == 2
    assert "one payload file" in err
    code, _, err = cli("send", "--no-redact", payload)
    assert code == 2
    assert "--save-fixture" in err
