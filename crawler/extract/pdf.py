"""PDF extraction: the text layer of a PDF into the shared text model (`store.records.DocText`).

pdfium gives characters with their font, size and box; everything else (lines, paragraphs,
headings, list items, footnotes, running headers) is inferred from layout and from the
numbering patterns of legal texts in `store.numbering`, never from one document's strings.
"""

from __future__ import annotations

import ctypes
import math
import re
from collections import Counter
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from crawler.extract.errors import ExtractionError
from crawler.extract.normalize import is_bullet, normalize_inline, split_marker
from store.numbering import HeadingMatch, join_number_title, match_heading
from store.records import Block, DocText

# Kinds from `store.numbering` that are recognised from the text alone (not "roman"/"decimal").
_STRONG_KINDS = frozenset(
    {"part", "chapter", "annex", "section", "appendix", "article", "commitment", "measure"}
)
# pdfium replaces a hyphen it thinks breaks a word at a line end by U+0002 (U+FFFE from
# FPDFText_GetText) and merges the two lines.
_PDFIUM_HYPHENS = "\x02\ufffe"
_SOFT_HYPHEN = "\u00ad"
_TERMINAL = re.compile(r"[.!?:;][\"'”’)\]]*$")
_DOT_LEADER = re.compile(r"(?:\s*[.…·]\s*){4,}")
_TOC_LINE = re.compile(r"(?:\.\s*){4,}\s*\d{1,4}\s*$|…\s*\d{1,4}\s*$")
_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?[-–—]?\s*(?:\d{1,4}|[ivxlc]{1,7})\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.I
)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_LAST_WORD = re.compile(r"([^\W\d_]+)-$")
_FIRST_WORD = re.compile(r"^([^\W\d_]+)")
_EXPONENT_BASE = re.compile(r"(?<![\d.,])10$")
_REF_DIGITS = re.compile(r"\d{1,3}(?:,\d{1,3})*")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LEAD_NUMBER = re.compile(r"^(\d{1,3})[.)]?\s+(\S.*)$", re.S)

MARGIN_BAND = 0.09  # share of the page height at top and bottom where running heads live
REPEAT_SHARE = 0.3  # a marginal line repeated on this share of pages is a running head


@dataclass
class _Line:
    """One visual line of text with the layout facts paragraph and heading rules need."""

    page: int
    text: str  # superscripts already rendered as [^N] / ^N
    size: float  # dominant font size by character count
    bold: bool  # bold as a whole
    x0: float
    x1: float
    baseline: float
    top: float
    word1_x1: float  # right edge of the first word: would it have fitted on the line above?
    word2_x0: float | None  # left edge of the second word: where a hanging indent aligns
    chars: int  # non-space characters
    note: str | None = None  # a superscript number opening the line (footnote marker)
    sizes: Counter[float] = field(default_factory=Counter)  # characters per font size
    beside: bool = False  # other text on the same row: a table cell, never a heading


@dataclass
class _Page:
    number: int
    width: float
    height: float
    lines: list[_Line] = field(default_factory=list)
    footnotes: list[_Line] = field(default_factory=list)


@dataclass
class _Layout:
    """Document-wide measures the per-line rules compare against."""

    body_size: float
    spacing: float  # normal baseline distance as a multiple of the font size
    right_edge: float
    tolerance: float  # horizontal slack for "same indentation"


@dataclass
class _Group:
    """Consecutive lines that layout says belong together (a paragraph, item or heading)."""

    lines: list[_Line]

    @property
    def first(self) -> _Line:
        return self.lines[0]

    @property
    def size(self) -> float:
        return self.lines[0].size


@dataclass
class _Vocab:
    """The document's own words, used to undo hyphenation at line ends."""

    words: set[str] = field(default_factory=set)
    hyphenated: set[str] = field(default_factory=set)


def extract_pdf(data: bytes) -> DocText:
    """Extract the text layer of the PDF `data` into a DocText.

    Raises ExtractionError for encrypted, malformed or truncated PDFs (kind "extract") and
    for PDFs without a text layer (kind "content").
    """
    pdf = _open(data)
    try:
        pages, sizes, warnings = _read_pages(pdf)
        meta_title = _metadata_title(pdf)
    finally:
        pdf.close()
    if not sizes:
        raise ExtractionError("PDF has no text layer (scanned images?)", kind="content")
    body_size = sizes.most_common(1)[0][0]
    _drop_running_heads(pages)
    for page in pages:
        _split_footnotes(page, body_size)
    for page in pages:
        _mark_rows(page.lines)
    layout = _measure_layout(pages, body_size)
    vocab = _build_vocab(pages)
    blocks = _build_blocks(pages, layout, vocab)
    title = meta_title or _fallback_title(blocks, pages)
    return DocText(blocks=blocks, title=title, warnings=warnings)


