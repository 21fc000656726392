"""HTML into the shared text model (`store.records.DocText`).

Boilerplate (navigation, banners, scripts, hidden elements) is dropped, the content is
walked in document order and turned into headings, paragraphs, list items, tables and
footnotes. Numbered legal headings are recognised with `store.numbering`, also when a
site prints them as `<p>` (EUR-Lex), so HTML and PDF of one document give nearly the same
normalised text.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import replace

import soupsieve
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from crawler.extract.errors import ExtractionError
from crawler.extract.headings import heading_block, merge_number_titles
from crawler.extract.normalize import is_bullet, normalize_inline, split_marker
from store.numbering import match_heading
from store.records import Block, DocText

# Elements that never hold document text.
_DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "iframe", "button", "input", "select",
    "textarea", "object", "embed", "canvas", "video", "audio", "map", "head", "link", "meta",
)
# Page chrome; removed unless the configured selector asks for it.
_CHROME_TAGS = ("nav", "aside", "dialog")
_DROP_ROLES = {"navigation", "banner", "contentinfo", "search"}
_BANNER_WORDS = ("cookie", "consent", "gdpr")
_CONTENT_ANCESTORS = ("article", "main", "section")

_BLOCK_TAGS = frozenset(
    ["address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption"]
)
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Unnumbered <hN>: h2 shares level 1 with h1 (sites use h1 for the site name), and h4 goes
# below a Commitment (canonical level 3) so "LEGAL TEXT" boxes nest under it.
_TAG_LEVEL = {"h1": 1, "h2": 1, "h3": 2, "h4": 4, "h5": 5, "h6": 6}
_BOLD_TAGS = ("strong", "b")
_LIST_TAGS = ("ul", "ol")

_DISPLAY_NONE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SKIP_LINK = re.compile(r"^\s*skip\s+(?:to|navigation)", re.I)
_TITLE_CLASS = re.compile(r"(?:^|[-_])(?:ti|title|heading)(?:[-_\d]|$)", re.I)
_FOOTNOTE_ID = re.compile(r"footnote|endnote|(?:^|[\s_-])(?:fn|ftn)(?:[\s_\d-]|$)", re.I)
_FOOTNOTE_REF_ID = re.compile(r"fnref|ftnref|footnote-?ref|noteref|footnote-call", re.I)
_FOOTNOTE_HREF = re.compile(r"^#_?(?:fn|ftn|footnote|endnote|ntr|note)(?!ref)", re.I)
_BACKLINK_TEXT = {"↩", "↩︎", "↑", "^", "back"}
_REF_TEXT = re.compile(r"^[\[(]?\s*(\d{1,3}|\*{1,3}|[a-z])\s*[\])]?$")
_NUMERIC = re.compile(r"^[\d.,]+$")
_LEADING_NOTE_MARK = re.compile(r"^\s*(?:\[\^(\w+)\]|\[(\d{1,3})\]|\((\d{1,3})\)|\^?(\d{1,3})(?:[.)]\s*|\s+)|(\*{1,3}))\s*")
_DIGITS = re.compile(r"\d+")


def extract_html(
    text: str, *, selector: str | None = None, exclude: list[str] | None = None
) -> DocText:
    """Extract the text structure of an HTML page.

    `selector` (CSS) keeps only its matches, `exclude` (CSS) removes matches first; a
    selector that matches nothing raises ExtractionError(kind="selector").
    """
    soup = BeautifulSoup(text, "lxml")
    title = _page_title(soup)
    _drop_non_content(soup)
    for css in exclude or []:
        for el in _select(soup, css):
            if not el.decomposed:
                el.decompose()

    keep: list[Tag] = []
    if selector:
        keep = _outermost(_select(soup, selector))
        if not keep:
            raise ExtractionError(f"selector {selector!r} matched nothing", kind="selector")
    _drop_boilerplate(soup, keep)
    roots = [el for el in keep if not el.decomposed] if selector else _auto_roots(soup)

    walker = _Walker()
    for root in roots:
        walker.walk_root(root)
    walker.add_outside_footnotes(soup, roots)
    walker.level_unnumbered_headings()
    blocks = merge_number_titles(walker.blocks) + walker.footnotes
    if title is None:
        title = next((b.text for b in blocks if b.kind == "heading" and b.text), None)
    return DocText(blocks=blocks, title=title)


# --- cleaning -----------------------------------------------------------------------------


def _page_title(soup: BeautifulSoup) -> str | None:
    tag = soup.find("title")
    if tag is not None:
        text = normalize_inline(tag.get_text(" "))
        if text:
            return text
    return None


def _select(soup: BeautifulSoup, css: str) -> list[Tag]:
    try:
        return soup.select(css)
    except (soupsieve.SelectorSyntaxError, ValueError, NotImplementedError) as exc:
        raise ExtractionError(f"invalid CSS selector {css!r}: {exc}", kind="selector") from exc


def _outermost(elements: list[Tag]) -> list[Tag]:
    """Matches in document order without those contained in another match."""
    chosen = {id(el) for el in elements}
    return [el for el in elements if not any(id(p) in chosen for p in el.parents)]


def _drop_non_content(soup: BeautifulSoup) -> None:
    """Remove comments, scripts and other elements that never carry document text."""
    for node in soup.find_all(string=lambda s: isinstance(s, PreformattedString)):
        node.extract()
    for el in soup.find_all(_DROP_TAGS):
        if not el.decomposed:
            el.decompose()


def _drop_boilerplate(soup: BeautifulSoup, keep: list[Tag]) -> None:
    """Remove page chrome, but never an element the selector asked for or one holding it."""
    protected: set[int] = set()
    for el in keep:
        protected.add(id(el))
        protected.update(id(p) for p in el.parents)
    for el in soup.find_all(True):
        if el.decomposed or id(el) in protected:
            continue
        if _is_boilerplate(el):
            el.decompose()


def _is_boilerplate(el: Tag) -> bool:
    name = el.name
    if name in ("html", "body", "main"):
        return False
    attrs = el.attrs
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    if _DISPLAY_NONE.search(str(attrs.get("style", ""))):
        return True
    if str(attrs.get("role", "")).lower() in _DROP_ROLES:
        return True
    if name in _CHROME_TAGS:
        return True
    if name == "form":
        # ASP.NET pages wrap the whole page in one <form>; only small forms are chrome.
        return _is_small(el)
    if name in ("header", "footer") and el.find_parent(_CONTENT_ANCESTORS) is None:
        return True  # page-level; a <header> inside <article> may hold the document title
    if name == "a" and (_SKIP_LINK.match(el.get_text(" ")) or "skip-link" in _classes(el)):
        return True
    ident = (_classes(el) + " " + str(attrs.get("id", ""))).lower()
    if any(w in ident for w in _BANNER_WORDS):
        # A consent banner is small; a whole GDPR guidance page must survive its class name.
        return _is_small(el)
    return False


def _is_small(el: Tag) -> bool:
    return el.find(["main", "article", "h1", "h2"]) is None and len(el.get_text()) < 3000


def _classes(el: Tag) -> str:
    value = el.get("class")
    if isinstance(value, list):
        return " ".join(value)
    return str(value or "")


def _auto_roots(soup: BeautifulSoup) -> list[Tag]:
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is not None:
        return [main]
    articles = soup.find_all("article")
    if len(articles) == 1:
        return [articles[0]]
    body = soup.find("body")
    if body is not None:
        return [body]
    return [soup] if soup.contents else []


# --- walking ------------------------------------------------------------------------------


def _is_block(node: Tag) -> bool:
    return node.name in _BLOCK_TAGS


def _has_block(tag: Tag) -> bool:
    return tag.find(_BLOCK_TAGS) is not None


def _is_footnote_container(el: Tag) -> bool:
    if el.name not in ("p", "div", "li", "ol", "ul", "section", "dl", "dd", "table", "footer", "aside"):
        return False
    ident = _classes(el) + " " + str(el.get("id", ""))
    if _FOOTNOTE_REF_ID.search(ident):
        return False
    if _FOOTNOTE_ID.search(ident):
        return True
    # EUR-Lex prints notes as <p class="oj-note"> / <p class="note">.
    return el.name == "p" and any(c in ("oj-note", "note") for c in _classes(el).split())


def _is_footnote_href(href: str) -> bool:
    return bool(_FOOTNOTE_HREF.match(href))


def _roman(n: int) -> str:
    out = []
    for value, sym in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                       (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)


def _letters(n: int) -> str:
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def _ol_marker(kind: str, n: int) -> str:
    if kind == "a":
        return f"({_letters(n)})"
    if kind == "A":
        return f"({_letters(n).upper()})"
    if kind == "i":
        return f"({_roman(n)})"
    if kind == "I":
        return f"({_roman(n).upper()})"
    return f"{n}."


def _int_attr(el: Tag, name: str, default: int) -> int:
    try:
        return int(str(el.get(name, default)).strip())
    except ValueError:
        return default


def _cell_is_marker(text: str) -> bool:
    if not text:
        return False
    if is_bullet(text):
        return True
    marker, rest = split_marker(text + " x")
    return marker is not None and rest == "x"


class _Walker:
    """Walks content elements in document order and collects blocks."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.heading_tags: list[tuple[int, str]] = []  # (position in blocks, h1..h6)
        self.footnotes: list[Block] = []
        self.refs: set[str] = set()
        self._seen_notes: set[int] = set()
        self._in_note = False  # inside a footnote body: its number is not a call

    # entry points

    def walk_root(self, root: Tag) -> None:
        if _is_footnote_container(root):
            self._footnote_container(root)
        elif root.name in _BLOCK_TAGS or _has_block(root):
            self._container(root, 0)
        else:
            self._emit_text(self._inline(root), root, bold=False)

    def add_outside_footnotes(self, soup: BeautifulSoup, roots: list[Tag]) -> None:
        """Footnote bodies outside the content root that the content refers to."""
        if not self.refs:
            return
        inside = {id(r) for r in roots}
        for el in soup.find_all(_is_footnote_container):
            if id(el) in self._seen_notes or any(id(p) in inside for p in el.parents):
                continue
            if any(id(p) in self._seen_notes for p in el.parents):
                continue
            before = len(self.footnotes)
            self._footnote_container(el)
            # Keep only the notes that were called from the content.
            new = self.footnotes[before:]
            self.footnotes[before:] = [b for b in new if b.marker in self.refs]

    # containers

    def _container(self, el: Tag, depth: int) -> None:
        """Walk a block container: runs of inline content become paragraphs."""
        buf: list[str] = []
        bold_only = True
        for child in el.children:
            if isinstance(child, NavigableString):
                if isinstance(child, PreformattedString):
                    continue
                buf.append(str(child))
                if child.strip():
                    bold_only = False
                continue
            if not isinstance(child, Tag):
                continue
            if not _is_block(child) and not _has_block(child):
                before = len(buf)
                self._inline_into(child, buf)
                if "".join(buf[before:]).strip() and not self._all_bold(child):
                    bold_only = False
                continue
            self._flush(buf, el, bold_only)
            buf = []
            bold_only = True
            self._block(child, depth)
        self._flush(buf, el, bold_only)

    def _flush(self, buf: list[str], el: Tag, bold_only: bool) -> None:
        text = normalize_inline("".join(buf))
        if text:
            self._emit_text(text, el, bold=bold_only)

    def _block(self, el: Tag, depth: int) -> None:
        name = el.name
        if _is_footnote_container(el):
            self._footnote_container(el)
        elif name in _HEADING_TAGS:
            self._heading(el)
        elif name in _LIST_TAGS:
            self._list(el, depth)
        elif name == "li":
            self._list_item(el, "-", depth)  # stray <li> outside a list
        elif name == "table":
            self._table(el, depth)
        elif name == "pre":
            text = normalize_inline(self._inline(el))
            if text:
                self.blocks.append(Block("paragraph", text))
        elif name == "hr":
            return
        else:
            self._container(el, depth)

    # headings and paragraphs

    def _heading(self, el: Tag) -> None:
        text = normalize_inline(self._inline(el))
        if not text:
            return
        m = match_heading(text, styled=True)
        self.heading_tags.append((len(self.blocks), el.name))
        self.blocks.append(heading_block(text, m, _TAG_LEVEL[el.name]))

    def level_unnumbered_headings(self) -> None:
        """Give unnumbered <hN> headings the level that numbered <hN> headings have here.

        Numbered headings take canonical levels (Commitment 3, Measure 4), unnumbered ones
        a level from their tag; when a page uses <h2> for "Preamble" and for "Commitment 1",
        that would nest every commitment under the preamble.
        """
        levels: dict[str, Counter] = defaultdict(Counter)
        for pos, tag in self.heading_tags:
            if self.blocks[pos].number:
                levels[tag][self.blocks[pos].level] += 1
        for pos, tag in self.heading_tags:
            block = self.blocks[pos]
            if block.number is None and levels.get(tag):
                self.blocks[pos] = replace(block, level=levels[tag].most_common(1)[0][0])

    def _emit_text(self, text: str, el: Tag, *, bold: bool) -> None:
        """A run of inline text: a heading by its numbering, a list item by its marker, else a paragraph."""
        styled = bold or bool(_TITLE_CLASS.search(_classes(el)))
        if len(text) <= 200:
            m = match_heading(text, styled=styled)
            # Unstyled text needs a strong pattern and a title that is not a sentence.
            if m is not None and (styled or m.title is None or not m.title.endswith(".")):
                self.blocks.append(heading_block(text, m, m.level))
                return
        marker, rest = split_marker(text)
        if marker is not None:
            self.blocks.append(Block("list_item", rest, level=0, marker=marker))
            return
        self.blocks.append(Block("paragraph", text))

    def _all_bold(self, tag: Tag) -> bool:
        if tag.name in _BOLD_TAGS:
            return True
        for s in tag.find_all(string=True):
            if not s.strip():
                continue
            parent = s.parent
            while parent is not None and parent is not tag and parent.name not in _BOLD_TAGS:
                parent = parent.parent
            if parent is None or parent is tag:
                return False
        return True

    # lists

    def _list(self, el: Tag, depth: int) -> None:
        ordered = el.name == "ol"
        kind = str(el.get("type", "1")) if ordered else ""
        n = _int_attr(el, "start", 1)
        for child in el.children:
            if isinstance(child, Tag) and child.name == "li":
                if ordered:
                    n = _int_attr(child, "value", n)
                    self._list_item(child, _ol_marker(kind, n), depth)
                    n += 1
                else:
                    self._list_item(child, "-", depth)
            elif isinstance(child, Tag) and child.name in _LIST_TAGS:
                self._list(child, depth + 1)  # invalid but common: <ul> directly in <ul>
            elif isinstance(child, Tag):
                self._block(child, depth)
            elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
                text = normalize_inline(str(child))
                if text:
                    self._emit_text(text, el, bold=False)

    def _list_item(self, li: Tag, marker: str, depth: int) -> None:
        if _is_footnote_container(li):
            self._footnote_container(li)
            return
        nested: list[Tag] = []
        buf: list[str] = []
        self._inline_into(li, buf, nested=nested, top=li)
        text = normalize_inline("".join(buf))
        own, rest = split_marker(text)
        if own is not None:
            marker, text = own, rest
        self.blocks.append(Block("list_item", text, level=depth, marker=marker))
        for sub in nested:
            if sub.name in _LIST_TAGS:
                self._list(sub, depth + 1)
            else:
                self._table(sub, depth + 1)

    # tables

    def _rows(self, table: Tag) -> list[list[Tag]]:
        rows = []
        for tr in table.find_all("tr"):
            if tr.find_parent("table") is not table:
                continue
            rows.append([c for c in tr.find_all(["td", "th"], recursive=False)])
        return rows

    def _table(self, table: Tag, depth: int) -> None:
        rows = [r for r in self._rows(table) if r]
        cells = [c for r in rows for c in r]
        if len(cells) <= 1:
            # Layout table: its content is ordinary text.
            for cell in cells:
                self._container(cell, depth)
            return
        texts = [[normalize_inline(self._inline(c)) for c in r] for r in rows]
        if all(len(r) == 2 for r in rows) and all(_cell_is_marker(t[0]) for t in texts):
            self._point_table(rows, texts, depth)
            return
        body = tuple(tuple(r) for r in texts if any(r))
        if body:
            self.blocks.append(Block("table", rows=body))

    def _point_table(self, rows: list[list[Tag]], texts: list[list[str]], depth: int) -> None:
        """EUR-Lex points: a marker cell and a text cell per row, nested points as inner tables."""
        for row, (marker, _) in zip(rows, texts, strict=True):
            marker = "-" if is_bullet(marker) else marker
            saved = self.blocks
            self.blocks = []
            self._container(row[1], depth + 1)
            inner, self.blocks = self.blocks, saved
            lead: list[str] = []
            while inner and inner[0].kind == "paragraph":
                lead.append(inner.pop(0).text)
            self.blocks.append(Block("list_item", " ".join(lead), level=depth, marker=marker))
            self.blocks.extend(inner)

    # footnotes

    def _footnote_container(self, el: Tag) -> None:
        self._seen_notes.add(id(el))
        for a in el.find_all("a"):
            if self._is_backlink(a):
                a.decompose()
        items = [li for li in el.find_all("li") if li.find_parent("li") is None or li.find_parent("li") is el]
        if el.name == "li":
            items = []
        if items:
            for pos, li in enumerate(items, start=1):
                parent = li.find_parent(_LIST_TAGS)
                start = _int_attr(parent, "start", 1) if parent is not None else 1
                self._footnote(li, default=str(start + pos - 1), strip_digits=False)
            return
        inner = [c for c in el.find_all(_is_footnote_container) if c is not el]
        inner = [c for c in inner if not any(p in inner for p in c.parents)]
        if inner:
            for c in inner:
                self._seen_notes.add(id(c))
                self._footnote(c, default=None, strip_digits=True)
            return
        self._footnote(el, default=None, strip_digits=True)

    def _footnote(self, el: Tag, *, default: str | None, strip_digits: bool) -> None:
        self._in_note = True
        try:
            text = normalize_inline(self._inline(el))
        finally:
            self._in_note = False
        marker = None
        m = _LEADING_NOTE_MARK.match(text)
        if m and (strip_digits or m.group(4) is None):
            marker = next(g for g in m.groups() if g is not None)
            text = text[m.end():]
        if marker is None:
            ident = _DIGITS.search(str(el.get("id", "")))
            marker = ident.group(0) if ident else default
        if marker is None:
            marker = str(len(self.footnotes) + 1)
        text = text.rstrip(" ↩↑︎")
        if text:
            self.footnotes.append(Block("footnote", text, marker=marker))

    def _is_backlink(self, a: Tag) -> bool:
        ident = (_classes(a) + " " + str(a.get("role", "")) + " " + str(a.get("rev", ""))).lower()
        if "backlink" in ident or "backref" in ident or "footnote-back" in ident or ident.strip() == "footnote":
            return True
        return a.get_text().strip() in _BACKLINK_TEXT

    # inline text

    def _inline(self, el: Tag) -> str:
        buf: list[str] = []
        self._inline_into(el, buf, top=el)
        return "".join(buf)

    def _inline_into(
        self,
        node: Tag,
        buf: list[str],
        *,
        nested: list[Tag] | None = None,
        top: Tag | None = None,
    ) -> None:
        """Append the flattened text of `node` to `buf`.

        With `nested`, lists and tables below `node` are collected there instead of being
        flattened (list items keep their sub-lists apart). Block boundaries become spaces.
        """
        if node is not top:
            if self._special_inline(node, buf):
                return
            if nested is not None and node.name in ("ul", "ol", "table"):
                nested.append(node)
                return
        block = node.name in _BLOCK_TAGS and node is not top
        if block:
            buf.append(" ")
        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, PreformattedString):
                    buf.append(str(child))
            elif isinstance(child, Tag):
                self._inline_into(child, buf, nested=nested, top=top)
        if block:
            buf.append(" ")

    def _special_inline(self, node: Tag, buf: list[str]) -> bool:
        """<br>, superscripts and footnote calls; True when `node` was handled."""
        name = node.name
        if name == "br":
            buf.append(" ")
            return True
        if name == "img":
            return True
        if name == "a" and not self._in_note and _is_footnote_href(str(node.get("href", ""))):
            m = _REF_TEXT.match(normalize_inline(node.get_text()))
            if m:
                self._ref(m.group(1), buf)
                return True
            return False
        is_sup = name == "sup" or (name == "span" and "super" in _classes(node).lower())
        if not is_sup:
            return False
        content = normalize_inline(self._inline(node))
        if not content:
            return True
        tail = "".join(buf[-3:])
        last = tail.rstrip(" \u00a0")[-1:]
        link = node.find("a", href=True)
        if self._in_note:
            buf.append(content)  # a note's own number, stripped by _footnote
            return True
        if (link is not None and _is_footnote_href(str(link.get("href", "")))) or _is_footnote_id(node):
            m = _REF_TEXT.match(content)
            if m:
                self._ref(m.group(1), buf)
                return True
        if _NUMERIC.match(content) and tail[-1:].isdigit():
            buf.append("^" + content)  # 10<sup>25</sup>: a power, as the AI Act corpus writes it
            return True
        m = _REF_TEXT.match(content)
        if m and m.group(1).isdigit() and last and not last.isdigit():
            self._ref(m.group(1), buf)  # a bare number after a word: a footnote call
            return True
        buf.append(content)
        return True

    def _ref(self, marker: str, buf: list[str]) -> None:
        self.refs.add(marker)
        buf.append(f"[^{marker}]")


def _is_footnote_id(node: Tag) -> bool:
    ident = _classes(node) + " " + str(node.get("id", ""))
    return bool(_FOOTNOTE_REF_ID.search(ident) or "note-tag" in ident)
