"""The Refersion destination's mapping layer: pure code, one Segment message in, one outcome out.

    map_message(message, settings=…) → Operation  (POST affiliate/new | affiliate/delete)
                                     → Rejection  (reason, message, fix, field, HTTP status)

Both carry warnings (repairs made) and lineage (where each field sent came from).
"""

from __future__ import annotations

from emulator.destination.mapping.apikey import ApiKey, parse_api_key, parse_basic_auth
from emulator.destination.mapping.codes import REJECTION_REASONS, WARNING_CODES
from emulator.destination.mapping.mapper import map_message
from emulator.destination.mapping.model import (
    LineageEntry,
    Mapping,
    MappingResult,
    MappingSettings,
    MappingWarning,
    Operation,
    Rejection,
)
from emulator.destination.mapping.password import PASSWORD_LENGTH, derive_password

__all__ = [
    "PASSWORD_LENGTH",
    "REJECTION_REASONS",
    "WARNING_CODES",
    "ApiKey",
    "LineageEntry",
    "Mapping",
    "MappingResult",
    "MappingSettings",
    "MappingWarning",
    "Operation",
    "Rejection",
    "derive_password",
    "map_message",
    "parse_api_key",
    "parse_basic_auth",
]
