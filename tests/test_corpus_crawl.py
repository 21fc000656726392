"""The real corpus through the whole path: local server -> Scrapy -> extraction -> store.

Expectations come from the documents' own tables of contents (the 2nd draft's TOC on its
pages 7-8; the 3rd draft web edition's list of commitments and its measure headings), not
from the tool's output.
"""

from __future__ import annotations

import re

import pytest

from crawler.runner import run_crawl
from crawler.sources import CrawlSource
from store.db import open_db
from store.versions import find_version, version_text
from tracker.demo.server import LocalSite

# Second Draft, Table of contents (pp. 7-8): "Commitment 1. Documentation" ... "Commitment 21.
# Public transparency".
SECOND_DRAFT_COMMITMENTS = [f"Commitment {n}" for n in range(1, 22)]

# Third Draft web edition: the Summary tab lists Commitments I.1, I.2 and II.1-II.16; the
# chapters carry these Measures.
THIRD_DRAFT_COMMITMENTS = ["Commitment I.1", "Commitment I.2"] + [f"Commitment II.{n}" for n in range(1, 17)]
THIRD_DRAFT_MEASURES = (
    [f"Measure I.1.{n}" for n in range(1, 4)]
    + [f"Measure I.2.{n}" for n in range(1, 7)]
    + [f"Measure II.{c}.{m}" for c, count in
       [(1, 5), (2, 2), (3, 2), (4, 14), (5, 3), (6, 3), (7, 8), (8, 7), (9, 3), (10, 3), (11, 2),
        (12, 4), (14, 4), (15, 1), (16, 1)]
       for m in range(1, count + 1)]
)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, corpus):
    """Serve the 2nd draft PDF and the 3rd draft HTML locally and crawl them once."""
    db_path = tmp_path_factory.mktemp("corpus") / "h.db"
    full = corpus / "gpai-cop-full"
    with LocalSite() as site:
        site.set("/second-draft.pdf", (full / "second-draft-2024-12-19.pdf").read_bytes(), content_type="application/pdf")
        site.set("/third-draft", (full / "third-draft-2025-03-11.code-of-practice-ai.html").read_bytes())
        sources = [
            CrawlSource(name="second", url=site.url("/second-draft.pdf"), document="cop", label="Second draft", delay=0),
            CrawlSource(name="third", url=site.url("/third-draft"), document="cop-web", label="Third draft", delay=0),
        ]
        first = {f["source"]: f for f in run_crawl(db_path, sources, retries=0).fetches}
        again = {f["source"]: f for f in run_crawl(db_path, sources, retries=0).fetches}
    return open_db(db_path), first, again


def numbers(outline: list[dict], prefix: str) -> list[str]:
    return [h["number"] for h in outline if (h["number"] or "").startswith(prefix)]


def test_second_draft_pdf_has_the_commitments_of_its_toc(crawled):
    db, first, again = crawled
    assert first["second"]["outcome"] == "new_version", first["second"]["error"]
    v = find_version(db, "cop")
    assert v.content_type == "application/pdf" and v.label == "Second draft"
    found = numbers(v.outline, "Commitment")
    # Each commitment once, in TOC order (the TOC's own dotted lines are not headings).
    assert found == SECOND_DRAFT_COMMITMENTS
    measures = numbers(v.outline, "Measure")
    assert {"Measure 1.1", "Measure 2.11", "Measure 10.12", "Measure 20.2"} <= set(measures)
    # Measures sit below their commitment in the outline.
    levels = {h["number"]: h["level"] for h in v.outline if h["number"]}
    assert levels["Measure 1.1"] > levels["Commitment 1"]
    text = version_text(db, v.id)
    assert "DRAFT DOCUMENT" not in text  # running header dropped
    assert not re.search(r"^#+ Measure 9\.3,", text, re.M)  # a wrapped reference is not a heading


def test_third_draft_html_has_its_commitments_and_measures(crawled):
    db, first, _ = crawled
    assert first["third"]["outcome"] == "new_version", first["third"]["error"]
    v = find_version(db, "cop-web")
    found = set(numbers(v.outline, "Commitment"))
    assert set(THIRD_DRAFT_COMMITMENTS) <= found
    assert set(THIRD_DRAFT_MEASURES) <= set(numbers(v.outline, "Measure"))
    text = version_text(db, v.id)
    assert "Toggle boxes" not in text and "Change theme" not in text  # site chrome removed


def test_unchanged_refetch_is_answered_304_and_adds_no_version(crawled):
    db, _, again = crawled
    assert again["second"]["outcome"] == "not_modified" and again["third"]["outcome"] == "not_modified"
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 2
