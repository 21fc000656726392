"""When a digest is sent: the end of the period a change falls in (pure functions of time)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifications.config import WEEKDAYS, Digest


def next_digest_at(digest: Digest, now: datetime) -> datetime:
    """The first scheduled send time of `digest` strictly after `now` (an aware datetime), in UTC.

    Computed on the wall clock of the digest's time zone, so "08:00 Europe/Brussels" stays
    08:00 across daylight-saving changes."""
    tz = ZoneInfo(digest.timezone)
    local = now.astimezone(tz)
    hour, minute = (int(x) for x in digest.at.split(":"))
    day = local.date()
    if digest.every == "weekly":
        day -= timedelta(days=local.weekday() - WEEKDAYS.index(digest.day))
    step = timedelta(days=7 if digest.every == "weekly" else 1)
    while True:
        # fold=0 and a normalising round trip: a time skipped by a DST jump moves forward.
        candidate = datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)
        if candidate > now:
            return candidate
        day += step


def period_label(digest: Digest, at: datetime) -> str:
    """How a digest sent at `at` names its period: "daily digest of 2026-11-24 08:00 (UTC)"."""
    local = at.astimezone(ZoneInfo(digest.timezone))
    return f"{digest.every} digest of {local:%Y-%m-%d %H:%M} ({digest.timezone})"
