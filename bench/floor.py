"""The Python floor of a word diff: the least a Python program does to diff two texts by words.

Run by `bench/diff.py` as `python bench/floor.py OLD NEW OUT`, timed like `regwatch compare`.
It imports nothing of regwatch and knows no sections, alignment, classification, moves or
obligations: it reads both files, splits them into paragraphs, diffs the paragraph
sequences (one character per distinct paragraph, the `diff_linesToChars` way, diffed by the
same C++ diff-match-patch regwatch uses), word-diffs each replaced stretch the same way, and
writes the hunks as JSON. Its time against git's says how much of regwatch's ratio any
Python pipeline pays before doing regwatch's own work.
"""

from __future__ import annotations

import json
import re
import sys

try:
    from fast_diff_match_patch import diff as _cdiff
except ImportError:  # the pure-Python package, as tracker/wordiff.py falls back to
    _cdiff = None
    from diff_match_patch import diff_match_patch

_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")


def _diff(a: str, b: str) -> list[tuple[str, int]]:
    """(op, length) runs between two strings: '-', '=', '+'."""
    if _cdiff is not None:
        return _cdiff(a, b, counts_only=True, timelimit=0)
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0
    return [("-=+"[op + 1], len(text)) for op, text in dmp.diff_main(a, b, False)]


def _encode(seqs: tuple[list[str], list[str]]) -> tuple[str, str]:
    """Each distinct item as one character, both sequences sharing the table."""
    table: dict[str, str] = {}
    out = []
    for seq in seqs:
        out.append("".join([table.setdefault(x, chr(0x100 + len(table))) for x in seq]))
    return out[0], out[1]


def word_edits(old: str, new: str) -> list[list]:
    """[op, text] edits between two texts, whole words kept whole."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    ea, eb = _encode((a, b))
    edits, i, j = [], 0, 0
    for op, n in _diff(ea, eb):
        if op == "=":
            edits.append([0, "".join(a[i:i + n])])
            i, j = i + n, j + n
        elif op == "-":
            edits.append([-1, "".join(a[i:i + n])])
            i += n
        else:
            edits.append([1, "".join(b[j:j + n])])
            j += n
    return edits


def floor_diff(old_text: str, new_text: str) -> list[dict]:
    """Hunks of changed paragraphs between two texts, each with its word edits."""
    a, b = old_text.split("\n\n"), new_text.split("\n\n")
    ea, eb = _encode((a, b))
    hunks: list[dict] = []
    i = j = 0
    pending_old: list[str] = []
    pending_new: list[str] = []

    def flush() -> None:
        if pending_old or pending_new:
            old, new = "\n\n".join(pending_old), "\n\n".join(pending_new)
            hunks.append({"old_text": old, "new_text": new, "edits": word_edits(old, new)})
            pending_old.clear()
            pending_new.clear()

    for op, n in _diff(ea, eb):
        if op == "=":
            flush()
            i, j = i + n, j + n
        elif op == "-":
            pending_old.extend(a[i:i + n])
            i += n
        else:
            pending_new.extend(b[j:j + n])
            j += n
    flush()
    return hunks


def main(argv: list[str]) -> int:
    """Diff OLD and NEW, write the JSON to OUT."""
    old_path, new_path, out_path = argv
    with open(old_path, encoding="utf-8") as f:
        old = f.read()
    with open(new_path, encoding="utf-8") as f:
        new = f.read()
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"hunks": floor_diff(old, new)}, f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
