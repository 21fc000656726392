"""Listing pages: the links that lead to publications worth following."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from urllib.parse import urldefrag, urljoin, urlsplit

from scrapy.http import Response, TextResponse

from crawler.sources import CrawlSource


def followed_links(response: Response, source: CrawlSource) -> list[tuple[str, str]]:
    """(absolute URL, link text) of each link on the listing that matches a `follow` pattern.

    Patterns are shell-style globs on the absolute URL ("https://x.eu/news/*code*"); order of
    first appearance is kept and each URL is listed once, at most `max_follow` of them.
    """
    if not isinstance(response, TextResponse):
        return []
    scope = response.css(source.follow_selector) if source.follow_selector else [response]
    seen: set[str] = set()
    links: list[tuple[str, str]] = []
    for node in scope:
        for a in node.css("a[href]"):
            href = a.attrib.get("href", "").strip()
            if not href or href.startswith(("mailto:", "javascript:", "tel:")):
                continue
            url = urldefrag(urljoin(response.url, href))[0]
            if url in seen or url == response.url:
                continue
            if any(fnmatch.fnmatchcase(url, pat) for pat in source.follow):
                seen.add(url)
                text = " ".join(" ".join(a.css("::text").getall()).split())
                links.append((url, text))
                if len(links) >= source.max_follow:
                    return links
    return links


def document_id(source: CrawlSource, url: str) -> str:
    """A stable document id for a publication followed from a listing: "<source>/<slug>"."""
    parts = urlsplit(url)
    path = re.sub(r"\.(html?|pdf|php|aspx?)$", "", parts.path.strip("/"), flags=re.I)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", path.split("/")[-1] if path else parts.netloc).strip("-").lower()
    if parts.query or not slug:
        # Query-addressed documents (?id=118119) need the query to stay distinct.
        slug = (slug + "-" if slug else "") + hashlib.sha1(url.encode()).hexdigest()[:8]
    return f"{source.document}/{slug[:80]}"
