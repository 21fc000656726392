"""Orchestration of one crawl and of re-extraction: config -> crawler -> store.

No logic of its own beyond wiring: the crawler fetches and extracts, the store records.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from crawler.extract import EXTRACTOR_VERSION, ExtractionError, extract, sniff
from crawler.runner import CrawlSummary, run_crawl
from crawler.sources import CrawlSource
from notifications.config import Subscription
from notifications.routing import HunkFacts, route
from store.changes import delete_changes, pending_pairs, save_change, sync_obligations
from store.crashpoint import crashpoint
from store.db import open_db
from store.queries import source_config, versions_with_source
from store.versions import replace_version_text, upsert_source, version_raw, version_text
from tracker.config import Config
from tracker.diff import ENGINE_VERSION, diff_texts
from tracker.health import update_tracking
from tracker.lineage import update_lineage
from tracker.obligations.catalog import catalog_rows, descendants, shipped_catalog


def crawl(config: Config, names: list[str] | None = None,
          on_event: Callable[[dict[str, Any]], None] | None = None,
          lock: AbstractContextManager | None = None) -> CrawlSummary:
    """Crawl the configured sources (all, or those named) into the configured database, then
    process what was fetched (`process`, under `lock` when given)."""
    summary = fetch(config, names, on_event)
    with lock or nullcontext():
        process(config, names, summary)
    return summary


def fetch(config: Config, names: list[str] | None = None,
          on_event: Callable[[dict[str, Any]], None] | None = None) -> CrawlSummary:
    """Fetch the configured sources (all, or those named) and store their new versions."""
    sources = config.crawl_sources(names)
    db = open_db(config.database_path)
    try:
        # A source's index in config orders a document's versions (draft listed before final).
        positions = {s.name: k for k, s in enumerate(config.sources)}
        for src in sources:
            upsert_source(db, src.name, src.url, src.document, src.kind, src.label, src.to_dict(),
                          position=positions[src.name])
    finally:
        db.close()
    d = config.defaults
    return run_crawl(
        config.database_path,
        sources,
        on_event=on_event,
        user_agent=d.user_agent,
        obey_robots=d.obey_robots,
        concurrency_per_host=d.concurrency_per_host,
        retries=d.retries,
        backoff=d.backoff,
        max_retry_after=d.max_retry_after,
    )


def process(config: Config, names: list[str] | None = None, summary: CrawlSummary | None = None) -> CrawlSummary:
    """Everything after fetching: publication order and lineage, the changes of every version
    without one (with their alerts), and the tracking state of the sources (all, or those
    named). Idempotent, so a run interrupted anywhere is completed by the next one."""
    summary = summary or CrawlSummary()
    db = open_db(config.database_path)
    try:
        # Publication order (which stored changes follow) and links of newly found publications.
        update_lineage(db, config)
        summary.changes = update_changes(db, subscriptions=config.subscriptions)
        # After the changes: a source that recovered with a new version alerts both.
        summary.tracking = [{"source": e.source, "event": e.event, "alerts": e.alerts}
                            for e in update_tracking(db, config, names)]
    finally:
        db.close()
    return summary


def update_changes(db: sqlite_utils.Database, document: str | None = None,
                   subscriptions: list[Subscription] | None = None, now: datetime | None = None) -> list[int]:
    """Diff every version against its predecessor where no change is stored yet; returns ids.
    With `subscriptions`, each change's alerts are queued in the transaction that stores it
    (digest alerts in the period of `now`, default the current time)."""
    catalog = shipped_catalog()
    sync_obligations(db, catalog.version, catalog_rows(catalog))
    ids = []
    for doc, prev_id, cur_id in pending_pairs(db, document):
        change = diff_texts(version_text(db, prev_id), version_text(db, cur_id))
        facts = [HunkFacts(h.classification, h.significance, frozenset(o["id"] for o in h.obligations))
                 for h in change.hunks]
        alerts = route(doc, facts, subscriptions or [], lambda oid: descendants(catalog, oid), now)
        ids.append(save_change(db, doc, prev_id, cur_id, change, ENGINE_VERSION, alerts=alerts))
        crashpoint("change-stored")
    return ids


@dataclass
class ReprocessReport:
    """What `reprocess` did to the stored versions."""

    versions: int = 0
    changes: int = 0
    changed: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def reprocess(config: Config, on_version: Callable[[int], None] | None = None) -> ReprocessReport:
    """Re-extract every stored version's raw bytes with the current extractor."""
    db = open_db(config.database_path)
    report = ReprocessReport()
    try:
        for version_id, _document, source, discovered_from, declared, sniffed in versions_with_source(db):
            report.versions += 1
            settings = source_config(db, source) if source else None
            selector, exclude = (
                CrawlSource(**settings).extraction_options(discovered_from is not None) if settings else (None, None)
            )
            raw = version_raw(db, version_id)
            try:
                content_type = sniff(raw, sniffed)
                doc, _ = extract(raw, content_type, content_type_header=declared, selector=selector, exclude=exclude)
            except ExtractionError as exc:
                report.failed.append((version_id, str(exc)))
                continue
            if replace_version_text(db, version_id, doc.to_text(), doc.outline(), EXTRACTOR_VERSION, doc.warnings):
                report.changed.append(version_id)
            if on_version:
                on_version(version_id)
        # Texts may have changed, and the engine may be newer: recompute every change. No
        # subscriptions: a recomputation is not news (queued alerts follow their version pair).
        delete_changes(db)
        report.changes = len(update_changes(db))
    finally:
        db.close()
    return report
