"""The fake Refersion REST API v2: one transport-free ``handle`` per request over a real store.

Behaviour and wording follow Refersion's API v2 documentation as summarised in docs/sources.md
(see validation.py and request.py for the rules). The open points a user may switch are the
registry assumptions ``text-limit``, ``delete-lookup``, ``delete-effect`` and
``new-with-unknown-offer``
(docs/assumptions.md); their notes go back in the ``X-Emulator-Assumptions`` header. Other
choices where Refersion documents nothing:

* an unknown endpoint is 404 ``{"error": "Unknown endpoint <name>"}``, checked before the keys;
* *new* without ``offer`` puts the affiliate in offer ``"1"``; ``send_welcome`` is validated
  and then dropped (the fake sends no email);
* *get* with both ``id`` and ``affiliate_code`` looks up ``id``; its answer adds the stored
  fields Refersion's example lacks (``code``, address, ``unique_merchant_id``...);
* *list* ``limit`` must be 1..100 (422 "limit must be between 1 and 100"), ``page`` at least 1
  (422 "page must be 1 or greater"); a page past the end is an empty ``results``;
* *search* pages by the list default limit (it takes no ``limit``);
* the account's offers are ``options.offers`` (the default offer ``"1"``) and every offer an
  affiliate was put in by *new*; *new* into an offer the account lacks follows
  ``new-with-unknown-offer`` (Refersion documents no error for it there); *edit* into any
  other offer is Refersion's documented 404
  ``{"error": ["Offer does not exists on the database."]}`` and changes nothing;
* *edit* ignores fields it does not document (``status``, ``password``) and ``custom_fields``;
  *edit* and *status_change* report an id as changed only when a stored value differs; an
  edit whose email another item of the same request just took is "not changed";
* *status_change* with more than 50 ids is 422 with the sentence Refersion documents for
  trigger/delete (which uses 429 there; a size limit is not a rate limit here);
* *delete* is an emulator extension: it finds affiliates as ``delete-lookup`` says (by default
  by ``unique_merchant_id``, every match, else by email: the store's email key,
  case-insensitive unless configured otherwise), then by numeric ``id`` when nothing matched,
  and removes them (or disables them, as ``delete-effect`` says).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.assumptions import AssumptionChoices, AssumptionNote
from emulator.config import RefersionCredentials
from emulator.errors import ConfigError
from emulator.fake_refersion.fields import AFFILIATE_FIELDS, COLUMN_OF
from emulator.fake_refersion.reply import Reply, error_reply, errors_reply
from emulator.fake_refersion.request import INVALID_CREDENTIALS, credentials_match, parse_body
from emulator.fake_refersion.store import Affiliate, AffiliateStore, EmailTaken
from emulator.fake_refersion.validation import (
    CHANGE_STATUSES,
    CHAR_LIMIT,
    CHAR_LIMIT_EXCEEDED,
    EDIT_FIELDS,
    EMAIL_TAKEN,
    check_edit,
    check_new_affiliate,
    id_errors,
    is_blank,
    missing_field,
    not_allowed,
    parse_int,
    text_errors,
)
from emulator.refersion_endpoints import AFFILIATE_ENDPOINTS

__all__ = [
    "AFFILIATE_NOT_FOUND",
    "DEFAULT_OFFER_ID",
    "MAX_LIST_LIMIT",
    "MAX_STATUS_CHANGE_IDS",
    "NO_FILTER",
    "NO_SEARCH_MATCH",
    "OFFER_NOT_FOUND",
    "TOO_MANY_IDS",
    "FakeRefersion",
    "FakeRefersionOptions",
    "Reply",
]

DEFAULT_OFFER_ID = "1"
MAX_LIST_LIMIT = 100
MAX_STATUS_CHANGE_IDS = 50
AFFILIATE_NOT_FOUND = "Affiliate not found."
NO_FILTER = "Request filter not provided."
NO_SEARCH_MATCH = "Could not find affiliates with this keyword."
OFFER_NOT_FOUND = "Offer does not exists on the database."
TOO_MANY_IDS = f"Max number of elements on attribute ({MAX_STATUS_CHANGE_IDS}) reached."
# Documented Refersion v2 operations the fake does not serve, named as such in the 404.
_NOT_EMULATED = frozenset(
    {
        "affiliate/trigger",
        "trigger/delete",
        "conversion/manual_credit",
        "conversion/manual_credit_order_id",
        "conversion/status_change",
        "conversion/totals",
        "conversion/cancel",
        "offer/new_sku_commission",
        "reporting/link",
    }
)
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeRefersionOptions:
    """Switches for the points Refersion's documentation leaves open."""

    # status is listed as required on new and also given a default
    # (docs/sources.md#refersion-api-v2).
    require_status: bool = True
    # Must match the store's rule: uniqueness is enforced by the store's email key.
    email_case_insensitive: bool = True
    subdomain: str = "emulator"
    # When set, the store's code generator restarts from it (now and on every reset).
    seed: int | None = None
    list_default_limit: int = 10
    # The variants of ``text-limit`` and ``delete-lookup`` (docs/assumptions.md).
    assumptions: AssumptionChoices = field(default_factory=AssumptionChoices)
    # Offers the account has besides those its affiliates are in.
    offers: tuple[str, ...] = (DEFAULT_OFFER_ID,)

    @property
    def char_limit(self) -> int | None:
        return None if self.assumptions.variant("text-limit") == "none" else CHAR_LIMIT

    def __post_init__(self) -> None:
        if not _SUBDOMAIN.fullmatch(self.subdomain):
            raise ConfigError(f"subdomain must be a lowercase DNS label, got {self.subdomain!r}")
        if not 1 <= self.list_default_limit <= MAX_LIST_LIMIT:
            raise ConfigError(
                f"list_default_limit must be 1..{MAX_LIST_LIMIT}, got {self.list_default_limit}"
            )


