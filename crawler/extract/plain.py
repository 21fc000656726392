"""Plain text and Markdown into the shared text model (`store.records.DocText`).

Handles Markdown (ATX headings, lists, pipe tables, emphasis, links) and plain-text dumps
of legal texts ("Article 53" on its own line, its title on the next). Headings are
recognised with the same numbering rules as HTML and PDF extraction, so one document in
any format gives nearly the same normalised text.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cached_property

from crawler.extract.headings import MAX_TITLE_CHARS, heading_block, merge_number_titles
from crawler.extract.normalize import normalize_inline, split_marker
from store.numbering import HeadingMatch, match_heading
from store.records import Block, DocText

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_EMPHASIS_ONLY = re.compile(r"^(\*\*|__)(?P<t>.+?)\1$|^(\*|_)(?P<u>[^*_].*?)\3$")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_EM_UNDER = re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")
_HYPHEN_END = re.compile(r"(\w+)-$")
_WORDS = re.compile(r"\w+")
_SENTENCE_END = (".", ":", ";", "!", "?")
_FOOTNOTE_AFTER_STOP = re.compile(r"[^\W\d][.;:][”’\"')]?\d{1,3}$")

def extract_plain(text: str) -> DocText:
    """Extract plain text or Markdown into blocks: headings, paragraphs, list items, tables."""
    # Each replacement scans the whole text even when there is nothing to replace: test for
    # the one character first (a far cheaper scan).
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\ufeff" in text:
        text = text.replace("\ufeff", "")
    blocks = _Parser(text).parse()
    blocks = merge_number_titles(blocks)
    title = next((b.text for b in blocks if b.kind == "heading"), None)
    return DocText(blocks=blocks, title=title)


_PAGE_MARK = re.compile(r"\[page (\d+)\]")
PAGE_LOOKAROUND = 3  # non-blank lines after a page mark where its header and number are


def blank_page_furniture(lines: list[str]) -> None:
    """Blank (in place) what a PDF text dump prints for its pages rather than its text: the
    "[page N]" marks, the page number N next to its mark, and a running header repeated after
    at least half of the marks. The PDF extractor drops the same furniture, so a text dump
    and its PDF compare without page numbers glued to paragraphs ("13 Annex XII 1.(d) ...")."""
    marks = [(i, m.group(1)) for i, line in enumerate(lines)
             if line.startswith("[page ") and (m := _PAGE_MARK.fullmatch(line.strip()))]
    near: list[list[int]] = []
    headers: Counter[str] = Counter()
    for i, _number in marks:
        after = [k for k in range(i + 1, min(i + 2 * PAGE_LOOKAROUND + 1, len(lines))) if lines[k].strip()]
        near.append(after[:PAGE_LOOKAROUND])
        headers.update({lines[k].strip() for k in near[-1]})
    running = {h for h, n in headers.items() if n >= max(3, (len(marks) + 1) // 2) and not h.isdigit()}
    for (i, number), after in zip(marks, near, strict=True):
        lines[i] = ""
        for k in after:
            if lines[k].strip() in running or lines[k].strip() == number:
                lines[k] = ""


def strip_markdown(text: str) -> str:
    """Inline Markdown reduced to its text: emphasis markers, code ticks and link syntax."""
    # Most lines of a legal text carry no Markdown at all: skip the substitutions for them
    # (they were most of the time spent on a 5 MB text).
    if "*" not in text and "_" not in text and "[" not in text and "`" not in text:
        return normalize_inline(text)
    text = _LINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    for _ in range(2):  # nested emphasis: ***x*** / **_x_**
        text = _STRONG.sub(r"\2", text)
        text = _EM_STAR.sub(r"\1", text)
        text = _EM_UNDER.sub(r"\1", text)
    return normalize_inline(text)


class _Parser:
    """Line-oriented parser; blank lines separate blocks."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = list(map(str.rstrip, text.split("\n")))
        if "[page " in text:
            blank_page_furniture(self.lines)
        self.blocks: list[Block] = []
        # indents of the open list items, for nesting and continuation lines
        self.items: list[int] = []

    @cached_property
    def vocabulary(self) -> Counter[str]:
        """How often each word (lower-cased) occurs, when some line ends in a hyphen."""
        # Only end-of-line hyphens need it, and only the first one builds it: counting every
        # word of a 5 MB text takes most of a second, and most texts have none.
        if not any(line.endswith("-") for line in self.lines):
            return Counter()
        return Counter(w.lower() for w in _WORDS.findall(self.text))

    def parse(self) -> list[Block]:
        """The blocks of the whole text, in order."""
        lines = self.lines
        i = 0
        n = len(lines)
        after_blank = True
        while i < n:
            line = lines[i]
            if not line:  # lines are right-stripped: a blank line is empty
                after_blank = True
                i += 1
                continue
            if after_blank and (i + 1 == n or not lines[i + 1]) and self._one_line_chunk(line):
                i += 1
            else:
                i = self._line(i, after_blank)
            after_blank = False
        return self.blocks

    def _one_line_chunk(self, line: str) -> bool:
        """Parse `line`, alone between blank lines, if it is an ATX heading, a list item, or a
        paragraph or numbered heading without Markdown around it; else return False having
        changed nothing, and `_line` decides.

        Most chunks of a long text are such lines, and `_line` spends several times longer
        ruling out everything else a line could be. What this parses must come out exactly
        as from `_line` (tested).
        """
        first = line[0]
        if first == "#":
            m = _ATX.match(line)
            if m is None:
                return False
            self._atx_heading(m)
            return True
        if first in "*_" or first.isspace() or (first == "-" and _RULE.match(line)):
            return False  # emphasis, a rule or indentation
        # A one-line chunk cannot start a table (no separator row follows) nor continue
        # a list item (it is not indented).
        marker, rest = split_marker(line)
        if marker is not None:
            self._item(marker, strip_markdown(rest), 0)
            return True
        if first.islower():
            return False  # may continue the paragraph before a page break
        self._close_items()
        plain = strip_markdown(line)
        hm = _unstyled_heading(plain)
        if hm is not None and self._standalone_heading(plain, hm, single=True, after_blank=True):
            self.blocks.append(heading_block(plain, hm, hm.level))
        else:
            self.blocks.append(Block("paragraph", plain))
        return True

    # --- one construct starting at line i; returns the index of the next line to read ----

    def _line(self, i: int, after_blank: bool) -> int:
        lines = self.lines
        line = lines[i]
        stripped = line.strip()
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        indent = len(line) - len(line.lstrip(" \t"))

        m = _ATX.match(line)
        if m:
            self._atx_heading(m)
            return i + 1
        if _RULE.match(line):
            self._close_items()
            return i + 1
        if stripped.startswith("|") and _TABLE_SEP.match(nxt) and "|" in nxt:
            self._close_items()
            return self._table(i)

        marker, rest = split_marker(stripped)
        if marker is not None:
            self._item(marker, strip_markdown(rest), indent)
            return i + 1

        # Continuation of an open list item: inside its chunk, or indented after a blank line.
        if self.items and (not after_blank or indent >= 2) and not self._heading_inside(i, stripped):
            self._append(len(self.blocks) - 1, stripped)
            return i + 1
        self._close_items()

        # A chunk that starts lower-case continues the previous paragraph across a page
        # break of a PDF text dump.
        if after_blank and stripped[0].islower() and self._open_text():
            self._append(len(self.blocks) - 1, stripped)
            return i + 1

        single = not nxt.strip()
        emph = _EMPHASIS_ONLY.match(stripped)
        if emph:
            inner = strip_markdown(emph.group("t") or emph.group("u"))
            hm = match_heading(inner, styled=True)
            if hm is not None:
                self.blocks.append(heading_block(inner, hm, hm.level))
                return i + 1
        plain = strip_markdown(stripped)
        wrapped = self._wrapped_heading(i, after_blank)
        if wrapped is not None:
            return wrapped
        if after_blank or self._ends_sentence(i - 1):
            hm = _unstyled_heading(plain)
            if hm is not None and self._standalone_heading(plain, hm, single, after_blank, nxt):
                self.blocks.append(heading_block(plain, hm, hm.level))
                return i + 1
        return self._paragraph(i)

    def _heading_inside(self, j: int, line: str) -> bool:
        """Whether `line` (line j, not the first of its chunk) is a heading: a PDF text dump
        often has no blank line around one ("...Article 78.”" / "Commitment 1. Documentation"
        / "In order to fulfil...")."""
        if not (line[:1].isupper() or line[:1].isdecimal()) or not self._ends_sentence(j - 1):
            return False
        plain = strip_markdown(line)
        hm = _unstyled_heading(plain)
        nxt = self.lines[j + 1] if j + 1 < len(self.lines) else ""
        return hm is not None and self._standalone_heading(plain, hm, not nxt.strip(), False, nxt)

    def _wrapped_heading(self, i: int, after_blank: bool) -> int | None:
        """A titled heading wrapped over two lines that form their own chunk (PDF text dumps)."""
        lines = self.lines
        if not after_blank or i + 2 > len(lines) or not lines[i + 1].strip():
            return None
        if i + 2 < len(lines) and lines[i + 2].strip():
            return None
        text = strip_markdown(f"{lines[i].strip()} {lines[i + 1].strip()}")
        if len(text) > MAX_TITLE_CHARS or text.endswith(_SENTENCE_END):
            return None
        # The first line alone may end in "and": check it loosely, the joined text strictly.
        first = match_heading(strip_markdown(lines[i]), styled=True)
        hm = match_heading(text, styled=False)
        if first is None or first.title is None or hm is None or hm.number != first.number:
            return None
        self.blocks.append(heading_block(text, hm, hm.level))
        return i + 2

    def _standalone_heading(self, text: str, hm: HeadingMatch, single: bool, after_blank: bool,
                            nxt: str = "") -> bool:
        if single and after_blank:
            return True
        if hm.title is None:
            # "Article 53" directly above its title line: the title is joined later.
            return after_blank
        if len(text) > 120 or text.endswith("."):
            return False
        if single:
            # A short titled line closing its chunk ("Commitment 1 Safety ..." after a page mark).
            return True
        # A titled line followed by more of its chunk: a heading when it reads as a title (no
        # sentence end, no table-of-contents leader dots) and the next line starts a sentence
        # or a list; a prose line that merely starts with "Article 56 AI Act states" runs on
        # into a line that continues it.
        if text.endswith(_SENTENCE_END) or "...." in text or not hm.title[:1].isupper() or ". " in hm.title:
            return False
        following = nxt.strip()
        return following[:1].isupper() or split_marker(following)[0] is not None

    def _ends_sentence(self, j: int) -> bool:
        if j < 0:
            return True
        # A closing quote or bracket after the full stop still ends the sentence ("...78.”").
        prev = self.lines[j].strip().rstrip("”’\"')]")
        # A line that is only a number is a page number; a sentence may end in a footnote
        # reference printed as plain digits ("...on the website of the Signatory.7").
        return (not prev or prev.endswith(_SENTENCE_END) or prev.startswith("[") or prev.isdigit()
                or _FOOTNOTE_AFTER_STOP.search(prev) is not None)

    def _atx_heading(self, m: re.Match[str]) -> None:
        self._close_items()
        self._heading(strip_markdown(m.group(2)), len(m.group(1)), styled=True)

    def _heading(self, text: str, hashes: int, *, styled: bool) -> None:
        hm = match_heading(text, styled=styled)
        self.blocks.append(heading_block(text, hm, hashes))

    def _paragraph(self, i: int) -> int:
        lines = self.lines
        parts = [lines[i].strip()]
        j = i + 1
        while j < len(lines):
            line = lines[j]
            s = line.strip()
            if not s or _ATX.match(line) or _RULE.match(line):
                break
            if s.startswith("|") and j + 1 < len(lines) and _TABLE_SEP.match(lines[j + 1]):
                break
            if split_marker(s)[0] is not None or self._heading_inside(j, s):
                break
            parts.append(s)
            j += 1
        text = parts[0]
        for part in parts[1:]:
            text = self._join(text, part)
        self.blocks.append(Block("paragraph", strip_markdown(text)))
        return j

    def _table(self, i: int) -> int:
        rows: list[tuple[str, ...]] = []
        j = i
        while j < len(self.lines) and self.lines[j].strip().startswith("|"):
            line = self.lines[j].strip()
            if not _TABLE_SEP.match(line):
                cells = re.split(r"(?<!\\)\|", line.strip("|"))
                row = tuple(strip_markdown(c.replace("\\|", "|")) for c in cells)
                if any(row):
                    rows.append(row)
            j += 1
        if rows:
            self.blocks.append(Block("table", rows=tuple(rows)))
        return j

    def _item(self, marker: str, text: str, indent: int) -> None:
        items = self.items
        while items and items[-1] >= indent:
            items.pop()
        self.blocks.append(Block("list_item", text, level=len(items), marker=marker))
        items.append(indent)

    def _close_items(self) -> None:
        self.items.clear()

    def _open_text(self) -> bool:
        if not self.blocks:
            return False
        last = self.blocks[-1]
        return last.kind in ("paragraph", "list_item") and bool(last.text) and not last.text.endswith(_SENTENCE_END)

    def _append(self, index: int, line: str) -> None:
        block = self.blocks[index]
        self.blocks[index] = Block(
            block.kind,
            strip_markdown(self._join(block.text, line)),
            level=block.level,
            marker=block.marker,
        )

    def _join(self, text: str, line: str) -> str:
        """Join a wrapped line; undo "word-\\nword" hyphenation when the whole word is used elsewhere."""
        # (`text` is stripped, so the pattern can only match when it ends in a hyphen; testing
        # that first saves searching a long paragraph once for each line it is joined from.)
        m = _HYPHEN_END.search(text) if text.endswith("-") else None
        if m and line[:1].isalpha():
            head = _WORDS.match(line)
            joined = (m.group(1) + head.group(0)).lower() if head else ""
            if joined and self.vocabulary.get(joined, 0) > 0:
                return text[:-1] + line
            return text + line  # keep the hyphen of a compound ("up-\nto-date")
        return f"{text} {line}"


def _unstyled_heading(text: str) -> HeadingMatch | None:
    """A heading on a line with no markup: a keyword heading ("Measure 2.9: Title"), or a
    multi-level decimal one ("3.1. Considerations for ...") that reads as a title. A bold
    font would tell the PDF extractor; in a text dump the number's levels tell: "1. The
    provider ..." is a point, "3.1" is a heading's number."""
    hm = match_heading(text, styled=False)
    if hm is not None or not text[:1].isdecimal():
        return hm
    hm = match_heading(text, styled=True)
    if (hm is None or hm.kind != "decimal" or "." not in hm.number or len(text) > MAX_TITLE_CHARS
            or text.endswith(_SENTENCE_END) or ". " in (hm.title or "")):
        return None
    return hm
