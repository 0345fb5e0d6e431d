"""Configuration values. Built once at the edge (CLI, pytest plugin, Python API) and passed in."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from emulator.access import MIN_TOKEN_LENGTH, is_loopback_host
from emulator.assumptions import AssumptionChoices, fold_flags
from emulator.errors import ConfigError

if TYPE_CHECKING:
    # Only for the annotation: faults/rules.py needs nothing from this module.
    from emulator.faults.rules import FaultRule

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DestinationSettings",
    "EmulatorConfig",
    "RefersionCredentials",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# RFC 9110 token characters.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class RefersionCredentials:
    """The key pair the fake Refersion account accepts."""

    public_key: str = "pub_emulator0000000000"
    # The fake account's default key pair is public by design; users pass their own.
    secret_key: str = "sec_emulator0000000000"  # noqa: S105

    @property
    def api_key(self) -> str:
        """The Segment destination setting: ``publickey.secretkey``."""
        return f"{self.public_key}.{self.secret_key}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DestinationSettings:
    """The emulator's choices about new affiliates: assumptions, not Segment settings.

    The Refersion destination has exactly one Segment setting, the API key
    (:attr:`EmulatorConfig.api_key`). Refersion's ``affiliate/new`` requires ``status`` and
    takes ``send_welcome`` and ``offer``; no identify trait carries them and no source says
    what Refersion's Segment integration sends, so the emulator chooses (PENDING, FALSE, the
    account's default offer) and lets a run choose otherwise. Each field is one switch with an
    assumption (``affiliate-status``, ``send-welcome``, ``new-affiliate-offer``; see
    docs/assumptions.md): :class:`EmulatorConfig` folds them into ``assumptions_in_force``,
    where an explicit choice (its ``assumptions``) wins over the field.
    """

    status: str = "PENDING"
    send_welcome: str = "FALSE"
    offer: str | None = None
    # Salt for the deterministic password derivation: the same message maps to the same
    # request within one run, yet passwords cannot be guessed from traits.
    password_salt: str = field(default_factory=lambda: secrets.token_hex(16))

    def __post_init__(self) -> None:
        if self.status not in {"PENDING", "ACTIVE"}:
            raise ConfigError(f"status must be PENDING or ACTIVE, got {self.status!r}")
        if self.send_welcome not in {"TRUE", "FALSE"}:
            raise ConfigError(f"send_welcome must be TRUE or FALSE, got {self.send_welcome!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    """Everything one emulator instance needs. ``None`` URLs mean "this emulator's own part"."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    credentials: RefersionCredentials = field(default_factory=RefersionCredentials)
    # The destination's one Segment setting, sent as the Basic-auth username; defaults to the
    # fake's keys.
    api_key: str | None = None
    # When set, Tracking-API requests with another write key are accepted but dropped, as
    # Segment drops events for unknown keys.
    write_key: str | None = None
    destination_url: str | None = None
    refersion_url: str | None = None
    destination: DestinationSettings = field(default_factory=DestinationSettings)
    source_id: str = "emulator-source"
    delivery_timeout: float = 5.0
    refersion_timeout: float = 4.0
    retry_budget: float = 4 * 3600.0
    retry_initial_backoff: float = 1.0
    retry_max_backoff: float = 600.0
    delivery_workers: int = 8
    dedupe_window: float = 24 * 3600.0
    journal_cap: int = 10_000
    seed: int | None = None
    # Fault rules in force from the start (more can be added at run time).
    faults: tuple[FaultRule, ...] = ()
    # SQLite file for the journal and the fake Refersion account; None keeps both in memory.
    journal_path: str | None = None
    # At ~200 bytes an id, the default dedupe memory stays under ~50 MB.
    dedupe_cap: int = 250_000
    # aiohttp's keep-alive timer also runs while a connection has not sent complete request
    # headers, so this bounds a client trickling headers as well as an idle connection.
    header_timeout: float = 30.0
    # A request body that takes longer than this to arrive is refused with 408.
    body_timeout: float = 30.0
    # When set, /_emulator/* answers only requests carrying it; required off loopback.
    control_token: str | None = field(default=None, repr=False)
    # Exposed (host not loopback): the Host names requests may carry besides loopback names
    # and IP addresses, so a web page cannot reach the emulator by rebinding its own domain.
    allowed_hosts: tuple[str, ...] = ()
    # Tracking-API requests wait while this many events are queued for delivery, so a client
    # sending faster than the pipeline delivers cannot grow memory without bound.
    delivery_backlog: int = 2_000
    # The variants this run chooses explicitly (--assume); docs/assumptions.md.
    assumptions: AssumptionChoices = field(default_factory=AssumptionChoices)
    # Request headers a browser page may send to the Tracking API besides those Segment's
    # libraries send: which headers Segment's servers allow is not documented (an assumption).
    cors_extra_headers: tuple[str, ...] = ()

    # The variants in force: ``assumptions`` with the choices of ``destination``'s fields
    # (--status, --send-welcome, --offer) where ``assumptions`` names none. Derived, so a
    # replace() of either recomputes it; read this, not ``assumptions``, to follow a run.
    assumptions_in_force: AssumptionChoices = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # --status/--send-welcome/--offer and --assume are one switch; --assume wins.
        folded = fold_flags(
            self.assumptions,
            status=self.destination.status,
            send_welcome=self.destination.send_welcome,
            offer=self.destination.offer,
        )
        object.__setattr__(self, "assumptions_in_force", folded)
        for name in self.cors_extra_headers:
            if not _HEADER_NAME.fullmatch(name):
                raise ConfigError(f"cors_extra_headers: {name!r} is not an HTTP header name")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be 0..65535, got {self.port}")
        for name in ("delivery_timeout", "refersion_timeout", "retry_budget"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.delivery_workers < 1:
            raise ConfigError(f"delivery_workers must be at least 1, got {self.delivery_workers}")
        if self.journal_cap < 1:
            raise ConfigError(f"journal_cap must be at least 1, got {self.journal_cap}")
        if self.dedupe_cap < 1:
            raise ConfigError(f"dedupe_cap must be at least 1, got {self.dedupe_cap}")
        for name in ("header_timeout", "body_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.control_token is not None and len(self.control_token) < MIN_TOKEN_LENGTH:
            raise ConfigError(f"control_token must be at least {MIN_TOKEN_LENGTH} characters")
        if self.control_token is None and not is_loopback_host(self.host):
            raise ConfigError(
                f"host {self.host!r} is not a loopback address; exposing the emulator needs a "
                "control_token for /_emulator/*"
            )
        if self.delivery_backlog < 1:
            raise ConfigError(f"delivery_backlog must be at least 1, got {self.delivery_backlog}")

    @property
    def default_keys(self) -> bool:
        """Whether the fake account still takes its default keys, which anyone can read."""
        default = RefersionCredentials()
        return self.credentials == default or self.effective_api_key == default.api_key

    @property
    def effective_api_key(self) -> str:
        return self.api_key if self.api_key is not None else self.credentials.api_key
