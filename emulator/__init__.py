"""segment-refersion-emulator: a local testing and contract emulator for Segment → Refersion.

The public API::

    async with Emulator(config) as emu: ...        # in an event loop you own
    with BackgroundEmulator(config) as emu: ...    # anywhere else: serves from a thread

    EmulatorConfig, DestinationSettings, RefersionCredentials   what to start it with
    AssumptionChoices                                           variants of the assumptions
    Mapping, map_message, load_mapping                          the pluggable mapping
    MappingSettings, Operation, Rejection                       what a mapping takes and gives
    EmulatorError                                               the root of its exceptions

Each name is imported on first use, so ``import emulator`` costs next to nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from emulator.version import __version__ as __version__

if TYPE_CHECKING:
    from emulator.assumptions import AssumptionChoices
    from emulator.config import DestinationSettings, EmulatorConfig, RefersionCredentials
    from emulator.destination.mapping import (
        Mapping,
        MappingSettings,
        Operation,
        Rejection,
        map_message,
    )
    from emulator.destination.mapping_loader import load_mapping
    from emulator.errors import EmulatorError
    from emulator.server.background import BackgroundEmulator
    from emulator.server.emulator import Emulator

__all__ = [
    "AssumptionChoices",
    "BackgroundEmulator",
    "DestinationSettings",
    "Emulator",
    "EmulatorConfig",
    "EmulatorError",
    "Mapping",
    "MappingSettings",
    "Operation",
    "RefersionCredentials",
    "Rejection",
    "load_mapping",
    "map_message",
]


# Where each public name lives. They load on first use: the server pulls in aiohttp and the
# mapping pulls in pycountry, and the pytest plugin (loaded by every pytest run in an
# environment that has this package) should cost nothing until a test asks for the fixture.
_HOMES = {
    "AssumptionChoices": "emulator.assumptions",
    "BackgroundEmulator": "emulator.server.background",
    "DestinationSettings": "emulator.config",
    "Emulator": "emulator.server.emulator",
    "EmulatorConfig": "emulator.config",
    "EmulatorError": "emulator.errors",
    "Mapping": "emulator.destination.mapping",
    "MappingSettings": "emulator.destination.mapping",
    "Operation": "emulator.destination.mapping",
    "RefersionCredentials": "emulator.config",
    "Rejection": "emulator.destination.mapping",
    "load_mapping": "emulator.destination.mapping_loader",
    "map_message": "emulator.destination.mapping",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'emulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
