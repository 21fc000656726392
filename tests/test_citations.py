"""Citations of AI Act provisions and Code commitments, in the forms legal texts use."""

from __future__ import annotations

import pytest

from tracker.obligations.citations import find_citations, heading_key, parse_citation

ART_53_1_A = ("aia", "art", "53", "1", "a")


@pytest.mark.parametrize("text", [
    "Article 53(1)(a)", "Art. 53(1)(a)", "Art 53(1)(a)", "Article 53(1), point (a)",
    "point (a) of Article 53(1)", "ARTICLE 53(1)(a)", "Article 53 (1)(a)".replace(" (", "("),
])
def test_forms_of_one_point_give_one_key(text):
    assert parse_citation(text) == [ART_53_1_A]


@pytest.mark.parametrize(("text", "keys"), [
    ("Articles 53(1)(a) and 55(1)", [ART_53_1_A, ("aia", "art", "55", "1")]),
    ("Article 53(1)(a) and (b)", [ART_53_1_A, ("aia", "art", "53", "1", "b")]),
    ("Article 55(1), points (a) to (d)", [("aia", "art", "55", "1", x) for x in "abcd"]),
    ("points (a) and (b) of Article 53(1)", [ART_53_1_A, ("aia", "art", "53", "1", "b")]),
    ("paragraph 1 of Article 53", [("aia", "art", "53", "1")]),
    ("paragraphs 1 and 2 of Article 51", [("aia", "art", "51", "1"), ("aia", "art", "51", "2")]),
    ("Annex XI, Section 2", [("aia", "annex", "xi", "2")]),
    ("Section 2 of Annex XI", [("aia", "annex", "xi", "2")]),
    ("Annex XI, Section 1, point 2(d)", [("aia", "annex", "xi", "1", "2", "d")]),
    ("point 2(d) of Section 1 of Annex XI", [("aia", "annex", "xi", "1", "2", "d")]),
    ("Annexes XI and XII", [("aia", "annex", "xi"), ("aia", "annex", "xii")]),
    ("Measures 9.1 and 9.2", [("cop", "measure", "9.1"), ("cop", "measure", "9.2")]),
    ("Commitment II.12", [("cop", "commitment", "ii.12")]),
    ("Appendix 4.1", [("cop", "appendix", "4.1")]),
])
def test_lists_ranges_and_annexes(text, keys):
    assert parse_citation(text) == keys


def test_citations_of_other_acts_are_not_ai_act_citations():
    text = ("a reservation of rights expressed pursuant to Article 4(3) of Directive (EU) 2019/790, "
            "and Article 6 of Regulation (EU) 2016/679; see Article 53(1)(c) of Regulation (EU) 2024/1689")
    assert [c.key for c in find_citations(text)] == [("aia", "art", "53", "1", "c")]


def test_citations_in_running_text_keep_their_place():
    text = "LEGAL TEXT: Articles 55(1) and 56(5), and recitals 110, 114, and 115 AI Act"
    found = find_citations(text)
    assert [c.key for c in found] == [("aia", "art", "55", "1"), ("aia", "art", "56", "5")]
    assert text[found[0].start:found[0].end].startswith("Articles 55(1)")


def test_heading_numbers():
    assert heading_key("Article 53") == ("aia", "art", "53")
    assert heading_key("ANNEX XI") == ("aia", "annex", "xi")
    assert heading_key("Measure II.12.3") == ("cop", "measure", "ii.12.3")
    assert heading_key("Chapter V") is None
