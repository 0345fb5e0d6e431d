"""The ``invalid-unicode`` assumption at Segment's entrances (docs/assumptions.md).

Strings that are not valid Unicode reach the Tracking API and ``/_emulator/deliver`` either
replaced by U+FFFD (``replace``, as Go's ``encoding/json`` reads them) or refused with a 400
(``refuse``). Parsing is :func:`emulator.json_limits.loads_replacing_invalid_unicode`; this
module says which variant is in force and what an event's trace records when strings of it
were replaced. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emulator.assumptions import AssumptionChoices, AssumptionNote

__all__ = ["ASSUMPTION", "fields_of_item", "replacement_notes", "replaces"]

ASSUMPTION = "invalid-unicode"
# Fields named in the note and listed in the hop; a hostile body can hold thousands.
_SHOWN_FIELDS = 10
_LISTED_FIELDS = 100


def replaces(choices: AssumptionChoices) -> bool:
    """Whether invalid Unicode is replaced (``True``) or refused under ``choices``."""
    return choices.variant(ASSUMPTION) == "replace"


def fields_of_item(replaced: Sequence[str], array: str, index: int) -> tuple[str, ...]:
    """The replaced fields (JSON pointers in the request body) that reach item ``index`` of
    the array at pointer ``array`` (``/batch``): the item's own and every field outside the
    array (a batch-level ``context`` is merged into each item)."""
    own = f"{array}/{index}"
    return tuple(
        pointer
        for pointer in replaced
        if pointer == own
        or pointer.startswith(own + "/")
        or not (pointer == array or pointer.startswith(array + "/"))
    )


def replacement_notes(fields: Sequence[str]) -> dict[str, Any]:
    """What the ingest hop of an event whose ``fields`` were replaced records in its detail:
    the ``invalid-unicode`` note (a warning naming the fields) and the fields themselves (the
    first hundred). Empty when nothing was replaced: the event did not rely on the assumption."""
    if not fields:
        return {}
    shown = ", ".join(pointer or "/" for pointer in fields[:_SHOWN_FIELDS])
    if len(fields) > _SHOWN_FIELDS:
        shown += f" and {len(fields) - _SHOWN_FIELDS} more"
    note = AssumptionNote(
        ASSUMPTION,
        "replace",
        f"invalid Unicode (a lone surrogate or bytes that are not UTF-8) replaced with U+FFFD "
        f"in {shown}",
        "refuse: the request would be answered 400 invalid_unicode and nothing kept",
        warning=True,
    )
    return {"assumptions": [note.to_dict()], "unicodeReplaced": list(fields[:_LISTED_FIELDS])}
