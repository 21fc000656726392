"""The outbox table: listing, claiming, and recording the outcome of each send.

A send is claim (pending -> sending) -> deliver -> sent, or -> pending with a backoff, or dead.
A digest is one send of several alerts: they are claimed and marked together.
A crash between deliver and sent leaves `sending`; after the lease the alert is sent again
with the same Message-ID (see docs/alerts.md).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from store.db import transaction

COLUMNS = ("id", "kind", "change_id", "source", "subscription", "channel", "digest_at", "status", "attempts",
           "next_attempt_at", "claimed_at", "sent_at", "last_error", "message_id", "created_at")


def iso(t: datetime) -> str:
    """UTC ISO 8601 with seconds, as stored."""
    return t.astimezone(UTC).isoformat(timespec="seconds")


def message_id(dedup_key: str) -> str:
    """The Message-ID of an alert: the same at every attempt, so a resend is recognisable."""
    return f"<alert-{hashlib.sha256(dedup_key.encode()).hexdigest()[:32]}@regwatch>"


def list_alerts(db: sqlite_utils.Database, status: str | None = None) -> list[dict[str, Any]]:
    """Every alert (or those with `status`), oldest first."""
    where, params = ("WHERE status = ?", (status,)) if status else ("", ())
    rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM alerts {where} ORDER BY id", params).fetchall()
    return [dict(zip(COLUMNS, r, strict=True)) for r in rows]


def release_stale(db: sqlite_utils.Database, now: datetime, lease: float, max_attempts: int | None = None) -> int:
    """Put back to pending the alerts claimed longer than `lease` seconds ago (their sender
    crashed or was killed before recording the outcome); returns how many.

    The interrupted send counts as an attempt: a message that kills the dispatcher every
    time must end `dead`, not be re-released after each lease forever."""
    with transaction(db) as conn:
        cutoff = iso(now - timedelta(seconds=lease))
        error = "the dispatcher stopped while sending (crash or kill); resent with the same Message-ID"
        if max_attempts is not None:
            conn.execute(
                "UPDATE alerts SET status = 'dead', attempts = attempts + 1, last_error = ? "
                "WHERE status = 'sending' AND claimed_at < ? AND attempts + 1 >= ?",
                (error, cutoff, max_attempts),
            )
        cur = conn.execute(
            "UPDATE alerts SET status = 'pending', next_attempt_at = NULL, attempts = attempts + 1, last_error = ? "
            "WHERE status = 'sending' AND claimed_at < ?",
            (error, cutoff),
        )
        return cur.rowcount


@dataclass
class Unit:
    """What one send delivers: one alert, or every alert of one digest period of a
    subscription and channel (sent as one message)."""

    ids: list[int]
    kind: str  # change | tracking-failure | tracking-recovered
    subscription: str
    channel: str
    dedup_key: str  # the Message-ID derives from it
    attempts: int
    change_ids: list[int | None] = field(default_factory=list)
    digest_at: str | None = None
    source: str | None = None
    detail: dict[str, Any] | None = None


def due(db: sqlite_utils.Database, now: datetime, channels: set[str], retry_now: bool = False) -> list[list[int]]:
    """The due pending alerts for `channels`, grouped into what one send delivers: a digest's
    alerts once its period has ended, other alerts one by one. Backoff is waited out unless
    `retry_now`; a digest period is always waited out."""
    marks = ", ".join("?" for _ in channels) or "NULL"
    sql = (f"SELECT id, subscription, channel, digest_at FROM alerts WHERE status = 'pending' "
           f"AND channel IN ({marks}) AND (digest_at IS NULL OR digest_at <= ?)")
    params: list[Any] = [*channels, iso(now)]
    if not retry_now:
        sql += " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
        params.append(iso(now))
    groups: dict[Any, list[int]] = {}
    for alert_id, sub, ch, digest_at in db.execute(sql + " ORDER BY id", params).fetchall():
        groups.setdefault((sub, ch, digest_at) if digest_at else alert_id, []).append(alert_id)
    return list(groups.values())


def digest_key(subscription: str, channel: str, digest_at: str) -> str:
    """The dedup key of one digest message."""
    return f"digest|{subscription}|{channel}|{digest_at}"


def claim(db: sqlite_utils.Database, ids: list[int], now: datetime) -> Unit | None:
    """Take pending alerts for sending, all or none (None when another dispatcher took one)."""
    marks = ", ".join("?" for _ in ids)
    with transaction(db) as conn:
        rows = conn.execute(
            f"SELECT id, status, kind, subscription, channel, dedup_key, attempts, change_id, digest_at, source, detail "
            f"FROM alerts WHERE id IN ({marks}) ORDER BY id", ids).fetchall()
        if len(rows) != len(ids) or any(r[1] != "pending" for r in rows):
            return None
        conn.execute(f"UPDATE alerts SET status = 'sending', claimed_at = ? WHERE id IN ({marks})", (iso(now), *ids))
    first = rows[0]
    digest_at = first[8]
    return Unit(
        ids=[r[0] for r in rows], kind=first[2], subscription=first[3], channel=first[4],
        dedup_key=digest_key(first[3], first[4], digest_at) if digest_at else first[5],
        attempts=max(r[6] for r in rows), change_ids=[r[7] for r in rows], digest_at=digest_at,
        source=first[9], detail=json.loads(first[10]) if first[10] else None,
    )


def mark_sent(db: sqlite_utils.Database, ids: list[int], msg_id: str, now: datetime) -> None:
    """Record a delivery."""
    marks = ", ".join("?" for _ in ids)
    with transaction(db) as conn:
        conn.execute(f"UPDATE alerts SET status = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1,"
                     f" last_error = NULL WHERE id IN ({marks})", (iso(now), msg_id, *ids))


def mark_failed(db: sqlite_utils.Database, ids: list[int], error: str, now: datetime, *, max_attempts: int,
                backoff: float, max_backoff: float, retry_after: float | None = None,
                permanent: bool = False) -> str:
    """Record a failed send: attempts + 1, the error, and the next attempt after an exponential
    backoff with jitter (or after `retry_after` seconds when the service said so), or `dead`
    after `max_attempts` or at once when `permanent`; returns the new status."""
    marks = ", ".join("?" for _ in ids)
    with transaction(db) as conn:
        attempts = conn.execute(f"SELECT MAX(attempts) FROM alerts WHERE id IN ({marks})", ids).fetchone()[0] + 1
        status = "dead" if permanent or attempts >= max_attempts else "pending"
        if retry_after is not None:
            delay = retry_after
        else:
            # Jitter spreads the retries of many alerts after one outage over time.
            delay = min(max_backoff, backoff * 2 ** (attempts - 1)) * random.uniform(0.5, 1.0)
        conn.execute(f"UPDATE alerts SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ? "
                     f"WHERE id IN ({marks})",
                     (status, attempts, error[:1000], iso(now + timedelta(seconds=delay)), *ids))
    return status
