"""Classifying a hunk (cosmetic, editorial, substantive), its flags and its significance.

- cosmetic: the texts are equal once case, white space, punctuation, quote and dash styles,
  hyphenation, list-marker style and heading markup are set aside;
- substantive: a flag that changes what someone must do was raised: a normative modal
  (shall/must/should/may/commit to/...) or negation changed, a number, date, duration or
  threshold changed, an actor changed, an obligation (a sentence with a normative modal) or
  a section was added or removed;
- editorial: everything else (wording that changes no duty, number or scope).

The significance in [0, 1] is a sum of named parts (`significance_parts`), so an analyst can
see why a hunk ranks where it does.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from store.numbering import split_heading, toc_title
from store.records import Hunk
from tracker.wordiff import Edit

MODALS = [
    "shall not", "must not", "may not", "should not", "need not", "cannot", "will not",
    "shall", "must", "should", "may", "will", "is encouraged to", "are encouraged to",
    "is required to", "are required to", "commit to", "commits to", "committed to",
    "undertake to", "undertakes to", "is obliged to", "are obliged to", "has to", "have to",
    "endeavour to", "endeavours to", "strive to", "strives to",
]
NEGATIONS = ["not", "no", "never", "without", "neither", "nor", "unless", "except"]
ACTORS = [
    "ai office", "commission", "board", "scientific panel", "advisory forum", "member states",
    "national competent authorities", "national competent authority", "market surveillance authority",
    "market surveillance authorities", "signatories", "signatory", "providers", "provider",
    "downstream providers", "downstream provider", "deployers", "deployer",
    "authorised representative", "authorised representatives", "independent external assessors",
    "third parties", "european parliament", "council",
]
UNITS = r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|working days?|calendar days?)"
NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "hundred", "thousand", "million", "billion", "half", "twice"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]

_MODAL_RE = re.compile(r"\b(?:" + "|".join(re.escape(m) for m in sorted(MODALS, key=len, reverse=True)) + r")\b")
_NEG_RE = re.compile(r"\b(?:" + "|".join(NEGATIONS) + r")\b")
_ACTOR_RE = re.compile(r"\b(?:" + "|".join(re.escape(a) for a in sorted(ACTORS, key=len, reverse=True)) + r")\b")
_NUMBER_RE = re.compile(
    r"\d+(?:[.,]\d+)*(?:\^\d+)?%?|\b(?:" + "|".join(NUMBER_WORDS) + r")\b"
)
_DURATION_RE = re.compile(r"\b(?:\d+(?:[.,]\d+)?|" + "|".join(NUMBER_WORDS) + r")[\s-]+" + UNITS + r"\b")
_DATE_RE = re.compile(
    r"\b\d{1,2}\s+(?:" + "|".join(MONTHS) + r")\s+\d{4}\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{4}\b"
)
_THRESHOLD_RE = re.compile(r"\b10\^\d+|\b\d+(?:[.,]\d+)*\s*(?:flops?|flop|floating[- ]point operations|%|per cent|percent|parameters|users|eur|euro)\b")
_SENTENCE = re.compile(r"[^.;:!?]+[.;:!?]?")
# Cross-references ("Measure 2.2, paragraph 3", "Article 53(1), point (a)") change when the
# document is renumbered; they are reported as references, not as changed numbers.
_REFERENCE_RE = re.compile(
    r"\b(?:commitments?|measures?|articles?|annex(?:es)?|sections?|appendix|appendices|chapters?|"
    r"recitals?|paragraphs?|points?|KPIs?|tables?|figures?|footnotes?|notes?)\s+(?:[IVXLC]+\.)?\d+(?:\.\d+)*(?:\(\d+\))*(?:\([a-z]\))?",
    re.IGNORECASE,
)

# Significance weights: what each feature adds to the score (capped at 1).
WEIGHTS = {
    "modal": 0.35,
    "negation": 0.3,
    "threshold": 0.3,
    "number": 0.25,
    "date": 0.25,
    "duration": 0.25,
    "actor": 0.2,
    "obligation_added": 0.3,
    "obligation_removed": 0.35,
    "section_added": 0.2,
    "section_removed": 0.25,
    "scope": 0.25,
    "size": 0.2,  # times the share of words changed
    "moved": 0.05,
    "renumbered": 0.05,
    "merged": 0.1,
    "split": 0.1,
    "reference": 0.05,
}
SUBSTANTIVE_FLAGS = {
    "scope", "modal", "negation", "threshold", "number", "date", "duration", "actor",
    "obligation_added", "obligation_removed", "section_added", "section_removed",
}

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'",
                         "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-"})
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\(?[0-9a-zA-Z]{1,4}[.)]|\([ivxlc]{1,6}\))\s+")
_NON_ALNUM = re.compile(r"[\W_]+")  # everything but letters and digits, hyphens included
# Heading and list markers at the start of a line, and the markers of points run into the
# text after a colon or semicolon ("that: (a) are measurable; (b) ..."), which another
# rendering sets as list items of their own.
_POINT = r"(?:\(?[0-9a-zA-Z]{1,4}[.)]|\([ivxlc]{1,6}\))\s+"
# Run into the text only bracketed points count ("(a)", "(1)", "(iv)", "b)"): "10. " or
# "None. " after a colon are words and numbers.
_INLINE_POINT = r"(?:\((?:[a-z]{1,2}|[ivxlc]{1,6}|\d{1,2}|[A-Z])\)|(?:[a-z]|[ivxlc]{1,6})\))\s+"
# The marker of a point ("6.", "(7)", "(c)", "ii)") at the start of a line or run into the
# text after a colon: renumbering points is not a change of a number in the text.
_LIST_MARKER = re.compile(
    r"(?m)^\s*(?:\(?(?:\d{1,2}|[a-z]{1,2}|[ivxlc]{1,6})[.)]|\((?:\d{1,2}|[a-z]{1,2}|[ivxlc]{1,6})\))\s+"
    r"|(?<=[:;])(\s+(?:and|or))?\s+" + _INLINE_POINT)
_MARKER = re.compile(r"(?m)^\s*(?:#{1,6}\s+|[-*•]\s+|" + _POINT + r")|(?<=[:;])(\s+(?:and|or))?\s+" + _INLINE_POINT)


# A footnote reference ("risk.[^12]") is superscript formatting: one rendering prints it, another
# shows the note on hover or not at all. The note's own text is a block of its own.
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]{1,10}\]")


def cosmetic_form(text: str, *, keep_refs: bool = False) -> str:
    """`text` without everything a cosmetic change may touch (footnote references' numbers
    kept with `keep_refs`, for a rendering that prints them as plain digits: "Signatory.7")."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _FOOTNOTE_REF.sub(_ref_number if keep_refs else "", text)
    text = _MARKER.sub(r"\1", text)  # "; and (3) " keeps its "and"
    return _NON_ALNUM.sub("", text.casefold())


