"""segment-refersion-emulator: a local testing and contract emulator for Segment → Refersion.

The public API::

    async with Emulator(config) as emu: ...        # in an event loop you own
    with BackgroundEmulator(config) as emu: ...    # anywhere else: serves from a thread

    EmulatorConfig, DestinationSettings, RefersionCredentials   what to start it with
    Mapping, map_message, load_mapping                          the pluggable mapping
    MappingSettings, Operation, Rejection                       what a mapping takes and gives
    EmulatorError                                               the root of its exceptions

The server classes load aiohttp, so they are imported on first use: ``import emulator`` stays
light for code that only needs the mapping.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import DestinationSettings, EmulatorConfig, RefersionCredentials
from .errors import EmulatorError
from .mapping import Mapping, MappingSettings, Operation, Rejection, map_message
from .mapping_loader import load_mapping

if TYPE_CHECKING:
    from .server.background import BackgroundEmulator
    from .server.emulator import Emulator

__all__ = [
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

__version__ = "0.1.0"

_SERVER_CLASSES = {
    "BackgroundEmulator": "emulator.server.background",
    "Emulator": "emulator.server.emulator",
}


def __getattr__(name: str) -> Any:
    module = _SERVER_CLASSES.get(name)
    if module is None:
        raise AttributeError(f"module 'emulator' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
