"""Turning one HTTP response (or failure) into a FetchResult: shared by every source kind."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from http import HTTPStatus

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from twisted.internet import error as net_error
from twisted.python.failure import Failure

from crawler.sources import CrawlSource
from store.records import FetchResult


def request_started(request: Request) -> tuple[str, float]:
    """(ISO start time, monotonic start) of the first attempt of `request`."""
    meta = request.meta
    if "regwatch_started_at" not in meta:
        meta["regwatch_started_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return meta["regwatch_started_at"], meta.get("regwatch_t0", time.monotonic())


def from_response(response: Response, source: CrawlSource, document: str, label: str | None) -> FetchResult:
    """The FetchResult for a response of any status: 304 is "not modified", >= 400 a failure."""
    started_at, t0 = request_started(response.request)
    headers = response.headers
    result = FetchResult(
        source=source.name,
        document=document,
        url=response.request.meta.get("redirect_urls", [response.url])[0],
        started_at=started_at,
        duration_ms=int((time.monotonic() - t0) * 1000),
        final_url=response.url,
        http_status=response.status,
        declared_type=_header(headers, b"Content-Type"),
        etag=_header(headers, b"ETag"),
        last_modified=_header(headers, b"Last-Modified"),
        redirects=list(response.request.meta.get("redirect_urls", [])),
        label=label,
    )
    if response.status == 304:
        result.not_modified = True
    elif response.status >= 400 or response.status < 200:
        reasons = response.request.meta.get("regwatch_retry_reasons", [])
        retried = f" after {len(reasons)} retries" if reasons else ""
        result.error = f"HTTP {response.status} {_phrase(response.status)}{retried}"
        retry_after = _header(headers, b"Retry-After")
        if retry_after:
            result.error += f" (Retry-After: {retry_after})"
        result.error_kind = "http"
    else:
        result.body = response.body
    return result


def from_failure(failure: Failure, source: CrawlSource, document: str, label: str | None) -> FetchResult:
    """The FetchResult for a request that got no response: timeout, refused, robots, size."""
    request: Request = failure.request  # type: ignore[attr-defined]
    started_at, t0 = request_started(request)
    exc = failure.value
    kind, message = classify_failure(exc, request)
    return FetchResult(
        source=source.name,
        document=document,
        url=request.meta.get("redirect_urls", [request.url])[0],
        started_at=started_at,
        duration_ms=int((time.monotonic() - t0) * 1000),
        final_url=request.url,
        error=message,
        error_kind=kind,
        label=label,
        redirects=list(request.meta.get("redirect_urls", [])),
    )


def classify_failure(exc: BaseException, request: Request) -> tuple[str, str]:
    """(error kind, message) for an exception raised while downloading `request`."""
    if isinstance(exc, IgnoreRequest):
        if "robots" in str(exc).lower():
            return "robots", "robots.txt disallows this URL"
        return "ignored", f"request ignored: {exc}"
    name = type(exc).__name__
    if isinstance(exc, net_error.TimeoutError | net_error.TCPTimedOutError) or name == "DownloadTimeoutError":
        return "timeout", f"timed out after {request.meta.get('download_timeout', '?')} s"
    if isinstance(exc, net_error.ConnectionRefusedError) or name == "DownloadConnectionRefusedError":
        return "connection", "connection refused"
    if isinstance(exc, net_error.DNSLookupError) or name == "CannotResolveHostError":
        return "connection", "DNS lookup failed"
    if isinstance(exc, net_error.ConnectError):
        return "connection", f"cannot connect: {exc}"
    text = str(exc)
    if "maxsize" in text.lower() or "max size" in text.lower() or "larger than download" in text.lower():
        limit = request.meta.get("download_maxsize")
        return "size", f"body larger than the limit of {limit} bytes"
    return "connection", f"{type(exc).__name__}: {text or 'download failed'}"


def _header(headers, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
