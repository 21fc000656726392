"""Crash recovery with real processes: the daemon killed with SIGKILL during a crawl, after
some changes are stored, and between delivering an alert and recording it; restarted each
time. The database stays consistent, nothing is missing or duplicated, every alert arrives
(the one sent at the worst moment twice, with one Message-ID, as docs/alerts.md says)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from test_alerts import PASSWORD, Inbox, _free_port, _smtp
from test_daemon import REGWATCH, _wait

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

DOCS = ["a", "b", "c", "d"]
PAGE = ("<html><body><main><h1>Code {doc}</h1><h2>Measure 1.1. Records</h2>"
        "<p>Providers {duty} keep records of serious incidents for {days} days.</p></main></body></html>")


def _q(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet
    finally:
        conn.close()


def _start(cfg: Path, log: Path, crash: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "RW_TEST_SMTP_PASSWORD": PASSWORD}
    env.pop("REGWATCH_CRASHPOINT", None)
    if crash:
        env["REGWATCH_CRASHPOINT"] = crash
    with log.open("a") as out:
        return subprocess.Popen([REGWATCH, "--config", str(cfg), "run"], stdout=out, stderr=subprocess.STDOUT,
                                env=env)


def _crawlers_of(pid: int) -> list[int]:
    """Crawl subprocesses started by daemon `pid` that are still alive."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes()
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"crawler.process" in cmd and f"REGWATCH_PARENT_PID={pid}".encode() in env:
            stat = (entry / "stat").read_text().split()
            if stat[2] != "Z":
                found.append(int(entry.name))
    return found


def test_sigkill_at_every_step_then_restart_loses_and_duplicates_nothing(tmp_path, site):
    port = _free_port()
    db = tmp_path / "h.db"
    log = tmp_path / "daemon.log"
    cfg = tmp_path / "config.yaml"
    sources = "".join(f"  - {{name: {d}, url: '{site.url('/' + d)}'}}\n" for d in DOCS)
    cfg.write_text(
        "database: h.db\ndefaults: {schedule: every 2s, delay: 0, retries: 0, timeout: 20}\n"
        f"sources:\n{sources}"
        f"channels:\n  email: {{host: 127.0.0.1, port: {port}, security: none, username: alerts,\n"
        "          password_env: RW_TEST_SMTP_PASSWORD, from: regwatch@example.eu, to: [team@example.eu]}\n"
        "subscriptions:\n  - {name: team, channels: [email]}\n"
        "alerts: {lease: 1, backoff: 0}\n")
    for d in DOCS:
        site.set("/" + d, PAGE.format(doc=d, duty="should", days=30))
    site.set("/d", PAGE.format(doc="d", duty="should", days=30), delay=6)  # slow: a crawl in flight
    inbox = Inbox()
    ctl = _smtp(port, inbox)
    try:
        # 1. Killed during a crawl (one page still downloading), then a clean run stores all.
        proc = _start(cfg, log)
        _wait(lambda: bool(_crawlers_of(proc.pid)), what="a crawl in flight")
        time.sleep(2)  # into the crawl; the slow page takes 6 s
        assert _crawlers_of(proc.pid), "the crawl subprocess should be running"
        proc.kill()
        proc.wait(timeout=10)
        _wait(lambda: not _crawlers_of(proc.pid), timeout=2, what="the orphaned crawl to die with its daemon")
        assert len(_q(db, "SELECT id FROM versions")) < len(DOCS)
        site.set("/d", PAGE.format(doc="d", duty="should", days=30))
        proc = _start(cfg, log)
        _wait(lambda: len(_q(db, "SELECT id FROM versions")) == len(DOCS), what="every first version")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0

        # 2. Every page changes; killed right after the second change is stored.
        for d in DOCS:
            site.set("/" + d, PAGE.format(doc=d, duty="shall", days=10))
        proc = _start(cfg, log, crash="change-stored:2")
        assert proc.wait(timeout=90) == -signal.SIGKILL
        assert len(_q(db, "SELECT id FROM changes")) == 2

        # 3. Killed after the SMTP server accepted the first alert, before it is marked sent.
        proc = _start(cfg, log, crash="alert-delivered:1")
        assert proc.wait(timeout=90) == -signal.SIGKILL
        assert len(inbox.messages) == 1
        assert [r[0] for r in _q(db, "SELECT status FROM alerts WHERE status != 'pending'")] == ["sending"]

        # 4. A clean run completes everything, then SIGTERM.
        time.sleep(1.2)  # the lease of the interrupted send runs out
        proc = _start(cfg, log)
        _wait(lambda: _q(db, "SELECT COUNT(*) FROM alerts WHERE status = 'sent'")[0][0] == len(DOCS),
              timeout=60, what="every alert sent")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        ctl.stop()
    assert _q(db, "PRAGMA integrity_check") == [("ok",)]
    assert _q(db, "PRAGMA foreign_key_check") == []
    # Two versions of each page, each once; one change per page, from the first to the second.
    versions = Counter(r[0] for r in _q(db, "SELECT document FROM versions"))
    assert versions == dict.fromkeys(DOCS, 2)
    changes = _q(db, "SELECT c.document, pv.number, nv.number FROM changes c JOIN versions pv ON pv.id = c.from_version "
                     "JOIN versions nv ON nv.id = c.to_version ORDER BY c.document")
    assert changes == [(d, 1, 2) for d in DOCS]
    # One alert per change, every one delivered; the one interrupted at the worst moment was
    # delivered twice with the same Message-ID, any other message once.
    alerts = _q(db, "SELECT change_id, status, message_id FROM alerts")
    assert len(alerts) == len(DOCS) and {a[1] for a in alerts} == {"sent"}
    received = Counter(m["Message-ID"] for m in inbox.messages)
    assert set(received) == {a[2] for a in alerts}
    assert sorted(received.values()) == [1] * (len(DOCS) - 1) + [2]
    text = log.read_text()
    # The restart after the kill in step 2 completed the two changes not yet stored.
    assert "recovered: 2 change(s) of versions stored before an interruption" in text
    assert text.rstrip().endswith("stopped")


