"""Segment's regulations: Public API requests, the deletes they forward, and their status.

docs/sources.md#segment-deletes and the Public API models of
segmentio/public-api-sdk-typescript (CreateWorkspaceRegulationV1Input, Regulation,
StreamStatusV1, DestinationStatusV1). Pure: requests are JSON values, deliveries are
journal traces, time comes in.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator.errors import InputError
from emulator.journal.traces import Trace
from emulator.segment.timestamps import format_timestamp, split_nanoseconds

__all__ = [
    "MAX_SUBJECT_IDS",
    "REGULATION_TYPES",
    "STATUSES",
    "SUBJECT_TYPES",
    "Regulation",
    "RegulationBook",
    "RegulationRequest",
    "RegulationRequestError",
    "RegulationType",
    "delete_message",
    "delivery_status",
    "go_time_string",
    "parse_regulation_request",
]


@dataclass(frozen=True, slots=True)
class RegulationType:
    """What a regulation type does: forward a delete per subject, and/or change suppression."""

    forwards: bool
    suppression: str | None  # "add", "remove" or None
    summary: str


REGULATION_TYPES: Mapping[str, RegulationType] = {
    "SUPPRESS_WITH_DELETE": RegulationType(
        True, "add", "suppress new data and delete existing data, destinations included"
    ),
    "DELETE_ONLY": RegulationType(True, None, "delete existing data, destinations included"),
    "SUPPRESS_WITH_DELETE_INTERNAL": RegulationType(
        False, "add", "suppress new data and delete inside Segment only"
    ),
    "DELETE_INTERNAL": RegulationType(False, None, "delete inside Segment only"),
    "DELETE_ARCHIVE_ONLY": RegulationType(False, None, "delete from Segment's archives only"),
    "SUPPRESS_ONLY": RegulationType(False, "add", "block new data for the userId at the API"),
    "UNSUPPRESS": RegulationType(False, "remove", "stop a suppression"),
}
SUBJECT_TYPES: tuple[str, ...] = ("USER_ID", "OBJECT_ID")
STATUSES: tuple[str, ...] = (
    "INITIALIZED",
    "INVALID",
    "NOT_SUPPORTED",
    "RUNNING",
    "PARTIAL_SUCCESS",
    "FAILED",
    "FINISHED",
)
# "You can delete up to 5000 userIds per call using the Public API"
# (docs/sources.md#segment-deletes); the 4 MB limit is on the request body and is enforced
# where the body is read.
MAX_SUBJECT_IDS = 5000
_SUCCESS = frozenset({"deleted", "not_found", "delivered"})
_BASE62 = string.digits + string.ascii_letters


class RegulationRequestError(InputError):
    """A regulation request the Public API refuses; ``field`` names the input at fault."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class RegulationRequest:
    """A valid ``POST /regulations`` body; ``subject_ids`` are unique, in the order given."""

    regulation_type: str
    subject_type: str
    subject_ids: tuple[str, ...]

    @property
    def kind(self) -> RegulationType:
        return REGULATION_TYPES[self.regulation_type]


def parse_regulation_request(body: Any) -> RegulationRequest:
    """Check a ``CreateWorkspaceRegulationV1Input``; raise :class:`RegulationRequestError`."""
    if not isinstance(body, dict):
        raise RegulationRequestError(
            None, "the body must be a JSON object with regulationType, subjectType, subjectIds"
        )
    regulation_type = body.get("regulationType")
    if not isinstance(regulation_type, str) or regulation_type not in REGULATION_TYPES:
        raise RegulationRequestError(
            "regulationType",
            f"regulationType must be one of {', '.join(REGULATION_TYPES)}; got "
            f"{_shown(regulation_type)}",
        )
    subject_type = body.get("subjectType")
    if not isinstance(subject_type, str) or subject_type not in SUBJECT_TYPES:
        raise RegulationRequestError(
            "subjectType", f"subjectType must be USER_ID or OBJECT_ID; got {_shown(subject_type)}"
        )
    if subject_type == "OBJECT_ID":
        raise RegulationRequestError(
            "subjectType",
            "subjectType OBJECT_ID regulates Cloud Source objects, which this emulator does not "
            "have; use USER_ID",
        )
    subject_ids = body.get("subjectIds")
    if not isinstance(subject_ids, list) or not subject_ids:
        raise RegulationRequestError(
            "subjectIds",
            f"subjectIds must be a non-empty array of userIds; got {_shown(subject_ids)}",
        )
    if len(subject_ids) > MAX_SUBJECT_IDS:
        raise RegulationRequestError(
            "subjectIds",
            f"subjectIds has {len(subject_ids)} ids; the Public API takes at most "
            f"{MAX_SUBJECT_IDS} per call",
        )
    for index, subject_id in enumerate(subject_ids):
        if not isinstance(subject_id, str) or not subject_id.strip():
            raise RegulationRequestError(
                f"subjectIds[{index}]",
                f"subjectIds[{index}] must be a non-empty string (a userId); got "
                f"{_shown(subject_id)}",
            )
    return RegulationRequest(regulation_type, subject_type, tuple(dict.fromkeys(subject_ids)))


