"""PDF extraction: the real Second Draft of the Code, and small PDFs drawn with reportlab."""

from __future__ import annotations

import io
import random
import re
import time
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from crawler.extract.errors import ExtractionError
from crawler.extract.pdf import extract_pdf
from store.records import Block, DocText

SECOND_DRAFT = Path("gpai-cop-full/second-draft-2024-12-19.pdf")

# Measure headings of the Second Draft, read from its text layer (second-draft-2024-12-19.txt):
# every "Measure N.N" line that starts a heading. Absent on purpose: 2.5 (printed "Measures
# 2.5:", not a heading by the numbering rules), 3.x, 7.x, 9.x, 14.x, 15.x, 17.x, 18.x, 21.x
# (those Commitments have no numbered Measures in this draft).
SECOND_DRAFT_MEASURES = (
    ["1.1", "1.2"]
    + [f"2.{n}" for n in (1, 2, 3, 4, 6, 7, 8, 9, 10, 11)]
    + [f"4.{n}" for n in range(1, 7)]
    + [f"5.{n}" for n in range(1, 7)]
    + [f"6.{n}" for n in range(1, 6)]
    + ["8.1", "8.2"]
    + [f"10.{n}" for n in range(1, 13)]
    + ["11.1", "11.2"]
    + [f"12.{n}" for n in range(1, 8)]
    + [f"13.{n}" for n in range(1, 5)]
    + ["16.1", "16.2"]
    + [f"19.{n}" for n in range(1, 5)]
    + ["20.1", "20.2"]
)


# --- the real Second Draft --------------------------------------------------------------


@pytest.fixture(scope="module")
def second_draft(corpus: Path) -> tuple[DocText, float]:
    data = (corpus / SECOND_DRAFT).read_bytes()
    started = time.perf_counter()
    doc = extract_pdf(data)
    return doc, time.perf_counter() - started


def test_second_draft_commitments_once_each_in_order(second_draft: tuple[DocText, float]) -> None:
    doc, _ = second_draft
    numbers = [h.number for h in doc.headings() if h.number and h.number.startswith("Commitment")]
    assert numbers == [f"Commitment {n}" for n in range(1, 22)]
    titles = {h.number: h.title for h in doc.headings() if h.number}
    assert titles["Commitment 1"] == "Documentation"
    assert titles["Commitment 21"] == "Public transparency"


def test_second_draft_toc_lines_are_not_headings(second_draft: tuple[DocText, float]) -> None:
    doc, _ = second_draft
    assert not [h.text for h in doc.headings() if re.search(r"\.{4,}|…|\s\d+$", h.text)]
    toc = [
        b
        for b in doc.blocks
        if b.kind == "paragraph" and b.text.startswith("Commitment 1. Documentation")
    ]
    assert toc and toc[0].text.endswith("12")


def test_second_draft_measures(second_draft: tuple[DocText, float]) -> None:
    doc, _ = second_draft
    numbers = [h.number for h in doc.headings() if h.number and h.number.startswith("Measure")]
    assert numbers == [f"Measure {n}" for n in SECOND_DRAFT_MEASURES]
    texts = [h.text for h in doc.headings()]
    # Wrapped prose that starts with a reference is not a heading.
    assert not [
        t for t in texts if t.startswith(("Measure 9.3,", "Measure 4.3)", "Measure 16.2 includes"))
    ]
    assert not [t for t in texts if t.startswith("Commitment 10. Risk estimates")]
    assert "Measure 10.10 Safety margins" in texts
    assert "Measure 2.1: Draw up and implement an internal copyright policy" in texts


def test_second_draft_heading_levels(second_draft: tuple[DocText, float]) -> None:
    doc, _ = second_draft
    levels = {h.number: h.level for h in doc.headings() if h.number}
    commitment = {lv for n, lv in levels.items() if n.startswith("Commitment")}
    measure = {lv for n, lv in levels.items() if n.startswith("Measure")}
    assert len(commitment) == 1 and len(measure) == 1
    assert min(measure) > max(commitment)
    by_text = {h.text: h for h in doc.headings()}
    # Unnumbered section titles in a large font sit above the Commitments they contain.
    transparency = by_text["TRANSPARENCY"]
    assert transparency.number is None and transparency.title == "TRANSPARENCY"
    assert transparency.level < min(commitment)
    assert (
        "TECHNICAL RISK MITIGATION FOR PROVIDERS OF GENERAL-PURPOSE AI MODELS WITH SYSTEMIC RISK"
        in by_text
    )
    assert by_text["II. COMMITMENTS BY PROVIDERS OF GENERAL-PURPOSE AI MODELS"].level == 1
    # Table cells ("Annex XI" in the documentation table) are not headings.
    assert not [t for t in by_text if t.startswith("Annex")]


