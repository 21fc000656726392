"""Tracking failures: a source whose fetches keep failing, or whose selector stops matching,
sends one alert to the operators' channel, and one when it recovers (real crawls of a local
site, real SMTP)."""

from __future__ import annotations

import json

import pytest
from conftest import regwatch
from test_alerts import PASSWORD, Inbox, _free_port, _smtp

from store.db import open_db
from store.records import FetchResult
from store.tracking import failure_run
from store.versions import record_fetch
from tracker.health import is_failing

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PAGE = "<html><body><main><h1>Code</h1><p>Providers shall keep documentation {n}.</p></main></body></html>"
LISTING = ('<html><body><nav><a href="/about">About</a></nav><div id="pubs">'
           '<a href="/pub/one.html">One</a></div></body></html>')
REDESIGNED = '<html><body><section class="cards"><a href="/pub/one.html">One</a></section></body></html>'


def _failed(kind: str = "http") -> FetchResult:
    return FetchResult(source="s", document="s", url="http://127.0.0.1/s", started_at="2026-01-01T00:00:00+00:00",
                       error=f"boom {kind}", error_kind=kind)


def _ok() -> FetchResult:
    return FetchResult(source="s", document="s", url="http://127.0.0.1/s", started_at="2026-01-01T00:00:00+00:00",
                       not_modified=True, http_status=304)


def test_failure_runs_from_the_fetch_log(tmp_path):
    db = open_db(tmp_path / "h.db")
    assert failure_run(db, "s", "http://127.0.0.1/s") is None  # never fetched: no opinion
    record_fetch(db, _failed("timeout"))
    record_fetch(db, _failed("http"))
    run = failure_run(db, "s", "http://127.0.0.1/s")
    assert (run.failures, run.selector_missed, run.last_error_kind) == (2, False, "http")
    assert not is_failing(run, 3) and is_failing(run, 2)
    record_fetch(db, _ok())  # a 304 is a success: the run ends
    run = failure_run(db, "s", "http://127.0.0.1/s")
    assert run.failures == 0 and not is_failing(run, 1)
    record_fetch(db, _failed("selector"))
    record_fetch(db, _failed("timeout"))
    run = failure_run(db, "s", "http://127.0.0.1/s")
    # A selector miss anywhere in the run keeps it failing, whatever the threshold.
    assert run.selector_missed and is_failing(run, 100)
    assert failure_run(db, "s", "http://127.0.0.1/other") is None
    db.close()


def test_operators_hear_once_of_each_failure_and_recovery(tmp_path, site, monkeypatch):
    monkeypatch.setenv("RW_TEST_SMTP_PASSWORD", PASSWORD)
    port = _free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "database: h.db\n"
        "defaults: {delay: 0, retries: 0, timeout: 5}\n"
        f"sources:\n  - {{name: code, url: '{site.url('/code.html')}', selector: main}}\n"
        f"  - {{name: news, url: '{site.url('/news.html')}', follow: ['{site.base}/pub/*'], follow_selector: '#pubs'}}\n"
        f"channels:\n  email: {{host: 127.0.0.1, port: {port}, security: none, username: alerts,\n"
        "          password_env: RW_TEST_SMTP_PASSWORD, from: regwatch@example.eu, to: [team@example.eu]}\n"
        "  ops: {channel: email, to: [ops@example.eu]}\n"
        "alerts: {failure_threshold: 2}\n")  # the channel named `ops` is the operators' by default
    site.set("/robots.txt", "", content_type="text/plain")
    site.set("/code.html", PAGE.format(n=1))
    site.set("/news.html", LISTING)
    site.set("/pub/one.html", PAGE.format(n="one"))

    def crawl() -> list[dict]:
        res = regwatch(cfg, "crawl", "--json")
        return json.loads(res.stdout)["tracking"]

    assert crawl() == []  # all well
    site.set("/code.html", "down", status=500)
    site.set("/news.html", REDESIGNED)
    # The listing's follow_selector matches nothing: a tracking failure at once. The page's
    # first 500 is below the threshold of 2.
    assert crawl() == [{"source": "news", "event": "tracking-failure", "alerts": 1}]
    assert crawl() == [{"source": "code", "event": "tracking-failure", "alerts": 1}]
    assert crawl() == []  # still failing: nothing more
    listed = {r["name"]: r["tracking"] for r in json.loads(regwatch(cfg, "sources", "--json").stdout)}
    assert listed["code"]["state"] == "failing" and listed["code"]["failures"] == 3
    assert listed["news"]["state"] == "failing" and "#pubs" in listed["news"]["last_error"]
    site.set("/code.html", PAGE.format(n=2))
    site.set("/news.html", LISTING)
    assert sorted(t["source"] + ":" + t["event"] for t in crawl()) == [
        "code:tracking-recovered", "news:tracking-recovered"]
    assert crawl() == []
    inbox = Inbox()
    ctl = _smtp(port, inbox)
    try:
        res = regwatch(cfg, "notify", "--json")
    finally:
        ctl.stop()
    assert res.exit_code == 0, res.output
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert all(m["To"] == "ops@example.eu" for m in inbox.messages)
    assert subjects == [
        "[regwatch] tracking failure: code: 2 fetch(es) in a row failed",
        "[regwatch] tracking failure: news: its selector matched nothing",
        "[regwatch] tracking recovered: code",
        "[regwatch] tracking recovered: news",
    ]
    failure = next(m for m in inbox.messages if m["Subject"].endswith("2 fetch(es) in a row failed"))
    body = failure.get_body(("plain",)).get_content()
    assert site.url("/code.html") in body and "500" in body
    news = next(m for m in inbox.messages if "news: its selector" in m["Subject"])
    assert "'#pubs' matched nothing" in news.get_body(("plain",)).get_content()
    # The page's new version after the recovery is a change like any other, not a deletion.
    db = open_db(tmp_path / "h.db", readonly=True)
    assert db.execute("SELECT state FROM tracking ORDER BY source").fetchall() == [("ok",), ("ok",)]
    assert db.execute("SELECT COUNT(*) FROM versions WHERE document = 'code'").fetchone()[0] == 2
    db.close()
