"""Plain text / Markdown extraction: the AI Act GPAI provisions and synthetic texts."""

from __future__ import annotations

from crawler.extract.plain import extract_plain
from store.records import parse_text

AI_ACT_MD = "ai-act/oj-2024-07-12.gpai-provisions.md"


def test_ai_act_articles_and_annexes(corpus):
    doc = extract_plain((corpus / AI_ACT_MD).read_text(encoding="utf-8"))
    heads = {h.number: h for h in doc.headings() if h.number}
    for n in range(51, 57):
        h = heads[f"Article {n}"]
        assert h.level == 3
        assert h.text == f"Article {n} — {h.title}"
    assert heads["Article 53"].title == "Obligations for providers of general-purpose AI models"
    assert heads["Article 52"].title == "Procedure"
    for annex in ("XI", "XII", "XIII"):
        h = heads[f"ANNEX {annex}"]
        assert h.level == 1 and h.title
    assert heads["ANNEX XIII"].title.startswith("Criteria for the designation")
    assert heads["CHAPTER V"].text == "CHAPTER V — GENERAL-PURPOSE AI MODELS"
    assert [n for n in heads if n.startswith("SECTION")] == [f"SECTION {i}" for i in range(1, 5)]
    text = doc.to_text()
    assert "greater than 10^25." in text
    # Points come out as list items, the same as EUR-Lex HTML's point tables.
    points = [b for b in doc.blocks if b.kind == "list_item" and b.marker == "(a)"]
    assert points and points[0].text.startswith("it has high impact capabilities")
    assert [(h.number, h.title) for h in parse_text(text).headings()] == [
        (h.number, h.title) for h in doc.headings()
    ]


def test_markdown_blocks():
    md = """# Title of the page

Intro paragraph that is
wrapped over two lines with **bold**, *emphasis*, __strong__ and a [link](https://example.com/x).

## Measure 1.2 Providing relevant information

#### Commitment II.1: Safety and Security Framework

**Commitment 3 Systemic risk analysis**

- first item
  continued here
- second item
  - nested item
* star item

1. numbered
(a) lettered point [Footnote: See Article 75(1) AI Act.]

---

| Term | Meaning |
|------|:-------:|
| FLOP | floating point |

Plain paragraph.
"""
    doc = extract_plain(md)
    assert doc.title == "Title of the page"
    assert doc.to_text() == (
        "# Title of the page\n\n"
        "Intro paragraph that is wrapped over two lines with bold, emphasis, strong and a link.\n\n"
        "#### Measure 1.2 Providing relevant information\n\n"
        "### Commitment II.1: Safety and Security Framework\n\n"
        "### Commitment 3 Systemic risk analysis\n\n"
        "- first item continued here\n\n- second item\n\n  - nested item\n\n- star item\n\n"
        "1. numbered\n\n(a) lettered point [Footnote: See Article 75(1) AI Act.]\n\n"
        "| Term | Meaning |\n| FLOP | floating point |\n\n"
        "Plain paragraph.\n"
    )
    heads = doc.headings()
    assert [(h.number, h.title, h.level) for h in heads[1:]] == [
        ("Measure 1.2", "Providing relevant information", 4),
        ("Commitment II.1", "Safety and Security Framework", 3),
        ("Commitment 3", "Systemic risk analysis", 3),
    ]
    assert heads[0].level == 1 and heads[0].number is None


def test_plain_text_dump_headings():
    text = """CHAPTER V

GENERAL-PURPOSE AI MODELS

Article 53
Obligations for providers of general-purpose AI models

1. Providers of general-purpose AI models shall:

(a) draw up and keep up-to-date the technical documentation of the model, in accordance
with Article 53 and the docu-
mentation rules;

Article 54

1. Prior to placing a model on the market ...

This sentence mentions
Article 55 AI Act.

Commitment 1 Safety and Security Framework

LEGAL TEXT: Articles 55(1) and 56(5)
"""
    doc = extract_plain(text + "\nThe documentation is kept.\n")
    heads = [(h.text, h.level) for h in doc.headings()]
    assert heads == [
        ("CHAPTER V — GENERAL-PURPOSE AI MODELS", 1),
        ("Article 53 — Obligations for providers of general-purpose AI models", 3),
        ("Article 54", 3),
        ("Commitment 1 Safety and Security Framework", 3),
    ]
    items = [b for b in doc.blocks if b.kind == "list_item"]
    assert items[1].marker == "(a)"
    assert items[1].text.endswith("in accordance with Article 53 and the documentation rules;")
    assert any(b.text == "This sentence mentions Article 55 AI Act." for b in doc.blocks)


def test_hyphen_kept_when_word_unknown():
    doc = extract_plain("keep the state-of-\nthe-art text")
    assert doc.blocks[0].text == "keep the state-of-the-art text"


def test_empty_text():
    assert extract_plain("").blocks == []
    assert extract_plain("\n\n   \n").blocks == []


def test_heading_wrapped_over_two_lines():
    text = "Intro.\n\nCommitment 10 Additional documentation and\ntransparency\n\nBody text.\n"
    heads = extract_plain(text).headings()
    assert [(h.number, h.title) for h in heads] == [
        ("Commitment 10", "Additional documentation and transparency")
    ]
