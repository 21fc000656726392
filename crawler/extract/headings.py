"""Heading rules shared by the block-level extractors (HTML and plain text/Markdown).

PDF extraction applies the same ideas on its own input (lines with fonts and positions) in
`crawler.extract.pdf`; all of them join numbers and titles with
`store.numbering.join_number_title`, so every format prints a heading the same way.
"""

from __future__ import annotations

from crawler.extract.normalize import is_bullet, split_marker
from store.numbering import HeadingMatch, join_number_title
from store.records import Block

# A title line joined to a bare heading number must look like a title, not body text.
MAX_TITLE_CHARS = 200



def is_title_line(text: str) -> bool:
    """True when `text` may be the title printed below a bare heading number ("Article 53")."""
    text = text.strip()
    if not text or len(text) >= MAX_TITLE_CHARS or text.endswith(";"):
        return False
    if text[0].isdigit() or is_bullet(text[0]):
        return False
    return split_marker(text)[0] is None


def merge_number_titles(blocks: list[Block]) -> list[Block]:
    """Join a bare numbered heading ("Article 53", "ANNEX XI") with the title block after it.

    The title is the next block when it is a short paragraph (see `is_title_line`) or an
    unnumbered heading; the result is one heading, `join_number_title(number, title)`.
    """
    # Only a heading with a number and no title can take one: visit those alone, and copy
    # the runs of blocks between them whole (most documents have few or none).
    bare = [i for i, b in enumerate(blocks) if b.number and b.title is None]
    out: list[Block] = []
    done = 0  # blocks[:done] are in `out`
    for i in bare:
        block = blocks[i]
        if i < done or block.kind != "heading" or i + 1 == len(blocks) or not _can_be_title(blocks[i + 1]):
            continue  # (i < done: blocks[i] is already the title of the heading before it)
        title = blocks[i + 1].text
        out.extend(blocks[done:i])
        out.append(
            Block(
                "heading",
                join_number_title(block.text, title),
                level=block.level,
                number=block.number,
                title=title,
            )
        )
        done = i + 2
    out.extend(blocks[done:])
    return out


def _can_be_title(block: Block) -> bool:
    if block.kind == "paragraph":
        return is_title_line(block.text)
    if block.kind == "heading":
        # "## Article 51" followed by "### Classification of ..." (Markdown conversions of EUR-Lex).
        return block.number is None and bool(block.text) and not block.text.endswith(";")
    return False


def heading_block(text: str, m: HeadingMatch | None, level: int) -> Block:
    """A heading block: numbered from `m` when it matched, else unnumbered at `level`."""
    if m is not None:
        return Block("heading", text, level=m.level, number=m.number, title=m.title)
    return Block("heading", text, level=max(1, min(level, 6)), title=text or None)
