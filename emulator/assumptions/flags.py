"""The older flags that choose a variant: ``--status``, ``--send-welcome`` and ``--offer``.

Each is one switch with ``--assume``: ``--status ACTIVE`` chooses ``affiliate-status=ACTIVE``,
``--send-welcome TRUE`` chooses ``send-welcome=TRUE`` and ``--offer ID`` chooses
``new-affiliate-offer=given`` (sending ``ID``). Precedence, the same on every surface (CLI,
pytest marker, fixture ``settings``, :class:`~emulator.config.DestinationSettings`): an explicit
assumption choice (``--assume``, a fixture's ``assumptions``, ``PUT /_emulator/assumptions``)
wins over the flag, and the flag wins over the registry default.
"""

from __future__ import annotations

from emulator.assumptions.choices import AssumptionChoices
from emulator.assumptions.registry import ASSUMPTIONS

__all__ = ["FLAG_SWITCHES", "fold_flags"]

# flag (the setting's name) → the assumption it chooses a variant of
FLAG_SWITCHES = {
    "status": "affiliate-status",
    "send_welcome": "send-welcome",
    "offer": "new-affiliate-offer",
}


def fold_flags(
    choices: AssumptionChoices,
    *,
    status: str | None = None,
    send_welcome: str | None = None,
    offer: str | None = None,
) -> AssumptionChoices:
    """``choices`` with the flags' variants added where ``choices`` names none.

    A flag equal to the registry default adds nothing; a value that is no variant (a contract
    check sending a bad status on purpose) adds nothing either, so it reaches Refersion as is.
    """
    flagged: dict[str, str] = {}
    for assumption_id, value in (
        (FLAG_SWITCHES["status"], status),
        (FLAG_SWITCHES["send_welcome"], send_welcome),
    ):
        entry = ASSUMPTIONS[assumption_id]
        if value is not None and value != entry.default and value in entry.variant_names:
            flagged[assumption_id] = value
    if offer:  # an empty --offer names no offer, as before
        flagged[FLAG_SWITCHES["offer"]] = "given"
    added = {key: value for key, value in flagged.items() if not choices.is_chosen(key)}
    return choices.with_choices(added) if added else choices
