"""`regwatch run`: schedules, due sources, the one-daemon lock, and a real daemon process on a
short schedule against a local site, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import regwatch

from store.db import open_db
from store.lock import DaemonLock, LockedError
from tracker.config import load_config
from tracker.scheduler import due_sources, is_due, jobs_of, misfire_grace, trigger_of

REGWATCH = str(Path(sys.executable).parent / "regwatch")
SAT = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def test_cron_days_of_week_mean_what_cron_means():
    weekdays = trigger_of("0 7 * * 1-5", jitter=False)
    assert weekdays.get_next_fire_time(None, SAT) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday
    sunday = trigger_of("30 6 * * 0", jitter=False)
    assert sunday.get_next_fire_time(None, SAT) == datetime(2026, 11, 22, 6, 30, tzinfo=UTC)
    assert trigger_of("30 6 * * 7", jitter=False).get_next_fire_time(None, SAT) == datetime(2026, 11, 22, 6, 30, tzinfo=UTC)


def test_due_and_grace():
    assert is_due("every 1h", None, SAT)
    assert not is_due("every 1h", SAT - timedelta(minutes=30), SAT)
    assert is_due("every 1h", SAT - timedelta(minutes=59, seconds=30), SAT)  # a little early counts
    assert is_due("0 7 * * *", SAT - timedelta(hours=2), SAT)  # 07:00 passed since 06:00
    assert not is_due("0 7 * * *", SAT - timedelta(minutes=30), SAT)  # ran at 07:30, next at 07:00 tomorrow
    assert misfire_grace("every 1h") == 1800
    assert misfire_grace("every 1d") == 6 * 3600
    assert misfire_grace("every 10s") == 60
    assert misfire_grace("15 * * * *") == 1800


PAGE = "<html><body><main><h1>Code</h1><h2>Measure 1.1</h2><p>Providers {duty} keep documentation.</p></main></body></html>"


def _config(tmp_path: Path, site, schedules: dict[str, str], extra: str = "") -> Path:
    cfg = tmp_path / "config.yaml"
    sources = "".join(f"  - {{name: {name}, url: '{site.url('/' + name)}', schedule: '{sch}'}}\n"
                      for name, sch in schedules.items())
    cfg.write_text(f"database: h.db\ndefaults: {{delay: 0, retries: 0, timeout: 5}}\nsources:\n{sources}{extra}")
    for name in schedules:
        site.set("/" + name, PAGE.format(duty="should"))
    return cfg


def test_once_crawls_only_what_is_due(tmp_path, site):
    cfg = _config(tmp_path, site, {"hourly": "every 1h", "daily": "0 6 * * *"})
    assert [j.sources for j in jobs_of(load_config(cfg))] == [["hourly"], ["daily"]]
    assert regwatch(cfg, "run", "--once").exit_code == 0
    db = open_db(tmp_path / "h.db")
    assert sorted(r[0] for r in db.execute("SELECT source FROM fetches")) == ["daily", "hourly"]
    assert due_sources(load_config(cfg)) == []
    assert regwatch(cfg, "run", "--once").exit_code == 0
    assert db.execute("SELECT COUNT(*) FROM fetches").fetchone()[0] == 2  # nothing was due
    past = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    db.execute("UPDATE fetches SET started_at = ? WHERE source = 'hourly'", (past,))
    db.conn.commit()
    assert due_sources(load_config(cfg)) == ["hourly"]
    assert regwatch(cfg, "run", "--once").exit_code == 0
    assert sorted(r[0] for r in db.execute("SELECT source FROM fetches")) == ["daily", "hourly", "hourly"]
    db.close()


def test_a_second_daemon_refuses_to_start(tmp_path, site):
    cfg = _config(tmp_path, site, {"page": "every 1h"})
    with DaemonLock(tmp_path / "h.db"):
        res = regwatch(cfg, "run", "--once")
        assert res.exit_code == 2
        assert f"another `regwatch run` (pid {os.getpid()}) is already using" in res.output
        with pytest.raises(LockedError):
            DaemonLock(tmp_path / "h.db").acquire()
    assert regwatch(cfg, "run", "--once").exit_code == 0  # free again


def _wait(predicate, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _count(db_path: Path, sql: str) -> int:
    if not db_path.exists():
        return 0
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # schema not created yet
    finally:
        conn.close()


def test_the_daemon_crawls_on_schedule_and_stops_cleanly_on_sigterm(tmp_path, site):
    cfg = _config(tmp_path, site, {"fast": "every 2s", "slow": "every 1d"})
    db_path = tmp_path / "h.db"
    log = (tmp_path / "daemon.log").open("w")
    proc = subprocess.Popen([REGWATCH, "--config", str(cfg), "run"], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _count(db_path, "SELECT COUNT(*) FROM versions") == 2, what="first versions")
        site.set("/fast", PAGE.format(duty="shall"))
        _wait(lambda: _count(db_path, "SELECT COUNT(*) FROM changes") == 1, what="the change")
        # Analysts query while the daemon crawls and writes: neither side sees "locked".
        seen = set()
        deadline = time.monotonic() + 60
        while len(seen) < 2 and time.monotonic() < deadline:
            res = regwatch(cfg, "query", "SELECT COUNT(*) AS n FROM fetches WHERE source = 'fast'", "--json")
            assert res.exit_code == 0, res.output
            seen.add(json.loads(res.stdout)[0]["n"])
        assert len(seen) >= 2, "the counts should grow while querying"
        _wait(lambda: _count(db_path, "SELECT COUNT(*) FROM fetches WHERE source = 'fast'") >= 4,
              what="more scheduled crawls")
        # A second daemon on the same database refuses while this one runs.
        second = subprocess.run([REGWATCH, "--config", str(cfg), "run", "--once"], capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 2 and "already using" in second.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    text = (tmp_path / "daemon.log").read_text()
    assert "crawl every 2s done" in text and "1 change(s) stored: fast (1 substantive of 1)" in text
    assert "SIGTERM: finishing the current step" in text and text.rstrip().endswith("stopped")
    assert "locked" not in text and "ERROR" not in text
    assert _count(db_path, "SELECT COUNT(*) FROM fetches WHERE source = 'slow'") == 1  # daily: once
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    hist = json.loads(regwatch(cfg, "history", "fast", "--json").stdout)
    assert len(hist) == 2
