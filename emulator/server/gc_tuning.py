"""Garbage-collector settings for a process that does nothing but run the emulator (``serve``).

CPython collects its youngest generation every 700 net allocations of container objects. A
delivered event allocates a few hundred (parsed bodies, hops, lineage), and the journal keeps
thousands of traces alive, so with the defaults the collector takes about a sixth of the
pipeline's time re-examining objects that live on. Collecting ten times less often costs a
few megabytes of garbage that waits longer; freezing moves everything loaded at start
(modules, schemas, compiled validators) out of the collector's sight for good.
"""

from __future__ import annotations

import gc

__all__ = ["SERVING_THRESHOLDS", "tune_for_serving"]

SERVING_THRESHOLDS = (10_000, 10, 10)


def tune_for_serving() -> None:
    """Call once the emulator has started; only where the process is the emulator's own."""
    gc.freeze()
    gc.set_threshold(*SERVING_THRESHOLDS)
