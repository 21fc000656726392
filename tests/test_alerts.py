"""Alerts: config, routing, the outbox written with the change, and delivery through a real
SMTP server (aiosmtpd on 127.0.0.1) with retries, dead letters and crash recovery."""

from __future__ import annotations

import email
import json
import logging
import socket
import sqlite3
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from conftest import regwatch
from test_obligations import ACT, _amend

from notifications.config import Subscription
from notifications.routing import HunkFacts, route
from store.db import open_db
from store.records import FetchResult, Route, parse_text
from store.versions import record_fetch
from tracker.config import ConfigError, load_config, parse_config
from tracker.obligations.catalog import descendants, shipped_catalog
from tracker.pipeline import update_changes

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PASSWORD = "s3cret-Pw-7fq2"  # noqa: S105 - a test secret, looked for everywhere afterwards


# --- config ---------------------------------------------------------------------------------

def _cfg_text(port: int, *, subs: str | None = None, extra: str = "", alerts: str = "") -> str:
    """Config text: `extra` is more top-level YAML, `alerts` more keys of `alerts:`."""
    subs = subs or "  - {name: team, channels: [email]}\n"
    alerts = "max_attempts: 3, backoff: 60" + (", " + alerts if alerts else "")
    return (f"database: h.db\nalerts: {{{alerts}}}\n{extra}channels:\n"
            f"  email: {{host: 127.0.0.1, port: {port}, security: none, username: alerts,\n"
            f"          password_env: RW_TEST_SMTP_PASSWORD, from: regwatch@example.eu, to: [team@example.eu]}}\n"
            "  slack: {webhook_url_env: RW_TEST_SLACK}\n"
            "  ops: {channel: email, to: [ops@example.eu]}\n"
            f"subscriptions:\n{subs}")


def test_channels_and_subscriptions_are_validated():
    cfg = parse_config(_cfg_text(2525))
    assert cfg.channels["ops"].host == "127.0.0.1" and cfg.channels["ops"].to == ["ops@example.eu"]
    assert cfg.channels["slack"].channel == "slack"
    sub = cfg.subscriptions[0]
    assert (sub.min_class, sub.min_significance, sub.mode, sub.documents, sub.obligations) == (
        "substantive", 0.0, "immediate", None, None)

    def error(text: str) -> str:
        with pytest.raises(ConfigError) as exc:
            parse_config(text)
        return str(exc.value)

    msg = error(_cfg_text(2525, subs="  - {name: t, channels: [email, pager]}\n"))
    assert "unknown channel(s) pager" in msg
    digest = parse_config(_cfg_text(2525, subs="  - {name: t, channels: [email], mode: {digest: weekly, "
                                               "day: friday, at: '17:30', timezone: Europe/Brussels}}\n"))
    d = digest.subscriptions[0].digest
    assert (d.every, d.day, d.at, d.timezone) == ("weekly", "friday", "17:30", "Europe/Brussels")
    assert parse_config(_cfg_text(2525, subs="  - {name: t, channels: [email], mode: daily}\n")
                        ).subscriptions[0].digest.at == "08:00"
    short = parse_config(_cfg_text(2525, subs="  - {name: t, channels: [email], mode: {digest: weekly, day: Mon}}\n"))
    assert short.subscriptions[0].digest.day == "monday"
    assert short.alerts.operators == ["ops"]  # the channel named `ops`, by default
    assert parse_config(_cfg_text(2525, alerts="operators: []")).alerts.operators == []
    msg = error(_cfg_text(2525, subs="  - {name: t, channels: [email], mode: {digest: daily, at: '25:00'}}\n"))
    assert "mode" in msg and ":9:" in msg
    msg = error(_cfg_text(2525, subs="  - {name: t, channels: [email], mode: {digest: daily, day: friday}}\n"))
    assert "only for `digest: weekly`" in msg
    msg = error(_cfg_text(2525, subs="  - {name: t, channels: [email], mode: {digest: daily, timezone: Mars/Base}}\n"))
    assert "unknown time zone 'Mars/Base'" in msg
    msg = error(_cfg_text(2525, subs="  - {name: t, channels: [email], mode: hourly}\n"))
    assert "unknown mode 'hourly'" in msg
    msg = error(_cfg_text(2525, alerts="operators: [pager]"))
    assert "alerts.operators: unknown channel(s) pager" in msg
    msg = error(_cfg_text(2525, subs="  - {name: t, channels: [email], obligations: [aia-99]}\n"))
    assert "unknown obligation(s) aia-99" in msg
    msg = error(_cfg_text(2525, subs="  - {name: t, channels: [email], min_clas: editorial}\n"))
    assert "subscriptions[0].min_clas: unknown key" in msg
    msg = error("channels:\n  email: {host: h, from: a@b, to: [c@d], password: hunter2}\n")
    assert "password_env" in msg and ":2:" in msg
    msg = error("database: a.db\nchannels: {}\ndatabase: b.db\n")
    assert ":3: duplicate key 'database' (first at line 1)" in msg
    msg = error("channels:\n  pager: {host: h}\n")
    assert "channel: email" in msg
    msg = error("channels:\n  ops: {channel: email, to: [a@b]}\n")
    assert "missing host, from" in msg


