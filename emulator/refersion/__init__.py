"""The fake Refersion REST API v2: affiliate store, request validation and the endpoint core."""

from __future__ import annotations

from .reply import Reply
from .service import FakeRefersion, FakeRefersionOptions
from .store import Affiliate, AffiliateStore, EmailTaken, StoreError

__all__ = [
    "Affiliate",
    "AffiliateStore",
    "EmailTaken",
    "FakeRefersion",
    "FakeRefersionOptions",
    "Reply",
    "StoreError",
]
