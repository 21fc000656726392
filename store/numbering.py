"""Numbering patterns of legal texts: which lines are headings, their number, title and level.

Used by HTML and PDF extraction alike, and when stored text is parsed back into blocks, so
the same heading gets the same number, title and level whatever format it came from.
The rules are general (Chapter, Section, Article N, Annex XI, Commitment N / II.N, Measure
N.N / II.N.N, Appendix N.N, roman and decimal numbering) and never name one document's
strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ROMAN = r"[IVXLC]+"
_ARABIC = r"\d+[a-z]?"
# A commitment may be "Commitment 9", "Commitment II.9"; a measure "Measure 1.2", "Measure II.1.3".
_KINDS: list[tuple[str, str, int]] = [
    # (kind, pattern for keyword + number, canonical level)
    ("part", rf"(?:PART|Part|TITLE|Title)\s+(?:{_ROMAN}|\d+)", 1),
    ("chapter", rf"(?:CHAPTER|Chapter)\s+(?:{_ROMAN}|\d+)", 1),
    ("annex", rf"(?:ANNEX|Annex)\s+(?:{_ROMAN}|\d+|[A-Z])", 1),
    ("section", rf"(?:SECTION|Section)\s+(?:{_ROMAN}|\d+|[A-Z])(?:\.\d+)*", 2),
    ("appendix", r"(?:APPENDIX|Appendix)\s+(?:\d+|[A-Z])(?:\.\d+)*", 2),
    ("article", rf"(?:ARTICLE|Article)\s+{_ARABIC}", 3),
    ("commitment", rf"(?:COMMITMENT|Commitment)\s+(?:{_ROMAN}\.)?\d+", 3),
    ("measure", rf"(?:MEASURE|Measure)\s+(?:{_ROMAN}\.)?\d+(?:\.\d+)+", 4),
]
# What may follow the number of a heading: end of line, a separator then a title, or a
# capitalised title. Anything else ("Article 53(1), point (a)", "Commitment 9); and",
# "Measure 9.3, a Model Report ...", "Measure 16.2 includes ...") is a reference in prose.
_AFTER = r"(?P<sep>\s*[.:\u2013\u2014-]\s*|\s+)(?P<title>[\"“'‘(]?[A-Z0-9].*)"
_STRONG = [
    (kind, re.compile(rf"^(?P<num>{pat})\.?\s*$"), re.compile(rf"^(?P<num>{pat}){_AFTER}$", re.S), lvl)
    for kind, pat, lvl in _KINDS
]
# Weak patterns need layout evidence (a heading element, a larger or bold font).
_ROMAN_HEAD = re.compile(rf"^(?P<num>{_ROMAN})\.\s+(?P<title>[A-Z].*)$", re.S)
_DECIMAL_HEAD = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+(?P<title>[A-Z].*)$", re.S)

MAX_HEADING_CHARS = 250


@dataclass(frozen=True)
class HeadingMatch:
    """A recognised heading: its kind, number as printed, title and canonical level."""

    kind: str
    number: str
    title: str | None
    level: int


def match_heading(text: str, *, styled: bool = False) -> HeadingMatch | None:
    """Recognise `text` as a numbered heading of a legal text, or return None.

    `styled` says the layout already marks the line as a heading (an <h*> element, a
    larger or bold font); only then are bare roman ("II. COMMITMENTS ...") and decimal
    ("2.1 Scope") numbers accepted, since in running text they start list items.
    """
    text = " ".join(text.split())
    if not text or len(text) > MAX_HEADING_CHARS:
        return None
    for kind, bare, titled, level in _STRONG:
        m = bare.match(text)
        if m:
            return HeadingMatch(kind, _clean_number(m.group("num")), None, _level(kind, m.group("num"), level))
        m = titled.match(text)
        if m and _plausible_title(m.group("title"), m.group("sep"), styled):
            num = m.group("num")
            return HeadingMatch(kind, _clean_number(num), _clean_title(m.group("title")), _level(kind, num, level))
    if styled:
        m = _ROMAN_HEAD.match(text)
        if m:
            return HeadingMatch("roman", m.group("num"), _clean_title(m.group("title")), 1)
        m = _DECIMAL_HEAD.match(text)
        if m and not _looks_like_quantity(text):
            num = m.group("num")
            return HeadingMatch("decimal", num, _clean_title(m.group("title")), 2 + num.count("."))
    return None


def split_heading(text: str) -> tuple[str | None, str | None]:
    """Split a heading's text into (number, title); unnumbered headings give (None, text)."""
    m = match_heading(text, styled=True)
    if m is None:
        return None, " ".join(text.split()) or None
    return m.number, m.title


def _level(kind: str, number: str, base: int) -> int:
    # "Appendix 1.4.1" sits below "Appendix 1.4", which sits below "Appendix 1".
    if kind in ("appendix", "section"):
        return min(6, base + number.count("."))
    return base


def _clean_number(num: str) -> str:
    return " ".join(num.split()).rstrip(".:")


def _clean_title(title: str) -> str | None:
    title = " ".join(title.split()).strip()
    return title or None


def _plausible_title(title: str, sep: str, styled: bool) -> bool:
    """A title after a number: not a sentence continuing a reference."""
    title = title.strip()
    if not title:
        return False
    if styled:
        return True
    # Unstyled lines (plain text, PDF at body size) must look like a title, not prose.
    if len(title) > 160 or title.endswith((";", ",")):
        return False
    if sep.strip() == "" and title[0].isdigit():
        return False  # "Article 53 2024" is not a heading
    return not title.rstrip().endswith((" and", " or"))


def _looks_like_quantity(text: str) -> bool:
    # "2.5 Million ..." / "10 Days ..." are not headings even when bold.
    return bool(re.match(r"^\d+(\.\d+)?\s+(?:[A-Z][a-z]+\s+)?(?:per|million|billion|%)", text, re.I))


def join_number_title(number_line: str, title_line: str) -> str:
    """The heading text for a number printed on its own line above its title.

    EUR-Lex and the Official Journal print "Article 53" and its title on two lines; both
    HTML and PDF extraction join them the same way: "Article 53 — Obligations for ...".
    """
    return f"{' '.join(number_line.split()).rstrip('.:')} \u2014 {' '.join(title_line.split())}"
