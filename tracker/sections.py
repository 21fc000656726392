"""A document's text as a tree of sections: each heading opens a section that owns the blocks
up to the next heading; levels give the nesting. Text before the first heading is the
preamble section (index 0), so a document without headings still diffs as one section.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass, field

from store.records import Block, parse_block, text_chunks

_WORD = re.compile(r"\w+")


@dataclass
class Section:
    """One node of the section tree."""

    index: int
    heading: str | None  # as printed, None for the preamble
    number: str | None  # "Commitment II.12", "Article 53"
    title: str | None
    level: int  # 0 for the preamble
    parent: int | None
    blocks: list[str] = field(default_factory=list)  # serialised blocks below the heading
    path: list[str] = field(default_factory=list)  # headings from the top down to this one
    children: list[int] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The section's own text (its blocks, not its subsections)."""
        return "\n\n".join(self.blocks)

    @property
    def heading_line(self) -> str:
        """The heading as it is serialised in the text ("### Article 53 — ..."), "" for the preamble."""
        if self.heading is None:
            return ""
        return Block("heading", self.heading, level=self.level).to_text()

    @property
    def key(self) -> str | None:
        """The number, normalised for comparison ("commitment ii.12")."""
        return norm_number(self.number) if self.number else None

    @property
    def kind(self) -> str | None:
        """The numbering kind: "commitment", "measure", "article", ... ("decimal" for a bare
        "3.2", None when unnumbered)."""
        if not self.key:
            return None
        first = self.key.split(" ")[0]
        return "decimal" if first[0].isdigit() else first


def norm_number(number: str) -> str:
    """A heading number compared case- and space-insensitively, without trailing dots."""
    return " ".join(number.casefold().split()).rstrip(".:")


def norm_text(text: str | None) -> str:
    """Text compared without case, accents' composition, punctuation or spacing differences."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_WORD.findall(text))


class BlockWords(dict[str, list[str]]):
    """The normalised words (`norm_text`) of blocks, each distinct block normalised once:
    two versions of a document share most of their blocks. Treat the lists as read-only."""

    def __missing__(self, block: str) -> list[str]:
        # Interned: a word is one string however many blocks use it, which keeps the cache
        # of a 5 MB text to a fifth of the memory, and its hash is computed once.
        words = self[block] = list(map(sys.intern, norm_text(block).split()))
        return words

    def shingles(self, block: str) -> frozenset[int]:
        """The block's word 3-gram shingles (`word_shingles`), computed once per block."""
        cache = self.__dict__.setdefault("_shingles", {})
        found = cache.get(block)
        if found is None:
            found = cache[block] = word_shingles(self[block])
        return found


def word_shingles(words: list[str], size: int = 3) -> frozenset[int]:
    """Hashes of the `size`-grams of a list of normalised words; single words for short lists."""
    if len(words) < size:
        return frozenset(map(hash, words))
    # zip builds the n-grams in C: several times faster than slicing in a generator.
    return frozenset(map(hash, zip(*(words[k:] for k in range(size)), strict=False)))


def build_sections(text: str) -> list[Section]:
    """Split normalised text into its section tree (a flat list in document order)."""
    preamble = Section(0, None, None, None, 0, None)
    sections = [preamble]
    stack: list[Section] = []
    owner = preamble
    for chunk in text_chunks(text):
        block = parse_block(chunk)
        if block is None:
            continue
        if block.kind != "heading":
            # A paragraph serialises to its chunk: no need to build its text again.
            owner.blocks.append(chunk if block.kind == "paragraph" else block.to_text())
            continue
        while stack and stack[-1].level >= block.level:
            stack.pop()
        parent = stack[-1] if stack else None
        owner = Section(
            index=len(sections),
            heading=block.text,
            number=block.number,
            title=block.title,
            level=block.level,
            parent=parent.index if parent else None,
            path=(parent.path if parent else []) + [block.text],
        )
        if parent:
            parent.children.append(owner.index)
        sections.append(owner)
        stack.append(owner)
    return sections
