"""Real crawls (Scrapy in a subprocess) against a real local HTTP server.

Crawls cost about a second each, so each test crawls many sources at once.
"""

from __future__ import annotations

import io

import pytest

from crawler.runner import run_crawl
from crawler.sources import CrawlSource
from store.db import open_db
from store.versions import history, version_text
from tracker.demo.server import LocalSite

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Code</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<div class="cookie-banner">We use cookies. Accept?</div>
<main><h1>Code of Practice</h1>
<h2>Commitment 1. Documentation</h2>
<p>Signatories commit to drawing up documentation {extra}.</p>
<h3>Measure 1.1. Keeping it up to date</h3><p>Signatories shall update it within two weeks.</p>
</main><footer>© 2026</footer></body></html>"""


def src(site: LocalSite, name: str, path: str, **kw) -> CrawlSource:
    kw.setdefault("document", name)
    kw.setdefault("delay", 0)
    kw.setdefault("timeout", 5)
    return CrawlSource(name=name, url=site.url(path), **kw)


def crawl(db_path, sources, **kw):
    kw.setdefault("retries", 1)
    kw.setdefault("backoff", 0.05)
    return {f["source"]: f for f in run_crawl(db_path, sources, **kw).fetches}


def small_pdf(text: str) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    y = 800
    for line in text.splitlines():
        c.drawString(72, y, line)
        y -= 16
    c.save()
    return buf.getvalue()


@pytest.fixture
def site():
    with LocalSite() as s:
        s.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        yield s


def test_new_version_then_304_then_change(site, tmp_path):
    db_path = tmp_path / "h.db"
    site.set("/code", PAGE.format(extra="for the AI Office"))
    site.set("/novalidators", PAGE.format(extra="x"), validators=False)
    sources = [src(site, "code", "/code", selector="main"), src(site, "plain", "/novalidators")]

    first = crawl(db_path, sources)
    assert first["code"]["outcome"] == "new_version" and first["plain"]["outcome"] == "new_version"

    second = crawl(db_path, sources)
    assert second["code"]["outcome"] == "not_modified"
    assert second["code"]["http_status"] == 304
    # No validators from the server: the body is fetched again, compared and found unchanged.
    assert second["plain"]["outcome"] == "unchanged"
    conditional = site.hits_for("/code")[-1].headers
    assert "If-None-Match" in conditional and "If-Modified-Since" in conditional

    site.set("/code", PAGE.format(extra="for the Commission"))
    third = crawl(db_path, sources)
    assert (third["code"]["outcome"], third["code"]["version"]) == ("new_version", 2)

    db = open_db(db_path)
    versions = history(db, "code")
    assert [v.number for v in versions] == [1, 2]
    text = version_text(db, versions[-1].id)
    assert "for the Commission" in text
    # The selector kept the content and boilerplate went: no nav, cookie banner or footer.
    assert "cookies" not in text and "Home" not in text and "©" not in text
    assert [h["number"] for h in versions[-1].outline if h["number"]] == ["Commitment 1", "Measure 1.1"]
    outcomes = [r[0] for r in db.execute("SELECT outcome FROM fetches WHERE source = 'code' ORDER BY id")]
    assert outcomes == ["new_version", "not_modified", "new_version"]


def test_bad_inputs_are_logged_and_never_become_versions(site, tmp_path):
    db_path = tmp_path / "h.db"
    good_pdf = small_pdf("Commitment 1. Documentation\nSignatories commit to documenting models.")
    routes = {
        "/404": dict(body="<h1>Not found</h1>", status=404),
        "/410": dict(body="gone", status=410),
        "/500": dict(body="oops", status=500),
        "/503": dict(body="busy", status=503, headers={"Retry-After": "0"}),
        "/timeout": dict(body="late", delay=3, content_type="text/plain"),
        "/empty": dict(body=b"", content_type="text/html"),
        "/truncated.pdf": dict(body=good_pdf[: len(good_pdf) // 3], content_type="application/pdf"),
        "/errorpage.pdf": dict(body="<html><body><h1>Session expired</h1></body></html>", content_type="application/pdf"),
        "/pdf-as-html": dict(body=good_pdf, content_type="text/html"),
        "/huge": dict(body="<p>" + "x" * 20_000 + "</p>"),
        "/latin1": dict(body="<p>Durchführung für Anbieter</p>".encode("latin-1"), content_type="text/html; charset=utf-8"),
        "/noselect": dict(body=PAGE.format(extra="")),
        "/private/doc": dict(body=PAGE.format(extra="")),
        "/ok": dict(body=PAGE.format(extra="")),
    }
    for path, route in routes.items():
        site.set(path, **route)
    # Only the deliberately slow route gets a short timeout: on a busy machine a 1 s limit
    # could also catch a route that is merely slow to be served.
    sources = [src(site, path.strip("/").replace("/", "-").replace(".", "-"), path, max_bytes=10_000,
                   timeout=1 if path == "/timeout" else 20)
               for path in routes]
    sources[[s.name for s in sources].index("noselect")].selector = "#does-not-exist"
    sources.append(CrawlSource(name="refused", url="http://127.0.0.1:9/", document="refused", delay=0, timeout=2))

    got = crawl(db_path, sources)
    expect_kind = {
        "404": "http", "410": "http", "500": "http", "503": "http", "timeout": "timeout", "empty": "content",
        "truncated-pdf": "extract", "errorpage-pdf": "content", "huge": "size", "noselect": "selector",
        "private-doc": "robots", "refused": "connection",
    }
    for name, kind in expect_kind.items():
        assert got[name]["outcome"] == "failed", name
        assert got[name]["error_kind"] == kind, (name, got[name]["error"])
    assert "HTTP 404" in got["404"]["error"] and "HTTP 500" in got["500"]["error"]
    assert "matched nothing" in got["noselect"]["error"]
    assert "robots.txt" in got["private-doc"]["error"]
    assert "HTML" in got["errorpage-pdf"]["error"]
    # Retries happened, with backoff, before giving up on the 500 and 503.
    assert len(site.hits_for("/500")) == 2 and len(site.hits_for("/503")) == 2
    # A PDF served as text/html is still a PDF; a wrong charset is detected, not mangled.
    assert got["pdf-as-html"]["outcome"] == "new_version" and got["pdf-as-html"]["content_type"] == "application/pdf"
    assert got["latin1"]["outcome"] == "new_version" and got["ok"]["outcome"] == "new_version"

    db = open_db(db_path)
    assert "Durchführung für Anbieter" in version_text(db, history(db, "latin1")[0].id)
    stored = {r[0] for r in db.execute("SELECT DISTINCT document FROM versions")}
    assert stored == {"pdf-as-html", "latin1", "ok"}
    assert db.execute("SELECT COUNT(*) FROM fetches WHERE outcome = 'failed'").fetchone()[0] == len(expect_kind)


def test_a_source_that_breaks_keeps_its_versions(site, tmp_path):
    db_path = tmp_path / "h.db"
    site.set("/doc", PAGE.format(extra="v1"))
    sources = [src(site, "doc", "/doc")]
    crawl(db_path, sources)
    for status in (404, 500):
        site.set("/doc", "<h1>error</h1>", status=status)
        assert crawl(db_path, sources, retries=0)["doc"]["outcome"] == "failed"
    site.set("/doc", "", content_type="text/html")  # an empty 200 is not "all text removed"
    assert crawl(db_path, sources)["doc"]["error_kind"] == "content"
    db = open_db(db_path)
    versions = history(db, "doc")
    assert len(versions) == 1 and "v1" in version_text(db, versions[0].id)
    assert db.execute("SELECT COUNT(*) FROM latest_texts WHERE document = 'doc'").fetchone()[0] == 1


def test_listing_follows_new_publications_and_redirects_are_recorded(site, tmp_path):
    db_path = tmp_path / "h.db"
    listing = '<html><body><main><h1>News</h1><ul>{items}</ul><a href="/about">About</a></main></body></html>'
    item = '<li><a href="/news/{slug}">{title}</a></li>'
    site.set("/news", listing.format(items=item.format(slug="code-first-draft", title="First draft published")))
    site.set("/news/code-first-draft", PAGE.format(extra="first"))
    site.set("/news/code-final", PAGE.format(extra="final"))
    site.set("/about", "<p>About us</p>")
    site.set("/old-address", redirect=site.url("/news/code-first-draft"))
    sources = [
        src(site, "news", "/news", follow=[site.url("/news/*")]),
        src(site, "moved", "/old-address"),
    ]
    first = run_crawl(db_path, sources, retries=0).fetches
    assert {f["document"] for f in first} == {"news", "news/code-first-draft", "moved"}
    site.set("/news", listing.format(items="".join([
        item.format(slug="code-final", title="Final Code published"),
        item.format(slug="code-first-draft", title="First draft published"),
    ])))
    second = {f["document"]: f for f in run_crawl(db_path, sources, retries=0).fetches}
    assert second["news/code-final"]["outcome"] == "new_version"
    assert second["news/code-first-draft"]["outcome"] == "not_modified"
    assert not site.hits_for("/about")  # not allow-listed by `follow`

    db = open_db(db_path)
    row = db.execute("SELECT title, discovered_from FROM documents WHERE id = 'news/code-final'").fetchone()
    assert row == ("Final Code published", site.url("/news"))
    fetch = db.execute("SELECT url, final_url, redirects FROM fetches WHERE source = 'moved' ORDER BY id LIMIT 1").fetchone()
    assert fetch[0] == site.url("/old-address") and fetch[1] == site.url("/news/code-first-draft")
    assert site.url("/old-address") in fetch[2]