class FakeRefersion:
    """Refersion's affiliate endpoints as a function of (endpoint, headers, body) → Reply."""

    ENDPOINTS: tuple[str, ...] = AFFILIATE_ENDPOINTS

    def __init__(
        self,
        *,
        store: AffiliateStore,
        credentials: RefersionCredentials,
        options: FakeRefersionOptions = FakeRefersionOptions(),
    ) -> None:
        if store.email_case_insensitive != options.email_case_insensitive:
            raise ConfigError(
                "options.email_case_insensitive must equal the store's "
                f"email_case_insensitive ({store.email_case_insensitive})"
            )
        self._store = store
        self._credentials = credentials
        self._options = options
        # Notes of the request being handled; handle() moves them into the reply's header.
        self._pending_notes: list[AssumptionNote] = []
        if options.seed is not None:
            store.reseed(options.seed)
        handlers: dict[str, Callable[[dict[str, Any]], Reply]] = {
            "affiliate/new": self._new,
            "affiliate/get": self._get,
            "affiliate/list": self._list,
            "affiliate/search": self._search,
            "affiliate/edit": self._edit,
            "affiliate/status_change": self._status_change,
            "affiliate/delete": self._delete,
        }
        self._handlers = {name: handlers[name] for name in self.ENDPOINTS}

    @property
    def store(self) -> AffiliateStore:
        return self._store

    @property
    def options(self) -> FakeRefersionOptions:
        return self._options

    def assume(self, choices: AssumptionChoices) -> None:
        """Follow ``choices`` from the next request on (the control API switches them live)."""
        self._options = dataclasses.replace(self._options, assumptions=choices)

    def link(self, code: str) -> str:
        """The affiliate's tracking link, as Refersion builds it from the account subdomain."""
        return f"https://{self._options.subdomain}.refersion.com/c/{code}"

    def reset(self) -> None:
        """Forget every affiliate; ids and (seeded) codes start over."""
        self._store.clear()

    def handle(self, endpoint: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one POST to ``<base>/v2/<endpoint>`` (e.g. ``affiliate/new``)."""
        name = endpoint.strip("/")
        handler = self._handlers.get(name)
        if handler is None:
            suffix = " (documented by Refersion, not emulated)" if name in _NOT_EMULATED else ""
            return error_reply(404, f"Unknown endpoint {name}{suffix}")
        if not credentials_match(headers, self._credentials):
            return error_reply(401, INVALID_CREDENTIALS)
        parsed = parse_body(body)
        if isinstance(parsed, Reply):
            return parsed
        reply = handler(parsed)
        notes = self._text_limit_notes(name, parsed, reply)
        notes += self._pending_notes
        self._pending_notes = []
        return dataclasses.replace(reply, notes=tuple(notes)) if notes else reply

    def _text_limit_notes(
        self, name: str, body: dict[str, Any], reply: Reply
    ) -> list[AssumptionNote]:
        """A note when a text value is longer than 255 and the limit decided the answer."""
        if name not in ("affiliate/new", "affiliate/edit"):
            return []
        refused = reply.status == 422 and CHAR_LIMIT_EXCEEDED in reply.body.get("errors", [])
        if not refused and reply.status != 200:
            return []
        items = body.get("affiliates") if name == "affiliate/edit" else [body]
        long_fields = sorted(
            {
                key
                for item in (items if isinstance(items, list) else [])
                if isinstance(item, dict)
                for key, value in item.items()
                if key != "password" and isinstance(value, str) and len(value) > CHAR_LIMIT
            }
        )
        if not long_fields:
            return []
        shown = ", ".join(long_fields)
        if self._options.char_limit is None:
            return [
                AssumptionNote(
                    "text-limit",
                    "none",
                    f"{shown} longer than {CHAR_LIMIT} characters accepted",
                    "255 would answer 422 'Value exceed the char limit'",
                )
            ]
        return [
            AssumptionNote(
                "text-limit",
                str(CHAR_LIMIT),
                f"{shown} longer than {CHAR_LIMIT} characters refused (422)",
                "none would accept it",
            )
        ]

    # -- endpoints -----------------------------------------------------------------------

    def _new(self, body: dict[str, Any]) -> Reply:
        invalid = check_new_affiliate(
            body,
            require_status=self._options.require_status,
            email_taken=self._store.has_email,
            limit=self._options.char_limit,
        )
        if invalid is not None:
            return invalid
        values: dict[str, str | None] = {
            name: body[name] for name in ("first_name", "last_name", "email", "password")
        }
        values["status"] = body.get("status") or "PENDING"
        offer = body.get("offer")
        values["offer_id"] = DEFAULT_OFFER_ID if offer is None else str(offer)
        if offer is not None and not self._offer_exists(str(offer)):
            refused = self._unknown_offer_on_new(str(offer))
            if refused is not None:
                return refused
        for entry in AFFILIATE_FIELDS:
            if entry.new == "optional" and entry.column is not None and entry.nullable:
                values[entry.column] = body.get(entry.name)
        try:
            affiliate = self._store.create(values)
        except EmailTaken:
            return errors_reply([EMAIL_TAKEN])
        message = (
            f"The affiliate {affiliate.id} has been created with the status of {affiliate.status}."
        )
        return Reply(
            200, {"id": affiliate.code, "link": self.link(affiliate.code), "message": message}
        )

    def _unknown_offer_on_new(self, offer: str) -> Reply | None:
        """new into an offer the account lacks: accepted, or edit's documented 404."""
        variant = self._options.assumptions.variant("new-with-unknown-offer")
        accepted = variant == "accepted"
        self._pending_notes.append(
            AssumptionNote(
                "new-with-unknown-offer",
                variant,
                f"offer {offer} is not in the account: "
                + ("the affiliate is created in it" if accepted else "refused with 404"),
                "offer-not-found: 404 'Offer does not exists on the database.'"
                if accepted
                else "accepted: the affiliate would be created in it",
            )
        )
        return None if accepted else Reply(404, {"error": [OFFER_NOT_FOUND]})

    def _get(self, body: dict[str, Any]) -> Reply:
        if not is_blank(body.get("id")):
            errors = id_errors("id", body["id"])
            affiliate = None if errors else self._store.get(int(body["id"]))
        elif not is_blank(body.get("affiliate_code")):
            errors = text_errors("affiliate_code", body["affiliate_code"])
            affiliate = None if errors else self._store.get_by_code(body["affiliate_code"])
        else:
            return errors_reply([NO_FILTER])
        if errors:
            return errors_reply(errors)
        if affiliate is None:
            return errors_reply([AFFILIATE_NOT_FOUND])
        return Reply(200, self._details(affiliate))

    def _list(self, body: dict[str, Any]) -> Reply:
        errors: list[str] = []
        limit = _count(body, "limit", self._options.list_default_limit, errors)
        page = _count(body, "page", 1, errors)
        if errors:
            return errors_reply(errors)
        total, items = self._store.list(page, limit)
        return Reply(200, {"total": total, "results": [self._summary(a) for a in items]})

    def _search(self, body: dict[str, Any]) -> Reply:
        keyword = body.get("keyword")
        if is_blank(keyword):
            return error_reply(400, missing_field("keyword"))
        if isinstance(keyword, int) and not isinstance(keyword, bool):
            keyword = str(keyword)
        errors = text_errors("keyword", keyword)
        names: dict[str, str | None] = {}
        for name in ("first_name", "last_name"):
            value = body.get(name)
            if is_blank(value):
                names[name] = None
            else:
                errors += text_errors(name, value)
                names[name] = value
        page = _count(body, "page", 1, errors)
        if errors:
            return errors_reply(errors)
        total, items = self._store.search(
            str(keyword), **names, page=page, limit=self._options.list_default_limit
        )
        if total == 0:
            return errors_reply([NO_SEARCH_MATCH])
        return Reply(200, {"total": total, "results": [self._summary(a) for a in items]})

    def _edit(self, body: dict[str, Any]) -> Reply:
        invalid = check_edit(body, email_owner=self._email_owner, limit=self._options.char_limit)
        if invalid is not None:
            return invalid
        offers = {str(item["offer"]) for item in body["affiliates"] if "offer" in item}
        if any(not self._offer_exists(offer) for offer in offers):
            # The one documented error Refersion sends as an array under "error".
            return Reply(404, {"error": [OFFER_NOT_FOUND]})
        changed: list[int] = []
        not_changed: list[int] = []
        for item in body["affiliates"]:
            affiliate_id = int(item["id"])
            values = {
                COLUMN_OF[name]: _edit_value(name, item[name])
                for name in EDIT_FIELDS
                if name in item
            }
            try:
                was_changed = bool(values) and self._store.update(affiliate_id, values)
            except EmailTaken:
                was_changed = False
            (changed if was_changed else not_changed).append(affiliate_id)
        ids_changed = list(dict.fromkeys(changed))
        ids_not_changed = [i for i in dict.fromkeys(not_changed) if i not in ids_changed]
        return Reply(200, {"ids_changed": ids_changed, "ids_not_changed": ids_not_changed})

    def _offer_exists(self, offer_id: str) -> bool:
        return offer_id in self._options.offers or self._store.has_offer(offer_id)

    def _status_change(self, body: dict[str, Any]) -> Reply:
        ids, status = body.get("ids"), body.get("status")
        if ids is None:
            return error_reply(400, missing_field("ids"))
        if is_blank(status):
            return error_reply(400, missing_field("status"))
        errors: list[str] = []
        if not isinstance(ids, list):
            errors.append(not_allowed(ids, "ids"))
        elif len(ids) > MAX_STATUS_CHANGE_IDS:
            errors.append(TOO_MANY_IDS)
        else:
            for value in ids:
                errors += id_errors("ids", value)
        errors += text_errors("status", status, frozenset(CHANGE_STATUSES))
        if errors:
            return errors_reply(errors)
        changed, not_changed = self._store.set_status((int(i) for i in ids), str(status))
        return Reply(200, {"ids_changed": changed, "ids_not_changed": not_changed})

    def _delete(self, body: dict[str, Any]) -> Reply:
        given = {
            name: body[name]
            for name in ("unique_merchant_id", "email", "id")
            if not is_blank(body.get(name))
        }
        if not given:
            return error_reply(400, missing_field("unique_merchant_id"))
        errors: list[str] = []
        for name, value in given.items():
            errors += id_errors(name, value) if name == "id" else text_errors(name, value)
        if errors:
            return errors_reply(errors)
        matches = self._delete_matches(given)
        if matches and self._options.assumptions.variant("delete-effect") == "disable":
            # The affiliate stays, DISABLED; one already disabled counts as done again.
            self._store.set_status((a.id for a in matches), "DISABLED")
            deleted = [a.id for a in matches]
            self._pending_notes.append(
                AssumptionNote(
                    "delete-effect",
                    "disable",
                    f"affiliate(s) {', '.join(map(str, deleted))} kept with status DISABLED",
                    "remove would delete them",
                )
            )
        else:
            deleted = self._store.delete(a.id for a in matches)
            if deleted:
                self._pending_notes.append(
                    AssumptionNote(
                        "delete-effect",
                        "remove",
                        f"affiliate(s) {', '.join(map(str, deleted))} removed",
                        "disable would keep them with status DISABLED",
                    )
                )
        if not deleted:
            return errors_reply([AFFILIATE_NOT_FOUND])
        message = f"Deleted {len(deleted)} affiliate(s)."
        return Reply(200, {"deleted": deleted, "message": message})

    # -- helpers -------------------------------------------------------------------------

    def _delete_matches(self, given: Mapping[str, Any]) -> list[Affiliate]:
        variant = self._options.assumptions.variant("delete-lookup")
        user_id = given.get("unique_merchant_id")
        if user_id is not None and variant != "email-only":
            matches = self._store.find_by_unique_merchant_id(user_id)
            if matches:
                self._note_lookup(variant, f"found by unique_merchant_id {user_id!r}", None)
                return matches
        if "email" in given and variant != "merchant-id-only":
            by_email = self._store.find_by_email(given["email"])
            if by_email is not None:
                self._note_email_match(variant, given, by_email)
                return [by_email]
        if "email" in given and variant == "merchant-id-only":
            by_email = self._store.find_by_email(given["email"])
            if by_email is not None:
                self._note_lookup(
                    variant,
                    "no affiliate has this unique_merchant_id; the email is not looked at",
                    f"merchant-id-then-email would delete affiliate {by_email.id} by email",
                )
        if "id" in given:
            by_id = self._store.get(int(given["id"]))
            if by_id is not None:
                return [by_id]
        return []

    def _note_lookup(self, variant: str, note: str, alternative: str | None) -> None:
        self._pending_notes.append(AssumptionNote("delete-lookup", variant, note, alternative))

    def _note_email_match(self, variant: str, given: Mapping[str, Any], found: Affiliate) -> None:
        """Say the match was by email, with a warning when it is another user's affiliate."""
        user_id = given.get("unique_merchant_id")
        note = f"affiliate {found.id} found by email"
        if user_id is not None and found.unique_merchant_id != user_id:
            self._pending_notes.append(
                AssumptionNote(
                    "delete-lookup",
                    variant,
                    f"{note}, but its unique_merchant_id is {found.unique_merchant_id!r}, not "
                    f"the delete's userId {user_id!r}: another user's affiliate was removed",
                    "merchant-id-only would have removed nothing",
                    warning=True,
                )
            )
            return
        self._note_lookup(variant, note, "merchant-id-only would have removed nothing")

    def _email_owner(self, email: str) -> int | None:
        owner = self._store.find_by_email(email)
        return None if owner is None else owner.id

    def _summary(self, affiliate: Affiliate) -> dict[str, Any]:
        """An item of list and search results, whose ``id`` is the code
        (docs/sources.md#refersion-api-v2)."""
        return {
            "id": affiliate.code,
            "offer_id": affiliate.offer_id,
            "status": affiliate.status,
            "first_name": affiliate.first_name,
            "last_name": affiliate.last_name,
            "email": affiliate.email,
            "custom_fields": [],
        }

    def _details(self, affiliate: Affiliate) -> dict[str, Any]:
        """The get answer: Refersion's documented fields, then every other stored field."""
        return {
            "id": affiliate.id,
            "offer_id": affiliate.offer_id,
            "status": affiliate.status,
            "first_name": affiliate.first_name,
            "last_name": affiliate.last_name,
            "company_name": affiliate.company,
            "email": affiliate.email,
            "link": self.link(affiliate.code),
            "custom_fields": [],
            "code": affiliate.code,
            "unique_merchant_id": affiliate.unique_merchant_id,
            "address1": affiliate.address1,
            "address2": affiliate.address2,
            "city": affiliate.city,
            "state": affiliate.state,
            "zip": affiliate.zip,
            "country": affiliate.country,
            "phone": affiliate.phone,
            "paypal_email": affiliate.paypal_email,
            "conversion_trigger_coupon": affiliate.conversion_trigger_coupon,
        }


def _count(body: Mapping[str, Any], name: str, default: int, errors: list[str]) -> int:
    """A positive paging number (JSON number or digit string); problems go to ``errors``."""
    value = body.get(name)
    if value is None:
        return default
    problems = id_errors(name, value)
    number = parse_int(value)
    if problems or number is None:
        errors += problems
        return default
    if name == "limit" and not 1 <= number <= MAX_LIST_LIMIT:
        errors.append(f"limit must be between 1 and {MAX_LIST_LIMIT}")
    elif number < 1:
        errors.append(f"{name} must be 1 or greater")
    return number


def _edit_value(name: str, value: Any) -> str | None:
    # offer is documented as a number on edit; the store keeps offer ids as strings.
    return str(value) if name == "offer" else value