def go_time_string(at: float, *, monotonic: float) -> str:
    """Go's ``time.Time.String()``, as in real delete payloads (docs/sources.md#segment-deletes).

    ``2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264``: nanoseconds with trailing
    zeros trimmed, and the process's monotonic clock reading.
    """
    seconds, fraction = split_nanoseconds(at)
    digits = f".{fraction:09d}".rstrip("0").rstrip(".")
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}{digits} +0000 UTC m=+{monotonic:.9f}"


def delete_message(
    *,
    regulation_id: str,
    job: int,
    user_id: str,
    source_id: str,
    created_at: float,
    now: float,
    monotonic: float,
) -> dict[str, Any]:
    """The ``delete`` Segment forwards for one subject, in the partner spec's shape
    (docs/sources.md#segment-deletes)."""
    received = format_timestamp(datetime.fromtimestamp(now, UTC))
    return {
        "type": "delete",
        "channel": "server",
        "userId": user_id,
        "context": None,
        "integrations": None,
        "messageId": f"delete-{regulation_id}::job-{job}-{source_id}",
        "projectId": source_id,
        "timestamp": received,
        "receivedAt": received,
        "sentAt": format_timestamp(datetime.fromtimestamp(created_at, UTC)),
        "originalTimestamp": go_time_string(now, monotonic=monotonic),
    }


def delivery_status(deliveries: Sequence[Trace]) -> tuple[str, str | None, str | None]:
    """``(status, errString, finishedAt)`` of one destination from its forwarded deletes.

    ``INITIALIZED`` until the first attempt, ``RUNNING`` while any delete is unfinished,
    then ``FINISHED``, or ``FAILED`` when any delete was not accepted (discarded, expired,
    rejected, ...).
    """
    if any(not trace.final for trace in deliveries):
        started = any(trace.attempts > 0 or trace.final for trace in deliveries)
        return ("RUNNING" if started else "INITIALIZED"), None, None
    finished_at = max((hop.at for trace in deliveries for hop in trace.hops), default=None)
    failed = [trace for trace in deliveries if trace.outcome not in _SUCCESS]
    if not failed:
        return "FINISHED", None, finished_at
    shown = "; ".join(
        f"userId {trace.user_id!r}: {trace.outcome}"
        + (f" ({trace.reason})" if trace.reason else "")
        for trace in failed[:5]
    )
    more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
    error = f"{len(failed)} of {len(deliveries)} deletes failed: {shown}{more}"
    return "FAILED", error, finished_at


@dataclass(slots=True)
class Regulation:
    """One regulation and the deletes it forwarded.

    The deletes are journal traces, kept here even when the journal drops them, so the
    status stays known.
    """

    id: str
    request: RegulationRequest
    created_at: float
    deliveries: list[Trace] = field(default_factory=list)
    # False under regulation-forwarding=not-forwarded: the deletes never reach Refersion.
    forwarded: bool = True

    def status(self) -> tuple[str, str | None, str | None]:
        """``(overallStatus, errString, finishedAt)``; with nothing forwarded it is done."""
        if not self.request.kind.forwards or not self.forwarded:
            return "FINISHED", None, _iso(self.created_at)
        return delivery_status(self.deliveries)

    def to_dict(
        self, *, workspace_id: str, source_id: str, destination: tuple[str, str]
    ) -> dict[str, Any]:
        """The Public API's ``Regulation`` object, plus an ``emulator`` extension."""
        overall, error, finished_at = self.status()
        streams: list[dict[str, Any]] = []
        if self.request.kind.forwards and self.forwarded:
            name, destination_id = destination
            streams.append(
                {
                    "id": source_id,
                    "destinationStatus": [
                        {
                            "name": name,
                            "id": destination_id,
                            "status": overall,
                            "errString": error or "",
                            "finishedAt": finished_at,
                        }
                    ],
                }
            )
        return {
            "id": self.id,
            "workspaceId": workspace_id,
            "overallStatus": overall,
            "finishedAt": finished_at,
            "createdAt": _iso(self.created_at),
            "streamStatus": streams,
            "emulator": {
                "regulationType": self.request.regulation_type,
                "subjectType": self.request.subject_type,
                "subjectIds": len(self.request.subject_ids),
                "deletes": [
                    {
                        "userId": trace.user_id,
                        "messageId": trace.message_id,
                        "eventId": trace.id,
                        "outcome": trace.outcome,
                        "reason": trace.reason,
                    }
                    for trace in self.deliveries
                ],
            },
        }


class RegulationBook:
    """Every regulation created in this emulator, by id."""

    def __init__(self, *, rng: random.Random) -> None:
        self._rng = rng
        self._regulations: dict[str, Regulation] = {}

    def create(self, request: RegulationRequest, *, now: float) -> Regulation:
        regulation_id = "".join(self._rng.choice(_BASE62) for _ in range(27))
        regulation = Regulation(regulation_id, request, now)
        self._regulations[regulation_id] = regulation
        return regulation

    def get(self, regulation_id: str) -> Regulation | None:
        return self._regulations.get(regulation_id)

    def __iter__(self) -> Iterator[Regulation]:
        return iter(list(self._regulations.values()))

    def __len__(self) -> int:
        return len(self._regulations)

    def clear(self) -> None:
        self._regulations.clear()


def _iso(at: float) -> str:
    return format_timestamp(datetime.fromtimestamp(at, UTC))


def _shown(value: Any) -> str:
    text = "missing" if value is None else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
