"""Text extraction: HTML and PDF (and plain text) into one text model (`store.records.DocText`).

`extract()` is the one entry point the crawler and `regwatch reprocess` call.
"""

from __future__ import annotations

from crawler.extract.errors import ExtractionError
from crawler.extract.sniff import HTML, PDF, TEXT, decode, sniff
from store.records import DocText

# Bump when extraction output changes, so `regwatch reprocess` knows what is stale.
EXTRACTOR_VERSION = "5"  # 3: headings inside chunks of plain-text dumps; 4: PDF running heads after a hyphen;
# 5: multi-level numbered headings inside chunks of text dumps, table-of-contents lines never headings

__all__ = ["EXTRACTOR_VERSION", "ExtractionError", "extract", "sniff"]


def extract(
    body: bytes,
    content_type: str,
    *,
    content_type_header: str | None = None,
    selector: str | None = None,
    exclude: list[str] | None = None,
) -> tuple[DocText, str | None]:
    """Extract `body` (already sniffed as `content_type`) into a DocText.

    Returns (doc, encoding) where encoding is None for PDFs. Raises ExtractionError with a
    clear message when the body is unusable or the selector matches nothing.
    """
    if content_type == PDF:
        from crawler.extract.pdf import extract_pdf

        return extract_pdf(body), None
    text, encoding, warnings = decode(body, content_type_header, html=content_type == HTML)
    if content_type == HTML:
        from crawler.extract.html import extract_html

        doc = extract_html(text, selector=selector, exclude=exclude)
    elif content_type == TEXT:
        from crawler.extract.plain import extract_plain

        doc = extract_plain(text)
    else:
        raise ExtractionError(f"no extractor for {content_type}", kind="content")
    doc.warnings[:0] = warnings
    if not any(b.text or b.rows for b in doc.blocks):
        raise ExtractionError("no text could be extracted", kind="content")
    return doc, encoding
