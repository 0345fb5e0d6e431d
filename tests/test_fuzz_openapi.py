"""Schemathesis against the live emulator: every documented operation, positive and negative data.

Checks on every response: no 5xx (the destination's documented 501 aside), the body matches
the documented schema, the Content-Type is the documented one. Deterministic (Hypothesis
derandomized) and bounded (examples per operation, steps per stateful scenario). The number
of cases tried is printed in the terminal summary.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from emulator.contract_checks.openapi import bundled_document
from emulator.segment.ingest import SHORT_PATHS
from emulator.server.background import BackgroundEmulator
from tests.support import FUZZ_NOTES, fast_config

pytestmark = pytest.mark.fuzz

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Per operation and phase: about two thousand requests in all under the ci and dev profiles;
# HYPOTHESIS_PROFILE=thorough raises it.
MAX_EXAMPLES = max(20, settings().max_examples // 5)
STATEFUL_SCENARIOS = 15
STATEFUL_STEPS = 6
_SERVER_ERRORS_ALLOWED = ["2XX", "3XX", "4XX"]

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "deterministic": True, "max-examples": MAX_EXAMPLES},
        "checks": {"not_a_server_error": {"expected-statuses": _SERVER_ERRORS_ALLOWED}},
        "operations": [
            {
                # Same body schemas as /v1/identify and /v1/batch: the coverage phase would
                # enumerate the very same cases again. Random fuzzing still runs on them.
                "include-path": [
                    *(f"/v1/{kind}" for kind in ("track", "page", "screen", "group", "alias")),
                    "/v1/import",
                    *(f"/v1/{letter}" for letter in SHORT_PATHS),
                ],
                "phases": {"coverage": {"enabled": False}},
            },
            {
                # Segment's contract: an event type the destination does not map is a 501.
                "include-path": "/destination",
                "checks": {
                    "not_a_server_error": {"expected-statuses": [*_SERVER_ERRORS_ALLOWED, 501]}
                },
            },
        ],
    }
)
# An operation marked "x-emulator-fuzz": false in the document is left out (say, a stream
# that never ends, or a switch whose whole point is to make other operations fail).
SCHEMA = schemathesis.openapi.from_dict(bundled_document(), config=CONFIG).exclude(
    lambda ctx: ctx.operation.definition.raw.get("x-emulator-fuzz") is False
)
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

tried: Counter[str] = Counter()
live_holder: list[BackgroundEmulator] = []


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest) -> Iterator[BackgroundEmulator]:
    started = time.perf_counter()
    with BackgroundEmulator(fast_config()) as server:
        live_holder.append(server)
        yield server
        live_holder.clear()
        errors = server.server_errors()
    elapsed = time.perf_counter() - started
    report(request, f"schemathesis: {summary()} in {elapsed:.1f} s")
    assert errors == [], "the server hit unhandled exceptions"


def report(request: pytest.FixtureRequest, line: str) -> None:
    """Add ``line`` to the terminal summary, so the count shows in CI logs."""
    request.config.stash.setdefault(FUZZ_NOTES, []).append(line)


def summary() -> str:
    total = sum(count for key, count in tried.items() if key.startswith("phase:"))
    parts = ", ".join(f"{key} {count}" for key, count in sorted(tried.items()))
    return f"{total} cases ({parts})"


def call_kwargs(case: schemathesis.Case[Any], server: BackgroundEmulator) -> dict[str, Any]:
    """Valid credentials for the surfaces that check them, so positive data gets past auth."""
    config = server.config
    headers: dict[str, str] = {}
    if case.path.startswith("/refersion/"):
        headers = {
            "Refersion-Public-Key": config.credentials.public_key,
            "Refersion-Secret-Key": config.credentials.secret_key,
        }
    elif case.path == "/destination":
        basic = base64.b64encode(f"{config.effective_api_key}:".encode()).decode()
        headers = {"Authorization": f"Basic {basic}"}
    return {"base_url": server.url, "headers": headers, "timeout": 30}


def count(case: schemathesis.Case[Any]) -> None:
    meta = case.meta
    tried[f"phase:{meta.phase.name.value if meta else 'explicit'}"] += 1
    if meta is not None:
        tried[f"mode:{meta.generation.mode.value}"] += 1


@SCHEMA.parametrize()
@SETTINGS
def test_every_operation_answers_as_documented(
    case: schemathesis.Case[Any], live: BackgroundEmulator
) -> None:
    count(case)
    case.call_and_validate(checks=CHECKS, **call_kwargs(case, live))


class Workflow(SCHEMA.as_state_machine()):  # type: ignore[misc]
    """Follows the document's links: identify → its trace, new → get → delete, deliver → trace."""

    def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
        count(case)
        return call_kwargs(case, live_holder[0])

    def validate_response(
        self,
        response: schemathesis.Response,
        case: schemathesis.Case[Any],
        additional_checks: Any = None,
        **kwargs: Any,
    ) -> None:
        case.validate_response(
            response, checks=CHECKS, additional_checks=additional_checks, transport_kwargs=kwargs
        )


def test_linked_operations_keep_their_promises(live: BackgroundEmulator) -> None:
    Workflow.run(
        settings=settings(
            SETTINGS, max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS
        )
    )
    assert tried["phase:stateful"] > 0