# --- routing (pure) -------------------------------------------------------------------------

def test_routing_filters():
    catalog = shipped_catalog()

    def expand(oid):
        return descendants(catalog, oid)

    hunks = [HunkFacts("substantive", 0.6, frozenset({"aia-55-1-c"})), HunkFacts("editorial", 0.2, frozenset())]

    def routed(**kw) -> list:
        return route("act", hunks, [Subscription(name="s", channels=["email", "ops"], **kw)], expand)

    assert routed() == [Route("s", "email"), Route("s", "ops")]
    assert routed(documents=["other"]) == []
    assert routed(documents=["act"]) != []
    assert routed(obligations=["aia-55"]) != []  # a parent selects its descendants
    assert routed(obligations=["aia-55-1-c"]) != []
    assert routed(obligations=["aia-53"]) == []
    assert routed(min_significance=0.7) == []
    assert routed(min_significance=0.5) != []
    # One hunk must pass every filter: the editorial hunk is unlinked, the linked one is weak.
    weak = [HunkFacts("editorial", 0.2, frozenset({"aia-55-1-c"})), HunkFacts("substantive", 0.9, frozenset())]
    sub = Subscription(name="s", channels=["email"], obligations=["aia-55"])
    assert route("act", weak, [sub], expand) == []
    assert route("act", weak, [sub.model_copy(update={"min_class": "editorial"})], expand) == [Route("s", "email")]
    assert route("act", [], [Subscription(name="s", channels=["email"], min_class="cosmetic")]) == []


# --- the outbox, written with the change ----------------------------------------------------

def _fetch(text: str) -> FetchResult:
    return FetchResult(source="act", document="act", url="http://127.0.0.1/act",
                       started_at="2026-01-01T00:00:00+00:00", body=text.encode(), doc=parse_text(text),
                       content_type="text/html", extractor_version="1")


def _changed_db(cfg_path: Path, texts: list[str]) -> list[int]:
    """Record each text as a version of `act` and compute changes with the config's subscriptions."""
    cfg = load_config(cfg_path)
    db = open_db(cfg.database_path)
    ids = []
    for text in texts:
        record_fetch(db, _fetch(text))
        ids += update_changes(db, subscriptions=cfg.subscriptions)
    db.close()
    return ids


AMENDED = _amend(ACT, "without undue delay", "within 48 hours")
SUBS = ("  - {name: team, channels: [email, slack]}\n"
        "  - {name: art55, channels: [ops], obligations: [aia-55], min_significance: 0.1}\n"
        "  - {name: art53, channels: [ops], obligations: [aia-53]}\n"
        "  - {name: other-doc, channels: [email], documents: [nope]}\n")


