"""Values drawn outside any test, reproducibly: what ``generate`` prints."""

from __future__ import annotations

from typing import TypeVar

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

__all__ = ["sample"]

_T = TypeVar("_T")


def sample(strategy: st.SearchStrategy[_T], *, count: int, seed: int | None = None) -> list[_T]:
    """Draw ``count`` values, outside any test; the same ``seed`` gives the same values.

    Values come from Hypothesis' generation phase only (no database, no shrinking), so they
    range from the simplest to elaborate ones, as a test run would see them.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    drawn: list[_T] = []
    config = settings(
        settings.get_profile("default"),
        max_examples=count,
        database=None,
        phases=(Phase.generate,),
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )

    @config
    @given(value=strategy)
    def collect(value: _T) -> None:
        drawn.append(value)

    if seed is not None:
        collect = fixed_seed(seed)(collect)
    collect()
    return drawn[:count]
