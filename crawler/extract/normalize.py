"""Inline text normalisation shared by every extractor, so HTML and PDF agree character for character."""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_BULLETS = "\u2022\u25cf\u25aa\u25a0\u25e6\u2023\u2043\u2219\u00b7\u25cb\uf0b7\uf0a7\u2013\u2014-*"


# EUR-Lex consolidated texts mark amended passages with "▼B", "▼M1", "►M1 ... ◄", "▼C1":
# editorial apparatus, not text of the law (and "M1" would read as a changed number).
_CONSOLIDATION_MARKS = re.compile(r"[▼►]\s?(?:[A-Z]\d{0,3})?\b|◄")


def normalize_inline(text: str) -> str:
    """NFC, soft hyphens, zero-width characters and EUR-Lex consolidation markers removed, all
    white space folded to one space."""
    # Each step is skipped when it provably changes nothing, as for most lines of most
    # texts: together they cost several microseconds a line, on tens of thousands of lines.
    if text.isascii():
        # ASCII is NFC and holds no invisible characters or consolidation marks, and these
        # are the only characters of `_SPACES` it can hold besides single blanks.
        if "  " in text or "\t" in text or "\n" in text or "\r" in text or "\f" in text or "\v" in text:
            return _SPACES.sub(" ", text).strip()
        return text.strip()
    text = unicodedata.normalize("NFC", text)
    # Every invisible character, and every white space character but the blank, is unprintable.
    clean = text.isprintable()
    if not clean:
        text = text.translate(_INVISIBLE)
    if "▼" in text or "►" in text or "◄" in text:
        text = _CONSOLIDATION_MARKS.sub(" ", text)
    if clean and "  " not in text:
        return text.strip()
    return _SPACES.sub(" ", text).strip()


def is_bullet(token: str) -> bool:
    """True for a bullet glyph used as a list marker (•, ●, ▪, –, -, * ...)."""
    return len(token) == 1 and token in _BULLETS


_MARKER = re.compile(
    r"^(?P<m>\((?:[a-z]{1,3}|[ivxlc]{1,6}|\d{1,3}|[A-Z])\)|(?:[a-z]|[ivxlc]{1,6}|\d{1,3})\)|\d{1,3}\.(?!\d))\s+(?P<rest>\S.*)$",
    re.S,
)


def split_marker(text: str) -> tuple[str | None, str]:
    """Split a leading list marker ("(a)", "a)", "(iv)", "1.", "•") from `text`.

    Returns (marker, rest); bullets come back as "-", and (None, text) when there is none.
    """
    if text[1:2] == " " and is_bullet(text[0]):
        return "-", text[2:].lstrip()
    # Every marker of `_MARKER` starts with "(", a lower-case letter or a digit: test that
    # before the pattern, which most lines of running text fail.
    first = text[:1]
    if first == "(" or "a" <= first <= "z" or first.isdecimal():
        m = _MARKER.match(text)
        if m:
            return m.group("m", "rest")
    return None, text
