"""Run an Engage plan (``refersion-emulator engage``) through a private in-process emulator."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from emulator.config import EmulatorConfig
from emulator.destination.mapping import Mapping as MappingFn
from emulator.errors import InputError
from emulator.segment.engage.input import EngageInputError
from emulator.segment.engage.plan import EngagePlan, judge_events
from emulator.segment.engage.simulator import EngageSimulator
from emulator.segment.engage.space import ComputationExists, UnknownComputation
from emulator.server.emulator import Emulator

__all__ = ["PlanReport", "run_plan"]


@dataclass(slots=True)
class PlanReport:
    """The computation, every sync with its identifies, and the account afterwards."""

    plan: EngagePlan
    computation: dict[str, Any]
    syncs: list[dict[str, Any]]
    affiliates: list[dict[str, Any]]
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.plan.name,
            "description": self.plan.description,
            "passed": self.passed,
            "failures": self.failures,
            "audience": self.computation,
            "syncs": self.syncs,
            "affiliates": self.affiliates,
        }


async def run_plan(
    plan: EngagePlan, *, base: EmulatorConfig, mapping: MappingFn | None = None
) -> PlanReport:
    """Define the plan's computation, run its syncs in order, wait for each, judge."""
    async with Emulator(dataclasses.replace(base, port=0), mapping=mapping) as emu:
        engage = EngageSimulator(emu.runtime)
        try:
            computation = engage.define(dict(plan.definition))
            runs = [
                await engage.sync(computation.key, step.members, at=step.at) for step in plan.syncs
            ]
        except (EngageInputError, UnknownComputation, ComputationExists) as exc:
            raise InputError(f"{plan.name}: {exc}") from None
        await emu.runtime.pipeline.wait_idle(30.0)
        syncs = [run.to_dict() for run in runs]
        affiliates = [a.to_public_dict() for a in emu.runtime.store.all()]
    events = [event for sync in syncs for event in sync["events"]]
    report = PlanReport(plan, computation.to_dict(), syncs, affiliates)
    report.failures = judge_events(events)
    return report