# --- reading pdfium -----------------------------------------------------------------------


def _open(data: bytes) -> pdfium.PdfDocument:
    if not data:
        raise ExtractionError("malformed or truncated PDF: empty body", kind="extract")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise ExtractionError("encrypted PDF: a password is required", kind="extract") from None
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise ExtractionError(
                "encrypted PDF: unsupported security handler", kind="extract"
            ) from None
        detail = {
            pdfium_c.FPDF_ERR_FILE: "file not found or could not be read",
            pdfium_c.FPDF_ERR_FORMAT: "not a PDF or corrupted",
            pdfium_c.FPDF_ERR_PAGE: "page not found or content error",
        }.get(code, str(exc) or "unknown pdfium error")
        raise ExtractionError(f"malformed or truncated PDF: {detail}", kind="extract") from None


def _metadata_title(pdf: pdfium.PdfDocument) -> str | None:
    try:
        title = normalize_inline(pdf.get_metadata_value("Title") or "")
    except (pdfium.PdfiumError, UnicodeDecodeError, ValueError):
        return None
    # Word processors often leave "untitled" or the source file name as the title.
    if len(title) < 3 or title.lower() in {"untitled", "title", "document"}:
        return None
    if re.search(r"\.(docx?|odt|rtf|pdf|indd|tex|pptx?)$", title, re.I) or title.lower().startswith(
        "microsoft word"
    ):
        return None
    return title


def _read_pages(pdf: pdfium.PdfDocument) -> tuple[list[_Page], Counter[float], list[str]]:
    pages: list[_Page] = []
    sizes: Counter[float] = Counter()
    warnings: list[str] = []
    for index in range(len(pdf)):
        try:
            page = pdf[index]
        except pdfium.PdfiumError as exc:
            warnings.append(f"page {index + 1} could not be read: {exc}")
            continue
        try:
            width, height = page.get_size()
            textpage = page.get_textpage()
            try:
                lines = _read_lines(textpage.raw, index, sizes)
            finally:
                textpage.close()
        except pdfium.PdfiumError as exc:
            warnings.append(f"page {index + 1} has an unreadable text layer: {exc}")
            continue
        finally:
            page.close()
        pages.append(_Page(index, width, height, lines))
    if not pages and len(pdf):
        raise ExtractionError("malformed or truncated PDF: no page could be read", kind="extract")
    return pages, sizes, warnings


def _page_text(textpage: object, count: int) -> str:
    """The page's characters, one per pdfium character index."""
    units = (ctypes.c_ushort * (count + 1))()
    pdfium_c.FPDFText_GetText(textpage, 0, count, units)
    # pdfium counts UTF-16 code units: a character outside the BMP takes two indices, so
    # the units are kept apart here (a UTF-16 decoder would merge them and shift every
    # later index) and the pair is recombined in `_render`.
    return "".join(map(chr, units[:count]))


# A character as read from pdfium: (char, size, bold, left, right, bottom, top).
_Char = tuple[str, float, bool, float, float, float, float]
_SPACE: _Char = (" ", 0.0, False, 0.0, 0.0, 0.0, 0.0)


