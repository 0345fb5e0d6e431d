"""The affiliate an identify must create, and how an ``affiliate/get`` answer differs from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.check.driver import Driver

__all__ = ["AFFILIATE_FIELDS", "GET_NAMES", "expected_affiliate", "mismatches"]

AFFILIATE_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "unique_merchant_id",
    "address1",
    "city",
    "state",
    "zip",
    "country",
    "phone",
    "company",
)
"""The affiliate fields an identify decides; any it does not set must stay unset."""

GET_NAMES: Mapping[str, str] = {"company": "company_name"}
"""Stored field → its name in an ``affiliate/get`` answer, where they differ."""


def expected_affiliate(fields: Mapping[str, str], driver: Driver) -> dict[str, Any]:
    """The stored affiliate an identify with these ``fields`` must create (store names)."""
    affiliate: dict[str, Any] = {name: fields.get(name) for name in AFFILIATE_FIELDS}
    affiliate["status"] = driver.status
    if driver.offer is not None:
        affiliate["offer_id"] = driver.offer
    return affiliate


def mismatches(expected: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    """How an ``affiliate/get`` answer differs from the expected stored fields."""
    wrong = []
    for name, value in expected.items():
        shown = GET_NAMES.get(name, name)
        if found.get(shown) != value:
            wrong.append(f"{shown} is {found.get(shown)!r}, expected {value!r}")
    return wrong
