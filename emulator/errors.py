"""The emulator's exceptions: one tree, rooted at :class:`EmulatorError`.

The roots live here; each subclass lives beside the code that raises it (named in brackets).
A test holds this tree against every exception class in the package.

EmulatorError
 ├── InputError               a file, payload, request or option cannot be used
 │    ├── FaultRuleError          a fault rule or --fault spec        [faults.rules]
 │    ├── EngageInputError        an Engage definition or snapshot    [segment.engage.input]
 │    ├── UnknownComputation      no audience has that key            [segment.engage.space]
 │    ├── ComputationExists       an audience already has that key    [segment.engage.space]
 │    ├── TrackingRequestError    a Tracking API request Segment refuses  [segment.ingest]
 │    ├── RegulationRequestError  a regulation the Public API refuses [segment.regulations.book]
 │    ├── JsonLimitExceeded       a body nested too deep or too large [json_limits]
 │    └── BodyError               a request an HTTP endpoint cannot take  [web.errors]
 ├── ConfigError              a configuration value is invalid
 │    └── UnknownAssumption       an assumption id or variant not in the registry
 │                                                            [assumptions.choices]
 ├── InvalidApiKey            the destination API key is not ``publickey.secretkey``
 ├── ControlError             the control API (``/_emulator/...``) refused a request
 ├── StorageError             a store the emulator keeps state in failed or refused a value
 │    ├── JournalStoreError       the journal file cannot be read or written [journal.store]
 │    ├── JournalWriteError       a journal commit failed             [journal.durability]
 │    └── StoreError              the fake Refersion's affiliate store    [fake_refersion.store]
 │         └── EmailTaken             another affiliate has that email
 └── InvariantBroken          the pipeline under ``check`` broke a property [check.example]
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ControlError",
    "EmulatorError",
    "InputError",
    "InvalidApiKey",
    "StorageError",
]


class EmulatorError(Exception):
    """Root of every error the emulator raises on purpose."""


class InputError(EmulatorError):
    """Raised when user input (a file, a payload, a CLI option) cannot be used.

    The message names the input and what was expected, in one line.
    """


class ConfigError(EmulatorError):
    """Raised when a configuration value is out of range or malformed."""


class InvalidApiKey(EmulatorError):
    """Raised when a destination API key is not of the form ``publickey.secretkey``."""


class StorageError(EmulatorError):
    """Raised when a store (the journal file, the fake Refersion's affiliates) fails or
    refuses a value; the message names the store."""


class ControlError(EmulatorError):
    """Raised when a call to the control API answers with an error status."""

    def __init__(self, method: str, path: str, status: int, answer: str) -> None:
        super().__init__(f"{method} {path} answered {status}: {answer}")
        self.status = status