def test_second_draft_page_furniture_removed(second_draft: tuple[DocText, float]) -> None:
    doc, _ = second_draft
    text = doc.to_text()
    assert "DRAFT DOCUMENT" not in text
    assert not [b.text for b in doc.blocks if re.fullmatch(r"\d{1,3}", b.text)]
    assert doc.title == "Second Draft General-Purpose AI Code of Practice"


def test_second_draft_hyphens(second_draft: tuple[DocText, float]) -> None:
    doc, _ = second_draft
    text = doc.to_text()
    # Every line-end hyphen in this draft is a real one; none may be lost ...
    for compound in (
        "general-purpose AI models with systemic risk and providers thereof",
        "advance the state-of-the-art in AI safety",
        "for de-deploying a model",
        "discourage excessive risk-taking",
        "(CA-2(1), CA-8(2), RA-5(11)",
        "GENERAL-PURPOSE AI MODELS",
    ):
        assert compound in text, compound
    # ... nor may pdfium's hyphen marker or a hyphen followed by a space survive (except
    # suspended hyphens: "grey- and white-box", "two- to four-fold").
    assert "\x02" not in text and "\ufffe" not in text
    assert not re.search(r"[a-z]- (?!and |to |or )[a-z]", text)
    # Paragraphs continue across page breaks (page 1 ends "We therefore encourage").
    assert "We therefore encourage stakeholders to continue providing" in text


def test_second_draft_footnotes_and_superscripts(second_draft: tuple[DocText, float]) -> None:
    doc, _ = second_draft
    notes = {b.marker: b.text for b in doc.blocks if b.kind == "footnote"}
    assert notes["1"].startswith("See Articles 17(2), 16 and 13 CFEU")
    assert notes["8"].startswith("See Recital 90 AI Act")
    assert notes["7"].endswith("point (d) AI Act.")  # footnote 8 is not swallowed by 7
    text = doc.to_text()
    assert "floating point operations is greater than 10^25.”" in text
    assert "images or video,[^8] commit to making best efforts" in text
    items = [b for b in doc.blocks if b.kind == "list_item"]
    assert (
        Block("list_item", "Working Group 2: Risk assessment for systemic risk", marker="-")
        in items
    )


def test_second_draft_is_fast(second_draft: tuple[DocText, float]) -> None:
    _, seconds = second_draft
    assert seconds < 3.0  # about 1 s on a quiet machine; slack for loaded CI


