"""Typed records that cross package boundaries: crawler -> store -> tracker -> notifications.

`store` imports nothing else of regwatch, so these types live here and every other
package imports them from here.

The text model (`Block`, `DocText`) is the one structure that HTML and PDF extraction both
produce. It is serialised to a normalised Markdown-like text (`DocText.to_text()`), which is
what gets stored, shown and diffed:

    # heading, '#' repeated by level      -> Block(kind="heading")
    paragraph on one line                  -> Block(kind="paragraph")
    - bullet item / (a) item / 1. item     -> Block(kind="list_item", marker=...)
    | cell | cell |                        -> Block(kind="table", rows=...)
    [^3]: footnote text                    -> Block(kind="footnote", marker="3")

Blocks are separated by one blank line, so the text can be parsed back into blocks
(`parse_text`) without the original HTML or PDF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "paragraph", "list_item", "table", "footnote"]

BULLET = "-"


# Not frozen, though never changed after construction (hence hashable by value): a frozen
# dataclass's __init__ took 2.2 µs against 0.4 µs, and a 5 MB text is 30,000 blocks per version.
@dataclass(slots=True, unsafe_hash=True)
class Block:
    """One unit of document structure (treat as immutable: use dataclasses.replace)."""

    kind: BlockKind
    text: str = ""
    level: int = 0  # headings: 1..6; list items: nesting depth from 0
    number: str | None = None  # headings: "Article 53", "Commitment II.1", "Measure 1.2"
    title: str | None = None  # headings: the text after the number
    marker: str | None = None  # list items: "-", "(a)", "1."; footnotes: "3"
    rows: tuple[tuple[str, ...], ...] = ()  # tables

    def to_text(self) -> str:
        """Serialise this block to its normalised text line(s)."""
        if self.kind == "heading":
            return "#" * max(1, min(self.level, 6)) + " " + self.text
        if self.kind == "list_item":
            indent = "  " * self.level
            marker = self.marker or BULLET
            return f"{indent}{marker} {self.text}" if self.text else f"{indent}{marker}"
        if self.kind == "table":
            return "\n".join("| " + " | ".join(_cell(c) for c in row) + " |" for row in self.rows)
        if self.kind == "footnote":
            return f"[^{self.marker}]: {self.text}"
        return self.text


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


@dataclass
class DocText:
    """A document's extracted structure: an optional title and its blocks in reading order."""

    blocks: list[Block] = field(default_factory=list)
    title: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_text(self) -> str:
        """The normalised text stored, shown and diffed."""
        parts = [b.to_text() for b in self.blocks if b.kind == "table" or b.text]
        return "\n\n".join(parts) + ("\n" if parts else "")

    def headings(self) -> list[Block]:
        """The heading blocks, in order."""
        return [b for b in self.blocks if b.kind == "heading"]

    def outline(self) -> list[dict]:
        """Headings as plain dicts (level, number, title, text) for storage and JSON."""
        return [
            {"level": b.level, "number": b.number, "title": b.title, "text": b.text}
            for b in self.headings()
        ]


_HEADING_LINE = re.compile(r"^(#{1,6}) (.*)$")
_FOOTNOTE_LINE = re.compile(r"^\[\^([^\]]+)\]: ?(.*)$", re.S)
_LIST_LINE = re.compile(r"^( *)(-|\(?[0-9]{1,3}[.)]|\([a-zA-Z]{1,4}\)|[a-z]\)|[ivxlc]{1,6}\)) (.*)$", re.S)


def parse_text(text: str) -> DocText:
    """Parse normalised text (as made by `DocText.to_text`) back into blocks.

    Heading numbers and titles are recovered with the same legal numbering rules the
    extractors use, so a parsed heading carries `number` and `title` again.
    """
    blocks = [parse_block(chunk) for chunk in text_chunks(text)]
    return DocText(blocks=[b for b in blocks if b is not None])


def text_chunks(text: str) -> list[str]:
    """The blank-line-separated chunks of normalised text, each one block."""
    # str.split and lstrip give what re.split(r"\n{2,}") gives (a run of three or more
    # newlines leaves empty chunks or a leading newline), several times faster on 5 MB.
    return [c.lstrip("\n") for c in text.strip("\n").split("\n\n") if c]


