"""The affiliate fields of Refersion's v2 requests and where the fake stores each: one table.

Every other list of affiliate fields in the fake (the validation's required/optional/edit lists,
the store's columns) is derived from :data:`AFFILIATE_FIELDS`; a test holds the table against
``contracts/refersion/affiliate-new.request.json`` so the fake and the contract cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AFFILIATE_FIELDS",
    "COLUMN_OF",
    "EDIT_FIELDS",
    "NEW_OPTIONAL_FIELDS",
    "NEW_REQUIRED_FIELDS",
    "STORED_OPTIONAL",
    "STORED_REQUIRED",
    "AffiliateField",
]


@dataclass(frozen=True, slots=True)
class AffiliateField:
    """One request field.

    ``new``: whether affiliate/new requires it. ``edit``: its place in affiliate/edit's
    documented list (the order errors are reported in), or None when edit does not take it.
    ``column``: the store's column for it, or None when it is not stored as given (the password
    is hashed, send_welcome only triggers an email). ``nullable``: whether that column may be
    empty, which is also whether affiliate/edit may clear it with null.
    """

    name: str
    new: Literal["required", "optional"]
    edit: int | None
    column: str | None
    nullable: bool = True


_ = AffiliateField
# In the order Refersion documents affiliate/new; the first missing required one is reported.
AFFILIATE_FIELDS: tuple[AffiliateField, ...] = (
    _("first_name", "required", edit=1, column="first_name", nullable=False),
    _("last_name", "required", edit=2, column="last_name", nullable=False),
    _("email", "required", edit=3, column="email", nullable=False),
    _("password", "required", edit=None, column=None),
    _("status", "required", edit=None, column="status", nullable=False),
    # Optional on new (the account's default offer applies); never empty once stored.
    _("offer", "optional", edit=0, column="offer_id", nullable=False),
    _("company", "optional", edit=5, column="company"),
    _("paypal_email", "optional", edit=4, column="paypal_email"),
    _("address1", "optional", edit=6, column="address1"),
    _("address2", "optional", edit=7, column="address2"),
    _("city", "optional", edit=8, column="city"),
    _("state", "optional", edit=9, column="state"),
    _("zip", "optional", edit=10, column="zip"),
    _("country", "optional", edit=11, column="country"),
    _("phone", "optional", edit=12, column="phone"),
    _("send_welcome", "optional", edit=None, column=None),
    _("conversion_trigger_coupon", "optional", edit=None, column="conversion_trigger_coupon"),
    _("unique_merchant_id", "optional", edit=None, column="unique_merchant_id"),
)
del _

NEW_REQUIRED_FIELDS: tuple[str, ...] = tuple(
    f.name for f in AFFILIATE_FIELDS if f.new == "required"
)
NEW_OPTIONAL_FIELDS: tuple[str, ...] = tuple(
    f.name for f in AFFILIATE_FIELDS if f.new == "optional"
)
# custom_fields is documented for edit but its ids mean nothing to the fake; it is ignored.
EDIT_FIELDS: tuple[str, ...] = tuple(
    f.name
    for f in sorted(AFFILIATE_FIELDS, key=lambda f: -1 if f.edit is None else f.edit)
    if f.edit is not None
)
# The store's columns for request fields: those that must hold a value and those that may not.
STORED_REQUIRED: tuple[str, ...] = tuple(
    f.column for f in AFFILIATE_FIELDS if f.column is not None and not f.nullable
)
STORED_OPTIONAL: tuple[str, ...] = tuple(
    f.column for f in AFFILIATE_FIELDS if f.column is not None and f.nullable
)
# Request field → store column, for the fields stored as given.
COLUMN_OF: dict[str, str] = {f.name: f.column for f in AFFILIATE_FIELDS if f.column is not None}
