"""Finding citations of AI Act provisions and Code of Practice commitments in text, and
resolving them to canonical keys.

A key is a tuple naming a provision from the top down, the same whatever form the citation
takes: "Article 53(1)(a)", "Art. 53(1), point (a)" and "point (a) of Article 53(1)" are all
("aia", "art", "53", "1", "a"); "Annex XI, Section 1, point 2(d)" and "point 2(d) of Section
1 of Annex XI" are ("aia", "annex", "xi", "1", "2", "d"); "Measure 9.3" is ("cop", "measure",
"9.3") and gets its chapter from where it is read.

Citations of other acts ("Article 4(3) of Directive (EU) 2019/790") are not AI Act
citations and are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Key = tuple[str, ...]

_ROMAN = r"[IVXLC]+"
_PAR = r"\(\d+[a-z]?\)"  # (1), (3a)
_PT = r"\([a-z]{1,3}\)"  # (a), (ii)
_ART_NUM = r"\d+[a-z]?"
_PT_LIST = rf"{_PT}(?:\s*(?:,|and|or|to)\s*{_PT})*"
# One cited article: "53(1)(a)", "53(1)(a) and (b)", "53(1), point (a)", "53(1), points (a) to (d)"
_ART_ITEM = (
    rf"(?P<num>{_ART_NUM})(?P<pars>(?:{_PAR})*)(?P<pts>{_PT_LIST})?"
    rf"(?:,\s*(?:first\s+|second\s+)?(?:subparagraph,\s*)?points?\s+(?P<tail>{_PT_LIST}))?"
)
_ART_ITEM_BARE = re.sub(r"\(\?P<\w+>", "(?:", _ART_ITEM)
_ART_WORD = r"(?:Articles?|Arts?\.?)"
# "point (a) of Article 53(1)", "points (a) and (b) of Article 53(1)", "paragraph 1 of Article 53"
_LEAD = (
    rf"(?:(?P<lead_pts>points?\s+{_PT_LIST})\s+of\s+)?"
    r"(?:(?P<lead_par>paragraphs?\s+\d+[a-z]?(?:\s*(?:,|and|or|to)\s*\d+[a-z]?)*)\s+of\s+)?"
)
_ARTICLE = re.compile(
    rf"\b{_LEAD}{_ART_WORD}\s+(?P<items>{_ART_ITEM_BARE}(?:\s*(?:,|and|or|to)\s*{_ART_ITEM_BARE})*)",
    re.IGNORECASE,
)
_ART_ITEM_RE = re.compile(_ART_ITEM, re.IGNORECASE)
# "Annex XI", "Annexes XI and XII", "Annex XI, Section 2", "Annex XI, Section 1, point 2(d)",
# "Section 2 of Annex XI", "point 2(d) of Section 1 of Annex XI", "Annex XI, point 2(d)"
_ANNEX = re.compile(
    rf"\b(?:(?P<lead_pt>points?\s+(?:\d+(?:\s*\([a-z]\))?|\([a-z]\)))\s+of\s+)?(?:(?P<lead_sec>Section\s+\d+)\s+of\s+)?"
    rf"Annex(?:es)?\s+(?P<annexes>{_ROMAN}\b(?:\s*(?:,|and|to)\s*{_ROMAN}\b)*)"
    rf"(?:,?\s*(?P<sec>Section\s+\d+))?(?:,?\s*(?P<pt>points?\s+(?:\d+(?:\s*\([a-z]\))?|\([a-z]\))))?",
    re.IGNORECASE,
)
_CODE = re.compile(
    rf"\b(?P<kind>Commitments?|Measures?|Appendix|Appendices)\s+(?P<nums>(?:{_ROMAN}\.)?\d+(?:\.\d+)*"
    rf"(?:\s*(?:,|and|or|to)\s*(?:{_ROMAN}\.)?\d+(?:\.\d+)*)*)",
)
# A citation followed by one of these is of another act.
_OTHER_ACT = re.compile(
    r"^\s*(?:thereof\s+)?(?:of|to|in|under)\s+(?:the\s+)?(?:Directive|Decision|Charter|TFEU|TEU|Treaty|"
    r"Regulation\s*\((?:EU|EC|EEC|Euratom)\)\s*(?:No\s*)?(?!2024/1689)\d)",
    re.IGNORECASE,
)
# Every citation contains one of these words, each of which only one of the patterns above
# can match; the patterns (one scan of the text each) run only when their word occurs. The
# lookahead (the words' first letters) only makes the scan faster: it rejects most places
# before the alternatives are tried.
_ANY = re.compile(r"(?=[acm])\b(?:(?P<art>Art)|(?P<annex>Annex)|(?P<code>Commitment|Measure|Appendi))",
                  re.IGNORECASE)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_POINT_ITEMS = re.compile(r"\(([a-z]{1,3})\)|\b(to)\b", re.IGNORECASE)
_NUMBER_ITEMS = re.compile(r"\d+[a-z]?|\bto\b")
_PAR_ITEMS = re.compile(r"\((\w+)\)")
_ROMAN_RE = re.compile(_ROMAN)
_ANNEX_POINT = re.compile(r"(\d+)?(?:\s*\(([a-z])\))?")
_CODE_NUMBER = re.compile(rf"(?:{_ROMAN}\.)?\d+(?:\.\d+)*")
_ROMAN_PREFIX = re.compile(_ROMAN + r"\.")


@dataclass(frozen=True)
class Citation:
    """One provision cited in a text: its key, the words as printed and where they are."""

    key: Key
    text: str
    start: int
    end: int


def find_citations(text: str) -> list[Citation]:
    """Every AI Act or Code citation in `text`, in order (a list citation gives one per item)."""
    words = {m.lastgroup for m in _ANY.finditer(text)}
    if not words:
        return []  # most paragraphs cite nothing: one cheap scan instead of three
    out: list[Citation] = []
    taken: list[tuple[int, int]] = []
    for word, regex, parse in (("annex", _ANNEX, _annex_keys), ("art", _ARTICLE, _article_keys),
                               ("code", _CODE, _code_keys)):
        if word not in words:
            continue
        for m in regex.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue  # "Section 2 of Annex XI" is not also a Code "Section"
            if _OTHER_ACT.match(text[m.end():m.end() + 60]):
                continue
            keys = parse(m)
            if keys:
                taken.append((m.start(), m.end()))
                out += [Citation(k, m.group(0), m.start(), m.end()) for k in keys]
    out.sort(key=lambda c: c.start)
    return out


def parse_citation(text: str) -> list[Key]:
    """The keys of the citation(s) in `text` ("Article 53(1), point (a)" -> one key)."""
    return [c.key for c in find_citations(text)]


def _expand_points(text: str | None) -> list[str]:
    """"(a) and (b)" -> [a, b]; "(a) to (d)" -> [a, b, c, d]."""
    if not text:
        return []
    items = _POINT_ITEMS.findall(text)
    out: list[str] = []
    pending_range = False
    for letter, to in items:
        if to:
            pending_range = True
            continue
        letter = letter.lower()
        if pending_range and out and len(out[-1]) == 1 and len(letter) == 1:
            a, b = _LETTERS.index(out[-1]), _LETTERS.index(letter)
            out += list(_LETTERS[a + 1:b + 1])
        else:
            out.append(letter)
        pending_range = False
    return out


def _expand_numbers(text: str | None) -> list[str]:
    if not text:
        return []
    nums = _NUMBER_ITEMS.findall(text)
    out: list[str] = []
    pending_range = False
    for n in nums:
        if n == "to":
            pending_range = True
            continue
        if pending_range and out and out[-1].isdigit() and n.isdigit():
            out += [str(k) for k in range(int(out[-1]) + 1, int(n) + 1)]
        else:
            out.append(n)
        pending_range = False
    return out


def _article_keys(m: re.Match) -> list[Key]:
    lead_pts = _expand_points(m.group("lead_pts"))
    lead_pars = _expand_numbers(m.group("lead_par").split(None, 1)[1] if m.group("lead_par") else None)
    keys: list[Key] = []
    for k, item in enumerate(_ART_ITEM_RE.finditer(m.group("items"))):
        base: Key = ("aia", "art", item.group("num").lower())
        pars = [p.lower() for p in _PAR_ITEMS.findall(item.group("pars") or "")]
        # "point (a) of Article 53(1)" and "paragraph 1 of Article 53" qualify the first item.
        if k == 0 and lead_pars and not pars:
            parents = [(*base, p) for p in lead_pars]
        else:
            parents = [(*base, *pars)]
        points = _expand_points(item.group("pts")) + _expand_points(item.group("tail"))
        if not points and k == 0:
            points = lead_pts
        keys += [(*p, pt) for p in parents for pt in points] if points else parents
    return keys


def _annex_keys(m: re.Match) -> list[Key]:
    annexes = [a.lower() for a in _ROMAN_RE.findall(m.group("annexes"))]
    sec = m.group("sec") or m.group("lead_sec")
    pt = m.group("pt") or m.group("lead_pt")
    tail: list[str] = []
    if sec:
        tail.append(sec.split()[-1])
    if pt:
        pm = _ANNEX_POINT.search(pt.split(None, 1)[1])
        if pm and (pm.group(1) or pm.group(2)):
            if not sec:
                tail.append("")  # a point of an annex without sections (Annex XII, point 1)
            tail += [g for g in pm.groups() if g]
    if len(annexes) > 1:
        return [("aia", "annex", a) for a in annexes]
    return [("aia", "annex", annexes[0], *tail)] if annexes else []


def _code_keys(m: re.Match) -> list[Key]:
    kind = m.group("kind").lower()
    kind = {"commitments": "commitment", "measures": "measure", "appendices": "appendix"}.get(kind, kind)
    nums = _CODE_NUMBER.findall(m.group("nums"))
    if kind == "commitment":
        nums = [n for n in nums if "." not in n or _ROMAN_PREFIX.match(n)]
    if kind == "measure":
        nums = [n for n in nums if "." in n]
    return [("cop", kind, n.lower()) for n in nums]


def heading_key(number: str | None) -> Key | None:
    """The key of a heading number ("Article 53", "ANNEX XI", "Commitment II.12", "Measure 9.3",
    "Appendix 4.1"), or None for a number that names no catalogued kind."""
    if not number:
        return None
    keys = parse_citation(number)
    return keys[0] if len(keys) == 1 else None
