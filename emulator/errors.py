"""The emulator's exceptions. Every one derives from :class:`EmulatorError`.

EmulatorError
 ├── InputError        a file, payload or option given by the user cannot be used
 ├── ConfigError       a configuration value is invalid
 ├── InvalidApiKey     the destination API key is not ``publickey.secretkey``
 └── ControlError      the control API (``/_emulator/...``) refused a request
"""

from __future__ import annotations

__all__ = ["ConfigError", "ControlError", "EmulatorError", "InputError", "InvalidApiKey"]


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


class ControlError(EmulatorError):
    """Raised when a call to the control API answers with an error status."""

    def __init__(self, method: str, path: str, status: int, answer: str) -> None:
        super().__init__(f"{method} {path} answered {status}: {answer}")
        self.status = status
