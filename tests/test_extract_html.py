"""HTML extraction: the Third Draft web edition from the corpus and synthetic pages."""

from __future__ import annotations

import re
import time

import pytest

from crawler.extract.errors import ExtractionError
from crawler.extract.html import extract_html
from crawler.extract.plain import extract_plain
from store.records import parse_text

THIRD_DRAFT_HTML = "gpai-cop-full/third-draft-2025-03-11.code-of-practice-ai.html"
THIRD_DRAFT_SAFETY_MD = "gpai-cop-safety-security/third-draft-2025-03-11.md"

# Commitments listed in the Summary tab (checked against the file).
COMMITMENTS = {
    "Commitment I.1": "Documentation",
    "Commitment I.2": "Copyright policy",
    "Commitment II.1": "Safety and Security Framework",
    "Commitment II.2": "Systemic risk assessment and mitigation along the entire model lifecycle, including during model development",
    "Commitment II.3": "Systemic risk identification",
    "Commitment II.4": "Systemic risk analysis",
    "Commitment II.5": "Systemic risk acceptance determination",
    "Commitment II.6": "Safety mitigations",
    "Commitment II.7": "Security mitigations",
    "Commitment II.8": "Safety and Security Model Reports",
    "Commitment II.9": "Adequacy assessments",
    "Commitment II.10": "Systemic risk responsibility allocation",
    "Commitment II.11": "Independent external assessors",
    "Commitment II.12": "Serious incident reporting",
    "Commitment II.13": "Non-retaliation protections",
    "Commitment II.14": "Notifications",
    "Commitment II.15": "Documentation",
    "Commitment II.16": "Public transparency",
}
# Measures per commitment in the chapters (II.13 has none).
MEASURE_COUNTS = {
    "I.1": 3, "I.2": 6, "II.1": 5, "II.2": 2, "II.3": 2, "II.4": 14, "II.5": 3, "II.6": 3,
    "II.7": 8, "II.8": 7, "II.9": 3, "II.10": 3, "II.11": 2, "II.12": 4, "II.14": 4,
    "II.15": 1, "II.16": 1,
}  # fmt: skip
MEASURE_TITLES = {
    "Measure I.1.1": "Drawing up and keeping up-to-date model documentation",
    "Measure I.2.6": "Designate a point of contact and enable the lodging of complaints",
    "Measure II.1.2": "Systemic risk acceptance criteria",
    "Measure II.3.1": "Systemic risk selection",  # printed without a dot after the number
    "Measure II.4.14": "Post-market monitoring",
    "Measure II.8.6": "Specification of intended model behaviour",
    "Measure II.16.1": "Publication of Frameworks and Model Reports (or similar documents)",
}


@pytest.fixture(scope="module")
def third_draft(corpus):
    text = (corpus / THIRD_DRAFT_HTML).read_text(encoding="utf-8")
    start = time.perf_counter()
    doc = extract_html(text)
    elapsed = time.perf_counter() - start
    return doc, elapsed


def _expected_measures() -> set[str]:
    return {f"Measure {c}.{i}" for c, n in MEASURE_COUNTS.items() for i in range(1, n + 1)}


@pytest.mark.corpus
def test_third_draft_commitments_and_measures(third_draft):
    doc, elapsed = third_draft
    assert elapsed < 3.0
    assert doc.title == "EU AI Act: General-Purpose AI Code of Practice · Draft 3"
    headings = doc.headings()
    by_number: dict[str, list] = {}
    for h in headings:
        if h.number:
            by_number.setdefault(h.number, []).append(h)
    for number, title in COMMITMENTS.items():
        assert number in by_number, number
        assert all(h.title == title and h.level == 3 for h in by_number[number])
    # Each I.x / II.x commitment is in the Summary tab and again in its chapter.
    assert all(len(by_number[n]) == 2 for n in COMMITMENTS)
    measures = {n for n in by_number if n.startswith("Measure ")}
    assert measures == _expected_measures()
    for number, title in MEASURE_TITLES.items():
        assert [h.title for h in by_number[number]] == [title]
    assert all(h.level == 4 for n in measures for h in by_number[n])
    # Measures come after their commitment, in order, and sit deeper than it.
    current = None
    for h in headings:
        if h.number and h.number.startswith("Commitment "):
            current = h
        elif h.number and h.number.startswith("Measure "):
            assert current is not None
            assert h.number.removeprefix("Measure ").startswith(current.number.removeprefix("Commitment ") + ".")
            assert h.level > current.level


