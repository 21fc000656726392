"""The tracking state of each configured source, and the operators' alerts of its transitions.

Read from the fetch log: a run of failed fetches of the source's own URL since its last
success. Written with the alerts its transitions queue, in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from store.db import transaction
from store.versions import now_iso


@dataclass
class FailureRun:
    """The fetches of one URL since its last successful fetch."""

    failures: int  # failed fetches in a row (0: the last fetch succeeded)
    selector_missed: bool  # one of them failed because a selector matched nothing
    first_id: int | None  # first failed fetch of the run, or the last successful fetch
    first_started: str | None
    last_id: int | None
    last_error: str | None
    last_error_kind: str | None


def failure_run(db: sqlite_utils.Database, source: str, url: str) -> FailureRun | None:
    """The current run of failed fetches of `source` at `url` (None when never fetched)."""
    last_ok = db.execute(
        "SELECT MAX(id) FROM fetches WHERE source = ? AND url = ? AND outcome != 'failed'", (source, url)
    ).fetchone()[0]
    rows = db.execute(
        "SELECT id, started_at, error, error_kind FROM fetches WHERE source = ? AND url = ? AND id > ? "
        "AND outcome = 'failed' ORDER BY id", (source, url, last_ok or 0),
    ).fetchall()
    if rows:
        return FailureRun(len(rows), any(r[3] == "selector" for r in rows), rows[0][0], rows[0][1],
                          rows[-1][0], rows[-1][2], rows[-1][3])
    if last_ok is None:
        return None
    started = db.execute("SELECT started_at FROM fetches WHERE id = ?", (last_ok,)).fetchone()[0]
    return FailureRun(0, False, last_ok, started, last_ok, None, None)


_TRACKING_KEYS = ("source", "url", "state", "since", "failures", "last_fetch", "last_error")


def tracking_state(db: sqlite_utils.Database, source: str) -> dict[str, Any] | None:
    """The stored tracking row of `source`, or None."""
    row = db.execute(f"SELECT {', '.join(_TRACKING_KEYS)} FROM tracking WHERE source = ?", (source,)).fetchone()
    return dict(zip(_TRACKING_KEYS, row, strict=True)) if row else None


def tracking_states(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every source's tracking row, failing ones first."""
    rows = db.execute(f"SELECT {', '.join(_TRACKING_KEYS)} FROM tracking ORDER BY state = 'ok', source").fetchall()
    return [dict(zip(_TRACKING_KEYS, r, strict=True)) for r in rows]


def save_tracking(db: sqlite_utils.Database, source: str, url: str, state: str, run: FailureRun,
                  event: str | None = None, detail: dict[str, Any] | None = None,
                  channels: list[str] | None = None) -> int:
    """Store the tracking state of `source`; with `event` (tracking-failure | tracking-recovered),
    queue one alert per operators' channel in the same transaction. Returns the alerts queued.

    An alert is keyed by event, source, the fetch that started the state and channel, so
    evaluating the same fetch log again never queues it twice."""
    now = now_iso()
    with transaction(db) as conn:
        conn.execute(
            """INSERT INTO tracking (source, url, state, since, failures, last_fetch, last_error, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(source) DO UPDATE SET url = excluded.url, state = excluded.state,
                   since = excluded.since, failures = excluded.failures, last_fetch = excluded.last_fetch,
                   last_error = excluded.last_error, updated_at = excluded.updated_at""",
            (source, url, state, run.first_started or now, run.failures, run.last_id, run.last_error, now),
        )
        if not event:
            return 0
        key = json.dumps([event, source, run.first_id])
        cur = conn.executemany(
            "INSERT OR IGNORE INTO alerts (kind, source, detail, subscription, channel, dedup_key, created_at) "
            "VALUES (?, ?, ?, 'operators', ?, ?, ?)",
            [(event, source, json.dumps(detail or {}), ch,
              hashlib.sha256(f"{key}|{ch}".encode()).hexdigest(), now) for ch in channels or []],
        )
        return cur.rowcount
