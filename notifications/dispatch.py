"""The dispatcher: send the due alerts of the outbox, each claimed before it is sent."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlite_utils

from notifications import outbox
from notifications.channels import SENDERS, Session, open_session
from notifications.channels.errors import PermanentError, RetryLater
from notifications.config import AlertSettings, Subscription
from notifications.messages import Message, build_digest, build_message, build_tracking
from notifications.schedule import period_label
from store.crashpoint import crashpoint


@dataclass
class DispatchReport:
    """What one `notify` run did, by alert id (a digest sends several alerts as one message)."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # will be retried
    dead: list[int] = field(default_factory=list)  # gave up this run
    messages: int = 0  # messages delivered
    released: int = 0  # stale claims put back to pending
    waiting: int = 0  # pending alerts of channels that cannot send (not configured any more)
    errors: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        """The report as `notify --json` prints it."""
        return {"sent": self.sent, "failed": self.failed, "dead": self.dead, "messages": self.messages,
                "released": self.released, "waiting": self.waiting,
                "errors": {str(k): v for k, v in self.errors.items()}}


def unit_message(db: sqlite_utils.Database, unit: outbox.Unit, subscriptions: Mapping[str, Subscription]) -> Message:
    """The message one send delivers: a change alert, a digest, or a tracking alert."""
    if unit.kind != "change":
        return build_tracking(unit.kind, unit.source or "?", unit.detail or {})
    if unit.digest_at:
        sub = subscriptions.get(unit.subscription)
        at = datetime.fromisoformat(unit.digest_at)
        period = (period_label(sub.digest, at) if sub is not None and sub.digest
                  else f"digest of {unit.digest_at[:16]} UTC")
        return build_digest(db, unit.change_ids, unit.subscription, period)
    return build_message(db, unit.change_ids[0], unit.subscription)


def dispatch(db: sqlite_utils.Database, channels: Mapping, settings: AlertSettings, *, retry_now: bool = False,
             subscriptions: list[Subscription] | None = None, environ: Mapping[str, str] | None = None,
             clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> DispatchReport:
    """Send every due pending alert (with `retry_now`, also those still backing off)."""
    environ = os.environ if environ is None else environ
    subs = {s.name: s for s in subscriptions or []}
    report = DispatchReport()
    report.released = outbox.release_stale(db, clock(), settings.lease, settings.max_attempts)
    sendable = {name for name, ch in channels.items() if ch.channel in SENDERS}
    sessions: dict[str, Session] = {}
    try:
        for ids in outbox.due(db, clock(), sendable, retry_now):
            unit = outbox.claim(db, ids, clock())
            if unit is None:
                continue  # another dispatcher has it
            if unit.channel not in sessions:
                sessions[unit.channel] = open_session(channels[unit.channel], environ)
            msg_id = outbox.message_id(unit.dedup_key)
            try:
                sessions[unit.channel].send(unit_message(db, unit, subs), msg_id)
            except Exception as exc:  # any failure of one send is recorded on its rows, never fatal
                _record_failure(db, unit, exc, settings, clock(), report)
                continue
            crashpoint("alert-delivered")  # the worst moment: delivered, not yet recorded
            outbox.mark_sent(db, unit.ids, msg_id, clock())
            report.sent.extend(unit.ids)
            report.messages += 1
    finally:
        for session in sessions.values():
            session.close()
    report.waiting = sum(1 for a in outbox.list_alerts(db, "pending") if a["channel"] not in sendable)
    return report


def _record_failure(db: sqlite_utils.Database, unit: outbox.Unit, exc: Exception, settings: AlertSettings,
                    now: datetime, report: DispatchReport) -> None:
    retry_after = exc.delay if isinstance(exc, RetryLater) else None
    error = f"{type(exc).__name__}: {exc}"
    status = outbox.mark_failed(db, unit.ids, error, now, max_attempts=settings.max_attempts,
                                backoff=settings.backoff, max_backoff=settings.max_backoff,
                                retry_after=retry_after, permanent=isinstance(exc, PermanentError))
    (report.dead if status == "dead" else report.failed).extend(unit.ids)
    report.errors.update(dict.fromkeys(unit.ids, error))
