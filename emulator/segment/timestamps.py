"""Timestamps as Segment writes them: ISO 8601 in UTC, plus the Go-style strings of deletes."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

__all__ = ["format_timestamp", "parse_timestamp", "split_nanoseconds"]

# Segment's partner spec shows delete messages whose originalTimestamp is Go's
# time.Time.String(): "2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264".
_GO_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?"
    r" (?P<offset>[+-]\d{4})(?: [A-Za-z]+)?(?: m=[+-][\d.]+)?$"
)


def parse_timestamp(value: object) -> datetime | None:
    """Parse an ISO 8601 or Go-style timestamp; ``None`` when ``value`` is neither.

    A timestamp without a zone is taken as UTC, as Segment's servers do.
    """
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    match = _GO_TIME.match(value)
    if match:
        frac = (match["frac"] or "0")[:6].ljust(6, "0")
        text = f"{match['date']}T{match['time']}.{frac}{match['offset']}"
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    """Format as Segment does downstream: ``2019-06-21T16:33:26.158Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def split_nanoseconds(at: float) -> tuple[int, int]:
    """Epoch seconds as ``(whole seconds, nanoseconds)``, for the 9-digit fractions of Go.

    The fraction is taken before scaling: ``at * 1e9`` would exceed a float's precision.
    """
    seconds = math.floor(at)
    fraction = min(round((at - seconds) * 1_000_000_000), 999_999_999)
    return seconds, fraction
