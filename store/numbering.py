"""Numbering patterns of legal texts: which lines are headings, their number, title and level.

Used by HTML and PDF extraction alike, and when stored text is parsed back into blocks, so
the same heading gets the same number, title and level whatever format it came from.
The rules are general (Chapter, Section, Article N, Annex XI, Commitment N / II.N, Measure
N.N / II.N.N, Appendix N.N, roman and decimal numbering) and never name one document's
strings.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

_ROMAN = r"[IVXLC]+"
_ARABIC = r"\d+[a-z]?"
# A commitment may be "Commitment 9", "Commitment II.9"; a measure "Measure 1.2", "Measure II.1.3".
_KINDS: list[tuple[str, tuple[str, ...], str, int]] = [
    # (kind, keywords, pattern for the number after the keyword, canonical level)
    ("part", ("PART", "Part", "TITLE", "Title"), rf"(?:{_ROMAN}|\d+)", 1),
    ("chapter", ("CHAPTER", "Chapter"), rf"(?:{_ROMAN}|\d+)", 1),
    ("annex", ("ANNEX", "Annex"), rf"(?:{_ROMAN}|\d+|[A-Z])", 1),
    ("section", ("SECTION", "Section"), rf"(?:{_ROMAN}|\d+|[A-Z])(?:\.\d+)*", 2),
    ("appendix", ("APPENDIX", "Appendix"), r"(?:\d+|[A-Z])(?:\.\d+)*", 2),
    ("article", ("ARTICLE", "Article"), _ARABIC, 3),
    ("commitment", ("COMMITMENT", "Commitment"), rf"(?:{_ROMAN}\.)?\d+", 3),
    ("measure", ("MEASURE", "Measure"), rf"(?:{_ROMAN}\.)?\d+(?:\.\d+)+", 4),
]
# What may follow the number of a heading: end of line, a separator then a title, or a
# capitalised title. Anything else ("Article 53(1), point (a)", "Commitment 9); and",
# "Measure 9.3, a Model Report ...", "Measure 16.2 includes ...") is a reference in prose.
_AFTER = r"(?P<sep>\s*[.:\u2013\u2014-]\s*|\s+)(?P<title>[\"“'‘(]?[A-Z0-9].*)"
# One pattern per kind: the bare number ("Article 53", group `title` None) is tried before
# the number with a title. A pattern starts with its keywords and white space, so a text can
# only match the pattern of its first word: `_STRONG` maps each keyword to its kind's.
_STRONG: dict[str, tuple[str, re.Pattern[str], int]] = {}
for _kind, _keywords, _number, _base in _KINDS:
    _pattern = re.compile(rf"(?P<num>(?:{'|'.join(_keywords)})\s+{_number})(?:\.?\s*$|{_AFTER}$)", re.S)
    _STRONG.update(dict.fromkeys(_keywords, (_kind, _pattern, _base)))
# Weak patterns need layout evidence (a heading element, a larger or bold font).
_ROMAN_HEAD = re.compile(rf"^(?P<num>{_ROMAN})\.\s+(?P<title>[A-Z].*)$", re.S)
_DECIMAL_HEAD = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+(?P<title>[A-Z].*)$", re.S)
# Every heading starts with a keyword, or (weak patterns) a roman or decimal number: the
# first two characters rule out most texts, paragraphs above all, before any other work.
_KEYWORD_STARTS = frozenset(keyword[:2] for keyword in _STRONG)
_ROMAN_DIGITS = frozenset("IVXLC")
_QUANTITY = re.compile(r"^\d+(\.\d+)?\s+(?:[A-Z][a-z]+\s+)?(?:per|million|billion|%)", re.I)

MAX_HEADING_CHARS = 250

# A table-of-contents entry ends with leader dots and a page number ("Commitment 1.
# Documentation ........ 12", "Title … 4" as the PDF extractor prints leaders): it names a
# heading, it is not one, and its page number is layout.
_TOC_PAGE = re.compile(r"[ \t]*(?:\u2026|\.{3,}|(?:\. ){3,}|\u00b7{3,}|_{3,})[ \t.\u2026]*\d{1,4}[ \t]*$")


def toc_title(text: str) -> str | None:
    """The title of a table-of-contents line (a title, leader dots and a page number) without
    its leader and page number; None when `text` is no such line."""
    text = text.strip()
    if not text[-1:].isdecimal() or "\n" in text:  # the page number last: most lines end otherwise
        return None
    m = _TOC_PAGE.search(text)
    # The title before the leader is a heading's: no longer than a heading.
    return text[:m.start()] if m is not None and 0 < m.start() <= MAX_HEADING_CHARS else None


class HeadingMatch(NamedTuple):
    """A recognised heading: its kind, number as printed, title and canonical level."""

    # A named tuple rather than a frozen dataclass: as immutable, and it is made for every
    # heading of every document, where the dataclass took a third of the matching time.
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
    first = text[:1]
    if (
        text[:2] in _KEYWORD_STARTS
        or (styled and (first in _ROMAN_DIGITS or first.isdecimal()))
        or first.isspace()  # rare: decided on the squashed text
    ):
        # Long texts are seldom headings, and would crowd the headings out of the cache.
        return _match_cached(text, styled) if len(text) <= MAX_HEADING_CHARS else _match(text, styled)
    return None


def split_heading(text: str) -> tuple[str | None, str | None]:
    """Split a heading's text into (number, title); unnumbered headings give (None, text)."""
    m = match_heading(text, styled=True)
    if m is None:
        return None, _squash(text) or None
    return m.number, m.title


