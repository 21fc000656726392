"""Word-level diffs with diff-match-patch, on whole tokens.

Tokens (words, numbers with their separators, white space runs, single punctuation marks)
are mapped to one character each, as diff-match-patch's `diff_linesToChars` does for lines,
so "14,000" or "$90.00" is never split and a changed number is one replaced token.
`Diff_Timeout` is 0: diff-match-patch's default one-second timeout silently returns a whole
delete + insert on large inputs; callers bound the input size instead (one section, one
paragraph at a time).

The C++ build of the same algorithm (fast-diff-match-patch) runs the diff when it is
installed: the pure-Python diff-match-patch spends seconds, or minutes, in `diff_bisect` on
a long section rewritten from end to end (a draft's chapter against its next draft), which
the C++ build does in milliseconds. Both give the same edits (tests compare them); the
pure-Python package stays the fallback where no wheel exists.
"""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch

try:
    import fast_diff_match_patch as _fast
except ImportError:  # no wheel for this platform: the pure-Python package does the work
    _fast = None

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


_FAST_OPS = {"=": 0, "-": -1, "+": 1}


def diff_chars(a: str, b: str, *, semantic: bool = False, accelerated: bool = True) -> list[tuple[int, str]]:
    """diff-match-patch's character diff of `a` and `b`, never cut short by a timeout
    (`accelerated`: with the C++ build when it is installed)."""
    dmp = _dmp()
    if accelerated and _fast is not None:
        diffs = [(_FAST_OPS[op], text)
                 for op, text in _fast.diff(a, b, timelimit=0, checklines=False, counts_only=False, cleanup="No")]
    else:
        diffs = dmp.diff_main(a, b, False)
    if semantic:
        # The Python cleanup on either result: the C++ one shifts edits across spaces
        # differently, and one engine must give one answer whichever build is installed.
        dmp.diff_cleanupSemantic(diffs)
    return diffs


def diff_sequences(a: list[str], b: list[str], *, semantic: bool = False,
                   accelerated: bool = True) -> list[tuple[int, list[str]]]:
    """Diff two sequences of strings (tokens, paragraphs) item by item."""
    (ca, cb), vocab = _encode([a, b])
    diffs = diff_chars(ca, cb, semantic=semantic, accelerated=accelerated)
    return [(op, items) for op, items in _decode(diffs, vocab)]


def diff_words(a: str, b: str, *, accelerated: bool = True) -> list[Edit]:
    """Word-level edits from `a` to `b`: [(op, text)], op -1 deleted, 0 equal, 1 inserted.

    Semantic cleanup (at token level) merges edits split by tiny equalities ("the", ",")
    into readable replacements. The equal and deleted parts rebuild `a`; the equal and
    inserted parts rebuild `b`.
    """
    if a == b:
        return [(0, a)] if a else []
    edits = [(op, "".join(items))
             for op, items in diff_sequences(tokens(a), tokens(b), semantic=True, accelerated=accelerated)]
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
