"""Run the properties with Hypothesis against a :class:`~emulator.check.driver.Driver`.

Blocking: call it from a thread when the pipeline runs on an event loop (as
:func:`emulator.server.runners.check_driver.run_check` does).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import example as explicit_example
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import run_state_machine_as_test

from emulator.check.counterexample import fixture_for
from emulator.check.driver import Driver
from emulator.check.example import Example, InvariantBroken
from emulator.check.exercised import Exercised
from emulator.check.properties import PROPERTIES, Property, StatefulProperty
from emulator.check.report import CheckReport, Failure, PropertyResult
from emulator.errors import ConfigError

__all__ = ["PROPERTY_NAMES", "CheckOptions", "Progress", "hypothesis_settings", "run_properties"]

PROPERTY_NAMES: tuple[str, ...] = tuple(p.name for p in PROPERTIES)

Progress = Callable[[str, int, int], None]
"""Called with (property, examples run so far, examples planned) as examples start; more
than planned run while a failure is shrunk."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOptions:
    """How hard to check. ``database`` is where Hypothesis keeps failing examples to replay
    first next time; with a ``seed`` it is not read, so the same seed gives the same events."""

    examples: int = 100
    seed: int | None = None
    properties: tuple[str, ...] = PROPERTY_NAMES
    database: Path | None = None
    stateful_steps: int = 10

    def __post_init__(self) -> None:
        if self.examples < 1:
            raise ConfigError(f"examples must be at least 1, got {self.examples}")
        if self.stateful_steps < 1:
            raise ConfigError(f"stateful_steps must be at least 1, got {self.stateful_steps}")
        unknown = sorted(set(self.properties) - set(PROPERTY_NAMES))
        if unknown or not self.properties:
            raise ConfigError(
                f"properties must be among {', '.join(PROPERTY_NAMES)}; got {unknown or 'none'}"
            )


@dataclass(slots=True)
class _Run:
    """The examples one property ran, in order; the last one of a failure is the shrunk one."""

    examples: list[Example] = field(default_factory=list)


def run_properties(
    driver: Driver,
    options: CheckOptions,
    *,
    progress: Progress | None = None,
    target: dict[str, str] | None = None,
) -> CheckReport:
    """Check each selected property; a failure is reported, never raised."""
    started = time.perf_counter()
    results = [
        _run_one(prop, driver, options, progress)
        for prop in PROPERTIES
        if prop.name in options.properties
    ]
    return CheckReport(
        results=results,
        examples=options.examples,
        seed=options.seed,
        seconds=time.perf_counter() - started,
        target=target or {},
    )


def _run_one(
    prop: Property | StatefulProperty,
    driver: Driver,
    options: CheckOptions,
    progress: Progress | None,
) -> PropertyResult:
    run = _Run()
    exercised = Exercised()
    first = prop.first() if isinstance(prop, Property) else []
    planned = options.examples + len(first)

    def new_example() -> Example:
        example = Example(driver, exercised)
        run.examples.append(example)
        if progress is not None:
            progress(prop.name, len(run.examples), planned)
        return example

    started = time.perf_counter()
    failure: Failure | None = None
    try:
        _hypothesis_run(prop, new_example, options, first)
    except Exception as exc:  # noqa: BLE001 - whatever the pipeline raised is the finding
        failure = _failure(prop, exc, run.examples[-1] if run.examples else None, driver, options)
    return PropertyResult(
        name=prop.name,
        invariant=prop.invariant,
        examples=len(run.examples),
        seconds=time.perf_counter() - started,
        digest=_digest(run.examples),
        exercised=exercised,
        failure=failure,
    )


def _hypothesis_run(
    prop: Property | StatefulProperty,
    new_example: Callable[[], Example],
    options: CheckOptions,
    first: list[Any],
) -> None:
    config = hypothesis_settings(prop.name, options)
    if isinstance(prop, StatefulProperty):
        machine = prop.machine(new_example)
        if options.seed is not None:
            machine = seed(options.seed)(machine)
        run_state_machine_as_test(machine, settings=config)
        return

    body = prop.body

    def run(value: Any) -> None:
        body(new_example(), value)

    for value in reversed(first):
        run = explicit_example(value=value)(run)
    check = config(given(value=prop.strategy)(run))
    if options.seed is not None:
        check = seed(options.seed)(check)
    check()


def hypothesis_settings(name: str, options: CheckOptions) -> settings:
    """The settings every property runs with; ``name`` picks its example database."""
    # Each property gets its own database directory: their test functions share one source.
    database = None
    if options.database is not None and options.seed is None:
        database = DirectoryBasedExampleDatabase(options.database / "check" / name)
    return settings(
        settings.get_profile("default"),
        max_examples=options.examples,
        stateful_step_count=options.stateful_steps,
        database=database,
        deadline=None,
        derandomize=False,
        # The explain phase reruns variations of the failure; the fixture says enough.
        phases=tuple(phase for phase in Phase if phase is not Phase.explain),
        report_multiple_bugs=False,
        # Real HTTP is slow by Hypothesis' standards; every health check would be noise.
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )


def _failure(
    prop: Property | StatefulProperty,
    exc: Exception,
    example: Example | None,
    driver: Driver,
    options: CheckOptions,
) -> Failure:
    message = _message(exc)
    settings_used = {"status": driver.status}
    if driver.offer is not None:
        settings_used["offer"] = driver.offer
    fixture = None
    if example is not None and example.steps:
        fixture = fixture_for(
            name=prop.name,
            invariant=prop.invariant,
            message=message,
            steps=example.steps,
            affiliates=example.affiliates,
            settings=settings_used,
            seed=options.seed,
        )
    return Failure(message=message, kind=type(exc).__name__, fixture=fixture)


def _message(exc: BaseException) -> str:
    # Hypothesis reports a failure that did not happen again (flaky) as a group around it.
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return f"{type(exc).__name__} ({exc.message}): {_message(exc.exceptions[0])}"
    if isinstance(exc, InvariantBroken):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _digest(examples: list[Example]) -> str:
    hasher = hashlib.sha256()
    for example in examples:
        for step in example.steps:
            hasher.update(json.dumps(step.message, sort_keys=True, ensure_ascii=False).encode())
            hasher.update(b"\n")
    return hasher.hexdigest()
