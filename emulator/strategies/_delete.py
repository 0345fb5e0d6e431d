"""Deletes in the irregular shapes real regulations have, valid and invalid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from emulator.strategies._event import GeneratedEvent
from emulator.strategies._identify import identify_events
from emulator.strategies._values import ascii_words, email_addresses, ids, timestamps

__all__ = ["delete_events", "identify_and_delete_events", "invalid_delete_events"]

# How real deletes carry context and integrations: not at all, null, [] or {}.
_SHAPES: Mapping[str, Any] = {"absent": None, "null": None, "[]": [], "{}": {}}
_delete_envelopes = st.fixed_dictionaries(
    {
        "messageId": st.uuids().map("delete-{}".format),
        "context": st.sampled_from(tuple(_SHAPES)),
        "integrations": st.sampled_from(tuple(_SHAPES)),
    },
    optional={
        "projectId": ascii_words,
        "receivedAt": timestamps(forms=("iso-millis-z",)),
        "sentAt": timestamps(forms=("iso-millis-z",)),
        "timestamp": timestamps(forms=("iso-millis-z",)),
        "originalTimestamp": timestamps(),
    },
)


def _delete(envelope: dict[str, Any], user_id: str | None, email: str | None) -> GeneratedEvent:
    message: dict[str, Any] = {"type": "delete", "channel": "server"}
    for key, value in envelope.items():
        if key not in ("context", "integrations"):
            message[key] = value
        elif value != "absent":
            message[key] = _SHAPES[value]
    if user_id is None:
        return GeneratedEvent(
            message, "invalid/delete_without_user", "destination", "missing_user_id"
        )
    message["userId"] = user_id
    fields = {"unique_merchant_id": user_id}
    if email is not None:
        message["email"] = fields["email"] = email
    return GeneratedEvent(message, f"delete/context={envelope['context']}", fields=fields)


def delete_events(
    *,
    user_ids: st.SearchStrategy[str] | None = None,
    emails: st.SearchStrategy[str | None] | None = None,
) -> st.SearchStrategy[GeneratedEvent]:
    """Deletes in the irregular shapes real regulations have.

    ``context`` and ``integrations`` absent, ``null``, ``[]`` or ``{}``; ``originalTimestamp``
    in every form, Go's included; a top-level ``email`` as in Refersion's own example.
    ``user_ids``/``emails`` fix whose delete it is (``emails`` may draw ``None``: no email).
    """
    return st.builds(
        _delete,
        _delete_envelopes,
        user_ids if user_ids is not None else ids,
        emails if emails is not None else st.none() | email_addresses,
    )


def _delete_after(
    identify: GeneratedEvent, envelope: dict[str, Any], with_email: bool
) -> tuple[GeneratedEvent, GeneratedEvent]:
    email = identify.fields["email"] if with_email else None
    return identify, _delete(envelope, identify.fields["unique_merchant_id"], email)


def identify_and_delete_events() -> st.SearchStrategy[tuple[GeneratedEvent, GeneratedEvent]]:
    """A valid identify and a delete (irregular shape) of the affiliate it creates.

    The delete's userId is the identify's ``unique_merchant_id``; it carries the email only
    sometimes, as Refersion's example does.
    """
    return _identify_and_delete


_identify_and_delete = st.builds(_delete_after, identify_events(), _delete_envelopes, st.booleans())


def invalid_delete_events() -> st.SearchStrategy[GeneratedEvent]:
    """Deletes with neither a userId nor an email: ``missing_user_id``, nothing to find."""
    return st.builds(_delete, _delete_envelopes, st.none(), st.none())
