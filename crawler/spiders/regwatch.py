"""The one spider that fetches every configured source of a crawl.

One spider for all sources (rather than one per source or per kind) so that Scrapy's
per-host download slots apply across every source on the same host: politeness holds even
when many sources point at one site.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from crawler.sources import CrawlSource
from crawler.spiders.listing import document_id, followed_links
from crawler.spiders.page import from_failure, from_response
from store.db import open_db
from store.records import FetchResult
from store.versions import validators_for


class RegwatchSpider(scrapy.Spider):
    """Fetch each source with a conditional GET; follow listing pages to their publications."""

    name = "regwatch"

    def __init__(self, sources: list[dict[str, Any]], database: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources = [CrawlSource(**s) for s in sources]
        self.database = database
        # Read-only use here (validators); the StorePipeline holds the writing connection.
        self._db = open_db(database)

    async def start(self) -> AsyncIterator[Request]:
        """One request per configured source."""
        for source in self.sources:
            yield self._request(source, source.url, source.document, source.label, self.parse_source)

    def _request(
        self, source: CrawlSource, url: str, document: str, label: str | None, callback, **meta: Any
    ) -> Request:
        etag, last_modified = validators_for(self._db, url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return Request(
            url,
            callback=callback,
            errback=self.failed,
            headers=headers,
            dont_filter=True,
            meta={
                "source": source,
                "document": document,
                "label": label,
                "download_timeout": source.timeout,
                "download_maxsize": source.max_bytes,
                **meta,
            },
        )

    def parse_source(self, response: Response) -> Iterator[FetchResult | Request]:
        """A configured source: store it; on a listing, also request the publications it links."""
        source: CrawlSource = response.meta["source"]
        result = from_response(response, source, response.meta["document"], response.meta["label"])
        if (result.ok and source.follow_selector and response.status == 200 and isinstance(response, TextResponse)
                and not response.css(source.follow_selector)):
            # The listing was redesigned: a failed fetch, so tracking alerts the operators
            # instead of the listing silently finding no publications from now on.
            result.error = f"follow_selector {source.follow_selector!r} matched nothing"
            result.error_kind = "selector"
        yield result
        if source.follow and response.status == 200:
            configured = {s.url for s in self.sources}
            for url, text in followed_links(response, source):
                if url in configured:
                    continue  # fetched as its own configured source, under its own document
                yield self._request(
                    source, url, document_id(source, url), None, self.parse_followed,
                    discovered_from=response.url, link_text=text,
                )

    def parse_followed(self, response: Response) -> Iterator[FetchResult]:
        """A publication found on a listing page."""
        result = from_response(response, response.meta["source"], response.meta["document"], None)
        result.discovered_from = response.meta.get("discovered_from")
        result.title = response.meta.get("link_text") or None
        yield result

    def failed(self, failure: Failure) -> Iterator[FetchResult]:
        """A request that got no response at all."""
        meta = failure.request.meta  # type: ignore[attr-defined]
        result = from_failure(failure, meta["source"], meta["document"], meta.get("label"))
        result.discovered_from = meta.get("discovered_from")
        yield result

    def closed(self, reason: str) -> None:
        """Release the read connection."""
        self._db.close()
