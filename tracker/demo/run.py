"""`regwatch demo`: the whole pipeline, offline, on sample publications served from 127.0.0.1.

The sample data (tracker/demo/data/) is a fictional code of practice written for this
project, in a first and a revised version, as HTML and as PDF, plus a news listing page
whose second version links to one more publication.
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlite_utils
import yaml
from rich.console import Console
from rich.table import Table

from notifications.config import Subscription
from notifications.messages import Message, build_message
from notifications.routing import HunkFacts, matches
from store.changes import change_hunks
from store.db import open_db
from store.queries import documents
from store.versions import history
from tracker.config import Config, load_config
from tracker.demo.server import LocalSite
from tracker.obligations.catalog import descendants, shipped_catalog

DATA = Path(__file__).parent / "data"

CONFIG = """\
# Written by `regwatch demo`: sources on a local server that serves the sample publications.
database: demo.db
defaults:
  schedule: every 1h
  delay: 0
  timeout: 10
  retries: 1
  backoff: 0.2
sources:
  - name: demo-code
    url: {base}/code.html
    label: null
    selector: main
  - name: demo-code-pdf
    url: {base}/code.pdf
  - name: demo-news
    url: {base}/news.html
    follow: ["{base}/publications/*"]
"""

STAGES = [("v1", "First draft"), ("v2", "Final")]


def publish(site: LocalSite, stage: str) -> None:
    """Serve the files of one stage (v1 or v2) of the sample data, replacing the previous ones."""
    for path in list(site.routes):
        if path != "/robots.txt":
            site.remove(path)
    site.set("/robots.txt", (DATA / "robots.txt").read_bytes(), content_type="text/plain")
    root = DATA / stage
    for file in sorted(root.rglob("*")):
        if file.is_file():
            ctype = "application/pdf" if file.suffix == ".pdf" else "text/html; charset=utf-8"
            site.set("/" + file.relative_to(root).as_posix(), file.read_bytes(), content_type=ctype)


DEMO_SUBSCRIPTION = "demo"


def _alerts_section(channels_from: Config | None) -> str:
    """Config text sending the demo's substantive changes to every channel of `channels_from`."""
    if channels_from is None or not channels_from.channels:
        return ""
    raw = yaml.safe_load(channels_from.path.read_text(encoding="utf-8")) if channels_from.path else {}
    section = {"channels": raw["channels"],
               "subscriptions": [{"name": DEMO_SUBSCRIPTION, "channels": list(channels_from.channels)}],
               "alerts": {k: v for k, v in (raw.get("alerts") or {}).items() if k != "operators"} | {"operators": []}}
    return "# Channels and retry settings copied from " + str(channels_from.path) + "\n" + yaml.safe_dump(
        section, sort_keys=False)


def preview_alerts(db: sqlite_utils.Database) -> list[tuple[int, Message]]:
    """The alert message of each stored change a subscription to every substantive change gets."""
    catalog = shipped_catalog()
    sub = Subscription(name=DEMO_SUBSCRIPTION, channels=["preview"])
    out = []
    for change_id, document in db.execute("SELECT id, document FROM changes ORDER BY id").fetchall():
        facts = [HunkFacts(h["classification"], h["significance"], frozenset(o["id"] for o in h["obligations"]))
                 for h in change_hunks(db, change_id)]
        if matches(sub, document, facts, lambda oid: descendants(catalog, oid)):
            out.append((change_id, build_message(db, change_id, sub.name)))
    return out