def test_truncated_pdf_is_a_clean_error_or_partial_text(corpus: Path) -> None:
    data = (corpus / SECOND_DRAFT).read_bytes()
    half = data[: len(data) // 2]
    try:
        doc = extract_pdf(half)
    except ExtractionError as exc:
        assert exc.kind == "extract"
        assert str(exc).startswith("malformed or truncated PDF")
    else:  # pdfium rebuilds the cross-reference table from the objects that survive
        assert doc.blocks and "Commitment" in doc.to_text()


# --- synthetic PDFs ----------------------------------------------------------------------

LEFT, RIGHT = 72.0, 523.0
BODY, LEADING = 11.0, 14.0


def _wrap(text: str, width: float, font: str = "Times-Roman", size: float = BODY) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and stringWidth(candidate, font, size) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + [line]


class _Writer:
    """Draws a legal-text-like layout on a reportlab canvas, line by line."""

    def __init__(self, pdf: canvas.Canvas) -> None:
        self.pdf = pdf
        self.y = 760.0

    def skip(self, lines: float = 1.0) -> None:
        self.y -= LEADING * lines

    def centred(self, text: str, font: str = "Times-Roman", size: float = BODY) -> None:
        self.pdf.setFont(font, size)
        self.pdf.drawCentredString((LEFT + RIGHT) / 2, self.y, text)
        self.skip(size / BODY)

    def lines(self, lines: list[str], x: float = LEFT, first_x: float | None = None) -> None:
        self.pdf.setFont("Times-Roman", BODY)
        for i, line in enumerate(lines):
            self.pdf.drawString(first_x if i == 0 and first_x is not None else x, self.y, line)
            self.skip()

    def paragraph(self, text: str) -> None:
        self.lines(_wrap(text, RIGHT - LEFT))
        self.skip(0.8)

    def point(self, marker: str, text: str) -> None:
        """A lettered point: marker at 90, text and its continuation lines at 110."""
        self.pdf.setFont("Times-Roman", BODY)
        self.pdf.drawString(90, self.y, marker)
        self.lines(_wrap(text, RIGHT - 110), x=110)

    def runs(self, runs: list[tuple[str, float, float]]) -> None:
        """One line of (text, size, rise) runs: superscripts are smaller and raised."""
        obj = self.pdf.beginText(LEFT, self.y)
        for text, size, rise in runs:
            obj.setFont("Times-Roman", size)
            obj.setRise(rise)
            obj.textOut(text)
        self.pdf.drawText(obj)
        self.skip()


def _furniture(pdf: canvas.Canvas, page: int, pages: int) -> None:
    pdf.setFont("Helvetica", 8)
    pdf.drawString(LEFT, 815, f"Official Journal of the Union L {100 + page}, 1.{page}.2099")
    pdf.drawCentredString((LEFT + RIGHT) / 2, 30, f"Page {page} of {pages}")


def _regulation_pdf() -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.setTitle("Regulation on model testing")
    w = _Writer(pdf)

    _furniture(pdf, 1, 3)
    w.centred("Article 1")
    w.centred("Subject matter", font="Times-Bold")
    w.skip(0.5)
    # A numbered paragraph with a hyphenation ("obli-gations") and a real hyphen at a line end.
    w.lines(
        [
            "1. This Regulation lays down the obli-",
            "gations of providers of general-",
            "purpose models placed on the market in the Union.",
        ]
    )
    w.skip(0.8)
    w.lines(["2. For the purposes of this Regulation:"])
    w.point(
        "(a)",
        "'provider' means a natural or legal person that develops a model and places it on the "
        "market under its own name or trademark, whether for payment or free of charge;",
    )
    w.point(
        "(b)",
        "'training compute' means the cumulative amount of computation used for training the model, "
        "measured in floating point operations.",
    )
    w.skip(0.8)
    w.runs(
        [
            ("The threshold is 10", BODY, 0),
            ("25", 7, 4),
            (" floating point operations.", BODY, 0),
            ("1", 7, 4),
        ]
    )
    obj = pdf.beginText(LEFT, 80)
    obj.setFont("Times-Roman", 6)
    obj.setRise(3)
    obj.textOut("1")
    obj.setFont("Times-Roman", 8)
    obj.setRise(0)
    obj.textOut(" Computed as set out in Annex I.")
    pdf.drawText(obj)
    pdf.showPage()

    _furniture(pdf, 2, 3)
    w.y = 760.0
    w.centred("Article 2")
    w.centred("Obligations of providers", font="Times-Bold")
    w.skip(0.5)
    w.paragraph(
        "Providers of general-purpose models shall keep the technical documentation of the model up "
        "to date and shall make it available to the Office on request, without undue delay."
    )
    w.paragraph("Providers shall cooperate with the Office.")
    pdf.showPage()

    _furniture(pdf, 3, 3)
    w.y = 760.0
    w.centred("Article 3")
    w.centred("Entry into force", font="Times-Bold")
    w.skip(0.5)
    w.paragraph(
        "This Regulation shall enter into force on the twentieth day following its publication."
    )
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def test_synthetic_regulation_blocks() -> None:
    doc = extract_pdf(_regulation_pdf())
    assert doc.title == "Regulation on model testing"
    assert doc.blocks == [
        Block(
            "heading",
            "Article 1 — Subject matter",
            level=3,
            number="Article 1",
            title="Subject matter",
        ),
        Block(
            "list_item",
            "This Regulation lays down the obligations of providers of general-purpose models "
            "placed on the market in the Union.",
            marker="1.",
        ),
        Block("list_item", "For the purposes of this Regulation:", marker="2."),
        Block(
            "list_item",
            "'provider' means a natural or legal person that develops a model and places it on the "
            "market under its own name or trademark, whether for payment or free of charge;",
            level=1,
            marker="(a)",
        ),
        Block(
            "list_item",
            "'training compute' means the cumulative amount of computation used for training the "
            "model, measured in floating point operations.",
            level=1,
            marker="(b)",
        ),
        Block("paragraph", "The threshold is 10^25 floating point operations.[^1]"),
        Block("footnote", "Computed as set out in Annex I.", marker="1"),
        Block(
            "heading",
            "Article 2 — Obligations of providers",
            level=3,
            number="Article 2",
            title="Obligations of providers",
        ),
        Block(
            "paragraph",
            "Providers of general-purpose models shall keep the technical documentation of the model "
            "up to date and shall make it available to the Office on request, without undue delay.",
        ),
        Block("paragraph", "Providers shall cooperate with the Office."),
        Block(
            "heading",
            "Article 3 — Entry into force",
            level=3,
            number="Article 3",
            title="Entry into force",
        ),
        Block(
            "paragraph",
            "This Regulation shall enter into force on the twentieth day following its publication.",
        ),
    ]
    assert "Official Journal" not in doc.to_text() and "Page " not in doc.to_text()


def test_synthetic_styled_headings_and_fallback_title() -> None:
    """Unnumbered headings in a large font, ranked by size; a heading in prose is not one."""
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    w = _Writer(pdf)
    pdf.setFont("Helvetica-Bold", 20)
    pdf.drawString(LEFT, w.y, "CODE OF PRACTICE")
    w.skip(2)
    pdf.setFont("Helvetica-Bold", 15)
    pdf.drawString(LEFT, w.y, "TRANSPARENCY SECTION")
    w.skip(2)
    pdf.setFont("Helvetica", 13)
    pdf.drawString(LEFT, w.y, "Commitment 1. Documentation")
    w.skip(2)
    w.paragraph(
        "Signatories commit to documenting their models as set out in the Measures below and in "
        "Commitment 2. Copyright obligations are described in that Commitment and its Measures."
    )
    w.lines(
        _wrap(
            "Text after a long run of words that ends the line before a reference to a",
            RIGHT - LEFT,
        )
    )
    w.lines(["Measure 1.1, which is not a heading."])
    pdf.showPage()
    pdf.save()
    doc = extract_pdf(buf.getvalue())
    heads = [(h.level, h.number, h.text) for h in doc.headings()]
    assert heads == [
        (1, None, "CODE OF PRACTICE"),
        (2, None, "TRANSPARENCY SECTION"),
        (3, "Commitment 1", "Commitment 1. Documentation"),
    ]
    assert doc.title == "CODE OF PRACTICE"


# --- failures ------------------------------------------------------------------------------


def test_encrypted_pdf() -> None:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, encrypt="secret")
    pdf.drawString(72, 720, "Confidential")
    pdf.save()
    with pytest.raises(ExtractionError) as err:
        extract_pdf(buf.getvalue())
    assert err.value.kind == "extract"
    assert "encrypted" in str(err.value)


def test_garbage_with_pdf_header() -> None:
    rng = random.Random(7)
    data = b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(4096))
    with pytest.raises(ExtractionError) as err:
        extract_pdf(data)
    assert err.value.kind == "extract"
    assert str(err.value).startswith("malformed or truncated PDF: ")


def test_empty_body() -> None:
    with pytest.raises(ExtractionError) as err:
        extract_pdf(b"")
    assert err.value.kind == "extract"


def test_pdf_without_text_layer() -> None:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    # What a scan looks like to a text extractor: painted marks, no characters.
    pdf.setFillGray(0.2)
    for row in range(20):
        pdf.rect(72, 700 - row * 30, 400 - row * 7, 18, stroke=0, fill=1)
    pdf.showPage()
    pdf.save()
    with pytest.raises(ExtractionError) as err:
        extract_pdf(buf.getvalue())
    assert err.value.kind == "content"
    assert str(err.value) == "PDF has no text layer (scanned images?)"
