"""Scrapy settings for regwatch crawls, each with the reason it is set."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from crawler.sources import CrawlSource

# Priorities name their neighbours instead of being bare numbers (scrapy#5206).
ROBOTS_PRIORITY = 100  # Scrapy's place for it: before anything is downloaded
RETRY_PRIORITY = 550  # where Scrapy's own RetryMiddleware sits: after redirects are followed
STORE_PIPELINE_PRIORITY = 800  # the one writer; runs after extraction
EXTRACT_PIPELINE_PRIORITY = 500


def crawl_settings(
    sources: list[CrawlSource],
    *,
    user_agent: str,
    obey_robots: bool,
    concurrency_per_host: int,
    retries: int,
    backoff: float,
    max_retry_after: float,
) -> dict[str, Any]:
    """Settings for one crawl of `sources`, with a download slot (delay, concurrency) per host."""
    slots: dict[str, dict[str, Any]] = {}
    for src in sources:
        host = urlsplit(src.url).hostname or ""
        slot = slots.setdefault(host, {"delay": src.delay, "concurrency": concurrency_per_host})
        # Several sources on one host: be as polite as the most polite of them asks.
        slot["delay"] = max(slot["delay"], src.delay)
    return {
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": obey_robots,
        "DOWNLOAD_SLOTS": slots,
        "DOWNLOAD_DELAY": min((s["delay"] for s in slots.values()), default=0.0),
        "RANDOMIZE_DOWNLOAD_DELAY": True,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency_per_host,
        # Our own retry middleware backs off and honours Retry-After; Scrapy's retries at once.
        "RETRY_ENABLED": False,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": RETRY_PRIORITY,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.middlewares.RobotsTxtMiddleware": ROBOTS_PRIORITY,
        },
        "REGWATCH_RETRIES": retries,
        "REGWATCH_BACKOFF": backoff,
        "REGWATCH_MAX_RETRY_AFTER": max_retry_after,
        "ITEM_PIPELINES": {
            "crawler.pipelines.ExtractPipeline": EXTRACT_PIPELINE_PRIORITY,
            "crawler.pipelines.StorePipeline": STORE_PIPELINE_PRIORITY,
        },
        # Every status reaches the spider: a 404 or 500 must be logged as a failed fetch.
        "HTTPERROR_ALLOW_ALL": True,
        # Conditional GET is ours (validators from the store); Scrapy's cache would answer
        # from disk instead of asking the server.
        "HTTPCACHE_ENABLED": False,
        "COOKIES_ENABLED": False,
        # No listening port in a long-running tracker.
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "DOWNLOAD_WARNSIZE": 0,
    }