def run_demo(directory: Path, console: Console, channels_from: Config | None = None) -> int:
    """Run the demo in `directory` (config and database are written there); returns an exit
    code. With `channels_from` (a config with channels), its alerts are sent through them."""
    from tracker.pipeline import crawl

    directory.mkdir(parents=True, exist_ok=True)
    for name in ("demo.db", "demo.db-wal", "demo.db-shm"):
        (directory / name).unlink(missing_ok=True)  # each demo starts from an empty history
    t0 = time.monotonic()
    failures = 0
    with LocalSite() as site:
        config_path = directory / "config.yaml"
        config_path.write_text(CONFIG.format(base=site.base) + _alerts_section(channels_from), encoding="utf-8")
        config = load_config(config_path)
        for stage, label in STAGES:
            publish(site, stage)
            console.rule(f"[bold]Publishing the {label.lower()} ({stage}) and crawling")
            for src in config.sources:
                src.label = label if src.name.startswith("demo-code") else None
            summary = crawl(config)
            failures += len(summary.failed)
            table = Table()
            for col in ("source", "document", "outcome", "version", "error"):
                table.add_column(col, overflow="fold")
            for f in summary.fetches:
                table.add_row(f["source"], f["document"], f["outcome"], str(f["version"] or ""), f["error"] or "")
            console.print(table)
        hits_304 = sum(1 for h in site.hits if h.status == 304)
    db = open_db(config.database_path, readonly=True)
    console.rule("[bold]History")
    for doc in documents(db):
        table = Table(title=f"{doc['document']}: {doc['title'] or ''}", title_justify="left")
        for col in ("version", "label", "first seen", "type", "headings", "chars"):
            table.add_column(col)
        for v in history(db, doc["document"]):
            table.add_row(str(v.number), v.label or "", v.first_seen, v.content_type, str(len(v.outline)), str(v.text_chars))
        console.print(table)
    console.rule("[bold]What changed from the first draft to the final (HTML edition)")
    from store.versions import version_text
    from tracker.diff import diff_texts, select
    from tracker.render.text import stat, word

    v1, v2 = history(db, "demo-code")[-2:]
    change = diff_texts(version_text(db, v1.id), version_text(db, v2.id))
    console.print(stat(change), markup=False, highlight=False)
    console.rule("[bold]Substantive changes, word by word")
    console.print(word(select(change, min_class="substantive")), markup=False, highlight=False)
    changes_stored = db.execute("SELECT COUNT(*) FROM changes").fetchone()[0]
    previews = preview_alerts(db)
    db.close()
    console.rule(f"[bold]Alerts: {len(previews)} change(s) would alert a subscription to substantive changes")
    for _change_id, message in previews:
        console.print(f"Subject: {message.subject}", markup=False, highlight=False, style="bold")
        console.print(message.text, markup=False, highlight=False)
    sent_line, alert_failures = "", 0
    if config.channels:
        from notifications.dispatch import dispatch

        db = open_db(config.database_path)
        try:
            report = dispatch(db, config.channels, config.alerts, subscriptions=config.subscriptions)
        finally:
            db.close()
        alert_failures = len(report.failed) + len(report.dead)
        sent_line = (f"Alerts sent through {', '.join(config.channels)}: {report.messages} message(s), "
                     f"{alert_failures} failed" + "".join(f"\n  alert {i}: {e}" for i, e in report.errors.items())
                     + "\n")
    else:
        sent_line = ("No channel configured, so nothing was sent. To send these alerts, give a config with "
                     "`channels:` (secrets in environment variables):\n  regwatch --config my-config.yaml demo\n")
    console.print(
        f"\n{changes_stored} changes stored (one per new version of each document).\n"
        f"{sent_line}"
        f"Done in {time.monotonic() - t0:.1f} s: {hits_304} unchanged pages answered 304 Not Modified.\n"
        f"Database: {config.database_path}\n"
        f"Try: regwatch --config {config_path} history demo-code\n"
        f"     regwatch --config {config_path} diff demo-code --format side-by-side\n"
        f"     regwatch --config {config_path} diff demo-code-pdf First Final --format html -o diff.html\n"
        f"     regwatch --config {config_path} alerts"
    )
    if failures:
        console.print(f"[red]{failures} fetches failed[/]")
        return 3
    if alert_failures:
        console.print(f"[red]{alert_failures} alerts failed (see regwatch alerts)[/]")
        return 3
    return 0
