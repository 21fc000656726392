"""Downloader middlewares: retries with exponential backoff that honour Retry-After."""

from __future__ import annotations

import asyncio
import random
import time
from email.utils import parsedate_to_datetime

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxtMiddleware
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import error as net_error
from twisted.internet.defer import Deferred
from twisted.web.client import ResponseFailed

try:  # Scrapy >= 2.13 raises its own download exceptions
    from scrapy.exceptions import DownloadTimeoutError, ResponseDataLossError
except ImportError:  # pragma: no cover - older Scrapy raises Twisted's
    DownloadTimeoutError = ResponseDataLossError = net_error.TimeoutError

RETRY_STATUSES = {408, 429, 500, 502, 503, 504, 522, 524}
RETRY_EXCEPTIONS = (
    DownloadTimeoutError,
    ResponseDataLossError,
    net_error.TimeoutError,
    net_error.TCPTimedOutError,
    net_error.ConnectionLost,
    net_error.ConnectionDone,
    ResponseFailed,
)


class BackoffRetryMiddleware:
    """Retry 5xx, 408/429 and timeouts after backoff * 2**attempt seconds (with jitter), or
    after the server's Retry-After when it gives one (capped at REGWATCH_MAX_RETRY_AFTER).

    Scrapy's RetryMiddleware retries immediately, which hammers a server that is down.
    Connection refused is not retried: the host is not listening, and waiting will not help
    within one crawl.
    """

    def __init__(self, retries: int, backoff: float, max_retry_after: float) -> None:
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        """Build from the crawl's settings."""
        s = crawler.settings
        return cls(
            s.getint("REGWATCH_RETRIES", 2),
            s.getfloat("REGWATCH_BACKOFF", 2.0),
            s.getfloat("REGWATCH_MAX_RETRY_AFTER", 120.0),
        )

    def process_request(self, request: Request, spider: Spider) -> None:
        """Note when the download of this attempt starts, for the fetch log's duration."""
        request.meta.setdefault("regwatch_t0", time.monotonic())
        return None

    async def process_response(self, request: Request, response: Response, spider: Spider) -> Request | Response:
        """Retry a retryable status after a backoff; pass everything else through."""
        if response.status not in RETRY_STATUSES:
            return response
        delay = self._retry_after(response)
        retry = await self._retry(request, f"HTTP {response.status}", delay)
        return retry or response

    async def process_exception(self, request: Request, exception: Exception, spider: Spider) -> Request | None:
        """Retry timeouts and dropped connections after a backoff."""
        if isinstance(exception, RETRY_EXCEPTIONS):
            return await self._retry(request, type(exception).__name__, None)
        return None

    async def _retry(self, request: Request, reason: str, delay: float | None) -> Request | None:
        attempt = request.meta.get("regwatch_attempt", 0)
        if attempt >= self.retries:
            return None
        if delay is None:
            delay = self.backoff * (2**attempt) * random.uniform(0.8, 1.2)
        await asyncio.sleep(delay)
        retry = request.replace(dont_filter=True)
        retry.meta["regwatch_attempt"] = attempt + 1
        retry.meta.setdefault("regwatch_retry_reasons", []).append(reason)
        return retry

    def _retry_after(self, response: Response) -> float | None:
        value = response.headers.get(b"Retry-After")
        if not value:
            return None
        text = value.decode("latin-1").strip()
        try:
            seconds = float(text)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(text).timestamp() - time.time()
            except (TypeError, ValueError):
                return None
        return max(0.0, min(seconds, self.max_retry_after))


class RobotsTxtMiddleware(_ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, fixed for three or more requests to one host that
    wait while its robots.txt downloads.

    Scrapy awaits the shared Deferred with `Deferred.asFuture`, whose callback returns None:
    the first waiter gets the parser and every later one gets None, which Scrapy reads as
    "no robots.txt" and lets the request through (seen with Scrapy 2.19 on the asyncio
    reactor; a /private/ URL disallowed by robots.txt was fetched). Each waiter here gets
    its own Deferred and the parser is passed on down the chain.
    """

    async def robot_parser(self, request: Request):  # type: ignore[override]
        """The robots.txt parser for the request's host (downloading it once per host)."""
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred = Deferred()

            def relay(parser):
                waiter.callback(parser)
                return parser  # keep the result for the next waiter in the chain

            pending.addBoth(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)