@pytest.mark.corpus
def test_third_draft_boilerplate_gone_text_kept(third_draft):
    doc, _ = third_draft
    text = doc.to_text()
    for chrome in ("Table of Contents", "Change theme", "Toggle boxes", "To top", "Navigate",
                   "Skip to main content", "TRANSPARENCY", "Toggle navigation"):
        assert chrome not in text, chrome
    assert "[Footnote: See Article 75(1) and (3) AI Act and Article 88(2) AI Act.]" in text
    assert "#### LEGAL TEXT" in text
    assert "## Safety and Security Section Glossary" not in text  # h2 is level 1
    assert "# Safety and Security Section Glossary" in text
    assert text.count("- Working Group 1: Transparency and copyright-related rules") == 1
    # The normalised text parses back into the same headings.
    assert [(h.number, h.title) for h in parse_text(text).headings()] == [
        (h.number, h.title) for h in doc.headings()
    ]


@pytest.mark.corpus
def test_third_draft_html_and_markdown_agree(corpus, third_draft):
    doc, _ = third_draft
    md = extract_plain((corpus / THIRD_DRAFT_SAFETY_MD).read_text(encoding="utf-8"))

    def numbered(d):
        return [
            (h.number, h.title)
            for h in d.headings()
            if h.number and re.match(r"(Commitment|Measure) II\.", h.number)
        ]

    html_safety = numbered(doc)[16:]  # skip the Summary tab's list of II.x commitments
    assert html_safety == numbered(md)
    assert len(html_safety) == 16 + sum(n for c, n in MEASURE_COUNTS.items() if c.startswith("II."))


# --- synthetic pages ----------------------------------------------------------------------

EURLEX = """<html><head><title> Regulation (EU) 2024/1689 - EUR-Lex </title></head><body>
<div class="eli-container">
<p class="oj-ti-section-1">CHAPTER V</p>
<p class="oj-ti-section-2">GENERAL-PURPOSE AI MODELS</p>
<div class="eli-subdivision" id="art_51">
<p class="oj-ti-art">Article 51</p>
<div class="eli-title"><p class="oj-sti-art">Classification of general-purpose AI models as
general-purpose AI models with systemic risk</p></div>
<div id="051.001"><p class="oj-normal">1.&nbsp;&nbsp;&nbsp;A general-purpose AI model shall be classified
as a general-purpose AI model with systemic risk if it meets any of the following conditions:</p>
<table width="100%" border="0"><col width="4%"/><col width="96%"/><tbody><tr>
<td valign="top"><p class="oj-normal">(a)</p></td>
<td valign="top"><p class="oj-normal">it has high impact capabilities evaluated on the basis of
appropriate technical tools and methodologies, including indicators and benchmarks;</p></td>
</tr></tbody></table>
<table width="100%" border="0"><col width="4%"/><col width="96%"/><tbody><tr>
<td valign="top"><p class="oj-normal">(b)</p></td>
<td valign="top"><p class="oj-normal">based on a decision of the Commission, it has capabilities
having regard to the criteria set out in Annex XIII: </p>
<table width="100%" border="0"><tbody><tr><td><p class="oj-normal">(i)</p></td>
<td><p class="oj-normal">first sub-point; and</p></td></tr></tbody></table></td>
</tr></tbody></table></div>
<div id="051.002"><p class="oj-normal">2.&nbsp;&nbsp;&nbsp;A general-purpose AI model shall be presumed
to have high impact capabilities when the cumulative amount of computation used for its training
is greater than 10<sup>25</sup>.</p></div>
<div id="051.003"><p class="oj-normal">3.&nbsp;&nbsp;&nbsp;The Commission shall adopt delegated acts in
accordance with Article 97<a id="ntc1-L_2024" href="#ntr1-L_2024">(<span class="oj-super oj-note-tag">1</span>)</a>.</p></div>
</div></div>
<hr class="oj-note">
<p class="oj-note"><a id="ntr1-L_2024" href="#ntc1-L_2024">(<span class="oj-super">1</span>)</a>
Regulation (EU) No 182/2011 of the European Parliament and of the Council.</p>
</body></html>"""

