"""Dates and times given on the command line: a day (YYYY-MM-DD) or an ISO 8601 time, in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_instant(text: str, *, day_end: bool = False) -> datetime:
    """The UTC instant `text` names. A day alone is its first moment, or with `day_end` its last
    (so "as of 2026-02-20" includes what was seen that day); a time without an offset is UTC.
    Raises ValueError with a message for the user."""
    value = text.strip()
    try:
        if _DAY.fullmatch(value):
            day = datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(), tzinfo=UTC)
            return day + timedelta(days=1, microseconds=-1) if day_end else day
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"invalid date {text!r}: use YYYY-MM-DD or an ISO 8601 time such as 2026-02-20T14:30:00Z"
        ) from None
    return as_utc(parsed)


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive time is taken to be UTC already (regwatch stores UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

