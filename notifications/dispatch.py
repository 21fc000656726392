"""The dispatcher: send the due alerts of the outbox, each claimed before it is sent."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlite_utils

from notifications import outbox
from notifications.channels import SENDERS
from notifications.config import AlertSettings
from notifications.messages import build_message


@dataclass
class DispatchReport:
    """What one `notify` run did, by alert id."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # will be retried
    dead: list[int] = field(default_factory=list)  # gave up this run
    released: int = 0  # stale claims put back to pending
    waiting: int = 0  # pending alerts of channels that cannot send yet (slack)
    errors: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        """The report as `notify --json` prints it."""
        return {"sent": self.sent, "failed": self.failed, "dead": self.dead, "released": self.released,
                "waiting": self.waiting, "errors": {str(k): v for k, v in self.errors.items()}}


def dispatch(db: sqlite_utils.Database, channels: Mapping, settings: AlertSettings, *, retry_now: bool = False,
             environ: Mapping[str, str] | None = None,
             clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> DispatchReport:
    """Send every due pending alert (with `retry_now`, also those still backing off)."""
    environ = os.environ if environ is None else environ
    report = DispatchReport()
    report.released = outbox.release_stale(db, clock(), settings.lease, settings.max_attempts)
    sendable = {name for name, ch in channels.items() if ch.channel in SENDERS}
    for alert_id in outbox.due(db, clock(), sendable, retry_now):
        alert = outbox.claim(db, alert_id, clock())
        if alert is None:
            continue  # another dispatcher has it
        ch = channels[alert["channel"]]
        msg_id = outbox.message_id(alert["dedup_key"])
        try:
            message = build_message(db, alert["change_id"], alert["subscription"])
            SENDERS[ch.channel](ch, message, msg_id, environ)
        except Exception as exc:  # any failure of one send is recorded on its row, never fatal
            error = f"{type(exc).__name__}: {exc}"
            status = outbox.mark_failed(db, alert_id, error, clock(), max_attempts=settings.max_attempts,
                                        backoff=settings.backoff, max_backoff=settings.max_backoff)
            (report.dead if status == "dead" else report.failed).append(alert_id)
            report.errors[alert_id] = error
            continue
        outbox.mark_sent(db, alert_id, msg_id, clock())
        report.sent.append(alert_id)
    report.waiting = sum(1 for a in outbox.list_alerts(db, "pending") if a["channel"] not in sendable)
    return report