def _alerts(cfg: Path) -> list[dict]:
    res = regwatch(cfg, "alerts", "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_alerts_are_written_with_the_change(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(_cfg_text(2525, subs=SUBS))
    assert _changed_db(cfg, [ACT, ACT]) == []  # one version only: no change, no alert
    assert _alerts(cfg) == []
    (change_id,) = _changed_db(cfg, [AMENDED])
    rows = _alerts(cfg)
    assert {(r["subscription"], r["channel"]) for r in rows} == {("team", "email"), ("team", "slack"),
                                                                  ("art55", "ops")}
    assert all(r["change_id"] == change_id and r["status"] == "pending" and r["attempts"] == 0
               and r["last_error"] is None for r in rows)
    assert {"id", "change_id", "subscription", "channel", "status", "attempts", "last_error"} <= set(rows[0])
    # Recomputing the change (as reprocess does) queues nothing new; alerts follow the new row.
    db = open_db(tmp_path / "h.db")
    from store.changes import delete_changes

    delete_changes(db)
    (new_id,) = update_changes(db, subscriptions=load_config(cfg).subscriptions)
    db.close()
    assert [r["change_id"] for r in _alerts(cfg)] == [new_id] * 3


def test_a_failed_change_write_writes_no_alert(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(_cfg_text(2525))
    db = open_db(tmp_path / "h.db")
    record_fetch(db, _fetch(ACT))
    record_fetch(db, _fetch(AMENDED))
    from store import changes as store_changes
    from tracker.diff import ENGINE_VERSION, diff_texts

    change = diff_texts(ACT, AMENDED)
    # The same transaction: an alert that cannot be written takes the change down with it.
    with pytest.raises(sqlite3.Error):
        store_changes.save_change(db, "act", 1, 2, change, ENGINE_VERSION, alerts=[Route("team", ["not a name"])])
    assert db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == 0
    db.close()


# --- delivery -------------------------------------------------------------------------------

class Inbox:
    """An aiosmtpd handler keeping every message; `refuse` makes it reject recipients."""

    def __init__(self, refuse: bool = False) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=auth_data.login == b"alerts" and auth_data.password == PASSWORD.encode())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _smtp(port: int, inbox: Inbox) -> Controller:
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticator,
                     auth_require_tls=False, auth_required=True)
    ctl.start()
    return ctl


