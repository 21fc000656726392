"""Property-based tests (hypothesis) of extraction and diff on random and mangled input: no
crash, a clear ExtractionError where the input is unusable, and stored text that reads back
to the same text."""

from __future__ import annotations

import pytest
from conftest import pdf_from_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.extract import ExtractionError, extract, sniff
from store.records import parse_text
from tracker.diff import diff_texts

TAGS = ["p", "div", "h1", "h2", "h3", "li", "ul", "ol", "table", "tr", "td", "th", "span", "b", "main", "article",
        "section", "nav", "script", "style", "br", "hr", "pre", "a", "em", "header", "footer"]
WORDS = ["Article", "53", "(1)", "Measure", "1.2.", "shall", "providers", "Annex", "XI", "§", "é", "—", "&amp;", "&#x1F600;",
         "<", ">", "&", "\u00a0", "\u200b", "\t", "\n", "1.", "(a)", "Commitment", "II.12"]

_fragment = st.recursive(
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    lambda inner: st.tuples(st.sampled_from(TAGS), st.lists(inner, max_size=4), st.booleans()).map(
        lambda t: f"<{t[0]}>{''.join(t[1])}" + (f"</{t[0]}>" if t[2] else "")),  # unclosed tags too
    max_leaves=30,
)


def _extracts_or_refuses(body: bytes, declared: str | None = None, selector: str | None = None) -> None:
    """The extraction contract: a document whose text reads back the same, or ExtractionError."""
    try:
        ctype = sniff(body, declared)
        doc, _ = extract(body, ctype, content_type_header=declared, selector=selector)
    except ExtractionError as exc:
        assert str(exc) and exc.kind
        return
    text = doc.to_text()
    assert text.strip()
    assert parse_text(text).to_text() == text  # what is stored reads back unchanged


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_fragment, max_size=6).map("".join), st.sampled_from([None, "text/html", "text/html; charset=latin-1",
                                                                       "text/html; charset=nonsense"]))
def test_random_tag_soup_extracts_or_is_refused(html, declared):
    _extracts_or_refuses(("<html><body>" + html).encode("utf-8"), declared)
    _extracts_or_refuses(html.encode("utf-8"), declared, selector="main")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([None, "text/html", "application/pdf", "text/plain"]))
def test_random_bytes_extract_or_are_refused(body, declared):
    _extracts_or_refuses(body, declared)


_PDF = None


def _pdf() -> bytes:
    global _PDF
    if _PDF is None:
        _PDF = pdf_from_lines(["# Commitment 1. Documentation", "Signatories shall document their models.",
                               "# Measure 1.1. Drawing up", "Providers shall keep the documentation up to date."])
    return _PDF


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mangled_pdfs_extract_or_are_refused(data):
    body = bytearray(_pdf())
    mode = data.draw(st.sampled_from(["truncate", "flip", "splice"]))
    if mode == "truncate":
        body = body[: data.draw(st.integers(0, len(body) - 1))]
    elif mode == "flip":
        for _ in range(data.draw(st.integers(1, 30))):
            i = data.draw(st.integers(0, len(body) - 1))
            body[i] = data.draw(st.integers(0, 255))
    else:
        i = data.draw(st.integers(0, len(body)))
        body[i:i] = data.draw(st.binary(min_size=1, max_size=200))
    _extracts_or_refuses(bytes(body), "application/pdf")


_line = st.one_of(
    st.sampled_from(["# Article 1 — Scope", "## Measure 1.2. Records", "### Commitment II.12", "(a) point", "1. First"]),
    st.lists(st.sampled_from(["providers", "shall", "may", "not", "30", "days", "the", "AI", "Office", "Article 53(1)"]),
             min_size=1, max_size=12).map(" ".join),
)
_doc = st.lists(_line, max_size=25).map(lambda lines: parse_text("\n\n".join(lines)).to_text() if lines else "")


@settings(max_examples=100, deadline=None)
@given(_doc, _doc)
def test_diff_of_random_documents(old, new):
    change = diff_texts(old, new)
    assert diff_texts(old, old).hunks == []
    for h in change.hunks:
        assert h.classification in ("cosmetic", "editorial", "substantive") and 0 <= h.significance <= 1
        # The word edits of a hunk rebuild its two sides.
        assert "".join(t for op, t in h.edits if op <= 0) == h.old_text
        assert "".join(t for op, t in h.edits if op >= 0) == h.new_text
    if old != new:
        assert change.hunks, "two different texts must differ somewhere"


@pytest.mark.parametrize("body", [b"", b"   \n\t", b"\xff\xfe\x00\x00", b"%PDF-1.7\n%%EOF", b"<html></html>",
                                  b"\x00" * 100])
def test_degenerate_bodies_are_refused_clearly(body):
    with pytest.raises(ExtractionError) as exc:
        extract(body, sniff(body, None))
    assert exc.value.kind in ("content", "extract", "encoding") and len(str(exc.value)) >= 5


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_unicode_pages_with_a_bom_are_read_as_html(encoding):
    body = "<html><body><h1>Article 1</h1><p>Caf\u00e9 \u2014 providers shall</p></body></html>".encode(encoding)
    if encoding == "utf-16-be":
        body = b"\xfe\xff" + body
    assert sniff(body, None) == "text/html"
    text = extract(body, "text/html")[0].to_text()
    assert "<p>" not in text and "Café — providers shall" in text
