"""Lineage: versions of one publication at several URLs and in documents found on listing
pages, in publication order; driven through the CLI against real crawls of a local site."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import regwatch

from store.db import open_db
from store.lineage import LineageLink, replace_links, stored_links
from store.records import Block, DocText, FetchResult
from store.versions import history, record_fetch
from tracker.config import ConfigError, load_config, parse_config
from tracker.lineage import update_lineage

DRAFT_MD = """# Code of Practice: Safety and Security

## Commitment II.12. Serious incident reporting

Signatories commit to tracking, documenting and reporting serious incidents to the AI Office
without undue delay, and to keeping the documentation of serious incidents for 12 months.

## Commitment II.13. Non-retaliation

Signatories commit to not retaliating against workers who share information about systemic
risks stemming from their general-purpose AI models with the AI Office.
"""

FINAL_HTML = """<!doctype html><html><head><title>Code of Practice: Safety and Security</title></head>
<body><nav><a href="/">Home</a></nav><main>
<h1>Code of Practice: Safety and Security</h1>
<h2>Commitment 9. Serious incident reporting</h2>
<p>Signatories commit to tracking, documenting and reporting serious incidents to the AI Office
within 15 days, and to keeping the documentation of serious incidents for 36 months.</p>
<h2>Commitment 10. Non-retaliation</h2>
<p>Signatories commit to not retaliating against workers who share information about systemic
risks stemming from their general-purpose AI models with the AI Office.</p>
</main></body></html>"""

NEWS_HTML = """<!doctype html><html><head><title>Signing ceremony</title></head><body><main>
<h1>Providers sign up</h1><p>Several providers announced today at a press event in Brussels that
they intend to join the voluntary scheme; the list of participants will be published soon.</p>
</main></body></html>"""

LISTING = """<!doctype html><html><body><main><h1>Code of Practice</h1><ul>
<li><a href="/library/third-draft-safety-security">Third draft of the Code of Practice: Safety and Security</a></li>
<li><a href="/library/providers-sign-up">Providers sign up to the Code</a></li>
</ul></main></body></html>"""


run = regwatch  # `regwatch --config cfg ARGS...`, in process


def write_config(tmp_path: Path, body: str) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("database: hist.db\ndefaults: {delay: 0, timeout: 5, retries: 0}\n" + body)
    return cfg


def test_sources_sharing_a_document_make_one_version_each_in_config_order(three_drafts):
    cfg = three_drafts.config
    # The final was fetched alone first, the drafts later: config order still rules.
    first, second, third = three_drafts.crawls
    assert first["new_versions"] == 1 and second["new_versions"] == 2
    # Crawled again, nothing changed: no version flip-flops between the three URLs.
    assert third["new_versions"] == 0
    assert [f["outcome"] for f in third["fetches"]] == ["unchanged"] * 3

    rows = json.loads(run(cfg, "history", "cop-ss", "--json").stdout)
    assert [r["label"] for r in rows] == ["Second draft", "Third draft", "Final"]
    assert rows[-1]["version"] == 1  # numbers keep arrival order, the one users cite
    assert [r["content_type"] for r in rows] == ["text/plain", "application/pdf", "text/html"]

    # Stored changes follow publication order, never Final -> draft.
    changes = json.loads(run(cfg, "changes", "--json").stdout)
    assert sorted((c["from_label"], c["to_label"]) for c in changes) == [
        ("Second draft", "Third draft"), ("Third draft", "Final")]

    db = open_db(cfg.parent / "hist.db")
    # The latest text is the final's (last in publication order), though the drafts came later.
    latest = db.execute("SELECT v.label FROM latest_texts l JOIN versions v ON v.id = l.version_id").fetchall()
    assert latest == [("Final",)]
    positions = db.execute("SELECT name, position FROM sources ORDER BY position").fetchall()
    assert positions == [("ss-second", 0), ("ss-third", 1), ("ss-final", 2)]
    db.close()

    # The draft PDF at one URL and the final HTML at another, in one command.
    res = run(cfg, "diff", "cop-ss", "Third draft", "Final", "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    statuses = {(s["old"], s["new"]): s["status"] for s in data["sections"]}
    assert statuses[("Commitment II.12. Serious incident reporting", "Commitment 9. Serious incident reporting")] \
        == "renumbered"
    assert any("15 days" in h["new_text"] for h in data["hunks"])
    assert run(cfg, "diff", "cop-ss", "--format", "json").stdout == res.stdout  # default: the last two
    third_number = rows[1]["version"]
    assert run(cfg, "diff", "cop-ss", str(third_number), "1", "--format", "json").stdout == res.stdout
    assert run(cfg, "diff", "cop-ss", "Third draft", "Fourth draft").exit_code == 2

    [view] = json.loads(run(cfg, "lineage", "cop-ss", "--json").stdout)
    assert [v["label"] for v in view["versions"]] == ["Second draft", "Third draft", "Final"]
    assert [s["stream"] for s in view["streams"]] == ["ss-second", "ss-third", "ss-final"]
    assert view["versions"][1]["url"].endswith("/third.pdf") and view["links"] == []


def test_listing_publications_are_linked_by_similarity_and_config_overrides(site, tmp_path):
    site.set("/policy", LISTING)
    site.set("/library/third-draft-safety-security", DRAFT_MD, content_type="text/markdown; charset=utf-8")
    site.set("/library/providers-sign-up", NEWS_HTML)
    site.set("/final", FINAL_HTML)
    sources = (
        "sources:\n"
        f"  - {{name: cop-policy, url: '{site.url('/policy')}', follow: ['{site.url('/library/*')}']}}\n"
        f"  - {{name: cop-ss, url: '{site.url('/final')}', label: Final, selector: main}}\n"
    )
    cfg = write_config(tmp_path, sources)
    assert run(cfg, "crawl").exit_code == 0

    view = json.loads(run(cfg, "lineage", "--json").stdout)
    assert [v["lineage"] for v in view] == ["cop-ss"]
    links = {link["document"]: link for link in view[0]["links"]}
    draft = links["cop-policy/third-draft-safety-security"]
    assert draft["status"] == "auto"
    assert draft["content_similarity"] >= 0.45 and draft["title_similarity"] >= 0.5
    ev = draft["evidence"]
    assert ev["method"] == "title+content" and ev["content"]["compared"] == ["cop-policy/third-draft-safety-security:1",
                                                                               "cop-ss:1"]
    assert ev["title"]["compared"][0] == "Third draft of the Code of Practice: Safety and Security"
    # The unrelated news item is no version of the chapter: no link, or a candidate at most.
    news = links.get("cop-policy/providers-sign-up")
    assert news is None or news["status"] == "candidate"
    # The auto link joins the draft's versions to the lineage (placed by when each was first
    # seen, which one crawl does not settle: config's `before` does, below).
    assert sorted(v["ref"] for v in view[0]["versions"]) == ["cop-policy/third-draft-safety-security:1", "cop-ss:1"]

    # Config confirms (with a label and a place) and rejects; read commands apply it at once.
    cfg = write_config(tmp_path, sources + (
        "lineage:\n"
        "  - {document: cop-policy/third-draft-safety-security, of: cop-ss, label: Third draft, before: Final}\n"
        "  - {document: cop-policy/providers-sign-up, of: cop-ss, reject: true}\n"
    ))
    view = json.loads(run(cfg, "lineage", "cop-ss", "--json").stdout)[0]
    statuses = {link["document"]: link["status"] for link in view["links"]}
    assert statuses == {"cop-policy/third-draft-safety-security": "confirmed", "cop-policy/providers-sign-up": "rejected"}
    assert [(v["ref"], v["label"]) for v in view["versions"]] == [
        ("cop-policy/third-draft-safety-security:1", "Third draft"), ("cop-ss:1", "Final")]
    res = run(cfg, "diff", "cop-ss", "Third draft", "Final", "--format", "json")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["stats"]["sections"].get("renumbered")
    # The linked version is named by document and number too, from either document.
    by_ref = run(cfg, "diff", "cop-policy/third-draft-safety-security", "cop-policy/third-draft-safety-security:1",
                 "cop-ss:1", "--format", "json")
    assert by_ref.stdout == res.stdout

    # Each crawl ends by storing what config says (tracker.pipeline.crawl), keeping the
    # similarity evidence.
    db = open_db(tmp_path / "hist.db")
    update_lineage(db, load_config(cfg))
    stored = {link.document: link for link in stored_links(db)}
    assert stored["cop-policy/third-draft-safety-security"].status == "confirmed"
    assert stored["cop-policy/third-draft-safety-security"].evidence["proposed"] == "auto"
    assert stored["cop-policy/providers-sign-up"].status == "rejected"
    db.close()

    # Without the config entries, similarity decides again.
    cfg = write_config(tmp_path, sources)
    view = json.loads(run(cfg, "lineage", "--json").stdout)[0]
    assert {link["document"]: link["status"] for link in view["links"]}["cop-policy/third-draft-safety-security"] == "auto"


def test_lineage_config_is_validated(tmp_path):
    base = "sources:\n  - {name: cop-ss, url: 'https://example.eu/ss'}\n  - {name: news, url: 'https://example.eu/n', follow: ['https://example.eu/n/*']}\n"
    ok = parse_config(base + "lineage:\n  - {document: news/x, of: cop-ss, label: Third draft}\n")
    assert ok.lineage[0].label == "Third draft"
    bad = {
        "  - {document: news/x, of: cop-ss, labl: x}\n": "lineage[0].labl: unknown key",
        "  - {document: news/x, of: nope}\n": "'nope' is not the document of a configured page source",
        "  - {document: news/x, of: news}\n": "'news' is not the document of a configured page source",
        "  - {document: cop-ss, of: cop-ss}\n": "is a configured document",
        "  - {document: news/x, of: cop-ss, reject: true, label: x}\n": "a rejected link takes no label",
    }
    for entry, message in bad.items():
        with pytest.raises(ConfigError) as err:
            parse_config(base + "lineage:\n" + entry, Path("config.yaml"))
        assert message in str(err.value), (entry, str(err.value))
        assert "config.yaml:" in str(err.value)


def fetched(url: str, text: str, number: str = "Article 1") -> FetchResult:
    doc = DocText([Block("heading", f"{number} — Scope", level=3, number=number, title="Scope"), Block("paragraph", text)])
    return FetchResult(source="s", document="doc", url=url, started_at="2026-01-01T00:00:00+00:00",
                       body=text.encode(), doc=doc, content_type="text/html", extractor_version="1")


def test_same_text_at_a_second_address_is_no_version_but_a_revert_is(tmp_path):
    db = open_db(tmp_path / "h.db")
    a, b = "http://127.0.0.1/draft", "http://127.0.0.1/final"
    assert record_fetch(db, fetched(a, "Draft text.")).version_number == 1
    assert record_fetch(db, fetched(b, "Final text.")).version_number == 2
    # Each URL is compared with what it gave last: no flip-flop between the two.
    assert record_fetch(db, fetched(a, "Draft text.")).outcome == "unchanged"
    assert record_fetch(db, fetched(b, "Final text.")).outcome == "unchanged"
    # The draft URL now serving the final text: the same text at a second address.
    assert record_fetch(db, fetched(a, "Final text.")).outcome == "unchanged"
    # The final URL going back to its own earlier text after a change is a change.
    assert record_fetch(db, fetched(b, "Final text, corrected.")).version_number == 3
    assert record_fetch(db, fetched(b, "Final text.")).version_number == 4
    assert [v.number for v in history(db, "doc")] == [1, 2, 3, 4]
    db.close()


def test_links_are_replaced_all_or_nothing(tmp_path):
    db = open_db(tmp_path / "h.db")
    good = LineageLink("news/a", "cop-ss", "auto", title_similarity=0.6, content_similarity=0.5,
                       evidence={"method": "title+content", "proposed": "auto"})
    replace_links(db, [good])
    created = stored_links(db)[0].created_at
    # A status the schema refuses, after a valid row: the whole replacement is rolled back.
    with pytest.raises(sqlite3.IntegrityError):
        replace_links(db, [LineageLink("news/b", "cop-ss", "candidate", evidence={}),
                           LineageLink("news/c", "cop-ss", "maybe", evidence={})])
    assert [(x.document, x.status) for x in stored_links(db)] == [("news/a", "auto")]
    replace_links(db, [good])
    assert stored_links(db)[0].created_at == created
    db.close()