@pytest.fixture
def queued(tmp_path, monkeypatch, slack_hook):
    """A config whose SMTP port nothing listens on yet, its Slack webhook a local receiver
    (`slack_hook`) that accepts, and a change with its alerts queued."""
    monkeypatch.setenv("RW_TEST_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("RW_TEST_SLACK", slack_hook.url())
    port = _free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(_cfg_text(port, subs=SUBS))
    _changed_db(cfg, [ACT, AMENDED])
    return cfg, port


def test_smtp_down_then_up_delivers_every_alert_once(queued, slack_hook, caplog):
    cfg, port = queued
    caplog.set_level(logging.DEBUG)
    res = regwatch(cfg, "notify", "--json")
    assert res.exit_code == 3
    report = json.loads(res.stdout)
    # SMTP is down; Slack, another channel, is not held up by it.
    (slack_id,) = [r["id"] for r in _alerts(cfg) if r["channel"] == "slack"]
    assert report["sent"] == [slack_id] and len(report["failed"]) == 2 and report["waiting"] == 0
    assert len(slack_hook.requests) == 1
    rows = {r["id"]: r for r in _alerts(cfg)}
    assert all(rows[i]["attempts"] == 1 and "Connection" in rows[i]["last_error"] for i in report["failed"])
    inbox = Inbox()
    ctl = _smtp(port, inbox)
    try:
        # Still backing off: a plain notify sends nothing; --retry-now does.
        assert json.loads(regwatch(cfg, "notify", "--json").stdout)["sent"] == []
        res = regwatch(cfg, "notify", "--retry-now")
        assert res.exit_code == 0 and res.stdout.startswith("2 sent, 0 failed"), res.output
        again = regwatch(cfg, "notify", "--retry-now", "--json")
        assert again.exit_code == 0 and json.loads(again.stdout)["sent"] == []
    finally:
        ctl.stop()
    assert sorted(m["To"] for m in inbox.messages) == ["ops@example.eu", "team@example.eu"]
    assert len({m["Message-ID"] for m in inbox.messages}) == 2
    rows = [r for r in _alerts(cfg) if r["channel"] != "slack"]
    assert all(r["status"] == "sent" and r["attempts"] == 2 and r["message_id"] for r in rows)
    msg = inbox.messages[0]
    assert "act: v1 → v2: 1 substantive change(s)" in msg["Subject"] and "aia-55-1-c" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    assert "{+within 48 hours+}" in text and "[-without undue delay-]" in text
    assert "regwatch diff act 1 2" in text and "aia-55-1-c" in text
    html = msg.get_body(("html",)).get_content()
    assert "<ins" in html and "within 48 hours" in html
    # The password: used for AUTH, never stored, printed or logged.
    for path in cfg.parent.iterdir():
        assert PASSWORD.encode() not in path.read_bytes(), path
    assert PASSWORD not in caplog.text and PASSWORD not in res.output + again.output


def test_permanent_failure_is_dead_after_max_attempts(queued):
    cfg, port = queued
    ctl = _smtp(port, Inbox(refuse=True))
    try:
        codes = [regwatch(cfg, "notify", "--retry-now").exit_code for _ in range(4)]
    finally:
        ctl.stop()
    assert codes == [3, 3, 3, 0]  # max_attempts: 3, then nothing left to try
    dead = json.loads(regwatch(cfg, "alerts", "--json", "--status", "dead").stdout)
    assert len(dead) == 2 and all(r["attempts"] == 3 and "550" in r["last_error"] for r in dead)


def test_missing_secret_is_a_recorded_failure(queued, monkeypatch):
    cfg, _port = queued
    monkeypatch.delenv("RW_TEST_SMTP_PASSWORD")
    res = regwatch(cfg, "notify")
    assert res.exit_code == 3 and "RW_TEST_SMTP_PASSWORD is not set" in res.output


def test_a_crash_after_sending_resends_with_the_same_message_id(queued):
    cfg, port = queued
    inbox = Inbox()
    ctl = _smtp(port, inbox)
    try:
        assert regwatch(cfg, "notify").exit_code == 0
        first = {m["To"]: m["Message-ID"] for m in inbox.messages}
        # A dispatcher delivered then died before recording it: `sending`, claimed long ago.
        db = open_db(cfg.parent / "h.db")
        db.execute("UPDATE alerts SET status = 'sending', claimed_at = '2000-01-01T00:00:00+00:00', sent_at = NULL "
                   "WHERE channel = 'ops'")
        # A fresh claim (inside the lease) is left alone.
        db.execute("UPDATE alerts SET status = 'sending', claimed_at = '2999-01-01T00:00:00+00:00' "
                   "WHERE channel = 'email'")
        db.close()
        res = regwatch(cfg, "notify", "--json")
    finally:
        ctl.stop()
    assert json.loads(res.stdout)["released"] == 1
    assert len(inbox.messages) == 3
    assert inbox.messages[-1]["To"] == "ops@example.eu" and inbox.messages[-1]["Message-ID"] == first["ops@example.eu"]
    statuses = {r["channel"]: r["status"] for r in _alerts(cfg)}
    assert statuses == {"ops": "sent", "email": "sending", "slack": "sent"}


def test_a_send_that_keeps_killing_the_dispatcher_ends_dead(queued):
    """Each interrupted send counts as an attempt, so a poison message is not re-released
    after every lease forever."""
    cfg, port = queued
    db = open_db(cfg.parent / "h.db")
    db.execute("UPDATE alerts SET status = 'sending', claimed_at = '2000-01-01T00:00:00+00:00', attempts = 2 "
               "WHERE channel = 'ops'")
    db.close()
    inbox = Inbox()
    ctl = _smtp(port, inbox)
    try:
        regwatch(cfg, "notify")
    finally:
        ctl.stop()
    ops = next(r for r in _alerts(cfg) if r["channel"] == "ops")
    assert ops["status"] == "dead" and ops["attempts"] == 3 and "stopped while sending" in ops["last_error"]
    assert all(m["To"] != "ops@example.eu" for m in inbox.messages)


def test_crawl_queues_and_notify_sends(tmp_path, monkeypatch):
    """End to end: two real crawls of a local site queue the alert, `notify` delivers it."""
    from test_obligations import _html

    from tracker.demo.server import LocalSite

    monkeypatch.setenv("RW_TEST_SMTP_PASSWORD", PASSWORD)
    port = _free_port()
    cfg = tmp_path / "config.yaml"
    inbox = Inbox()
    ctl = _smtp(port, inbox)
    try:
        with LocalSite() as site:
            site.set("/act", "<html><body><main>" + _html(ACT) + "</main></body></html>")
            cfg.write_text(_cfg_text(port, subs="  - {name: art55, channels: [email], obligations: [aia-55]}\n",
                                     extra="defaults: {delay: 0, timeout: 3, retries: 0}\n"
                                           f"sources:\n  - {{name: act, url: '{site.url('/act')}'}}\n"))
            assert regwatch(cfg, "crawl").exit_code == 0
            assert _alerts(cfg) == []
            site.set("/act", "<html><body><main>" + _html(AMENDED) + "</main></body></html>")
            assert regwatch(cfg, "crawl").exit_code == 0
        assert [(r["subscription"], r["status"]) for r in _alerts(cfg)] == [("art55", "pending")]
        assert regwatch(cfg, "notify").exit_code == 0
    finally:
        ctl.stop()
    assert len(inbox.messages) == 1 and "aia-55-1-c" in inbox.messages[0]["Subject"]
    assert [r["status"] for r in _alerts(cfg)] == ["sent"]


def test_demo_sends_its_alerts_through_configured_channels(tmp_path, monkeypatch):
    monkeypatch.setenv("RW_TEST_SMTP_PASSWORD", PASSWORD)
    port = _free_port()
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(_cfg_text(port).replace("  slack: {webhook_url_env: RW_TEST_SLACK}\n", ""))
    inbox = Inbox()
    ctl = _smtp(port, inbox)
    try:
        res = regwatch(cfg, "demo", "--dir", str(tmp_path / "demo"))
    finally:
        ctl.stop()
    assert res.exit_code == 0, res.output
    previews = res.output.count("Subject: [regwatch]")
    # Every previewed alert went to both channels (email and ops), once.
    assert previews >= 2 and len(inbox.messages) == 2 * previews
    assert f"Alerts sent through email, ops: {2 * previews} message(s), 0 failed" in res.output
    assert sorted({m["To"] for m in inbox.messages}) == ["ops@example.eu", "team@example.eu"]
    assert PASSWORD not in (tmp_path / "demo" / "config.yaml").read_text()
    sent = json.loads(regwatch(tmp_path / "demo" / "config.yaml", "alerts", "--json").stdout)
    assert len(sent) == 2 * previews and all(r["status"] == "sent" for r in sent)


def test_a_change_is_computed_once_and_a_new_subscription_gets_no_old_alerts(tmp_path):
    """Regression: pending_pairs compared the change's own id with the version id, so every
    crawl recomputed every change and a subscription added later was sent all old changes."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(_cfg_text(2525, subs="  - {name: team, channels: [email]}\n"))
    v3 = _amend(AMENDED, "assess and mitigate", "assess, document and mitigate")
    first = _changed_db(cfg, [ACT, AMENDED, v3])
    assert len(first) == 2
    db = open_db(tmp_path / "h.db")
    assert update_changes(db, subscriptions=load_config(cfg).subscriptions) == []  # nothing left to compute
    ids = [r[0] for r in db.execute("SELECT id FROM changes ORDER BY id")]
    db.close()
    assert ids == first  # not rewritten
    cfg.write_text(_cfg_text(2525, subs="  - {name: team, channels: [email]}\n  - {name: late, channels: [ops]}\n"))
    v4 = _amend(v3, "at Union level;", "at Union level within 30 days;")
    assert len(_changed_db(cfg, [v4])) == 1
    late = [r for r in _alerts(cfg) if r["subscription"] == "late"]
    assert len(late) == 1  # only the change after it was added
