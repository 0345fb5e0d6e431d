"""Result types of the mapping layer: operations, rejections, warnings, lineage, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from emulator.assumptions import AssumptionChoices, AssumptionNote

if TYPE_CHECKING:
    from emulator.config import DestinationSettings

__all__ = [
    "GENERATED_MARK",
    "LineageEntry",
    "Mapping",
    "MappingResult",
    "MappingSettings",
    "MappingWarning",
    "Operation",
    "Rejection",
]

# What lineage shows instead of the password: enough to see it was sent, never its value.
GENERATED_MARK = "<generated>"

_KIND_BY_ENDPOINT = {"affiliate/new": "create", "affiliate/delete": "delete"}


@dataclass(frozen=True, slots=True)
class MappingWarning:
    """Something the mapping repaired or dropped; the operation still goes ahead.

    ``code`` is a key of :data:`~emulator.destination.mapping.WARNING_CODES`; ``field`` is the JSON
    Pointer of the value concerned.
    """

    code: str
    message: str
    field: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field}


@dataclass(frozen=True, slots=True)
class LineageEntry:
    """Where one field of the Refersion request came from.

    ``source`` is a JSON Pointer into the Segment message (``/traits/address/postalCode``),
    ``settings:<name>`` for a destination setting, or ``generated`` for the password.
    """

    source: str
    target: str
    rule: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "rule": self.rule,
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class Operation:
    """One Refersion request to make: ``POST {base}/{endpoint}`` with ``body``.

    ``body`` holds the real password; :meth:`to_dict` and ``repr`` never show it.
    """

    endpoint: str
    body: dict[str, Any]
    warnings: tuple[MappingWarning, ...] = ()
    lineage: tuple[LineageEntry, ...] = ()
    # The registry assumptions this operation relied on (docs/assumptions.md).
    assumptions: tuple[AssumptionNote, ...] = ()

    @property
    def kind(self) -> str:
        """``create`` for ``affiliate/new``, ``delete`` for ``affiliate/delete``."""
        return _KIND_BY_ENDPOINT.get(self.endpoint, self.endpoint)

    def redacted_body(self) -> dict[str, Any]:
        """``body`` with the password replaced by its length, safe to journal."""
        password = self.body.get("password")
        if not isinstance(password, str):
            return dict(self.body)
        return {**self.body, "password": f"<generated: {len(password)} chars>"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "endpoint": self.endpoint,
            "body": self.redacted_body(),
            "warnings": [warning.to_dict() for warning in self.warnings],
            "lineage": [entry.to_dict() for entry in self.lineage],
            "assumptions": [note.to_dict() for note in self.assumptions],
        }

    def __repr__(self) -> str:
        return (
            f"Operation(endpoint={self.endpoint!r}, body={self.redacted_body()!r}, "
            f"warnings={self.warnings!r}, lineage={self.lineage!r})"
        )


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message cannot become a Refersion request, and how to fix it.

    ``reason`` is a key of :data:`~emulator.destination.mapping.REJECTION_REASONS`;
    ``message`` is one
    sentence naming the field and the rule; ``fix`` is one line; ``field`` is a JSON Pointer
    (``""`` is the whole message); ``status`` is the HTTP status the destination answers.
    """

    reason: str
    message: str
    fix: str
    field: str | None
    status: int = 400
    warnings: tuple[MappingWarning, ...] = ()
    lineage: tuple[LineageEntry, ...] = ()
    assumptions: tuple[AssumptionNote, ...] = ()

    @property
    def kind(self) -> str:
        return "rejection"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "status": self.status,
            "message": self.message,
            "fix": self.fix,
            "field": self.field,
            "warnings": [warning.to_dict() for warning in self.warnings],
            "lineage": [entry.to_dict() for entry in self.lineage],
            "assumptions": [note.to_dict() for note in self.assumptions],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingSettings:
    """What the mapping sends for new affiliates besides traits; values go to Refersion verbatim.

    None of these is a Segment setting (the destination has one, the API key): Refersion's
    ``affiliate/new`` needs a ``status`` and takes ``send_welcome`` and ``offer``, no trait
    carries them, and no source says what Refersion's Segment integration sends. They are the
    emulator's choices (assumptions), switchable per run.

    No validation happens here, so contract checks can send a bad ``status`` on purpose;
    :meth:`from_destination` is the validated path. ``assumptions`` holds the variants of the
    registry's open points that the mapping follows.
    """

    status: str = "PENDING"
    send_welcome: str = "FALSE"
    offer: str | None = None
    password_salt: str = field(repr=False)
    assumptions: AssumptionChoices = field(default_factory=AssumptionChoices)

    def __post_init__(self) -> None:
        # One source for the new affiliates' status: an explicit affiliate-status choice wins.
        if self.assumptions.is_chosen("affiliate-status"):
            object.__setattr__(self, "status", self.assumptions.variant("affiliate-status"))

    @classmethod
    def from_destination(
        cls, settings: DestinationSettings, assumptions: AssumptionChoices | None = None
    ) -> MappingSettings:
        """The mapping's settings: the destination settings and the variants in force."""
        choices = assumptions or AssumptionChoices()
        return cls(
            status=settings.status,
            send_welcome=settings.send_welcome,
            offer=settings.offer,
            password_salt=settings.password_salt,
            assumptions=choices,
        )


MappingResult: TypeAlias = Operation | Rejection


class Mapping(Protocol):
    """The pluggable mapping interface; :func:`~emulator.destination.mapping.map_message` is one.

    Called once per message, with the message as it was delivered, unchanged (any JSON value)
    and the settings (the emulator's choices about new affiliates); returns the Refersion
    request to make or the reason not to.
    Implementations must not raise on any input: every problem is a :class:`Rejection`.
    Plug one in with ``--mapping package.module:callable``, ``Emulator(mapping=…)`` or the
    pytest marker's ``mapping=``.
    """

    def __call__(self, message: Any, *, settings: MappingSettings) -> MappingResult: ...