def test_a_long_run_through_outages_keeps_exactly_what_was_served(tmp_path, site):
    """The daemon against pages that change, vanish (404), break (500), hang (timeout) and come
    back: versions and changes are what was served, no failure becomes a deletion, and the
    operators hear of each outage once and of each recovery once."""
    port = _free_port()
    db = tmp_path / "h.db"
    log = tmp_path / "daemon.log"
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "database: h.db\ndefaults: {schedule: every 1s, delay: 0, retries: 0, timeout: 1}\n"
        "sources:\n" + "".join(f"  - {{name: {d}, url: '{site.url('/' + d)}'}}\n" for d in "abc") +
        f"channels:\n  ops: {{channel: email, host: 127.0.0.1, port: {port}, security: none, username: alerts,\n"
        "        password_env: RW_TEST_SMTP_PASSWORD, from: regwatch@example.eu, to: [ops@example.eu]}\n"
        "alerts: {failure_threshold: 2, backoff: 0}\n")

    def serve(doc: str, duty: str, **kw) -> None:
        site.set("/" + doc, PAGE.format(doc=doc, duty=duty, days=30), **kw)

    def crawls(n: int) -> None:
        start = _q(db, "SELECT COUNT(*) FROM fetches WHERE source = 'a'")
        start = start[0][0] if start else 0
        _wait(lambda: (_q(db, "SELECT COUNT(*) FROM fetches WHERE source = 'a'") or [(0,)])[0][0] >= start + n,
              timeout=60, what=f"{n} more crawls")

    for d in "abc":
        serve(d, "should")
    inbox = Inbox()
    ctl = _smtp(port, inbox)
    proc = _start(cfg, log)
    try:
        crawls(2)
        serve("a", "shall")                        # a changes
        site.set("/b", "gone", status=404)          # b disappears
        site.set("/c", "broken", status=500)        # c breaks
        crawls(3)
        serve("b", "should", delay=3)               # b hangs past the timeout
        crawls(2)
        serve("b", "should")                        # b is back, unchanged
        serve("c", "must")                          # c is back, changed
        crawls(3)
        _wait(lambda: len(inbox.messages) >= 4, timeout=30, what="the operators' alerts")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        ctl.stop()
    assert _q(db, "PRAGMA integrity_check") == [("ok",)]
    # What was served, and nothing else: a 404, a 500 or a timeout stores no version.
    versions = _q(db, "SELECT document, number FROM versions ORDER BY document, number")
    assert versions == [("a", 1), ("a", 2), ("b", 1), ("c", 1), ("c", 2)]
    texts = {d: t for d, t in _q(db, "SELECT document, text FROM latest_texts")}
    assert "shall keep" in texts["a"] and "should keep" in texts["b"] and "must keep" in texts["c"]
    # Changes: only a's and c's real edits; no hunk says anything was removed.
    changes = _q(db, "SELECT document FROM changes ORDER BY document")
    assert changes == [("a",), ("c",)]
    assert _q(db, "SELECT COUNT(*) FROM hunks WHERE kind = 'removed'") == [(0,)]
    failed = dict(_q(db, "SELECT source, COUNT(*) FROM fetches WHERE outcome = 'failed' GROUP BY source"))
    assert failed.get("a") is None and failed["b"] >= 4 and failed["c"] >= 5
    kinds = {r[0] for r in _q(db, "SELECT error_kind FROM fetches WHERE source = 'b' AND outcome = 'failed'")}
    assert kinds == {"http", "timeout"}
    # The operators: one failure and one recovery per broken source, nothing for a.
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert subjects == ["[regwatch] tracking failure: b: 2 fetch(es) in a row failed",
                        "[regwatch] tracking failure: c: 2 fetch(es) in a row failed",
                        "[regwatch] tracking recovered: b", "[regwatch] tracking recovered: c"]
    assert _q(db, "SELECT source, state FROM tracking ORDER BY source") == [("a", "ok"), ("b", "ok"), ("c", "ok")]
