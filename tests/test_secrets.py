"""Secrets stay secret: after a run full of bad keys, rejections and Refersion errors, neither
the Refersion secret key, nor a generated password, nor a write key appears in full anywhere a
person or a program can read it: control API, journal, SQLite store, logs, CLI output."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.cli import run
from emulator.config import DestinationSettings, RefersionCredentials
from emulator.contract_checks.openapi import bundled_document, operations
from emulator.destination.mapping import derive_password
from emulator.journal.rendering import Style, format_trace
from emulator.secrets_mask import mask_fields
from emulator.server.emulator import Emulator
from tests.support import fast_config

PUBLIC = "pub_leakcheck"
SECRET = "sec_TOPSECRET_4f9a8b7c6d5e"
WRONG_SECRET = "sec_WRONGSECRET_99999999"
NO_DOT_KEY = "nodotkey_SECRETISH_1234567"
WRITE_KEY = "wk_SOURCEWRITEKEY_123456789"
WRONG_WRITE_KEY = "wk_WRONGWRITEKEY_000000000"
SALT = "salt-for-the-leak-check"

PEOPLE: list[dict[str, Any]] = [
    {"userId": "u-ok", "traits": {"name": "Peter Gibbons", "email": "peter@example.com"}},
    {"userId": "u-dup", "traits": {"name": "Pete Gibbons", "email": "peter@example.com"}},
    {"userId": "u-one", "traits": {"name": "Cher", "email": "cher@example.com"}},
    {"userId": "u-bad", "traits": {"name": "Bad Mail", "email": "not-an-email"}},
    {
        "userId": "u-addr",
        "traits": {
            "firstName": "Ann",
            "lastName": "Lee",
            "email": "ann@example.com",
            "address": {"country": "Atlantis", "postalCode": 94103},
        },
    },
]


DOCUMENT = bundled_document()


def answers_json(operation: dict[str, Any]) -> bool:
    return "application/json" in operation["responses"].get("200", {}).get("content", {})


# Every documented JSON read of the control API (streams marked x-emulator-fuzz: false, the
# inspector's page, files and redirects aside).
CONTROL_READS = sorted(
    path
    for method, path in operations(DOCUMENT)
    if method == "GET"
    and path.startswith("/_emulator/")
    and "{" not in path
    and DOCUMENT["paths"][path]["get"].get("x-emulator-fuzz") is not False
    and answers_json(DOCUMENT["paths"][path]["get"])
)


def basic(username: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:".encode()).decode()}


def passwords_for(messages: list[dict[str, Any]]) -> set[str]:
    return {
        derive_password(salt=SALT, unique_merchant_id=m["userId"], email=m["traits"]["email"])
        for m in messages
    }


def assert_absent(text: str, secrets: set[str], where: str) -> None:
    found = sorted(secret for secret in secrets if secret in text)
    assert found == [], f"{where} shows secrets in full: {found}"


async def test_no_secret_appears_in_any_output_after_a_hostile_run(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = fast_config(
        credentials=RefersionCredentials(public_key=PUBLIC, secret_key=SECRET),
        write_key=WRITE_KEY,
        destination=DestinationSettings(password_salt=SALT),
    )
    shown: list[str] = []
    async with Emulator(config) as emu:
        url = emu.url

        async def call(method: str, path: str, **kwargs: Any) -> Any:
            async with http.request(method, url + path, **kwargs) as resp:
                text = await resp.text()
            if path.startswith("/_emulator"):
                shown.append(text)
            return json.loads(text)

        # Identify calls: body write key, Basic-auth write key, and a wrong write key.
        for person in PEOPLE[:3]:
            await call("POST", "/v1/identify", json={"writeKey": WRITE_KEY, **person})
        batch = {"batch": [{"type": "identify", **p} for p in PEOPLE[3:]]}
        await call("POST", "/v1/batch", json=batch, headers=basic(WRITE_KEY))
        await call("POST", "/v1/identify", json={"writeKey": WRONG_WRITE_KEY, **PEOPLE[0]})
        await call("POST", "/_emulator/flush")
        # The destination with a wrong secret (Refersion 401) and with a key without a dot.
        message = {"type": "identify", "messageId": "m-wrong", **PEOPLE[4]}
        await call("POST", "/destination", json=message, headers=basic(f"{PUBLIC}.{WRONG_SECRET}"))
        await call("POST", "/destination", json=message, headers=basic(NO_DOT_KEY))
        # Refersion directly: wrong secret, then the right one with invalid values (422).
        wrong = {"Refersion-Public-Key": PUBLIC, "Refersion-Secret-Key": WRONG_SECRET}
        await call("POST", "/refersion/v2/affiliate/list", json={}, headers=wrong)
        right = {"Refersion-Public-Key": PUBLIC, "Refersion-Secret-Key": SECRET}
        await call("POST", "/refersion/v2/affiliate/new", json={"email": "x"}, headers=right)
        # Deletes: one found, one not.
        deletes = [
            {"type": "delete", "userId": "u-ok", "messageId": "d1"},
            {"type": "delete", "userId": "ghost", "messageId": "d2"},
        ]
        await call("POST", "/_emulator/deliver", json=deletes)

        for path in CONTROL_READS:
            await call("GET", path)
        events = await call("GET", "/_emulator/events?full=1&limit=10000")
        for event in events["events"]:
            full = await call("GET", f"/_emulator/events/{event['id']}")
            shown.extend(format_trace(full, index=1, style=Style(color=False)))
        store = emu.runtime.store
        hashes = {a.password_hash for a in store.all()}
        # The SQLite store as it sits: every table, every row.
        shown.extend(store._conn.iterdump())
        shown.append(repr(list(emu.runtime.journal)))
        outcomes = {(t.user_id, t.outcome) for t in emu.runtime.journal}

    assert "/_emulator/affiliates" in CONTROL_READS
    # The run went where it was meant to: otherwise the search proves nothing.
    assert {
        ("u-ok", "created"),
        ("u-ok", "ingest_rejected"),
        ("u-ok", "deleted"),
        ("u-dup", "already_exists"),
        ("u-one", "rejected"),
        ("u-addr", "created"),
        ("u-addr", "unauthorized"),
        ("ghost", "not_found"),
    } <= outcomes
    passwords = passwords_for([p for p in PEOPLE if p["userId"] in ("u-ok", "u-addr")])
    assert {hashlib.sha256(p.encode()).hexdigest() for p in passwords} & hashes, (
        "the derived passwords are not the ones Refersion received"
    )

    secrets = {SECRET, WRONG_SECRET, NO_DOT_KEY, WRITE_KEY, WRONG_WRITE_KEY, *passwords_for(PEOPLE)}
    assert_absent("\n".join(shown), secrets, "the control API, journal or store")
    assert_absent(caplog.text, secrets, "the log")
    assert SECRET[:4] + "…" in "\n".join(shown), "masked secrets should still be recognisable"


def test_send_prints_no_secret_in_text_or_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("emulator.config.secrets.token_hex", lambda _n: SALT)
    payload = [{"type": "identify", **person} for person in PEOPLE]
    path = tmp_path / "people.json"
    path.write_text(json.dumps(payload))
    secrets = {SECRET, WRITE_KEY, *passwords_for(PEOPLE)}
    for extra in ([], ["--json"]):
        out, err = io.StringIO(), io.StringIO()
        argv = ["send", *extra, "--public-key", PUBLIC, "--secret-key", SECRET, str(path)]
        code = run(argv, stdout=out, stderr=err)
        assert code == 1  # some people are rejected on purpose
        assert "created" in out.getvalue()
        assert_absent(out.getvalue() + err.getvalue(), secrets, f"send {' '.join(extra)}")


def test_a_wrong_secret_in_the_destination_setting_is_masked_in_the_cli(
    tmp_path: Path,
) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"type": "identify", **PEOPLE[0]}))
    out, err = io.StringIO(), io.StringIO()
    # The account's keys given explicitly, so the destination's secret is the wrong one.
    account = ["--public-key", PUBLIC, "--secret-key", SECRET]
    argv = ["send", "--json", "--api-key", f"{PUBLIC}.{WRONG_SECRET}", *account, str(path)]
    assert run(argv, stdout=out, stderr=err) == 1
    assert "unauthorized" in out.getvalue()
    assert_absent(out.getvalue() + err.getvalue(), {WRONG_SECRET, SECRET}, "send --json")


def test_write_keys_in_journaled_items_are_masked() -> None:
    item = {"writeKey": WRITE_KEY, "userId": "u"}
    masked = mask_fields(item, {"writeKey"})
    assert masked["writeKey"].startswith("wk_S…")
    assert item["writeKey"] == WRITE_KEY, "the original is not modified"
    assert mask_fields([item], {"writeKey"}) == [item]
