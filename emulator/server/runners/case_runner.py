"""Run a :class:`~emulator.cases.payloads.Case` through a private in-process emulator
over loopback."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from emulator.cases.payloads import Case, judge
from emulator.config import EmulatorConfig
from emulator.destination.mapping import Mapping as MappingFn
from emulator.segment.http.tracking_api import TRACE_IDS_HEADER
from emulator.server.emulator import Emulator

__all__ = ["CaseResult", "run_case"]

_SEND_WRITE_KEY = "refersion-emulator-send"


@dataclass(slots=True)
class CaseResult:
    case: Case
    events: list[dict[str, Any]]
    affiliates: list[dict[str, Any]]
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.case.name,
            "description": self.case.description,
            "entry": self.case.entry,
            "format": self.case.format,
            "recorded": self.case.recorded,
            # The variants this case pinned (fixture "assumptions"); {} when it pins none.
            "assumptions": dict(self.case.assumptions),
            "passed": self.passed,
            "failures": self.failures,
            "events": self.events,
            "affiliates": self.affiliates,
        }


def config_for(case: Case, base: EmulatorConfig) -> EmulatorConfig:
    """The base configuration with the case's settings applied (the API key, the emulator's
    choices about new affiliates) and its pinned assumptions."""
    settings = dict(case.settings)
    api_key = settings.pop("api_key", base.api_key)
    destination = (
        dataclasses.replace(base.destination, **settings) if settings else base.destination
    )
    # One delivery worker: events reach Refersion in file order, so affiliates are created in
    # the same order on every run and a fixture's expectations stay stable.
    return dataclasses.replace(
        base,
        port=0,
        api_key=api_key,
        destination=destination,
        delivery_workers=1,
        assumptions=base.assumptions.with_choices(case.assumptions),
    )


async def run_case(
    case: Case,
    *,
    base: EmulatorConfig | None = None,
    mapping: MappingFn | None = None,
    settle_timeout: float = 30.0,
) -> CaseResult:
    """Start an emulator, send the case's events the way it says, wait, judge."""
    base = base or EmulatorConfig(port=0, retry_budget=5.0, retry_initial_backoff=0.05)
    async with (
        Emulator(config_for(case, base), mapping=mapping) as emu,
        aiohttp.ClientSession() as http,
    ):
        trace_ids, refusal = await _send(http, emu.url, case)
        await emu.runtime.pipeline.wait_idle(settle_timeout)
        journal = emu.runtime.journal
        events = [t.to_dict() for tid in trace_ids if (t := journal.get(tid)) is not None]
        affiliates = [a.to_public_dict() for a in emu.runtime.store.all()]
    result = CaseResult(case, events, affiliates)
    result.failures = [refusal] if refusal else judge(case, events, affiliates)
    return result


async def _send(http: aiohttp.ClientSession, url: str, case: Case) -> tuple[list[str], str | None]:
    """Send the events; return the journal ids, or why the whole request was refused."""
    if case.entry == "delivery":
        async with http.post(f"{url}/_emulator/deliver?wait=false", json=list(case.events)) as resp:
            body = await resp.json()
            if resp.status >= 400:
                return [], f"/_emulator/deliver answered {resp.status}: {body.get('message')}"
            return [event["id"] for event in body["events"]], None
    payload: dict[str, Any] = (
        dict(case.tracking_body) if case.tracking_body else {"batch": list(case.events)}
    )
    payload.setdefault("writeKey", _SEND_WRITE_KEY)
    async with http.post(f"{url}/v1/batch", json=payload) as resp:
        if resp.status != 200:
            body = await resp.json()
            refusal = f"the Tracking API answered {resp.status} {body.get('code')}"
            return [], f"{refusal}: {body.get('message')}"
        return [tid for tid in resp.headers.get(TRACE_IDS_HEADER, "").split(",") if tid], None
