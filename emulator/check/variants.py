"""``check`` across assumption variants: which variants a destination under test survives.

Each run checks every selected property with the same seed, once with the variants in force
(the baseline) and once more for each other variant of each chosen assumption, that one
variant switched. Pure planning and reporting; the runs themselves are the caller's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from emulator.assumptions import ASSUMPTIONS, AssumptionChoices
from emulator.check.report import CheckReport
from emulator.journal.rendering import Style

__all__ = ["AcrossReport", "VariantRun", "plan_variant_runs"]


@dataclass(frozen=True, slots=True)
class VariantRun:
    """One run of the check: ``assumption=variant`` switched on top of the base choices, or the
    baseline when ``assumption`` is ``None``."""

    assumption: str | None
    variant: str | None
    choices: AssumptionChoices

    @property
    def label(self) -> str:
        if self.assumption is None:
            return "baseline (the variants in force)"
        return f"{self.assumption}={self.variant}"


def plan_variant_runs(
    base: AssumptionChoices, ids: Iterable[str] | None = None
) -> list[VariantRun]:
    """The baseline, then every variant of each assumption in ``ids`` (default: all) other
    than the one ``base`` puts in force, in registry order."""
    chosen = list(ASSUMPTIONS) if ids is None else list(dict.fromkeys(ids))
    unknown = [assumption_id for assumption_id in chosen if assumption_id not in ASSUMPTIONS]
    if unknown:
        raise KeyError(unknown[0])
    runs = [VariantRun(None, None, base)]
    for assumption_id in chosen:
        in_force = base.variant(assumption_id)
        runs.extend(
            VariantRun(assumption_id, name, base.with_choices({assumption_id: name}))
            for name in ASSUMPTIONS[assumption_id].variant_names
            if name != in_force
        )
    return runs


@dataclass(frozen=True, slots=True)
class AcrossReport:
    """The check's report under each variant run."""

    runs: tuple[tuple[VariantRun, CheckReport], ...]

    @property
    def passed(self) -> bool:
        return all(report.passed for _, report in self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "survived": sum(report.passed for _, report in self.runs),
            "variants": [
                {
                    "assumption": run.assumption,
                    "variant": run.variant,
                    "assumptions": run.choices.to_dict(),
                    "passed": report.passed,
                    "failed": [r.name for r in report.results if not r.passed],
                    "report": report.to_dict(),
                }
                for run, report in self.runs
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def lines(self, style: Style) -> list[str]:
        """A verdict per variant, the failing properties and the first failure's first line."""
        first = self.runs[0][1]
        shown_seed = "a random seed" if first.seed is None else f"seed {first.seed}"
        out = [
            style.bold(
                f"refersion-emulator check across assumptions: {len(self.runs)} runs, "
                f"{len(first.results)} properties, up to {first.examples} examples each, "
                f"{shown_seed}"
            ),
            "",
        ]
        width = max(len(run.label) for run, _ in self.runs)
        for run, report in self.runs:
            verdict = style.good("PASS") if report.passed else style.bad("FAIL")
            failed = [r.name for r in report.results if not r.passed]
            detail = f"  fails {', '.join(failed)}" if failed else ""
            out.append(f"{verdict} {run.label:<{width}}  {report.seconds:>6.1f}s{detail}")
            failure = next((r.failure for r in report.results if r.failure is not None), None)
            if failure is not None:
                out.append(style.dim(f"     {failure.message.splitlines()[0]}"))
        survived = sum(report.passed for _, report in self.runs)
        total = f"survives {survived} of {len(self.runs)} variant runs"
        out.extend(["", style.good(total) if self.passed else style.bad(total)])
        return out