EURLEX_TEXT = """\
# CHAPTER V — GENERAL-PURPOSE AI MODELS

### Article 51 — Classification of general-purpose AI models as general-purpose AI models with systemic risk

1. A general-purpose AI model shall be classified as a general-purpose AI model with systemic risk if it meets any of the following conditions:

(a) it has high impact capabilities evaluated on the basis of appropriate technical tools and methodologies, including indicators and benchmarks;

(b) based on a decision of the Commission, it has capabilities having regard to the criteria set out in Annex XIII:

  (i) first sub-point; and

2. A general-purpose AI model shall be presumed to have high impact capabilities when the cumulative amount of computation used for its training is greater than 10^25.

3. The Commission shall adopt delegated acts in accordance with Article 97[^1].

[^1]: Regulation (EU) No 182/2011 of the European Parliament and of the Council.
"""


def test_eurlex_fragment_exact_text():
    doc = extract_html(EURLEX)
    assert doc.to_text() == EURLEX_TEXT
    assert doc.title == "Regulation (EU) 2024/1689 - EUR-Lex"
    art = doc.headings()[1]
    assert (art.number, art.level) == ("Article 51", 3)
    assert art.title.startswith("Classification of general-purpose AI models")
    assert [b.kind for b in doc.blocks[-3:]] == ["list_item", "list_item", "footnote"]
    assert doc.blocks[-1].marker == "1"


def test_eurlex_new_format_and_annex():
    html = """<body><p class="title-article-norm">Article 53</p>
    <p class="stitle-article-norm">Obligations for providers of general-purpose AI models</p>
    <p class="norm">1. Providers of general-purpose AI models shall:</p>
    <p class="title-annex-1">ANNEX XI</p><p class="title-annex-2">Technical documentation</p>
    <p>Article 53</p><p>1. Not a title.</p></body>"""
    heads = extract_html(html).headings()
    assert [h.text for h in heads] == [
        "Article 53 — Obligations for providers of general-purpose AI models",
        "ANNEX XI — Technical documentation",
        "Article 53",
    ]
    assert [h.level for h in heads] == [3, 1, 3]


PAGE = """<!doctype html><html><head><title>Guidance page</title>
<script>var leaked = "script text";</script><style>p { color: red }</style></head>
<body><a class="skip" href="#c">Skip to content</a>
<header><nav><a href="/">Home</a></nav><p>Site banner text</p></header>
<div id="cookie-notice" class="banner"><p>We use cookies</p><button>Accept</button></div>
<div role="search"><p>Search this site</p></div>
<main id="c"><h1>Guidelines</h1><!-- an HTML comment -->
<div class="intro">Bare text <em>with</em> inline<br>break <div>nested block</div> tail text</div>
<p hidden>hidden text</p><p style="color:red; display: none">invisible</p>
<span aria-hidden="true">icon</span>
<h3>Scope</h3><h4>LEGAL TEXT</h4><h2>3.1 Numbered section</h2>
<p>Model with 10<sup>25</sup> FLOP and a call<sup><a href="#fn1">1</a></sup> here,
a bare call<sup>2</sup> and H<sub>2</sub>O.</p>
<p><strong>Commitment 2 Copyright policy</strong></p>
<pre>  keep   this
   text</pre>
<noscript>Enable JavaScript</noscript>
<section class="footnotes"><ol><li id="fn1"><p>The first note.
<a href="#fnref1" class="footnote-back">↩</a></p></li><li id="fn2">Second note.</li></ol></section>
</main>
<aside><p>Related links</p></aside>
<footer><p>Contact us</p></footer></body></html>"""


def test_boilerplate_removed_around_main():
    doc = extract_html(PAGE)
    assert doc.title == "Guidance page"
    assert doc.to_text() == (
        "# Guidelines\n\n"
        "Bare text with inline break\n\nnested block\n\ntail text\n\n"
        "## Scope\n\n#### LEGAL TEXT\n\n### 3.1 Numbered section\n\n"
        "Model with 10^25 FLOP and a call[^1] here, a bare call[^2] and H2O.\n\n"
        "### Commitment 2 Copyright policy\n\n"
        "keep this text\n\n"
        "[^1]: The first note.\n\n[^2]: Second note.\n"
    )
    bold = doc.headings()[-1]
    assert (bold.number, bold.title) == ("Commitment 2", "Copyright policy")


