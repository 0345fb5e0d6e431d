"""The fake Refersion's one affiliate field table agrees with the contract and the store."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from pathlib import Path

from emulator.contract_checks.contract_set import contracts_directory
from emulator.fake_refersion.fields import (
    AFFILIATE_FIELDS,
    EDIT_FIELDS,
    NEW_OPTIONAL_FIELDS,
    NEW_REQUIRED_FIELDS,
)
from emulator.fake_refersion.store import Affiliate, AffiliateStore

__all__: list[str] = []


def _new_request_contract() -> dict[str, object]:
    path = contracts_directory() / "refersion" / "affiliate-new.request.json"
    schema: dict[str, object] = json.loads(path.read_text())
    return schema


def test_the_table_lists_the_contract_fields_of_affiliate_new_in_its_order() -> None:
    schema = _new_request_contract()
    assert isinstance(schema["properties"], dict)
    assert [f.name for f in AFFILIATE_FIELDS] == list(schema["properties"])
    assert list(NEW_REQUIRED_FIELDS) == schema["required"]
    assert set(NEW_OPTIONAL_FIELDS) == set(schema["properties"]) - set(NEW_REQUIRED_FIELDS)


def test_edit_takes_only_fields_the_contract_knows() -> None:
    assert set(EDIT_FIELDS) <= {f.name for f in AFFILIATE_FIELDS}
    assert EDIT_FIELDS[0] == "offer"  # Refersion's edit documentation lists offer first


def test_every_stored_field_has_a_column_and_an_affiliate_attribute(tmp_path: Path) -> None:
    path = tmp_path / "affiliates.db"
    AffiliateStore(str(path)).close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(affiliates)")}
    attributes = {f.name for f in dataclasses.fields(Affiliate)}
    stored = [f.column for f in AFFILIATE_FIELDS if f.column is not None]
    assert set(stored) <= columns & attributes
