"""Suppressed user ids: what regulations block at Segment's API until an UNSUPPRESS.

"SUPPRESS_ONLY: block new data for the userId at the API. Suppressed messages are not shown
in the debugger, archived, or delivered" (docs/sources.md#segment-deletes).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["SuppressionList"]


class SuppressionList:
    """userId → the id of the regulation that suppressed it."""

    def __init__(self) -> None:
        self._by_user: dict[str, str] = {}

    def suppress(self, user_ids: Iterable[str], *, regulation_id: str) -> None:
        for user_id in user_ids:
            self._by_user[user_id] = regulation_id

    def unsuppress(self, user_ids: Iterable[str]) -> None:
        for user_id in user_ids:
            self._by_user.pop(user_id, None)

    def blocking(self, message: Any) -> str | None:
        """The regulation suppressing ``message``'s userId, or ``None`` when it may pass.

        Regulations are keyed by userId only; a message with just an anonymousId passes.
        """
        user_id = message.get("userId") if isinstance(message, dict) else None
        return self._by_user.get(user_id) if isinstance(user_id, str) else None

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._by_user

    def __len__(self) -> int:
        return len(self._by_user)

    def clear(self) -> None:
        self._by_user.clear()
