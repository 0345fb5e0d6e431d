"""The fake Refersion REST API v2: affiliate store, request validation and the endpoint core."""

from __future__ import annotations

from emulator.fake_refersion.reply import Reply
from emulator.fake_refersion.service import FakeRefersion, FakeRefersionOptions
from emulator.fake_refersion.store import Affiliate, AffiliateStore, EmailTaken, StoreError

__all__ = [
    "Affiliate",
    "AffiliateStore",
    "EmailTaken",
    "FakeRefersion",
    "FakeRefersionOptions",
    "Reply",
    "StoreError",
]