def _ref_number(m: re.Match) -> str:
    return m.group(0)[2:-1]


def _cosmetically_equal(old: str, new: str) -> bool:
    if cosmetic_form(old) == cosmetic_form(new):
        return True
    # A footnote reference one rendering marks ("[^7]") and another prints as a digit.
    return ("[^" in old or "[^" in new) and cosmetic_form(old, keep_refs=True) == cosmetic_form(new, keep_refs=True)


def _without_toc_pages(text: str) -> str:
    """`text` with the leader dots and page numbers of its table-of-contents lines set aside
    (one rendering prints them, another links its entries, a third has no contents at all)."""
    return "\n".join(line if (title := toc_title(line)) is None else title for line in text.split("\n"))


_SENTENCE_END = (".", ":", ";", "!", "?")


def _navigation_only(text: str) -> bool:
    """Whether `text` is table-of-contents entries only, under at most one title line of its
    own ("Table of contents", as a heading or not): a rendering's navigation, which says
    nothing the sections don't."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    others = [line for line in lines if toc_title(line) is None]
    entries = len(lines) - len(others)
    if not others:
        return entries > 0
    title = others[0].lstrip("#").strip()
    return len(others) == 1 and entries >= 2 and len(title) <= 80 and not title.endswith(_SENTENCE_END)


def _changed(regex: re.Pattern, old: str, new: str) -> list[str]:
    """The matches that differ between old and new (both case-folded): "x → y", "+y" or "−x"."""
    a, b = Counter(regex.findall(old)), Counter(regex.findall(new))
    gone = sorted((a - b).elements())
    came = sorted((b - a).elements())
    out = []
    while gone and came:
        out.append(f"{gone.pop(0)} → {came.pop(0)}")
    out += [f"−{g}" for g in gone] + [f"+{c}" for c in came]
    return out


def _normative_sentences(text: str) -> set[str]:
    return {" ".join(s.split()).casefold() for s in _SENTENCE.findall(text) if _MODAL_RE.search(s.casefold())}


def _changed_words(edits: list[Edit]) -> tuple[int, int]:
    changed = sum(len(t.split()) for op, t in edits if op != 0)
    total = sum(len(t.split()) for op, t in edits if op <= 0) + sum(len(t.split()) for op, t in edits if op == 1)
    return changed, max(total, 1)


def _without_numbering(text: str, heading_only: bool) -> str:
    """Text with heading numbers set aside (renumbering is not a change of content)."""
    if heading_only and "\n" not in text.strip():
        number, title = split_heading(text)
        return title or "" if number else text
    lines = []
    for line in text.split("\n"):
        if line.startswith("#"):
            number, title = split_heading(line.lstrip("#").strip())
            line = "# " + (title or "") if number else line
        lines.append(line)
    return "\n".join(lines)


def classify(hunk: Hunk) -> Hunk:
    """Set the hunk's classification, flags, reasons, significance and its parts (in place)."""
    structural = hunk.kind in ("renumbered", "moved", "merged", "split")
    old_text, new_text = _without_toc_pages(hunk.old_text), _without_toc_pages(hunk.new_text)
    heading_only = structural or (
        hunk.kind == "modified" and "\n" not in old_text and split_heading(old_text)[0] is not None
        and split_heading(new_text)[0] is not None
    )
    old = _without_numbering(old_text, heading_only)
    new = _without_numbering(new_text, heading_only)
    flags: dict[str, list[str]] = {}
    reasons: list[str] = []
    if hunk.kind in ("added", "removed") and _navigation_only(hunk.new_text or hunk.old_text):
        hunk.classification = "cosmetic"
        hunk.flags = {}
        hunk.reasons = [f"table of contents {hunk.kind}: a rendering's navigation, not text"]
        hunk.significance_parts = {"cosmetic": 0.01}
        hunk.significance = 0.01
        return hunk
    for kind, text, path in (("added", new, hunk.new_path), ("removed", old, hunk.old_path)):
        if hunk.kind != kind:
            continue
        if _is_section(path, text):
            flags[f"section_{kind}"] = _first_words(text)
        elif _normative_sentences(text):
            flags[f"obligation_{kind}"] = _first_words(text)
        elif _LIST_ITEM.match(text):
            # A point added to or removed from an enumeration widens or narrows what its
            # lead-in ("Providers shall:") requires, even without a modal of its own.
            flags["scope"] = [f"list item {kind}: " + _first_words(text)[0]]
    # With numbers set aside for a renumbered heading, or as printed (a heading set as a
    # plain line keeps its number: "### Measure 1.1. Title" / "Measure 1.1. Title ...").
    if hunk.kind not in ("added", "removed") and (
            _cosmetically_equal(old, new) or _cosmetically_equal(old_text, new_text)):
        hunk.classification = "cosmetic"
        hunk.flags = {}
        hunk.reasons = ["only case, punctuation, quotes, spacing or markup changed"]
        hunk.significance_parts = {"cosmetic": 0.01}
        hunk.significance = 0.01 if old != new else 0.0
        if structural:
            hunk.significance_parts = {hunk.kind: WEIGHTS[hunk.kind]}
            hunk.significance = WEIGHTS[hunk.kind]
            hunk.classification = "editorial"
            hunk.reasons = [f"section {hunk.kind} with its text unchanged"]
        return hunk
    # A merge or split hunk joins the part's heading to another section's: their words are
    # not one text changed, and the part's text is compared in hunks of its own.
    if hunk.kind not in ("added", "removed", "merged", "split"):
        # Compared case-insensitively, each text folded once for all the patterns.
        old_cf, new_cf = old.casefold(), new.casefold()
        for name, regex in (("modal", _MODAL_RE), ("negation", _NEG_RE), ("actor", _ACTOR_RE),
                            ("threshold", _THRESHOLD_RE), ("date", _DATE_RE), ("duration", _DURATION_RE),
                            ("reference", _REFERENCE_RE)):
            found = _changed(regex, old_cf, new_cf)
            if found:
                flags[name] = found
        old_nr = _REFERENCE_RE.sub(" ", _FOOTNOTE_REF.sub("", _LIST_MARKER.sub(r"\1", old_cf)))
        new_nr = _REFERENCE_RE.sub(" ", _FOOTNOTE_REF.sub("", _LIST_MARKER.sub(r"\1", new_cf)))
        numbers = _changed(_NUMBER_RE, old_nr, new_nr)
        if numbers and not ({"date", "duration", "threshold"} & flags.keys()):
            flags["number"] = numbers
        before, after = _normative_sentences(old), _normative_sentences(new)
        # A reworded normative sentence is one sentence changed, not one removed and one added.
        if len(after) > len(before):
            flags["obligation_added"] = _first_words(" / ".join(sorted(after - before))[:200])
        elif len(after) < len(before):
            flags["obligation_removed"] = _first_words(" / ".join(sorted(before - after))[:200])
    parts: dict[str, float] = {}
    for flag in flags:
        parts[flag] = WEIGHTS.get(flag, 0.1)
    changed, total = _changed_words(hunk.edits) if hunk.edits else (1, 1)
    share = min(1.0, changed / total)
    if hunk.kind in ("added", "removed"):
        share = 1.0
    parts["size"] = round(WEIGHTS["size"] * share, 4)
    if structural:
        parts[hunk.kind] = WEIGHTS[hunk.kind]
    if hunk.kind in ("merged", "split"):
        # The heading of a part merged in or split off: the event; its text's fate is in the
        # hunks of its paragraphs (moved, edited, removed).
        reasons.append(f"section {hunk.kind}: {_first_words(hunk.old_text)[0]} → {_first_words(hunk.new_text)[0]}")
    substantive = bool(SUBSTANTIVE_FLAGS & flags.keys())
    hunk.classification = "substantive" if substantive else "editorial"
    for flag, words in flags.items():
        reasons.append(f"{flag.replace('_', ' ')}: {', '.join(words[:5])}")
    if not substantive and hunk.kind not in ("merged", "split"):
        reasons.append("wording changed; no duty, number, actor or scope changed")
    hunk.flags = flags
    hunk.reasons = reasons
    hunk.significance_parts = parts
    hunk.significance = min(1.0, sum(parts.values()))
    return hunk


def _is_section(path: list[str], text: str) -> bool:
    return bool(path) and text.lstrip().startswith("#")


def _first_words(text: str, n: int = 12) -> list[str]:
    words = " ".join(text.split()).lstrip("# ").split(" ")
    return [" ".join(words[:n]) + (" …" if len(words) > n else "")]