def _read_lines(textpage: object, page_no: int, sizes: Counter[float]) -> list[_Line]:
    """The page's visual lines, in the content stream's order (which is reading order for
    the documents this tool tracks)."""
    count = pdfium_c.FPDFText_CountChars(textpage)
    if count <= 0:
        return []
    text = _page_text(textpage, count)
    get_size = pdfium_c.FPDFText_GetFontSize
    get_weight = pdfium_c.FPDFText_GetFontWeight
    get_box = pdfium_c.FPDFText_GetCharBox
    get_info = pdfium_c.FPDFText_GetFontInfo
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    name_buf = ctypes.create_string_buffer(128)
    flags = ctypes.byref(ctypes.c_int())
    chunks: list[list[_Char]] = []
    current: list[_Char] = []
    last_size = -1.0
    bold = False
    word_start = True
    prev_left = prev_bottom = 0.0
    for i, ch in enumerate(text):
        if ch in "\r\n":
            if current:
                chunks.append(current)
                current = []
            word_start = True
            continue
        if ch.isspace():
            if current:
                current.append(_SPACE)
            word_start = True
            continue
        size = round(get_size(textpage, i) * 2) / 2
        # Weight and font name are read once per word or size change: one call per
        # character would double the run time, and bold rarely changes inside a word.
        if word_start or size != last_size:
            get_info(textpage, i, name_buf, 128, flags)
            bold = get_weight(textpage, i) >= 600 or b"bold" in name_buf.value.lower()
            last_size = size
        word_start = False
        get_box(textpage, i, left, right, bottom, top)
        x, y = left.value, bottom.value
        # pdfium merges the two lines of a word it believes hyphenated: a jump back to the
        # left and down (or up, to the next page's running head) is a new visual line.
        if current and x < prev_left - size and abs(y - prev_bottom) > 0.5 * size:
            chunks.append(current)
            current = []
        current.append((ch, size, bold, x, right.value, y, top.value))
        prev_left, prev_bottom = x, y
    if current:
        chunks.append(current)
    lines = [line for chunk in _merge_row_pieces(chunks) if (line := _make_line(chunk, page_no))]
    for line in lines:
        sizes.update(line.sizes)
    return lines


def _merge_row_pieces(chunks: list[list[_Char]]) -> list[list[_Char]]:
    """Join pieces pdfium splits one visual line into (a superscript reference, the text
    after it, a footnote number before its text): next to each other on the same row."""
    merged: list[list[_Char]] = []
    band: tuple[float, float] = (0.0, 0.0)
    for chunk in chunks:
        glyphs = [c for c in chunk if c[0] != " "]
        if not glyphs:
            continue
        low, high = min(c[5] for c in glyphs), max(c[6] for c in glyphs)
        if merged:
            last = next(c for c in reversed(merged[-1]) if c[0] != " ")
            first = glyphs[0]
            gap = first[3] - last[4]
            size = max(first[1], last[1])
            overlap = min(high, band[1]) - max(low, band[0])
            if (
                overlap > 0.3 * min(high - low, band[1] - band[0])
                and -0.5 * size < gap < 1.5 * size
            ):
                if gap > 0.2 * size and merged[-1][-1][0] != " " and chunk[0][0] != " ":
                    merged[-1].append(_SPACE)
                merged[-1].extend(chunk)
                band = (min(low, band[0]), max(high, band[1]))
                continue
        merged.append(list(chunk))
        band = (low, high)
    return merged


