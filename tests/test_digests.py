"""Digest subscriptions: a period's changes in one message, sent when the period ends, through
a real SMTP server (aiosmtpd), exactly once, with retries of the whole digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_alerts import PASSWORD, Inbox, _fetch, _free_port, _smtp
from test_obligations import ACT, _amend

from notifications.config import Digest
from notifications.dispatch import dispatch
from notifications.outbox import list_alerts
from notifications.schedule import next_digest_at, period_label
from store.db import open_db
from store.versions import record_fetch
from tracker.config import load_config
from tracker.pipeline import update_changes

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

T = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


def test_next_digest_at_daily_weekly_and_across_daylight_saving():
    daily = Digest(digest="daily", at="08:00")
    assert next_digest_at(daily, T) == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert next_digest_at(daily, T.replace(hour=7, minute=59)) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    # The period ends at its send time: a change at 08:00 exactly is in the next digest.
    assert next_digest_at(daily, T.replace(hour=8)) == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    weekly = Digest(digest="weekly", day="friday", at="17:30")
    assert next_digest_at(weekly, T) == datetime(2026, 11, 27, 17, 30, tzinfo=UTC)
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert next_digest_at(weekly, saturday) == datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
    assert next_digest_at(weekly, datetime(2026, 11, 27, 17, 30, tzinfo=UTC)) == datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
    # 08:00 in Brussels is 07:00 UTC in winter and 06:00 UTC after the switch of 29 March 2026.
    brussels = Digest(digest="daily", at="08:00", timezone="Europe/Brussels")
    before = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert next_digest_at(brussels, before) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert next_digest_at(brussels, datetime(2026, 3, 27, 6, 59, tzinfo=UTC)) == datetime(2026, 3, 27, 7, 0, tzinfo=UTC)
    assert period_label(brussels, datetime(2026, 3, 29, 6, 0, tzinfo=UTC)) == \
        "daily digest of 2026-03-29 08:00 (Europe/Brussels)"


V2 = _amend(ACT, "without undue delay", "within 48 hours")
V3 = _amend(V2, "possible systemic risks at Union level;", "possible systemic risks at Union level within 30 days;")
V4 = _amend(V3, "copyright and related rights;", "copyright and related rights, including Article 4(3) of Directive (EU) 2019/790;")


def _config(tmp_path, port: int):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "database: h.db\nalerts: {max_attempts: 5, backoff: 60}\nchannels:\n"
        f"  email: {{host: 127.0.0.1, port: {port}, security: none, username: alerts,\n"
        "          password_env: RW_TEST_SMTP_PASSWORD, from: regwatch@example.eu, to: [team@example.eu]}\n"
        "  weekly: {channel: email, to: [weekly@example.eu]}\n"
        "subscriptions:\n"
        "  - {name: now, channels: [email]}\n"
        "  - {name: daily, channels: [email], mode: {digest: daily, at: '08:00'}}\n"
        "  - {name: art55-weekly, channels: [weekly], obligations: [aia-55], mode: {digest: weekly, day: friday}}\n")
    return load_config(cfg)


def _queue(config, texts_at: list[tuple[str, datetime]]) -> None:
    db = open_db(config.database_path)
    try:
        for text, at in texts_at:
            record_fetch(db, _fetch(text))
            update_changes(db, subscriptions=config.subscriptions, now=at)
    finally:
        db.close()


def _send(config, at: datetime, **kw):
    db = open_db(config.database_path)
    try:
        return dispatch(db, config.channels, config.alerts, subscriptions=config.subscriptions,
                        environ={"RW_TEST_SMTP_PASSWORD": PASSWORD}, clock=lambda: at, **kw)
    finally:
        db.close()


def test_a_digest_sends_one_message_per_period_most_significant_first(tmp_path):
    port = _free_port()
    config = _config(tmp_path, port)
    # Period 1 (ends Tue 24 Nov 08:00): two changes; period 2 (ends Wed 25 Nov 08:00): one.
    _queue(config, [(ACT, T), (V2, T), (V3, T + timedelta(hours=3)), (V4, T + timedelta(days=1))])
    inbox = Inbox()
    ctl = _smtp(port, inbox)
    try:
        before_end = _send(config, datetime(2026, 11, 24, 7, 59, tzinfo=UTC))
        assert before_end.messages == 3  # the three immediate alerts, no digest yet
        assert all(m["To"] == "team@example.eu" and "digest" not in m["Subject"] for m in inbox.messages)
        first = _send(config, datetime(2026, 11, 24, 8, 0, 30, tzinfo=UTC))
        assert first.messages == 1 and len(first.sent) == 2
        digest = inbox.messages[-1]
        assert digest["To"] == "team@example.eu"
        assert "daily digest of 2026-11-24 08:00 (UTC): 2 change(s) in 1 document(s)" in digest["Subject"]
        text = digest.get_body(("plain",)).get_content()
        # Both changes of the period, the more significant first, each with its diff command.
        assert text.count("regwatch diff act") == 2
        assert "{+within 48 hours+}" in text and "within 30 days+}" in text
        order = [text.index("{+within 48 hours+}"), text.index("within 30 days+}")]
        db = open_db(config.database_path, readonly=True)
        s2, s3 = (db.execute("SELECT max_significance FROM changes WHERE to_version = ?", (v,)).fetchone()[0]
                  for v in (2, 3))
        db.close()
        assert (order[0] < order[1]) == (s2 >= s3)
        assert _send(config, datetime(2026, 11, 24, 9, 0, tzinfo=UTC)).messages == 0  # sent once
        # The weekly Article 55 digest: both Art. 55 changes, on Friday, to its own address.
        assert _send(config, datetime(2026, 11, 25, 8, 0, 1, tzinfo=UTC)).messages == 1  # daily of period 2
        friday = _send(config, datetime(2026, 11, 27, 8, 0, 1, tzinfo=UTC))
        assert friday.messages == 1 and len(friday.sent) == 2
        weekly = inbox.messages[-1]
        assert weekly["To"] == "weekly@example.eu" and "weekly digest" in weekly["Subject"]
        assert "aia-55" in weekly["Subject"] and "Directive" not in weekly.get_body(("plain",)).get_content()
        assert _send(config, datetime(2026, 12, 31, tzinfo=UTC)).messages == 0
    finally:
        ctl.stop()
    digests = [m for m in inbox.messages if "digest" in m["Subject"]]
    assert len(digests) == 3 and len({m["Message-ID"] for m in inbox.messages}) == len(inbox.messages) == 6
    rows = list_alerts(open_db(config.database_path, readonly=True))
    assert all(r["status"] == "sent" for r in rows)


def test_a_digest_survives_an_outage_as_one_message(tmp_path):
    port = _free_port()
    config = _config(tmp_path, port)
    _queue(config, [(ACT, T), (V2, T), (V3, T)])
    due = datetime(2026, 11, 24, 8, 1, tzinfo=UTC)
    down = _send(config, due)  # nothing listens on the port
    assert down.messages == 0 and len(down.failed) == 4  # 2 immediate + the digest's 2 alerts
    db = open_db(config.database_path, readonly=True)
    rows = [r for r in list_alerts(db) if r["subscription"] == "daily"]
    db.close()
    assert {(r["status"], r["attempts"]) for r in rows} == {("pending", 1)}
    assert len({r["next_attempt_at"] for r in rows}) == 1  # retried together
    inbox = Inbox()
    ctl = _smtp(port, inbox)
    try:
        assert _send(config, due + timedelta(seconds=10)).messages == 0  # still backing off
        up = _send(config, due + timedelta(seconds=10), retry_now=True)
        assert up.messages == 3 and len(up.sent) == 4
        assert _send(config, due + timedelta(days=1), retry_now=True).messages == 0
    finally:
        ctl.stop()
    assert sum("digest" in m["Subject"] for m in inbox.messages) == 1
    db = open_db(config.database_path, readonly=True)
    rows = [r for r in list_alerts(db) if r["subscription"] == "daily"]
    db.close()
    assert len({r["message_id"] for r in rows}) == 1 and all(r["status"] == "sent" for r in rows)
