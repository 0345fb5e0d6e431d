"""Property-based contract verification: the invariants behind ``refersion-emulator check``.

    run_properties(driver, CheckOptions(examples=100, seed=7)) → CheckReport

The properties (:data:`PROPERTIES`) are written against :class:`Driver`;
:func:`emulator.server.runners.check_driver.run_check` runs them against a live pipeline.
"""

from __future__ import annotations

from emulator.check.driver import Delivered, Driver, RefersionCall
from emulator.check.example import Example, Expect, InvariantBroken
from emulator.check.properties import PROPERTIES, Property, StatefulProperty
from emulator.check.report import CheckReport, Failure, PropertyResult
from emulator.check.runner import PROPERTY_NAMES, CheckOptions, Progress, run_properties

__all__ = [
    "PROPERTIES",
    "PROPERTY_NAMES",
    "CheckOptions",
    "CheckReport",
    "Delivered",
    "Driver",
    "Example",
    "Expect",
    "Failure",
    "InvariantBroken",
    "Progress",
    "Property",
    "PropertyResult",
    "RefersionCall",
    "StatefulProperty",
    "run_properties",
]
