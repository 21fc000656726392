"""Item pipelines: extraction, then the one place that writes crawl results to the store."""

from __future__ import annotations

from typing import Any

from scrapy import Spider

from crawler import events
from crawler.extract import EXTRACTOR_VERSION, ExtractionError, extract, sniff
from store.db import open_db
from store.records import FetchResult
from store.versions import record_fetch


def extract_result(result: FetchResult, selector: str | None, exclude: list[str] | None) -> None:
    """Sniff and extract the body of a successful FetchResult in place; errors are recorded on it."""
    if not result.ok or result.not_modified or result.body is None:
        return
    try:
        result.content_type = sniff(result.body, result.declared_type)
        result.doc, result.encoding = extract(
            result.body,
            result.content_type,
            content_type_header=result.declared_type,
            selector=selector,
            exclude=exclude,
        )
        result.extractor_version = EXTRACTOR_VERSION
    except ExtractionError as exc:
        result.error, result.error_kind = str(exc), exc.kind
        result.doc = None
    except Exception as exc:  # an extractor bug must not stop the other sources
        result.error, result.error_kind = f"extraction failed: {type(exc).__name__}: {exc}", "extract"
        result.doc = None


class ExtractPipeline:
    """Turn fetched bytes into the text model (selector and exclusions from the source)."""

    def process_item(self, item: Any, spider: Spider) -> Any:
        """Extract `item` when it is a FetchResult with a body."""
        if isinstance(item, FetchResult):
            source = next((s for s in spider.sources if s.name == item.source), None)
            followed = item.discovered_from is not None
            selector = None if followed or source is None else source.selector
            exclude = None if followed or source is None else source.exclude
            extract_result(item, selector, exclude)
        return item


class StorePipeline:
    """Record every FetchResult in the database (the crawler's only writer) and report it."""

    def open_spider(self, spider: Spider) -> None:
        """Open the writing connection."""
        self.db = open_db(spider.database)

    def close_spider(self, spider: Spider) -> None:
        """Close the writing connection."""
        self.db.close()

    def process_item(self, item: Any, spider: Spider) -> Any:
        """Store `item` and emit a "fetched" event for progress displays."""
        if not isinstance(item, FetchResult):
            return item
        recorded = record_fetch(self.db, item)
        events.emit(
            {
                "event": "fetched",
                "source": item.source,
                "document": item.document,
                "url": item.url,
                "outcome": recorded.outcome,
                "version": recorded.version_number,
                "http_status": item.http_status,
                "content_type": item.content_type,
                "error": item.error,
                "error_kind": item.error_kind,
                "duration_ms": item.duration_ms,
                "followed": item.discovered_from is not None,
            }
        )
        return item
