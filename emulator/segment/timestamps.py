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

    A timestamp without a zone is taken as UTC (Segment documents UTC timestamps; how it reads
    a zone-less one is not published). ``None`` too for a
    date that does not exist (month 13) or an instant outside the years 1-9999 in UTC.
    """
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    match = _GO_TIME.match(value)
    try:
        if match:
            frac = (match["frac"] or "0")[:6].ljust(6, "0")
            text = f"{match['date']}T{match['time']}.{frac}{match['offset']}"
            parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
        else:
            parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        # An offset can move a valid local time out of range: 0001-01-01T00:00+01:00.
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def format_timestamp(moment: datetime) -> str:
    """Format as Segment's documented payloads show it: ``2019-06-21T16:33:26.158Z``."""
    utc = moment.astimezone(UTC)
    # strftime's %Y does not pad years before 1000 on every platform.
    return f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def split_nanoseconds(at: float) -> tuple[int, int]:
    """Epoch seconds as ``(whole seconds, nanoseconds)``, for the 9-digit fractions of Go.

    The fraction is taken before scaling: ``at * 1e9`` would exceed a float's precision.
    """
    seconds = math.floor(at)
    fraction = min(round((at - seconds) * 1_000_000_000), 999_999_999)
    return seconds, fraction
