"""Plain text / Markdown extraction: the AI Act GPAI provisions and synthetic texts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.extract.plain import _Parser, extract_plain
from store.numbering import _match, match_heading
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


def test_headings_inside_chunks_of_a_pdf_text_dump():
    """A pdf text layer often has no blank line around a heading: a titled heading line after
    a sentence end (closing quotes included), a page number or a list item, followed by a line
    that starts a sentence, is a heading; prose that merely starts with a number is not."""
    text = """[page 12]
Article 53(7) AI Act: “Any information shall be treated in accordance with Article 78.”
Commitment 1. Documentation
In order to fulfil the obligations in Article 53(1), Signatories commit to the Measures below.
Measure 1.1. Drawing up the relevant information
Signatories commit to drawing up the information listed in Table 1.
• KPI 1.1.1: Documentation of the information. This KPI does not apply to SMEs.
Measure 1.2: Publish a summary of the policy
In order to provide public transparency, Signatories commit to publishing it.
33
Commitment 4. Safety and Security Framework
Signatories commit to adopting a Framework. They report it.
Article 56 AI Act states that the Code will include the identification of the type and
nature of the systemic risks.
Commitment 2. Copyright policy ............................................ 21
Commitment 3. Taxonomy ..................................................... 29
Risk tiers are described below.
Commitment 11—12), describe the mitigations implemented. Consistent with
the framework, they act.
"""
    doc = extract_plain(text)
    assert [h.text for h in doc.headings()] == [
        "Commitment 1. Documentation",
        "Measure 1.1. Drawing up the relevant information",
        "Measure 1.2: Publish a summary of the policy",
        "Commitment 4. Safety and Security Framework",
    ]
    prose = " ".join(b.text for b in doc.blocks if b.kind == "paragraph")
    assert "report it. Article 56 AI Act states that the Code will include the identification" in prose
    assert "Commitment 2. Copyright policy" in prose and "Commitment 11—12), describe" in prose


def test_multi_level_numbered_headings_and_footnote_digits_in_a_text_dump():
    """A text dump drops the bold font that marks "3.1. Considerations ..." as a heading: its
    multi-level number between two sentences says so; "3. The provider ..." stays a point,
    and a sentence ending in a footnote digit ("Signatory.7") still ends before a heading."""
    text = """Signatories commit to drawing from the elements of this taxonomy.
3.1. Considerations for the identification of systemic risks
The following considerations were used to identify the systemic risks.
• KPI 2.8.1: Information made public on the website of the Signatory.7
Measure 2.9: Prevent copyright-related overfitting
Signatories commit to making best efforts.

2.1 Scope

3.2. The provider shall notify the Commission.

1.5 million euro shall be paid
"""
    doc = extract_plain(text)
    assert [(h.number, h.title) for h in doc.headings()] == [
        ("3.1", "Considerations for the identification of systemic risks"),
        ("Measure 2.9", "Prevent copyright-related overfitting"),
        ("2.1", "Scope"),
    ]
    texts = [b.text for b in doc.blocks]
    assert "3.2. The provider shall notify the Commission." in texts
    assert "1.5 million euro shall be paid" in texts
    assert any(t.endswith("website of the Signatory.7") for t in texts)


def test_table_of_contents_lines_are_not_headings():
    doc = extract_plain("Contents\n\nCommitment 1. Documentation ........ 12\n\nMeasure 1.1 Drawing up … 13\n\n"
                        "## Commitment 1. Documentation\n\nText.\n")
    assert [h.text for h in doc.headings()] == ["Commitment 1. Documentation"]


def test_page_marks_numbers_and_running_headers_of_a_text_dump_are_dropped():
    pages = []
    for n in range(1, 6):
        pages.append(f"[page {n}]\n DRAFT DOCUMENT  \n \n{n} \nProviders shall keep the logs of page {n} for\n")
        pages.append(f"six months.\n\nThe {n} providers report to the AI Office.\n")
    doc = extract_plain("".join(pages))
    texts = [b.text for b in doc.blocks]
    assert not any("DRAFT DOCUMENT" in t or "[page" in t for t in texts)
    # The page number went, a number inside the text stayed; the paragraph cut by the page
    # break is joined again.
    assert "Providers shall keep the logs of page 3 for six months." in texts
    assert "The 3 providers report to the AI Office." in texts
    assert not any(t.strip().isdigit() for t in texts)


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


# Lines of every kind the parser tells apart, for the properties below.
_NUMBERS = ["Article 53", "ARTICLE 5a", "Commitment II.1", "Commitment 3", "Measure 1.2", "Measure II.1.3", "Section 2.1",
            "Appendix 1.4", "ANNEX XI", "CHAPTER V", "Part 2", "Title III", "II.", "L.", "C.", "2.1", "3", "2.5"]
_TITLES = ["", " Safety and Security Framework", " — Obligations", ": Scope", ". Definitions;", " 2024", " and",
           " Risk analysis and", " includes the model", " Million per year"]
_WORDS = ["the", "provider", "shall", "docu-", "mentation", "documentation", "up-", "to-date", "**bold**", "*em*", "_u_",
          "[link](https://x.y/z)", "`code`", "Article", "53(1),", "(a)", "|", "—", "\u00a0", "\t", "  ", "é", "▼B"]
_number_line = st.tuples(st.sampled_from(_NUMBERS), st.sampled_from(_TITLES)).map("".join)
_prose = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8).map(" ".join)
_line = st.one_of(
    _number_line,
    st.tuples(st.sampled_from(["#", "##", "###", "#######", "**", "*"]), st.sampled_from([" ", ""]), _number_line).map("".join),
    st.tuples(st.sampled_from(["(a) ", "a) ", "(iv) ", "1. ", "12) ", "- ", "* ", "• ", "  - ", "    (b) ", "1.2 "]), _prose).map("".join),
    st.tuples(st.sampled_from(["", "The ", "Providers ", "lower ", "and ", " ", "[page 3] "]), _prose,
              st.sampled_from(["", ".", ";", ":", "-", " and"])).map("".join),
    st.sampled_from(["   ", "---", "***", "| a | b |", "|---|---|", "| --- |", "Article 53", "Obligations of providers"]),
)
# Lines with the line break after them: mostly one-line chunks, as in a long text.
_text = st.lists(st.tuples(_line, st.sampled_from(["\n", "\n\n", "\n\n", "\n \n"])).map("".join), max_size=25).map("".join)


@settings(max_examples=1000, deadline=None)
@given(_text)
def test_one_line_chunks_parse_as_the_line_parser_does(text):
    """The fast path for one-line chunks gives exactly what the general line parser gives."""
    fast = _Parser(text).parse()
    general = _Parser(text)
    general._one_line_chunk = lambda line: False
    assert fast == general.parse()


def test_heading_first_test_rules_out_no_heading():
    """match_heading's cheap first test only rules out texts its patterns would reject."""
    for number in _NUMBERS:
        for title in _TITLES:
            for text in (number + title, f" {number}{title}", f"\u00a0{number}\t{title} ", number.lower() + title):
                for styled in (True, False):
                    assert match_heading(text, styled=styled) == _match(text, styled), text