def _make_line(chars: list[_Char], page_no: int) -> _Line | None:
    glyphs = [c for c in chars if c[0] != " "]
    if not glyphs:
        return None
    # Transposed once so the per-line measures below run at C speed (the hot path).
    texts, sizes_, bolds, lefts, rights, bottoms, tops = zip(*glyphs, strict=True)
    sizes = Counter(sizes_)
    size = sizes.most_common(1)[0][0]
    # Bold as a whole: every letter bold ("6. Support ... – We" with a bold run-in title is
    # not); digits and punctuation often come from another font.
    letters = [b for c, b in zip(texts, bolds, strict=True) if c.isalpha()] or bolds
    bold = all(letters)
    # The median bottom of the main font is the baseline: descenders are few, and
    # superscripts are in another size.
    if len(sizes) > 1:
        bottoms = tuple(b for b, s in zip(bottoms, sizes_, strict=True) if s == size)
    baseline = sorted(bottoms)[len(bottoms) // 2]
    text, note = _render(chars, size, baseline)
    if not text.strip():
        return None
    word1_x1, word2_x0 = _word_edges(chars)
    return _Line(
        page=page_no,
        text=text,
        size=size,
        bold=bold,
        x0=min(lefts),
        x1=max(rights),
        baseline=baseline,
        top=max(tops),
        word1_x1=word1_x1,
        word2_x0=word2_x0,
        chars=len(glyphs),
        note=note,
        sizes=sizes,
    )


def _render(chars: list[_Char], size: float, baseline: float) -> tuple[str, str | None]:
    """The line's text with superscripts as footnote references ("[^3]") or exponents
    ("10^25"), and the footnote number if one opens the line."""
    parts: list[str] = []
    note: str | None = None
    i = 0
    small, raised = 0.85 * size, baseline + 0.2 * size
    while i < len(chars):
        char = chars[i]
        if char[1] >= small or char[5] <= raised or char[0] == " ":
            parts.append("-" if char[0] in _PDFIUM_HYPHENS else char[0])
            i += 1
            continue
        j = i
        while (
            j < len(chars) and chars[j][1] < small and chars[j][5] > raised and chars[j][0] != " "
        ):
            j += 1
        run = "".join(c[0] for c in chars[i:j])
        before = "".join(parts)
        if not before.strip() and run.isdigit():
            note = run
        elif _EXPONENT_BASE.search(before) and re.fullmatch(r"[-−–]?\d+", run):
            parts.append("^" + run)
        elif _REF_DIGITS.fullmatch(run):
            parts.append("".join(f"[^{n}]" for n in run.split(",")))
        else:
            parts.append(run)
        i = j
    text = "".join(parts)
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text, note


def _word_edges(chars: list[_Char]) -> tuple[float, float | None]:
    i = 0
    while chars[i][0] == " ":
        i += 1
    word1_x1 = chars[i][4]
    while i < len(chars) and chars[i][0] != " ":
        word1_x1 = max(word1_x1, chars[i][4])
        i += 1
    while i < len(chars) and chars[i][0] == " ":
        i += 1
    return word1_x1, (chars[i][3] if i < len(chars) else None)


# --- page furniture: running heads, page numbers, footnotes ---------------------------------


def _margin_key(line: _Line, page: _Page) -> str | None:
    """A key for lines in the top or bottom band of the page; None for the body."""
    band = MARGIN_BAND * page.height
    if line.baseline < page.height - band and line.top > band:
        return None
    return re.sub(r"\d+", "#", " ".join(line.text.lower().split()))


def _drop_running_heads(pages: list[_Page]) -> None:
    """Remove running headers/footers (repeated across pages) and bare page numbers."""
    seen: Counter[str] = Counter()
    for page in pages:
        seen.update({key for line in page.lines if (key := _margin_key(line, page))})
    threshold = max(2, math.ceil(REPEAT_SHARE * len(pages)))
    for page in pages:
        page.lines = [
            line
            for line in page.lines
            if (key := _margin_key(line, page)) is None
            or (seen[key] < threshold and not _PAGE_NUMBER.match(line.text.strip()))
        ]


def _split_footnotes(page: _Page, body_size: float) -> None:
    """Move the footnote zone (small type at the foot of the page, opened by a number) out of
    the page's running lines."""
    lines = page.lines
    small = [line.size < body_size - 0.4 for line in lines]
    has_notes = any(line.note for line in lines)
    for i, line in enumerate(lines):
        if not small[i] or not all(small[i:]):
            continue
        opens = line.note is not None or (not has_notes and _LEAD_NUMBER.match(line.text.strip()))
        if not opens:
            continue
        lowest_body = min(
            (ln.baseline for ln in lines[:i] if ln.size >= body_size - 0.4), default=None
        )
        if lowest_body is not None and line.baseline >= lowest_body:
            continue
        page.footnotes = lines[i:]
        page.lines = lines[:i]
        return


def _mark_rows(lines: list[_Line]) -> None:
    """Flag lines that share their row with other text (table cells, side-by-side blocks)."""
    ordered = sorted(lines, key=lambda ln: ln.baseline)
    for i, line in enumerate(ordered):
        for other in ordered[i + 1 :]:
            if other.baseline - line.baseline > 0.75 * max(line.size, other.size):
                break
            if other.x0 > line.x1 or line.x0 > other.x1:
                line.beside = other.beside = True


# --- document measures and vocabulary --------------------------------------------------------


def _measure_layout(pages: list[_Page], body_size: float) -> _Layout:
    ratios: list[float] = []
    ends: list[float] = []
    for page in pages:
        prev: _Line | None = None
        for line in page.lines:
            if line.size == body_size:
                ends.append(line.x1)
                if prev is not None and prev.size == body_size:
                    ratio = (prev.baseline - line.baseline) / body_size
                    if 0.8 < ratio < 2.2:
                        ratios.append(ratio)
            prev = line
    spacing = _median(ratios) if ratios else 1.2
    right_edge = sorted(ends)[int(0.95 * (len(ends) - 1))] if ends else 0.0
    return _Layout(body_size, spacing, right_edge, max(2.0, 0.3 * body_size))


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _build_vocab(pages: list[_Page]) -> _Vocab:
    vocab = _Vocab()
    prev_hyphen = False
    for page in pages:
        for line in page.lines + page.footnotes:
            text = line.text.strip()
            words = _WORD.findall(text)
            # Fragments of a word broken at the line end are not evidence of anything.
            if prev_hyphen and words and text.startswith(words[0]):
                words = words[1:]
            prev_hyphen = text.endswith("-")
            if prev_hyphen and words and text.endswith(words[-1] + "-"):
                words = words[:-1]
            for word in words:
                word = word.lower()
                if "-" in word:
                    vocab.hyphenated.add(word)
                    vocab.words.update(word.split("-"))
                else:
                    vocab.words.add(word)
    return vocab


def _join_hyphen(left: str, right: str, vocab: _Vocab) -> str:
    """How a word broken after a hyphen at a line end is put back: "" (drop the hyphen, a
    hyphenation) or "-" (a real hyphen, as in "general-purpose")."""
    last = _LAST_WORD.search(left)
    first = _FIRST_WORD.match(right)
    if not last or not first:
        return "-"  # "CA-" + "8(2)", "2019-" + "2020": never a hyphenated word
    if first.group(1)[0].isupper() and not first.group(1).isupper():
        return "-"  # "Castets-" + "Renard": hyphenation never capitalises the second half
    head, tail = last.group(1).lower(), first.group(1).lower()
    if len(left) > len(head) + 1 and left[-len(head) - 2] == "-":
        return "-"  # "state-of-" + "the-art": already a compound
    if head + tail in vocab.words:
        return ""
    if f"{head}-{tail}" in vocab.hyphenated:
        return "-"
    # A prefix such as "de-", "re-", "co-" is rarely a word on its own.
    if tail in vocab.words and (head in vocab.words or len(head) <= 3):
        return "-"
    return ""


def _join_lines(lines: list[_Line], vocab: _Vocab) -> str:
    text = ""
    for line in lines:
        piece = line.text.strip()
        if not text:
            text = piece
        elif text.endswith(_SOFT_HYPHEN):
            text = text[:-1] + piece
        elif text.endswith("-") and not text.endswith(" -"):
            text = text[:-1] + _join_hyphen(text, piece, vocab) + piece
        else:
            text = f"{text} {piece}"
    return normalize_inline(text)


# --- grouping lines into paragraphs ------------------------------------------------------


def _is_toc(line: _Line) -> bool:
    return bool(_TOC_LINE.search(line.text.rstrip()))


def _starts_item(line: _Line) -> bool:
    text = line.text.strip()
    return (is_bullet(text[:1]) and text[1:2] == " ") or split_marker(text)[0] is not None


def _fits_above(prev: _Line, line: _Line, layout: _Layout) -> bool:
    """True when the first word of `line` would have fitted at the end of `prev`: the
    line break before it was deliberate."""
    word = line.word1_x1 - line.x0
    return prev.x1 + 0.3 * prev.size + word < layout.right_edge


def _continues(group: _Group, line: _Line, layout: _Layout) -> bool:
    """True when `line` continues the paragraph (or heading) in `group`."""
    prev = group.lines[-1]
    if _is_toc(prev) or abs(line.size - prev.size) > 0.5:
        return False
    if line.page == prev.page:
        drop = prev.baseline - line.baseline
        if drop < 0.5 * line.size or drop > 1.35 * layout.spacing * max(line.size, prev.size):
            return False
    prev_full = not _fits_above(prev, line, layout)
    # Bold inside running text is emphasis; bold after a line that stopped short is a
    # heading (or the text after one).
    if line.bold != prev.bold and not prev_full:
        return False
    if line.bold and not prev.bold and _TERMINAL.search(prev.text.rstrip()):
        return False  # a bold line after a full stop opens something new (a run-in heading)
    if line.size >= layout.body_size + 0.5:
        # A centred multi-line heading changes indentation on every line; a new heading starts
        # with its own number.
        return match_heading(line.text, styled=True) is None
    tol = layout.tolerance
    cont_x = group.lines[1].x0 if len(group.lines) > 1 else None
    if _starts_item(line):
        # A marker at the start of a wrapped line ("... in point\n(a) of Article 5") is a
        # reference, not a new item, when the text clearly runs on.
        runs_on = (
            prev_full
            and not _TERMINAL.search(prev.text.rstrip())
            and not prev.text.rstrip().endswith(",")
        )
        if not (runs_on and cont_x is not None and abs(line.x0 - cont_x) <= tol):
            return False
    if not prev_full and _TERMINAL.search(prev.text.rstrip()):
        return False
    if cont_x is not None:
        return abs(line.x0 - cont_x) <= tol
    first = group.first
    return (
        abs(line.x0 - first.x0) <= tol
        or (first.word2_x0 is not None and abs(line.x0 - first.word2_x0) <= tol)
        or (line.x0 < first.x0 - tol and prev_full)  # first-line indent
    )


def _group_lines(pages: list[_Page], layout: _Layout) -> list[_Group]:
    groups: list[_Group] = []
    for page in pages:
        for line in page.lines:
            if groups and _continues(groups[-1], line, layout):
                groups[-1].lines.append(line)
            else:
                groups.append(_Group([line]))
    return groups


# --- classifying groups into blocks -------------------------------------------------------


@dataclass
class _Heading:
    match: HeadingMatch | None  # None: an unnumbered heading
    lines: int  # how many of the group's lines belong to the heading


def _styled_heading(group: _Group, layout: _Layout, vocab: _Vocab) -> _Heading | None:
    lines = group.lines
    if any(_is_toc(line) or line.beside for line in lines):
        return None
    text = _join_lines(lines, vocab)
    larger = group.size >= layout.body_size + 0.5
    if not larger and not (all(ln.bold for ln in lines) and len(lines) <= 2 and len(text) <= 200):
        return None
    first = match_heading(_join_lines(lines[:1], vocab), styled=True)
    if first is not None and first.title is None:
        return _Heading(first, 1)
    match = match_heading(text, styled=True)
    if match is not None:
        return _Heading(match, len(lines))
    if group.size >= 1.15 * layout.body_size and len(lines) <= 3 and len(text) <= 200:
        return _Heading(None, len(lines))
    return None


def _plain_heading(
    group: _Group, layout: _Layout, vocab: _Vocab, styled_kinds: set[str]
) -> _Heading | None:
    """A numbered heading at body size: only a strong pattern on a line standing alone."""
    lines = group.lines
    if _is_toc(lines[0]) or lines[0].beside:
        return None
    match = match_heading(_join_lines(lines[:1], vocab), styled=False)
    if match is None or match.kind not in _STRONG_KINDS:
        return None
    # Where the document sets such headings in a heading font, a body-size one is a
    # reference (a table cell, a cross-reference on its own line).
    if match.kind in styled_kinds:
        return None
    if len(lines) > 1 and not _fits_above(lines[0], lines[1], layout):
        return None  # the line runs into the next: prose that starts with a reference
    return _Heading(match, 1)


def _is_title_line(group: _Group, vocab: _Vocab) -> bool:
    """A short line that can be the title printed under a bare "Article 53"."""
    if len(group.lines) > 2 or _starts_item(group.first) or _is_toc(group.first):
        return False
    text = _join_lines(group.lines, vocab)
    return 0 < len(text) <= 200 and match_heading(text, styled=True) is None


def _build_blocks(pages: list[_Page], layout: _Layout, vocab: _Vocab) -> list[Block]:
    groups = _group_lines(pages, layout)
    styled = [_styled_heading(g, layout, vocab) for g in groups]
    styled_kinds = {h.match.kind for h in styled if h and h.match and h.match.kind in _STRONG_KINDS}
    levels = _unnumbered_levels(groups, styled, layout.body_size)
    footnotes = {page.number: _footnote_blocks(page, vocab) for page in pages}
    out: list[Block] = []
    flushed = -1
    items: list[float] = []  # x positions of open list levels, for nesting depth

    def flush_notes(before_page: int) -> None:
        nonlocal flushed
        for number in range(flushed + 1, before_page):
            out.extend(footnotes.get(number, []))
        flushed = max(flushed, before_page - 1)

    i = 0
    while i < len(groups):
        group = groups[i]
        flush_notes(group.first.page)
        heading = styled[i] or _plain_heading(group, layout, vocab, styled_kinds)
        if heading is None:
            out.append(_text_block(group.lines, vocab, items, layout))
            i += 1
            continue
        items.clear()
        head_lines = group.lines[: heading.lines]
        rest = group.lines[heading.lines :]
        title_lines: list[_Line] = []
        if heading.match is not None and heading.match.title is None:
            if rest and len(rest) <= 2:
                title_lines, rest = rest, []
            elif (
                not rest
                and i + 1 < len(groups)
                and styled[i + 1] is None
                and _is_title_line(groups[i + 1], vocab)
            ):
                title_lines = groups[i + 1].lines
                i += 1
        out.append(_heading_block(head_lines, title_lines, heading, levels, vocab))
        if rest:
            out.append(_text_block(rest, vocab, items, layout))
        i += 1
    flush_notes(max((p.number for p in pages), default=-1) + 1)
    return [b for b in out if b.text]


def _heading_block(
    head: list[_Line],
    title: list[_Line],
    heading: _Heading,
    levels: dict[float, int],
    vocab: _Vocab,
) -> Block:
    text = _join_lines(head, vocab)
    match = heading.match
    if match is None:
        return Block("heading", text, level=levels.get(head[0].size, 1), title=text)
    if title:
        title_text = _join_lines(title, vocab)
        return Block(
            "heading",
            join_number_title(text, title_text),
            level=match.level,
            number=match.number,
            title=title_text,
        )
    return Block("heading", text, level=match.level, number=match.number, title=match.title)


def _unnumbered_levels(
    groups: list[_Group], headings: list[_Heading | None], body_size: float
) -> dict[float, int]:
    """Levels for unnumbered headings by font size: the rank of the size among heading sizes,
    kept above the levels numbered headings in smaller (but larger than body) fonts have."""
    numbered: dict[float, list[int]] = {}
    sizes: set[float] = set()
    for group, heading in zip(groups, headings, strict=True):
        if heading is None:
            continue
        sizes.add(group.size)
        if heading.match is not None:
            numbered.setdefault(group.size, []).append(heading.match.level)
    levels: dict[float, int] = {}
    for rank, size in enumerate(sorted(sizes, reverse=True), start=1):
        if size in numbered:
            levels[size] = Counter(numbered[size]).most_common(1)[0][0]
            continue
        below = [min(lv) for s, lv in numbered.items() if body_size < s < size]
        ceiling = min(below) - 1 if below else 6
        levels[size] = max(1, min(rank, ceiling, 6))
    return levels


def _text_block(lines: list[_Line], vocab: _Vocab, items: list[float], layout: _Layout) -> Block:
    text = _join_lines(lines, vocab)
    if _is_toc(lines[-1]):
        text = _DOT_LEADER.sub(" … ", text).strip()
        items.clear()
        return Block("paragraph", normalize_inline(text))
    marker, rest = split_marker(text)
    x = lines[0].x0
    if marker is None:
        if not items or x <= items[0] + layout.tolerance:
            items.clear()
        return Block("paragraph", text)
    while items and x < items[-1] - layout.tolerance:
        items.pop()
    if not items or x > items[-1] + layout.tolerance:
        items.append(x)
    return Block("list_item", rest, level=len(items) - 1, marker=marker)


def _footnote_blocks(page: _Page, vocab: _Vocab) -> list[Block]:
    notes: list[tuple[str, list[_Line]]] = []
    for line in page.footnotes:
        number = line.note
        if number is None and not any(ln.note for ln in page.footnotes):
            m = _LEAD_NUMBER.match(line.text.strip())
            if m:
                number = m.group(1)
                line = _Line(**{**line.__dict__, "text": m.group(2)})
        if number is not None or not notes:
            notes.append((number or "", [line]))
        else:
            notes[-1][1].append(line)
    blocks = []
    for number, lines in notes:
        text = _join_lines(lines, vocab)
        blocks.append(
            Block("footnote", text, marker=number) if number else Block("paragraph", text)
        )
    return blocks


def _fallback_title(blocks: list[Block], pages: list[_Page]) -> str | None:
    for block in blocks:
        if block.kind == "heading":
            return block.text
    if pages and pages[0].lines:
        largest = max(line.size for line in pages[0].lines)
        line = next(ln for ln in pages[0].lines if ln.size == largest)
        return normalize_inline(line.text) or None
    return None
