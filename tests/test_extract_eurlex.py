"""EUR-Lex markup (written for this project in the shape EUR-Lex uses: `oj-ti-art` headings with
the title in a nested `eli-title` div, points as two-column tables, `oj-super` exponents)."""

from __future__ import annotations

from pathlib import Path

from crawler.extract.html import extract_html

FRAGMENT = Path(__file__).parent / "data" / "eurlex-style-fragment.html"


def test_regulation_structure_is_recognised():
    doc = extract_html(FRAGMENT.read_text(encoding="utf-8"))
    outline = [(h["level"], h["number"], h["title"]) for h in doc.outline()]
    assert outline == [
        (1, "CHAPTER V", "GENERAL-PURPOSE AI MODELS"),
        (2, "SECTION 2", "Obligations for providers of general-purpose AI models"),
        (3, "Article 53", "Obligations for providers of general-purpose AI models"),
        (3, "Article 51", "Classification"),
        (1, "ANNEX XI", "Technical documentation referred to in Article 53(1), point (a)"),
        (2, "Section 1", "Information to be provided by all providers of general-purpose AI models"),
    ]
    text = doc.to_text()
    assert "\n\n(a) draw up and keep up-to-date the technical documentation of the model;\n\n" in text
    assert "\n\n  (i) enable providers to have a good understanding; and\n\n" in text  # nested point
    assert "greater than 10^25." in text
    assert "(1) The purpose of this Regulation" in text  # recitals keep their numbers


def test_consolidation_markers_are_not_text():
    consolidated = (
        '<html><body><p class="oj-ti-art">Article 51</p><p class="oj-sti-art">Classification</p>'
        '<p class="modref">▼M1</p><p>2. A model shall be presumed to have high impact capabilities '
        'when ►M1 the cumulative amount of computation ◄ exceeds 10<sup>25</sup>.</p></body></html>'
    )
    text = extract_html(consolidated).to_text()
    assert "▼" not in text and "►" not in text and "◄" not in text and "M1" not in text
    assert "when the cumulative amount of computation exceeds 10^25." in text
