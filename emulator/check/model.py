"""The stateful property: identifies, repeats and deletes for a few users, against a model.

The model is what Refersion must hold: one affiliate per user who was identified and not
deleted since, with the fields of the identify that created it (later identifies of the same
email are ``already_exists`` and change nothing). After every step the account, read through
``affiliate/search``, must equal it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from emulator.check.affiliates import expected_affiliate
from emulator.check.example import Example, Expect
from emulator.strategies import GeneratedEvent, delete_events, identify_events

__all__ = ["USERS", "account_model"]

USERS = 3
"""How many users the model juggles: enough for interleavings, few enough to collide often."""
_SEARCHED = ("first_name", "last_name", "email", "status")


def _user(index: int) -> tuple[str, str]:
    return f"model-user-{index}", f"user{index}@model.example.com"


def account_model(new_example: Callable[[], Example]) -> type[RuleBasedStateMachine]:
    """The state machine class; each run starts from ``new_example()`` (a clean pipeline)."""

    class RefersionAccountModel(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.example = new_example()
            self.model: dict[int, dict[str, Any]] = {}
            self.sent: list[dict[str, Any]] = []

        def _tag(self, message_id: object) -> str:
            # Drawn messageIds may repeat across steps; a repeat must be a choice, not luck.
            return f"{message_id}-step{len(self.example.steps)}"

        @rule(user=st.integers(0, USERS - 1), event=identify_events())
        def identify(self, user: int, event: GeneratedEvent) -> None:
            user_id, email = _user(user)
            message = {key: value for key, value in event.message.items() if key != "anonymousId"}
            message.update(userId=user_id, messageId=self._tag(message["messageId"]))
            message["traits"] = {**message["traits"], "email": email}
            outcome = "already_exists" if user in self.model else "created"
            if outcome == "created":
                fields = {**event.fields, "unique_merchant_id": user_id, "email": email}
                self._change(user, expected_affiliate(fields, self.example.driver))
            self.sent.append(message)
            self.example.send("tracking-api", Expect(message, outcome, variant=event.variant))

        @precondition(lambda self: bool(self.sent))
        @rule(data=st.data())
        def repeat(self, data: st.DataObject) -> None:
            message = data.draw(st.sampled_from(self.sent), label="repeated message")
            self.example.send("tracking-api", Expect(message, "duplicate", variant="repeat"))

        @rule(user=st.integers(0, USERS - 1), event=delete_events())
        def delete(self, user: int, event: GeneratedEvent) -> None:
            user_id, email = _user(user)
            message = {**event.message, "userId": user_id}
            message["messageId"] = self._tag(message["messageId"])
            if "email" in message:
                message["email"] = email
            outcome = "deleted" if user in self.model else "not_found"
            self._change(user, None)
            self.example.send("delivery", Expect(message, outcome, variant=event.variant))

        def _change(self, user: int, affiliate: dict[str, Any] | None) -> None:
            """Update the model, and what a fixture of this run expects, before the step."""
            self.model.pop(user, None)
            if affiliate is not None:
                self.model[user] = affiliate
            self.example.affiliates[:] = list(self.model.values())

        @invariant()
        def account_equals_model(self) -> None:
            for user in range(USERS):
                _, email = _user(user)
                found = [
                    {name: item.get(name) for name in _SEARCHED}
                    for item in self.example.driver.search(email)
                    if str(item.get("email")).lower() == email
                ]
                want = (
                    [{name: self.model[user][name] for name in _SEARCHED}]
                    if user in self.model
                    else []
                )
                self.example.require(
                    found == want, f"the account holds {found} for {email}, the model {want}"
                )

    return RefersionAccountModel
