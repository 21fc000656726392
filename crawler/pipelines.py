"""Item pipelines: extraction, then the one place that writes crawl results to the store."""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

from scrapy import Spider

from crawler import events
from crawler.extract import EXTRACTOR_VERSION, ExtractionError, extract, sniff
from store.db import open_db
from store.records import DocText, FetchResult
from store.versions import record_fetch, record_fetches

MAX_EXTRACT_WORKERS = 4


logger = logging.getLogger(__name__)

def extract_body(
    body: bytes, declared_type: str | None, selector: str | None, exclude: list[str] | None
) -> tuple[str, DocText, str | None]:
    """(sniffed content type, text model, encoding) of a body; raises ExtractionError."""
    content_type = sniff(body, declared_type)
    doc, encoding = extract(body, content_type, content_type_header=declared_type, selector=selector, exclude=exclude)
    return content_type, doc, encoding


def _needs_extraction(result: FetchResult) -> bool:
    return result.ok and not result.not_modified and result.body is not None


def _apply(result: FetchResult, extracted: tuple[str, DocText, str | None]) -> None:
    result.content_type, result.doc, result.encoding = extracted
    result.extractor_version = EXTRACTOR_VERSION


def _fail(result: FetchResult, message: str, kind: str) -> None:
    result.error, result.error_kind, result.doc = message, kind, None


class ExtractPipeline:
    """Turn fetched bytes into the text model (selector and exclusions from the source).

    Extraction runs in a pool of worker processes. Why: parsing HTML and PDF is pure CPU work
    that would otherwise run on the reactor thread between downloads (the crawl measured at
    about half the speed of bare Scrapy that way), and a crash inside pdfium on a hostile PDF
    kills one worker, not the crawl. The pool forks its workers from a forkserver that has
    imported the extractors once, so a worker costs a fork, not an interpreter start.
    """

    def open_spider(self, spider: Spider) -> None:
        """Start the worker pool and index the sources by name."""
        self.sources = {s.name: s for s in spider.sources}
        self.pool = self._new_pool()

    def close_spider(self, spider: Spider) -> None:
        """Stop the worker pool."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _new_pool() -> ProcessPoolExecutor:
        ctx = get_context("forkserver")
        ctx.set_forkserver_preload(["crawler.extract.html", "crawler.extract.pdf", "crawler.extract.plain"])
        # One core stays with the reactor (downloads, store writes): on two cores a second
        # worker slowed the crawl down (0.62x of bare Scrapy against 0.72x with one).
        workers = max(1, min(MAX_EXTRACT_WORKERS, (os.cpu_count() or 1) - 1))
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)

    async def process_item(self, item: Any, spider: Spider) -> Any:
        """Extract `item` when it is a FetchResult with a body."""
        if not isinstance(item, FetchResult) or not _needs_extraction(item):
            return item
        source = self.sources.get(item.source)
        followed = item.discovered_from is not None
        selector, exclude = source.extraction_options(followed) if source else (None, None)
        try:
            future = self.pool.submit(extract_body, item.body, item.declared_type, selector, exclude)
            _apply(item, await asyncio.wrap_future(future))
        except ExtractionError as exc:
            _fail(item, str(exc), exc.kind)
        except BrokenProcessPool:
            # The worker died (e.g. a segfault in the PDF library): record it, start afresh.
            _fail(item, "extraction crashed: the extractor process died on this body", "extract")
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
        except Exception as exc:  # an extractor bug must not stop the other sources
            _fail(item, f"extraction failed: {type(exc).__name__}: {exc}", "extract")
        return item


class StorePipeline:
    """Record every FetchResult in the database (the crawler's only writer) and report it.

    Results are written in batches (BATCH_SIZE results, or whatever arrived within
    BATCH_SECONDS), one transaction each. A crash loses at most the batch not yet committed:
    those pages are fetched again by the next crawl, and nothing half-written remains.
    """

    BATCH_SIZE = 50
    BATCH_SECONDS = 0.25

    def open_spider(self, spider: Spider) -> None:
        """Open the writing connection."""
        self.db = open_db(spider.database)
        self.pending: list[FetchResult] = []
        self.timer: asyncio.TimerHandle | None = None

    def close_spider(self, spider: Spider) -> None:
        """Write what is pending and close the writing connection."""
        self.flush()
        self.db.close()

    def process_item(self, item: Any, spider: Spider) -> Any:
        """Queue `item` for the next batch write."""
        if not isinstance(item, FetchResult):
            return item
        self.pending.append(item)
        if len(self.pending) >= self.BATCH_SIZE:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.BATCH_SECONDS, self.flush)
        return item

    def flush(self) -> None:
        """Write the pending results in one transaction and emit a "fetched" event for each."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if not batch:
            return
        recorded: list[Any]
        try:
            recorded = record_fetches(self.db, batch)
        except Exception:
            # One bad result must not cost the others: record them one by one. A result that
            # still fails (disk full, a database error) is reported as `not_stored`, never
            # dropped silently; it is fetched again by the next crawl.
            recorded = []
            for item in batch:
                try:
                    recorded.append(record_fetch(self.db, item))
                except Exception as exc:
                    logger.error("could not store %s: %s: %s", item.url, type(exc).__name__, exc)
                    recorded.append(exc)
        for item, rec in zip(batch, recorded, strict=True):
            if isinstance(rec, Exception):
                events.emit({"event": "fetched", "source": item.source, "document": item.document, "url": item.url,
                             "outcome": "not_stored", "version": None, "http_status": item.http_status,
                             "content_type": item.content_type,
                             "error": f"could not store the result: {type(rec).__name__}: {rec}",
                             "error_kind": "store", "duration_ms": item.duration_ms,
                             "followed": item.discovered_from is not None})
                continue
            events.emit(
                {
                    "event": "fetched",
                    "source": item.source,
                    "document": item.document,
                    "url": item.url,
                    "outcome": rec.outcome,
                    "version": rec.version_number,
                    "http_status": item.http_status,
                    "content_type": item.content_type,
                    "error": item.error,
                    "error_kind": item.error_kind,
                    "duration_ms": item.duration_ms,
                    "followed": item.discovered_from is not None,
                }
            )
