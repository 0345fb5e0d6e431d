"""Every behaviour of the emulator that no public source states: one entry per assumption.

Segment's Refersion destination is closed source and Refersion does not publish how Segment
traits become affiliate fields, so the emulator must decide those points. Each decision is an
:class:`Assumption` here, with the variant the emulator uses by default, the plausible
alternatives, why the default was chosen and what evidence would settle it. What public sources
do state is not here: docs/sources.md cites it. docs/assumptions.md is this table in prose
(tests/test_assumptions_docs.py keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["ASSUMPTIONS", "Assumption", "Variant", "assumption"]


@dataclass(frozen=True, slots=True)
class Variant:
    """One way the emulator can behave on an open point, and what it then does."""

    name: str
    does: str


@dataclass(frozen=True, slots=True)
class Assumption:
    """A point no public source settles.

    ``side`` says which part decides it: ``mapping`` (the destination's mapping layer),
    ``destination`` (its answer to Segment), ``refersion`` (the fake Refersion API) or
    ``segment`` (Segment's delivery, regulations and Engage).
    """

    id: str
    side: str
    statement: str
    default: str
    variants: tuple[Variant, ...]
    why: str
    settle: str

    def __post_init__(self) -> None:
        names = [variant.name for variant in self.variants]
        if len(set(names)) != len(names) or len(names) < 2:
            raise ValueError(f"assumption {self.id}: needs two or more distinct variants")
        if self.default not in names:
            raise ValueError(f"assumption {self.id}: default {self.default!r} is not a variant")

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(variant.name for variant in self.variants)

    def variant(self, name: str) -> Variant:
        return next(variant for variant in self.variants if variant.name == name)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "side": self.side,
            "statement": self.statement,
            "default": self.default,
            "variants": [{"name": v.name, "does": v.does} for v in self.variants],
            "why": self.why,
            "settle": self.settle,
        }


_TABLE = (
    Assumption(
        id="country-spelling",
        side="mapping",
        statement=(
            "How traits.address.country reaches Refersion, which accepts only its own list of "
            "two-letter codes."
        ),
        default="normalise",
        variants=(
            Variant(
                "normalise",
                "spellings such as 'USA', 'United Kingdom' or 'gb' become Refersion's code "
                "(US, GB)",
            ),
            Variant(
                "pass-through",
                "the value is sent as given, so Refersion answers 422 for anything not on its list",
            ),
        ),
        why=(
            "Segment's spec leaves country free text while Refersion takes only codes; a "
            "destination that refused 'USA' would lose most US affiliates, so one that works "
            "in production most likely normalises."
        ),
        settle=(
            "An identify with country 'USA' through the real destination, then affiliate/get: "
            "country US proves normalise, no affiliate (or a 422 in Event Delivery) proves "
            "pass-through."
        ),
    ),
    Assumption(
        id="unknown-country",
        side="mapping",
        statement=(
            "What happens to a country that names no country, or one not on Refersion's list."
        ),
        default="drop",
        variants=(
            Variant("drop", "the country is left out with a warning; the affiliate is created"),
            Variant(
                "reject",
                "the identify is rejected (400 unsupported_country), so Segment discards it",
            ),
        ),
        why="An optional address field is a poor reason to lose an affiliate.",
        settle="An identify with country 'Atlantis' through the real destination.",
    ),
    Assumption(
        id="address-shape",
        side="mapping",
        statement=(
            "What a traits.address that is a string or an array (not Segment's address object) "
            "becomes."
        ),
        default="object-only",
        variants=(
            Variant("object-only", "only an object is read; a string or array is ignored"),
            Variant(
                "first-or-street",
                "a string becomes address1; an array's first element is read as the address",
            ),
        ),
        why="Segment's spec defines traits.address as an object; anything else is guesswork.",
        settle="An identify with address '1 Main St' through the real destination.",
    ),
    Assumption(
        id="merchant-id",
        side="mapping",
        statement="Where Refersion's unique_merchant_id comes from.",
        default="user-id-or-anonymous-id",
        variants=(
            Variant(
                "user-id-or-anonymous-id",
                "userId, else anonymousId; an identify with neither is rejected",
            ),
            Variant(
                "user-id-only",
                "userId only; an identify without one is rejected",
            ),
            Variant(
                "not-sent",
                "unique_merchant_id is not sent; an identify needs no id, and a later delete "
                "can find the affiliate only by email",
            ),
        ),
        why=(
            "Deletes carry only the userId, so storing it on the affiliate is the one way a "
            "delete can find it again."
        ),
        settle="An identify through the real destination, then affiliate/get on the affiliate.",
    ),
    Assumption(
        id="name-split",
        side="mapping",
        statement="How a single traits.name becomes first_name and last_name.",
        default="first-whitespace",
        variants=(
            Variant(
                "first-whitespace",
                "'Mary Ann Smith' → first 'Mary', last 'Ann Smith'",
            ),
            Variant(
                "last-whitespace",
                "'Mary Ann Smith' → first 'Mary Ann', last 'Smith'",
            ),
        ),
        why="Segment's spec says name is the full name and nothing about how to split it.",
        settle="An identify with a three-word name through the real destination.",
    ),
    Assumption(
        id="email-source",
        side="mapping",
        statement=(
            "Which email is sent when traits.email and a top-level email (as in Refersion's "
            "example identify) both exist."
        ),
        default="traits-first",
        variants=(
            Variant("traits-first", "traits.email wins; the top-level email is used only alone"),
            Variant(
                "top-level-first",
                "the top-level email wins; traits.email is used only alone",
            ),
        ),
        why=(
            "Every Segment library puts the email in traits; a top-level email appears only in "
            "the example on Refersion's destination page."
        ),
        settle="An identify whose two emails differ, through the real destination.",
    ),
    Assumption(
        id="trait-case",
        side="mapping",
        statement=(
            "Which spelling wins when camelCase and snake_case traits disagree (firstName vs "
            "first_name, postalCode vs postal_code)."
        ),
        default="camel-case-wins",
        variants=(
            Variant("camel-case-wins", "the camelCase value is sent, with a warning"),
            Variant("snake-case-wins", "the snake_case value is sent, with a warning"),
        ),
        why=(
            "Segment's spec names traits in camelCase; Refersion's page only asks for one "
            "convention used consistently."
        ),
        settle="An identify with firstName 'A' and first_name 'B' through the real destination.",
    ),
    Assumption(
        id="password",
        side="mapping",
        statement=("The password Refersion's affiliate/new requires, which Segment never carries."),
        default="generated",
        variants=(
            Variant(
                "generated",
                "a 16-character password derived from the ids and a per-run salt is sent",
            ),
            Variant(
                "not-sent",
                "no password is sent, so Refersion answers 400 for the missing field",
            ),
        ),
        why="Refersion documents the password as required on affiliate/new.",
        settle="Refersion's description of its Segment ingestion endpoint.",
    ),
    Assumption(
        id="affiliate-status",
        side="mapping",
        statement="The status a new affiliate gets (Segment traits carry none).",
        default="PENDING",
        variants=(
            Variant("PENDING", "new affiliates are PENDING until someone approves them"),
            Variant("ACTIVE", "new affiliates are ACTIVE at once"),
        ),
        why=(
            "Refersion's own default for affiliate/new is PENDING; the destination has no "
            "status setting."
        ),
        settle="The status of an affiliate the real destination created.",
    ),
    Assumption(
        id="send-welcome",
        side="mapping",
        statement=(
            "Whether affiliate/new asks Refersion to send its welcome email (no trait carries it)."
        ),
        default="FALSE",
        variants=(
            Variant("FALSE", 'send_welcome "FALSE" on every affiliate/new: no email is sent'),
            Variant("TRUE", 'send_welcome "TRUE" on every affiliate/new: Refersion emails them'),
        ),
        why=(
            "Refersion's API takes send_welcome as an optional TRUE/FALSE string and nothing "
            "public says what its Segment integration sends; not emailing people is the safer "
            "guess for a test tool."
        ),
        settle="Whether an affiliate the real destination created received the welcome email.",
    ),
    Assumption(
        id="new-affiliate-offer",
        side="mapping",
        statement="Which offer a new affiliate is put in (no trait carries an offer).",
        default="account-default",
        variants=(
            Variant(
                "account-default",
                "no offer is sent; Refersion puts the affiliate in the account's default offer",
            ),
            Variant(
                "given",
                "an offer id is sent: the one given with --offer, else '2' (an offer other "
                "than the account's default, as a merchant might pick in Refersion)",
            ),
        ),
        why=(
            "Refersion's API documents the default offer used when none is given; its support "
            "article on the Segment integration says nothing about choosing one."
        ),
        settle=(
            "The rest of Refersion's support article on the Segment integration, or the offer "
            "of an affiliate the real destination created."
        ),
    ),
    Assumption(
        id="duplicate-email",
        side="destination",
        statement=(
            "What the destination answers Segment when Refersion refuses an identify because "
            "the email is taken by another affiliate."
        ),
        default="acknowledge",
        variants=(
            Variant("acknowledge", "200, outcome already_exists: nothing to retry or fix"),
            Variant("discard", "400, outcome refersion_rejected: Segment discards it as a failure"),
        ),
        why=(
            "A repeated identify of the same user is normal Segment traffic (at-least-once "
            "delivery, repeated calls); reporting it as a failure would flood Event Delivery."
        ),
        settle="Two identifies with the same email, and Event Delivery's view of the second.",
    ),
    Assumption(
        id="audience-exit",
        side="destination",
        statement=(
            "What the destination does with an Engage audience exit (<audience_key>: false)."
        ),
        default="skip",
        variants=(
            Variant("skip", "acknowledged with 200; nothing is sent to Refersion"),
            Variant(
                "identify",
                "mapped as an ordinary identify, which may create an affiliate",
            ),
        ),
        why=(
            "Refersion keeps no audience membership and leaving an audience is not a deletion; "
            "nothing public says the destination looks at the audience key at all."
        ),
        settle="An audience exit for an unknown user through the real destination.",
    ),
    Assumption(
        id="delete-lookup",
        side="refersion",
        statement="How a delete finds the affiliate to remove.",
        default="merchant-id-then-email",
        variants=(
            Variant(
                "merchant-id-then-email",
                "every affiliate whose unique_merchant_id is the userId; if none, the one with "
                "the delete's email",
            ),
            Variant("merchant-id-only", "only affiliates whose unique_merchant_id is the userId"),
            Variant("email-only", "only the affiliate with the delete's email"),
        ),
        why=(
            "Refersion's destination page shows a delete with both a userId and an email and "
            "says nothing about how they are matched."
        ),
        settle=(
            "A delete whose userId matches no affiliate but whose email does, through the real "
            "destination."
        ),
    ),
    Assumption(
        id="delete-effect",
        side="refersion",
        statement="What 'remove a certain affiliate' means when a delete finds one.",
        default="remove",
        variants=(
            Variant("remove", "the affiliate is deleted: affiliate/get no longer finds it"),
            Variant(
                "disable",
                "the affiliate stays with status DISABLED (as affiliate/status_change would do)",
            ),
        ),
        why=(
            "Refersion's destination page says a delete removes the affiliate 'from our "
            "system'; its REST API has no delete, only status changes."
        ),
        settle="affiliate/get on an affiliate after a delete through the real destination.",
    ),
    Assumption(
        id="text-limit",
        side="refersion",
        statement=(
            "The length behind Refersion's 'Value exceed the char limit' error on text fields."
        ),
        default="255",
        variants=(
            Variant("255", "a text field longer than 255 characters is refused with 422"),
            Variant("none", "text fields of any length are accepted"),
        ),
        why="255 is the usual column width; Refersion publishes the error but no figure.",
        settle="affiliate/new with a 256-character company against a Refersion sandbox.",
    ),
    Assumption(
        id="new-with-unknown-offer",
        side="refersion",
        statement="What affiliate/new does with an offer id the account does not have.",
        default="accepted",
        variants=(
            Variant(
                "accepted",
                "the affiliate is created in that offer, which then exists for affiliate/edit",
            ),
            Variant(
                "offer-not-found",
                'refused with 404 {"error": ["Offer does not exists on the database."]}, as '
                "affiliate/edit documents; nothing is created",
            ),
        ),
        why=(
            "Refersion documents the unknown-offer error for edit only; refusing it on new "
            "would also break runs that choose an offer with --offer without declaring it."
        ),
        settle="affiliate/new with a made-up offer id against a Refersion sandbox.",
    ),
    Assumption(
        id="invalid-unicode",
        side="segment",
        statement=(
            "What Segment's Tracking API (and so the delivery that follows) does with a string "
            'that is not valid Unicode: a lone UTF-16 surrogate escape such as "\\udc00", or '
            "bytes that are not UTF-8 (CESU-8's ED A0 80)."
        ),
        default="replace",
        variants=(
            Variant(
                "replace",
                "each lone surrogate and each byte that is not UTF-8 becomes U+FFFD, as Go's "
                "encoding/json reads strings; the event is accepted and its trace names the "
                "fields replaced",
            ),
            Variant(
                "refuse",
                "the request is answered 400 invalid_unicode naming the field; nothing of it "
                "is kept",
            ),
        ),
        why=(
            "A Segment engineer wrote that the Tracking API is written in Go, and Go's "
            "encoding/json documents that it replaces invalid UTF-8 and lone surrogates in "
            "strings with U+FFFD instead of failing; that Segment decodes with it, and adds no "
            "check of its own, is an inference."
        ),
        settle=(
            'An identify whose traits.first_name holds "\\udc00", sent to a real source: a '
            "200 and U+FFFD in the source debugger prove replace, a 400 proves refuse."
        ),
    ),
    Assumption(
        id="regulation-forwarding",
        side="segment",
        statement=(
            "Whether Segment forwards SUPPRESS_WITH_DELETE and DELETE_ONLY regulations to the "
            "Refersion destination as delete messages."
        ),
        default="forward",
        variants=(
            Variant("forward", "each userId of the regulation becomes a delete to Refersion"),
            Variant(
                "not-forwarded",
                "nothing reaches Refersion; the regulation finishes for Segment alone",
            ),
        ),
        why=(
            "Refersion's destination page documents handling delete; Segment's list of "
            "destinations that receive deletion requests does not name Refersion."
        ),
        settle="A DELETE_ONLY regulation in a workspace with the Refersion destination.",
    ),
    Assumption(
        id="retry-backoff",
        side="segment",
        statement=(
            "When Segment retries a delivery (Segment publishes only 'randomized exponential "
            "backoff for up to four hours')."
        ),
        default="exponential",
        variants=(
            Variant(
                "exponential",
                "1 s, doubling, capped at 600 s, each shortened by up to half at random",
            ),
            Variant(
                "six-retries",
                "six retries doubling from 225 s (225 s, 450 s, … 2 h), spread over the four "
                "hours, then the event expires",
            ),
        ),
        why=(
            "Short first retries find out quickly whether a receiver recovers; the cap keeps "
            "attempts coming through the four hours."
        ),
        settle="Timestamps of retried attempts in Segment's Event Delivery view.",
    ),
    Assumption(
        id="retry-after",
        side="segment",
        statement="Whether Segment waits as long as a 429 or 503's Retry-After header asks.",
        default="honoured",
        variants=(
            Variant("honoured", "the next attempt waits at least Retry-After (up to 600 s)"),
            Variant("ignored", "the computed backoff alone decides"),
        ),
        why="Honouring it is what well-behaved HTTP clients do; Segment documents nothing.",
        settle="A receiver answering 429 with Retry-After: 120, and the next attempt's time.",
    ),
    Assumption(
        id="delivery-timeout",
        side="segment",
        statement=(
            "How long Segment waits for the destination's answer before counting a timeout."
        ),
        default="5s",
        variants=(
            Variant("5s", "an answer later than 5 s is a timeout, retried"),
            Variant("10s", "an answer later than 10 s is a timeout, retried"),
        ),
        why="5 s is what Segment documents for Webhooks and Functions, the nearest relatives.",
        settle="A receiver that answers after 7 s, and whether Segment retries.",
    ),
    Assumption(
        id="empty-api-key",
        side="segment",
        statement=(
            "Which values of the destination's API key setting Segment counts as the missing "
            "required setting (discarded as INVALID_SETTINGS, never sent)."
        ),
        default="blank",
        variants=(
            Variant(
                "blank",
                "an empty or whitespace-only key is INVALID_SETTINGS; the event is not sent",
            ),
            Variant(
                "empty-only",
                "only an empty key is; a whitespace key is sent, and Refersion answers 401",
            ),
        ),
        why=(
            "A key of spaces cannot be Refersion's publickey.secretkey; Segment documents only "
            "that a missing required setting is INVALID_SETTINGS, not what counts as missing."
        ),
        settle="Saving a whitespace-only API key on a real Refersion destination.",
    ),
    Assumption(
        id="browser-channel",
        side="segment",
        statement=(
            "The channel Segment stamps on an event that came from the browser library "
            "(a one-letter path such as /v1/i, or context.library.name 'analytics.js'), when "
            "the event carries none."
        ),
        default="client",
        variants=(
            Variant("client", 'channel "client", as Segment\'s partner spec example shows'),
            Variant("browser", 'channel "browser", as Segment\'s identify spec example shows'),
            Variant("server", 'channel "server", as for events from server libraries'),
        ),
        why=(
            "Segment's partner spec shows the identify analytics.js produces with channel "
            "'client'; its identify spec's example shows 'browser'; no page says which Segment "
            "stamps today."
        ),
        settle="The channel of a browser identify in a real destination's Event Delivery view.",
    ),
    Assumption(
        id="dedupe-rate",
        side="segment",
        statement=(
            "How many repeated messageIds Segment's ingest drops (documented as about 99 %)."
        ),
        default="all",
        variants=(
            Variant("all", "every repeat within the dedupe window is dropped as a duplicate"),
            Variant(
                "about-99-percent",
                "each repeat gets through with probability 1 %, drawn from the run's seed, and "
                "is delivered again",
            ),
        ),
        why=(
            "A deterministic default keeps runs reproducible; the seeded variant shows what "
            "the documented 1 % of missed duplicates does to the destination."
        ),
        settle="Segment publishes no figure beyond 'about 99 %'; it cannot be settled exactly.",
    ),
    Assumption(
        id="engage-timing",
        side="segment",
        statement=(
            "When, on the simulated clock, an Engage computation's syncs reach the destination "
            "if its definition gives no times."
        ),
        default="six-hours-then-two-to-three",
        variants=(
            Variant(
                "six-hours-then-two-to-three",
                "the first sync 6 h after the audience is defined, each later one 2 to 3 h "
                "after the previous (drawn from the run's seed)",
            ),
            Variant(
                "immediate-then-hourly",
                "the first sync at once, then one every hour (the emulator's former timing)",
            ),
        ),
        why=(
            "Segment's catalog pages say an initial sync may take six or more hours and later "
            "syncs come every two to three hours; exactly six hours and a uniform draw are the "
            "emulator's reading of 'six or more' and 'two to three'."
        ),
        settle="Timestamps of Engage identifies in a real destination's Event Delivery view.",
    ),
    Assumption(
        id="cors-origin",
        side="segment",
        statement=("What the Tracking API's Access-Control-Allow-Origin says to a browser page."),
        default="echo-with-credentials",
        variants=(
            Variant(
                "echo-with-credentials",
                "the page's origin is echoed with Access-Control-Allow-Credentials: true, so "
                "credentialed requests (a JSON Blob beacon, credentials: 'include') are read",
            ),
            Variant(
                "wildcard",
                "'*' without credentials: the browser blocks credentialed requests, plain "
                "ones pass",
            ),
        ),
        why=(
            "Segment does not publish its CORS answers; echoing the origin lets every request "
            "a page can make through, and the Tracking API reads no cookie."
        ),
        settle="The CORS headers of api.segment.io's answer to a browser's POST.",
    ),
    Assumption(
        id="cors-headers",
        side="segment",
        statement=("Which request headers the Tracking API lets a browser page send (preflight)."),
        default="libraries",
        variants=(
            Variant(
                "libraries",
                "Authorization, Content-Type and X-Retry-Count (what the published libraries "
                "send) and those named with --cors-allow-header; a preflight for any other is "
                "refused with 403",
            ),
            Variant("any", "every header a preflight asks for is allowed"),
        ),
        why=(
            "Allowing only what the libraries send means a page adding its own headers fails "
            "here rather than, perhaps, in production."
        ),
        settle="A preflight to api.segment.io asking for a custom header.",
    ),
)

ASSUMPTIONS: Mapping[str, Assumption] = MappingProxyType({entry.id: entry for entry in _TABLE})


def assumption(assumption_id: str) -> Assumption:
    """The registry entry ``assumption_id``; ``KeyError`` when there is none."""
    return ASSUMPTIONS[assumption_id]
