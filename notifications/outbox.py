"""The outbox table: listing, claiming, and recording the outcome of each send.

A send is claim (pending -> sending) -> deliver -> sent, or -> pending with a backoff, or dead.
A crash between deliver and sent leaves `sending`; after the lease the alert is sent again
with the same Message-ID (see docs/alerts.md).
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from store.db import transaction

COLUMNS = ("id", "change_id", "subscription", "channel", "status", "attempts", "next_attempt_at",
           "claimed_at", "sent_at", "last_error", "message_id", "created_at")


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


def due(db: sqlite_utils.Database, now: datetime, channels: set[str], retry_now: bool = False) -> list[int]:
    """Ids of pending alerts for `channels` whose backoff has elapsed (all of them with `retry_now`)."""
    marks = ", ".join("?" for _ in channels) or "NULL"
    sql = f"SELECT id FROM alerts WHERE status = 'pending' AND channel IN ({marks})"
    params: list[Any] = list(channels)
    if not retry_now:
        sql += " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
        params.append(iso(now))
    return [r[0] for r in db.execute(sql + " ORDER BY id", params).fetchall()]


def claim(db: sqlite_utils.Database, alert_id: int, now: datetime) -> dict[str, Any] | None:
    """Take a pending alert for sending (None when another dispatcher took it first)."""
    with transaction(db) as conn:
        cur = conn.execute("UPDATE alerts SET status = 'sending', claimed_at = ? WHERE id = ? AND status = 'pending'",
                           (iso(now), alert_id))
        if cur.rowcount != 1:
            return None
        row = conn.execute("SELECT id, change_id, subscription, channel, dedup_key, attempts FROM alerts WHERE id = ?",
                           (alert_id,)).fetchone()
    return dict(zip(("id", "change_id", "subscription", "channel", "dedup_key", "attempts"), row, strict=True))


def mark_sent(db: sqlite_utils.Database, alert_id: int, msg_id: str, now: datetime) -> None:
    """Record a delivery."""
    with transaction(db) as conn:
        conn.execute("UPDATE alerts SET status = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1,"
                     " last_error = NULL WHERE id = ?", (iso(now), msg_id, alert_id))


def mark_failed(db: sqlite_utils.Database, alert_id: int, error: str, now: datetime, *, max_attempts: int,
                backoff: float, max_backoff: float) -> str:
    """Record a failed send: attempts + 1, the error, and the next attempt after an exponential
    backoff with jitter, or `dead` after `max_attempts`; returns the new status."""
    with transaction(db) as conn:
        attempts = conn.execute("SELECT attempts FROM alerts WHERE id = ?", (alert_id,)).fetchone()[0] + 1
        status = "dead" if attempts >= max_attempts else "pending"
        # Jitter spreads the retries of many alerts after one outage over time.
        delay = min(max_backoff, backoff * 2 ** (attempts - 1)) * random.uniform(0.5, 1.0)
        conn.execute("UPDATE alerts SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
                     (status, attempts, error[:1000], iso(now + timedelta(seconds=delay)), alert_id))
    return status