def parse_block(chunk: str) -> Block | None:
    """One chunk of normalised text as a block (None for a blank chunk)."""
    first = chunk[:1]
    # Dispatch on the first character: most chunks are paragraphs or list items, and trying
    # each pattern in turn on every chunk was most of the time spent on a 5 MB text.
    if first == "#":
        m = _HEADING_LINE.match(chunk)
        if m and "\n" not in chunk:
            from store.numbering import split_heading  # local import: keeps records import-light

            number, title = split_heading(m.group(2))
            return Block("heading", m.group(2), level=len(m.group(1)), number=number, title=title)
    elif first == "|":
        if chunk.startswith("| ") and all(line.startswith("|") for line in chunk.splitlines()):
            rows = tuple(
                tuple(c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1])
                for line in chunk.splitlines()
            )
            return Block("table", rows=rows)
    elif first == "[":
        m = _FOOTNOTE_LINE.match(chunk)
        if m:
            return Block("footnote", m.group(2), marker=m.group(1))
    elif first in _LIST_START:
        m = _LIST_LINE.match(chunk)
        if m:
            return Block("list_item", m.group(3), level=len(m.group(1)) // 2, marker=m.group(2))
    if not chunk.strip():
        return None
    return Block("paragraph", chunk)


_LIST_START = frozenset(" -(0123456789abcdefghijklmnopqrstuvwxyz")


# --- fetch and version records ------------------------------------------------------------

FetchStatus = Literal["new_version", "unchanged", "not_modified", "failed"]


@dataclass
class FetchResult:
    """What the crawler hands to the store for one attempt to fetch one URL."""

    source: str  # configured source name
    document: str  # document id the content belongs to
    url: str  # requested URL
    started_at: str  # ISO 8601 UTC
    duration_ms: int = 0
    final_url: str | None = None  # after redirects
    http_status: int | None = None
    content_type: str | None = None  # sniffed: application/pdf, text/html, text/plain
    declared_type: str | None = None  # as served in Content-Type
    encoding: str | None = None
    body: bytes | None = None  # None when failed or not modified
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None  # set when the fetch or extraction failed
    error_kind: str | None = None  # http, timeout, connection, robots, size, content, extract, selector
    not_modified: bool = False
    redirects: list[str] = field(default_factory=list)
    doc: DocText | None = None  # extraction result, when it succeeded
    label: str | None = None
    title: str | None = None
    extractor_version: str | None = None
    discovered_from: str | None = None  # listing page URL for followed publications

    @property
    def ok(self) -> bool:
        """True when the fetch delivered content (or a 304) and extraction succeeded."""
        return self.error is None


# --- changes between two versions ---------------------------------------------------------

SectionStatus = Literal["unchanged", "modified", "moved", "renumbered", "split", "merged", "added", "removed"]
HunkKind = Literal["added", "removed", "modified", "moved", "renumbered", "split", "merged"]
Classification = Literal["cosmetic", "editorial", "substantive"]
CLASS_ORDER: dict[str, int] = {"cosmetic": 0, "editorial": 1, "substantive": 2}


@dataclass
class SectionMatch:
    """One row of the alignment: an old section, a new section, or a pair of them."""

    old: str | None  # heading as printed in the old version ("Commitment II.12. Serious ..."), or None
    new: str | None
    status: SectionStatus
    similarity: float  # 0..1, content similarity of the pair (1.0 for identical text)
    old_path: list[str] = field(default_factory=list)  # headings from the top down to this section
    new_path: list[str] = field(default_factory=list)
    old_index: int | None = None  # position among the old version's sections (0 = preamble)
    new_index: int | None = None


@dataclass
class Hunk:
    """One change inside (or of) a section, with its word-level edits and its weight."""

    kind: HunkKind
    old_path: list[str]
    new_path: list[str]
    old_text: str
    new_text: str
    edits: list[tuple[int, str]]  # (-1 deleted | 0 equal | 1 inserted, text); rebuilds both texts
    classification: Classification = "editorial"
    significance: float = 0.0
    significance_parts: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    flags: dict[str, list[str]] = field(default_factory=dict)  # flag -> the words that raised it
    obligations: list[dict] = field(default_factory=list)  # filled by the obligations mapping

    def to_json(self) -> dict:
        """The hunk as the JSON contract of `regwatch diff --format json`."""
        return {
            "kind": self.kind,
            "old_path": self.old_path,
            "new_path": self.new_path,
            "classification": self.classification,
            "significance": round(self.significance, 4),
            "significance_parts": {k: round(v, 4) for k, v in self.significance_parts.items()},
            "reasons": self.reasons,
            "flags": self.flags,
            "obligations": self.obligations,
            "old_text": self.old_text,
            "new_text": self.new_text,
            "edits": [[op, text] for op, text in self.edits],
        }


@dataclass
class Change:
    """The difference between two versions: the section alignment and the hunks, both in
    document order (removed sections right after where their predecessor now stands)."""

    sections: list[SectionMatch] = field(default_factory=list)
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def stats(self) -> dict:
        """Counts of sections per status and of hunks per kind and per classification."""
        by_status: dict[str, int] = {}
        for s in self.sections:
            by_status[s.status] = by_status.get(s.status, 0) + 1
        by_kind: dict[str, int] = {}
        by_class = {"cosmetic": 0, "editorial": 0, "substantive": 0}
        for h in self.hunks:
            by_kind[h.kind] = by_kind.get(h.kind, 0) + 1
            by_class[h.classification] += 1
        return {"sections": by_status, "hunks": len(self.hunks), "kinds": by_kind, "classes": by_class}

    def to_json(self) -> dict:
        """The JSON contract: {stats, sections, hunks}."""
        return {
            "stats": self.stats,
            "sections": [
                {"old": s.old, "new": s.new, "status": s.status, "similarity": round(s.similarity, 4),
                 "old_path": s.old_path, "new_path": s.new_path}
                for s in self.sections
            ],
            "hunks": [h.to_json() for h in self.hunks],
        }


# --- alerts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One alert a change queues: its subscription and channel and, for a digest
    subscription, when the digest of the change's period is sent (ISO 8601 UTC)."""

    subscription: str
    channel: str
    digest_at: str | None = None
