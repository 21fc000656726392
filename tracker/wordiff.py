"""Word-level diffs with diff-match-patch, on whole tokens.

Tokens (words, numbers with their separators, white space runs, single punctuation marks)
are mapped to one character each, as diff-match-patch's `diff_linesToChars` does for lines,
so "14,000" or "$90.00" is never split and a changed number is one replaced token.
`Diff_Timeout` is 0: diff-match-patch's default one-second timeout silently returns a whole
delete + insert on large inputs; callers bound the input size instead (one section, one
paragraph at a time).
"""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch

Edit = tuple[int, str]

TOKEN = re.compile(
    r"[$€£]?\d+(?:[.,:/]\d+)*(?:\^\d+)?%?"  # numbers: 14,000  $90.00  10^25  2.5%  15/07/2025
    r"|\w+(?:['’\-]\w+)*"  # words, with inner apostrophes and hyphens
    r"|\s+"
    r"|[^\w\s]",
    re.UNICODE,
)

# Code points a token may be mapped to: skip the surrogates, which are not characters.
_SURROGATES = range(0xD800, 0xE000)


def tokens(text: str) -> list[str]:
    """`text` cut into tokens whose concatenation is `text` again."""
    return TOKEN.findall(text)


def _dmp() -> diff_match_patch:
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0  # never degrade to delete-all + insert-all
    return dmp


def _encode(seqs: list[list[str]]) -> tuple[list[str], list[str]]:
    table: dict[str, str] = {}
    vocab: list[str] = []
    out = []
    for seq in seqs:
        chars = []
        for tok in seq:
            ch = table.get(tok)
            if ch is None:
                code = len(vocab) + 1
                if code >= _SURROGATES.start:
                    code += len(_SURROGATES)
                if code > 0x10FFFF:
                    raise ValueError("too many distinct tokens for one diff call")
                ch = chr(code)
                table[tok] = ch
                vocab.append(tok)
            chars.append(ch)
        out.append("".join(chars))
    return out, vocab


def _decode(diffs: list[tuple[int, str]], vocab: list[str]) -> list[list]:
    decoded = []
    for op, chars in diffs:
        decoded.append([op, [vocab[_index(c)] for c in chars]])
    return decoded


def _index(ch: str) -> int:
    code = ord(ch)
    if code >= _SURROGATES.stop:
        code -= len(_SURROGATES)
    return code - 1


def diff_sequences(a: list[str], b: list[str], *, semantic: bool = False) -> list[tuple[int, list[str]]]:
    """Diff two sequences of strings (tokens, paragraphs) item by item."""
    (ca, cb), vocab = _encode([a, b])
    dmp = _dmp()
    diffs = dmp.diff_main(ca, cb, False)
    if semantic:
        dmp.diff_cleanupSemantic(diffs)
    return [(op, items) for op, items in _decode(diffs, vocab)]


def diff_words(a: str, b: str) -> list[Edit]:
    """Word-level edits from `a` to `b`: [(op, text)], op -1 deleted, 0 equal, 1 inserted.

    Semantic cleanup (at token level) merges edits split by tiny equalities ("the", ",")
    into readable replacements. The equal and deleted parts rebuild `a`; the equal and
    inserted parts rebuild `b`.
    """
    if a == b:
        return [(0, a)] if a else []
    edits = [(op, "".join(items)) for op, items in diff_sequences(tokens(a), tokens(b), semantic=True)]
    return merge_edits(edits)


def merge_edits(edits: list[Edit]) -> list[Edit]:
    """Drop empty edits and join neighbours with the same op; deletions before insertions."""
    out: list[Edit] = []
    for op, text in edits:
        if not text:
            continue
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))
    return out


def old_of(edits: list[Edit]) -> str:
    """The old text an edit list rebuilds."""
    return "".join(t for op, t in edits if op <= 0)


def new_of(edits: list[Edit]) -> str:
    """The new text an edit list rebuilds."""
    return "".join(t for op, t in edits if op >= 0)