def _match(text: str, styled: bool) -> HeadingMatch | None:
    """`match_heading` for a text that may be a heading by its first characters."""
    # The text is squashed here, so numbers and titles cut from it need no more cleaning:
    # every pattern ends a number on a digit or letter and starts a title on a non-space.
    text = _squash(text)
    if not text or len(text) > MAX_HEADING_CHARS or toc_title(text) is not None:
        return None
    space = text.find(" ")
    strong = _STRONG.get(text[:space]) if space > 0 else None
    if strong is not None:
        kind, pattern, level = strong
        m = pattern.match(text)
        if m:
            num, title = m.group("num", "title")
            if title is None or styled or _plausible_title(title, m.group("sep")):
                return HeadingMatch(kind, num, title, _level(kind, num, level))
    if styled:
        m = _ROMAN_HEAD.match(text)
        if m:
            return HeadingMatch("roman", m.group("num"), m.group("title"), 1)
        m = _DECIMAL_HEAD.match(text)
        if m and not _QUANTITY.match(text):
            num = m.group("num")
            return HeadingMatch("decimal", num, m.group("title"), 2 + num.count("."))
    return None


# The same headings come back when a new version of a document is extracted (it repeats
# most headings of the last), when stored text is parsed into blocks, and when changes are
# classified.
_match_cached = lru_cache(maxsize=8192)(_match)


def _squash(text: str) -> str:
    """`text` with each run of white space folded to one blank and the ends trimmed."""
    # Most texts have one blank between words already. Proving that is cheaper than splitting
    # into words and joining them again: every white space character but the blank is
    # unprintable.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def _level(kind: str, number: str, base: int) -> int:
    # "Appendix 1.4.1" sits below "Appendix 1.4", which sits below "Appendix 1".
    if kind in ("appendix", "section"):
        return min(6, base + number.count("."))
    return base


def _plausible_title(title: str, sep: str) -> bool:
    """A title after a number on an unstyled line (plain text, PDF at body size): it must
    look like a title, not a sentence continuing a reference. Styled lines take any title."""
    if len(title) > 160 or title.endswith((";", ",")):
        return False
    if sep.strip() == "" and title[0].isdigit():
        return False  # "Article 53 2024" is not a heading
    return not title.endswith((" and", " or"))


def join_number_title(number_line: str, title_line: str) -> str:
    """The heading text for a number printed on its own line above its title.

    EUR-Lex and the Official Journal print "Article 53" and its title on two lines; both
    HTML and PDF extraction join them the same way: "Article 53 — Obligations for ...".
    """
    return f"{' '.join(number_line.split()).rstrip('.:')} \u2014 {' '.join(title_line.split())}"
