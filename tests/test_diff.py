"""The diff engine: cases, the demo pair against its documented changes, HTML vs PDF, size."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.extract import extract, sniff
from store.numbering import split_heading
from tracker import wordiff
from tracker.diff import diff_texts
from tracker.wordiff import diff_words, new_of, old_of

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "diff.yaml").read_text(encoding="utf-8"))
DEMO = Path(__file__).resolve().parents[1] / "tracker" / "demo" / "data"


def text_of(path: Path) -> str:
    body = path.read_bytes()
    doc, _ = extract(body, sniff(body, None))
    return doc.to_text()


def edits_text(hunk, op: int) -> list[str]:
    return [t.strip() for o, t in hunk.edits if o == op]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case):
    change = diff_texts(case["a"], case["b"])
    if "hunks" in case:
        assert len(change.hunks) == case["hunks"], [h.to_json() for h in change.hunks]
    for exp in case.get("expect", []):
        matching = [
            h for h in change.hunks
            if h.kind == exp["kind"] and h.classification == exp["classification"]
            and set(exp.get("flags", [])) <= set(h.flags)
            and all(w in " ".join(edits_text(h, -1)) for w in exp.get("deleted", []))
            and all(w in " ".join(edits_text(h, 1)) for w in exp.get("inserted", []))
        ]
        assert matching, (exp, [h.to_json() for h in change.hunks])
    for flag in case.get("absent", []):
        assert all(flag not in h.flags for h in change.hunks)
    for h in change.hunks:  # every hunk's edits rebuild its two texts
        assert old_of(h.edits) == h.old_text and new_of(h.edits) == h.new_text


def _find(change, path_end: str):
    return [h for h in change.hunks if (h.new_path[-1:] or h.old_path[-1:]) == [path_end]]


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_demo_revision_is_described_as_its_changes_md_says(fmt):
    """tracker/demo/data/CHANGES.md lists what changed from the first draft to the final."""
    change = diff_texts(text_of(DEMO / "v1" / f"code.{fmt}"), text_of(DEMO / "v2" / f"code.{fmt}"))
    by_new = {s.new: s for s in change.sections if s.new}
    flags: dict[str, set] = {}
    for h in change.hunks:
        if h.new_path:
            number = split_heading(h.new_path[-1])[0]
            flags.setdefault(number, set()).update(h.flags)
    # 1. should -> shall (Measure 1.2); 2. 15 -> 10 days (2.2); 3. 10^24 -> 10^25 (1.1); 9. actor (2.3)
    assert "modal" in flags["Measure 1.2"]
    assert "duration" in flags["Measure 2.2"]
    assert "threshold" in flags["Measure 1.1"]
    assert "actor" in flags["Measure 2.3"]
    # 4. Measure 2.4 added; 5. Measure 1.4 removed
    assert by_new["Measure 2.4. Incident drills"].status == "added"
    assert any(s.status == "removed" and s.old.startswith("Measure 1.4") for s in change.sections)
    # 6. Commitment 4 -> 3 and its measures 4.x -> 3.x renumbered, text kept; Measure 3.1 -> 2.5
    assert by_new["Commitment 3. Public transparency"].old == "Commitment 4. Public transparency"
    assert by_new["Commitment 3. Public transparency"].status == "renumbered"
    assert by_new["Measure 3.1. Publishing a model card"].old.startswith("Measure 4.1")
    assert by_new["Measure 2.5. Single point of contact"].old.startswith("Measure 3.1")
    # 7. editorial rewording (Measure 1.3) is not substantive; 8. cosmetic heading case
    m13 = [h for h in change.hunks if h.new_path and h.new_path[-1].startswith("Measure 1.3")]
    assert m13 and all(h.classification == "editorial" for h in m13)
    c2 = [h for h in change.hunks if h.new_path and h.new_path[-1].startswith("Commitment 2") and h.kind == "modified"]
    assert c2 and c2[0].classification == "cosmetic"
    # Renumbering alone is never substantive.
    assert all(h.classification != "substantive" for h in change.hunks if h.kind == "renumbered")


def test_same_document_as_pdf_and_html_has_no_substantive_hunk():
    for version in ("v1", "v2"):
        change = diff_texts(text_of(DEMO / version / "code.html"), text_of(DEMO / version / "code.pdf"))
        substantive = [h.to_json() for h in change.hunks if h.classification == "substantive"
                       and h.new_path]  # the title block (preamble) differs by its site chrome
        assert not substantive, substantive


RENDERINGS = Path(__file__).parent / "data" / "renderings"


def test_same_draft_as_html_page_and_as_printed_pdf_differs_only_cosmetically():
    """A real draft (the third draft's Safety and Security section) as an HTML page and as
    Chromium printed it (tests/data/renderings/make.py): its unnumbered headings are bold
    body-size lines in the PDF, its inline points wrap onto lines of their own, a running
    header follows hyphenated words; none of that is a change of content."""
    html_text = text_of(RENDERINGS / "safety-security-third-draft.html")
    pdf_text = text_of(RENDERINGS / "safety-security-third-draft.pdf")
    assert "Third draft safety-security" not in pdf_text  # the running header, after "fine-"
    assert "and its effects. Potential material" not in pdf_text  # a bold line after a full stop
    change = diff_texts(html_text, pdf_text)
    assert change.hunks  # the headings set as plain lines
    assert [h.to_json() for h in change.hunks if h.classification != "cosmetic" or h.kind != "modified"] == []


def test_large_input_gives_a_minimal_diff_not_delete_all():
    rng = random.Random(7)
    words = ["the", "provider", "shall", "ensure", "that", "documentation", "is", "kept", "up", "to", "date", "within", "days"]
    paragraph = " ".join(rng.choice(words) for _ in range(40_000))  # ~250 KB, one paragraph
    changed = paragraph.replace(" within ", " before ", 1)
    edits = diff_words(paragraph, changed)
    assert [t for op, t in edits if op == -1] == ["within"]
    assert [t for op, t in edits if op == 1] == ["before"]


def test_large_document_of_many_sections():
    sections = [f"### Article {i} — Title {i}\n\n" + f"Paragraph {i} says providers shall act within {i} days." for i in range(1, 3000)]
    a = "\n\n".join(sections)
    b = a.replace("within 1500 days", "within 15 days")
    change = diff_texts(a, b)
    assert len(change.hunks) == 1 and change.hunks[0].flags.get("duration")
    # 2,998 untouched articles and the (empty) preamble
    assert sum(1 for s in change.sections if s.status == "unchanged") == 2999


def test_large_rewritten_section_diffs_fast_and_minimal():
    """A long section rewritten throughout (a draft's chapter against its next draft) took the
    pure-Python diff minutes; the C++ build must be the one used, and still give the minimal diff."""
    if wordiff._fast is None:
        pytest.skip("fast-diff-match-patch not installed")
    rng = random.Random(3)
    vocab = [f"w{k}" for k in range(400)]
    old = " ".join(rng.choice(vocab) for _ in range(30_000))
    words = old.split(" ")
    for k in range(0, len(words), 7):  # one word in seven replaced: thousands of edits
        words[k] = "changed"
    new = " ".join(words)
    edits = diff_words(old, new)
    assert old_of(edits) == old and new_of(edits) == new
    inserted = [t for op, t in edits if op == 1]
    assert sum(t.count("changed") for t in inserted) == sum(1 for w in old.split(" ")[::7] if w != "changed")


_piece = st.sampled_from(list("ab c.,\n-–“”\"'10") + ["shall ", "days ", "\n\n", "### Article 1\n\n", "(a) "])
_text = st.lists(_piece, max_size=80).map("".join)


@settings(max_examples=150, deadline=None)
@given(_text, _text)
def test_edits_rebuild_both_texts(a, b):
    edits = diff_words(a, b)
    assert old_of(edits) == a and new_of(edits) == b
    change = diff_texts(a, b)
    for h in change.hunks:
        assert old_of(h.edits) == h.old_text and new_of(h.edits) == h.new_text


_words = st.lists(st.sampled_from(["shall", "may", "the", "AI", "Office", "14,000", "$9.00", " ", "  ", "\n\n",
                                   ".", ",", "(a)", "days", "not", "Commission", "—"]), max_size=60).map("".join)


@settings(max_examples=200, deadline=None)
@given(_words, _words)
def test_accelerated_and_pure_python_engines_give_the_same_edits(a, b):
    if wordiff._fast is None:
        pytest.skip("fast-diff-match-patch not installed")
    assert diff_words(a, b) == diff_words(a, b, accelerated=False)


def _html_text(html: bytes, declared: str | None = None) -> str:
    doc, _ = extract(html, sniff(html, declared), content_type_header=declared)
    return doc.to_text()


def test_link_only_change_is_not_a_text_change():
    page = '<html><body><main><h2>Article 1</h2><p>See the <a href="{}">guidelines</a> for details.</p></main></body></html>'
    a = _html_text(page.format("https://example.eu/v1/guidelines").encode())
    b = _html_text(page.format("https://example.eu/v2/guidelines?ref=x").encode())
    assert diff_texts(a, b).hunks == []


def test_same_text_in_two_encodings_has_no_hunks():
    page = "<html><body><main><h2>Article 1</h2><p>Die Anbieter müssen die Dokumentation führen.</p></main></body></html>"
    utf8 = _html_text(page.encode("utf-8"), "text/html; charset=utf-8")
    latin1 = _html_text(page.encode("latin-1"), "text/html; charset=iso-8859-1")
    undeclared = _html_text(page.encode("latin-1"))
    assert diff_texts(utf8, latin1).hunks == [] and diff_texts(utf8, undeclared).hunks == []


def test_amended_regulation_one_substantive_change_and_restyled_headings(corpus):
    """The corpus AI Act provisions against an 'amended' rendering of them: Article 52(1)'s
    deadline changed, and every heading restyled as another publisher prints it."""
    import re

    from crawler.extract.plain import extract_plain

    source = (corpus / "ai-act" / "oj-2024-07-12.gpai-provisions.md").read_text(encoding="utf-8")
    amended = source.replace("within two weeks after that requirement", "within 10 days after that requirement")
    assert amended != source
    # Another rendering: "## Article 52" / "### Procedure" become one upper-case heading line.
    amended = re.sub(r"(?m)^## (Article \d+)\n\n### (.+)$", lambda m: f"## {m.group(1).upper()} — {m.group(2)}", amended)
    change = diff_texts(extract_plain(source).to_text(), extract_plain(amended).to_text())
    substantive = [h for h in change.hunks if h.classification == "substantive"]
    assert len(substantive) == 1, [h.to_json() for h in substantive]
    assert "duration" in substantive[0].flags and "Article 52" in " ".join(substantive[0].new_path).title()
    assert all(h.classification == "cosmetic" for h in change.hunks if h is not substantive[0])


def test_same_input_gives_the_same_diff_in_every_process():
    """Ties between equally similar candidates (a removed paragraph, two edited copies of it
    elsewhere) were broken by hash-set order, which changes with PYTHONHASHSEED."""
    import json
    import os
    import subprocess
    import sys

    old_parts, new_parts = [], []
    for k in range(8):
        para = f"Providers of group {k} shall keep the logs of the system for at least six months and report them."
        old_parts += [f"### Article {k}1 — Logs {k}", para, f"### Article {k}2 — Other {k}", "Plain text here.",
                      f"### Article {k}3 — More {k}", "Other plain text."]
        new_parts += [f"### Article {k}1 — Logs {k}", f"### Article {k}2 — Other {k}", "Plain text here.",
                      para.replace("keep", "store"), f"### Article {k}3 — More {k}", "Other plain text.",
                      para.replace("logs", "records")]
    code = ("import json, sys; from tracker.diff import diff_texts; "
            "c = diff_texts(sys.argv[1], sys.argv[2]); print(json.dumps(c.to_json()))")
    outputs = set()
    for seed in ("1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code, "\n\n".join(old_parts), "\n\n".join(new_parts)],
                              env=env, capture_output=True, text=True, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1
    moved = [h for h in json.loads(outputs.pop())["hunks"] if h["kind"] == "moved"]
    assert len(moved) == 8


def _rows(change):
    return {(r.old, r.new): r.status for r in change.sections}


def test_section_redrafted_in_place_is_paired_not_removed_and_added():
    """Between sections that kept their place, a commitment retitled and redrafted (few
    shingles in common, a third of its title words) is that commitment changed."""
    keep1 = "### Commitment 1 — Safety framework\n\nSignatories shall adopt a framework and keep it up to date every year."
    keep3 = "### Commitment 3 — Serious incidents\n\nSignatories shall report serious incidents to the AI Office without delay."
    old = "\n\n".join([keep1, "### Commitment 2 — Documentation\n\nSignatories shall document information "
                       "relevant to their assessment of systemic risks, including the Framework and each Model Report.",
                       keep3])
    new = "\n\n".join([keep1, "### Commitment 2 — Additional documentation and transparency\n\nSignatories will "
                       "keep up-to-date documentation of the model architecture and the Model Report for the AI Office.",
                       keep3])
    rows = _rows(diff_texts(old, new))
    assert rows[("Commitment 2 — Documentation", "Commitment 2 — Additional documentation and transparency")] == "modified"


def test_unrelated_section_in_the_same_place_is_removed_and_added():
    keep1 = "### Commitment 1 — Safety framework\n\nSignatories shall adopt a framework and keep it up to date every year."
    keep3 = "### Commitment 3 — Serious incidents\n\nSignatories shall report serious incidents to the AI Office without delay."
    old = "\n\n".join([keep1, "### Commitment 2 — Copyright policy\n\nPublishers may opt out through robots.txt "
                       "exclusion protocols honoured by crawlers.", keep3])
    new = "\n\n".join([keep1, "### Commitment 2 — Cybersecurity\n\nModel weights must be encrypted in storage and "
                       "transit against insider threats.", keep3])
    rows = _rows(diff_texts(old, new))
    assert rows[("Commitment 2 — Copyright policy", None)] == "removed"
    assert rows[(None, "Commitment 2 — Cybersecurity")] == "added"


def test_a_title_that_moved_to_another_number_beats_a_similar_title_at_the_same_number():
    """"Nature of systemic risks" moved from 1.3 to 1.2 while 1.3 became "Sources of systemic
    risks": 1.3 pairs with 1.2 (renumbered), not with the new 1.3 whose title merely resembles it."""
    old = ("## Appendix 1 — Risks\n\n### Appendix 1.2 — Other risks\n\nOther risks are listed here.\n\n"
           "### Appendix 1.3 — Nature of systemic risks\n\nThe nature of a risk is described by its traits.")
    new = ("## Appendix 1 — Risks\n\n### Appendix 1.2 — Nature of systemic risks\n\nThe nature of a risk is "
           "described by its main traits.\n\n### Appendix 1.3 — Sources of systemic risks\n\nSources are "
           "capabilities, propensities and affordances.")
    rows = _rows(diff_texts(old, new))
    assert rows[("Appendix 1.3 — Nature of systemic risks", "Appendix 1.2 — Nature of systemic risks")] == "renumbered"
    assert rows[(None, "Appendix 1.3 — Sources of systemic risks")] == "added"


def test_a_measure_that_became_an_appendix_of_its_title_is_paired_across_kinds():
    """Measure 7.1 "Insider threats" became Appendix 4.1 "Insider threats", moved ahead and
    rewritten: the title, found once on each side, pairs them across kinds of number."""
    old = ("## Commitment 7 — Security mitigations\n\nSignatories shall protect their models.\n\n"
           "### Measure 7.1 — Insider threats\n\nSignatories shall screen staff with access to unreleased "
           "weights and limit that access to those who need it for their work.\n\n"
           "### Measure 7.2 — Security assurance\n\nSignatories shall test their security through red "
           "teaming, penetration tests and bug bounties at least once a year.\n\n"
           "## Commitment 8 — Serious incidents\n\nSignatories shall report serious incidents to the AI Office.")
    new = ("## Appendix 4 — Security objectives\n\nThe security objectives follow.\n\n"
           "### Appendix 4.1 — Insider threats\n\nBackground checks and least-privilege rules apply to "
           "everybody who may reach unpublished parameters.\n\n"
           "## Commitment 6 — Security mitigations\n\nSignatories shall protect their models as Appendix 4 sets out.\n\n"
           "### Measure 6.1 — Security assurance\n\nSignatories shall test their security through red "
           "teaming, penetration tests and bug bounties at least once a year.\n\n"
           "## Commitment 7 — Serious incidents\n\nSignatories shall report serious incidents to the AI Office.")
    rows = _rows(diff_texts(old, new))
    assert rows[("Measure 7.1 — Insider threats", "Appendix 4.1 — Insider threats")] == "renumbered"
    assert rows[("Measure 7.2 — Security assurance", "Measure 6.1 — Security assurance")] == "renumbered"


def test_a_commitment_is_not_paired_with_a_measure_of_its_title():
    """Commitment 16 "Public transparency" (with its measure) became Measure 10.2 of that title:
    the measure goes there, the commitment does not."""
    old = ("## Commitment 15 — Documentation\n\nSignatories shall document their work.\n\n"
           "## Commitment 16 — Public transparency\n\nSignatories commit to transparency.\n\n"
           "### Measure 16.1 — Publication of reports\n\nSignatories shall publish summaries of their "
           "frameworks and model reports where necessary to assess systemic risks.")
    new = ("## Commitment 10 — Documentation and transparency\n\nSignatories shall document their work.\n\n"
           "### Measure 10.2 — Public transparency\n\nSignatories shall publish summaries of their frameworks "
           "and model reports if necessary to assess and mitigate systemic risks.")
    rows = _rows(diff_texts(old, new))
    assert ("Commitment 16 — Public transparency", "Measure 10.2 — Public transparency") not in rows


def test_titles_that_share_only_common_words_are_not_paired_on_title():
    """"Systemic risk selection" and "Systemic risk modelling" share half their words, but
    words that most headings of the document carry: no pair on the title alone."""
    common = "".join(f"### Measure 1.{k}. Systemic risk {w}\n\nText about {w} only, in a sentence of its own.\n\n"
                     for k, w in enumerate(["analysis", "tiers", "forecasting", "estimation"], start=2))
    old = common + ("### Measure 9.1. Systemic risk selection\n\nProviders choose which hazards to study "
                    "first, ranking them by the severity of the harm they could cause.")
    new = ("### Measure 1.1. Systemic risk modelling\n\nScenario models trace how a capability "
           "could lead to an incident, step by step, with probabilities.\n\n") + common
    rows = _rows(diff_texts(old, new))
    assert rows[("Measure 9.1. Systemic risk selection", None)] == "removed"
    assert rows[(None, "Measure 1.1. Systemic risk modelling")] == "added"


_RISKS = ("Cyber offence: attacks on critical infrastructure through automated vulnerability discovery "
          "and exploit generation. Chemical, biological, radiological and nuclear attacks or accidents, "
          "lowering barriers for malicious actors. Harmful manipulation of decision makers through "
          "persuasion and deception. Loss of control over autonomous models through self-replication.")
_TYPES = ("Risks to public health, safety, public security, fundamental rights such as freedom of "
          "expression, privacy and non-discrimination, and society as a whole including democratic "
          "processes, financial stability and the environment.")


def test_a_similar_title_loses_to_contents_that_went_elsewhere():
    """"Selected types of systemic risk" resembles "Types of risks" by title, but its list of
    four risks is now "Specified systemic risks", and the other types went to "Types of
    risks": contents decide, as an expert reads the restructured appendix."""
    # Headings of the same words around them, as in a whole chapter: "systemic" and "risk"
    # weigh little, "types" counts.
    others = "".join(f"### Measure {k}.1. Systemic risk {w}\n\nSignatories shall do the {w} work in full.\n\n"
                     for k, w in enumerate(["analysis", "tiers", "forecasting", "estimation", "acceptance"], start=1))
    old = others + (f"## Appendix 1. Systemic Risk Taxonomy\n\nThe taxonomy follows.\n\n"
           f"### Appendix 1.1. Selected types of systemic risk\n\n{_RISKS}\n\n"
           f"### Appendix 1.2. Other types of risks for potential consideration\n\nThe following are other types. {_TYPES}")
    new = others + (f"## Appendix 1 Systemic risks and other considerations\n\nThe taxonomy follows.\n\n"
           f"### Appendix 1.1 Types of risks\n\nThe following types of risks apply. {_TYPES}\n\n"
           f"### Appendix 1.4 Specified systemic risks\n\nThe following are specified systemic risks. {_RISKS}")
    rows = _rows(diff_texts(old, new))
    assert rows[("Appendix 1.1. Selected types of systemic risk", "Appendix 1.4 Specified systemic risks")] == "renumbered"
    assert rows[("Appendix 1.2. Other types of risks for potential consideration", "Appendix 1.1 Types of risks")] == "renumbered"
    assert ("Appendix 1.1. Selected types of systemic risk", "Appendix 1.1 Types of risks") not in rows


def test_same_number_retitled_and_rephrased_pairs_on_shared_content_words():
    """An appendix that kept its number, changed its title and rephrased its text (few 3-grams
    in common) but kept its subject's words is that appendix: a subsection whose title merely
    resembles the new title does not take its place."""
    old = ("## Appendix 1 — Systemic risk taxonomy\n\nArticle 3(65) defines systemic risk as specific to the "
           "high-impact capabilities of general-purpose models with significant impact on the Union market, "
           "public health, safety, security and fundamental rights, propagated at scale along the value chain.\n\n"
           "### Appendix 1.5 — Other considerations\n\nReaders may consult the explanatory notes published "
           "separately by the chairs.")
    new = ("## Appendix 1 — Systemic risks and other considerations\n\nPropagated across the value chain at "
           "scale, with impact on fundamental rights, security, safety, health of the public or the market of "
           "the Union: under Article 3(65) that defines, for models of general-purpose, a risk specific to "
           "their capabilities of high impact as systemic.\n\n### Appendix 1.1 — Specified risks\n\n"
           "Cyber offence and loss of control are treated as specified risks.")
    rows = _rows(diff_texts(old, new))
    assert rows[("Appendix 1 — Systemic risk taxonomy", "Appendix 1 — Systemic risks and other considerations")] == "modified"