def test_selector_and_exclude():
    html = """<body><div class="menu"><p>Menu</p></div>
    <div class="doc"><p>First part</p><div class="doc"><p>Inner part</p></div>
    <p class="ad">Advert</p></div><p>Between</p><div class="doc"><p>Second part</p></div></body>"""
    doc = extract_html(html, selector=".doc", exclude=[".ad"])
    assert [b.text for b in doc.blocks] == ["First part", "Inner part", "Second part"]
    doc = extract_html(html, exclude=[".menu", ".doc"])
    assert [b.text for b in doc.blocks] == ["Between"]


def test_selector_keeps_chrome_it_names():
    html = "<body><aside id='notice'><p>The notice text</p></aside><p>other</p></body>"
    assert extract_html(html, selector="#notice").to_text() == "The notice text\n"


def test_selector_matching_nothing_is_a_selector_error():
    with pytest.raises(ExtractionError) as err:
        extract_html("<body><p>text</p></body>", selector="#content")
    assert err.value.kind == "selector"
    assert "'#content' matched nothing" in str(err.value)
    with pytest.raises(ExtractionError) as err:
        extract_html("<body><p>x</p></body>", selector="#x", exclude=["#x"])
    assert err.value.kind == "selector"
    with pytest.raises(ExtractionError) as err:
        extract_html("<body><p>x</p></body>", selector="p[")
    assert err.value.kind == "selector"


def test_malformed_and_empty_html():
    html = "<html><body><div><p>One <b>bold <i>nest</b> end</i><p>Two</div></div><li>stray</span><table><tr><td>A<td>B"
    text = extract_html(html).to_text()
    for part in ("One bold nest end", "Two", "stray", "| A | B |"):
        assert part in text
    assert extract_html("").blocks == []
    assert extract_html("<html><body><script>x()</script><style>a{}</style></body></html>").blocks == []
    assert extract_html("<html><head><title>T</title></head><body></body></html>").title == "T"


def test_nested_lists_and_markers():
    html = """<main><ol type="a"><li>first<ul><li>sub one</li><li>(i) sub two
    <ol><li>deep</li></ol></li></ul></li><li><p>para one</p><p>para two</p></li></ol>
    <ol start="3"><li>three</li><li value="7">seven</li><li>eight</li></ol>
    <ol type="i"><li>r1</li><li>r2</li><li>r3</li><li>r4</li></ol>
    <ul><li>• already bulleted</li><li>(c) own marker</li></ul></main>"""
    assert extract_html(html).to_text() == (
        "(a) first\n\n  - sub one\n\n  (i) sub two\n\n    1. deep\n\n(b) para one para two\n\n"
        "3. three\n\n7. seven\n\n8. eight\n\n(i) r1\n\n(ii) r2\n\n(iii) r3\n\n(iv) r4\n\n"
        "- already bulleted\n\n(c) own marker\n"
    )


def test_tables():
    html = """<main><table><thead><tr><th>Term</th><th>Meaning</th></tr></thead>
    <tr><td> </td><td></td></tr><tr><td>FLOP</td><td>floating | point <b>operation</b></td></tr></table>
    <table><tr><td><h2>Layout heading</h2><p>Layout text</p></td></tr></table>
    <table><tr><td>—</td><td>dash point</td></tr><tr><td>•</td><td>bullet point</td></tr></table></main>"""
    doc = extract_html(html)
    table = doc.blocks[0]
    assert table.kind == "table"
    assert table.rows == (("Term", "Meaning"), ("FLOP", "floating | point operation"))
    assert doc.to_text() == (
        "| Term | Meaning |\n| FLOP | floating \\| point operation |\n\n"
        "# Layout heading\n\nLayout text\n\n- dash point\n\n- bullet point\n"
    )


def test_root_choice_and_title_fallback():
    html = """<body><div>outside</div><div role="main"><h1>Main title</h1><p>inside</p></div></body>"""
    doc = extract_html(html)
    assert doc.title == "Main title"
    assert doc.to_text() == "# Main title\n\ninside\n"
    two_articles = "<body><article><p>a</p></article><article><p>b</p></article><p>c</p></body>"
    assert extract_html(two_articles).to_text() == "a\n\nb\n\nc\n"
    one_article = "<body><article><header><h1>T</h1></header><p>a</p></article><p>c</p></body>"
    assert extract_html(one_article).to_text() == "# T\n\na\n"
