"""Terminal renderings of a Change: unified, word, side-by-side and stat."""

from __future__ import annotations

import shutil
import textwrap

import click

from store.records import Change, Hunk

_CLASS_COLOUR = {"substantive": "red", "editorial": "yellow", "cosmetic": "bright_black"}


def _style(text: str, colour: bool, **kw) -> str:
    return click.style(text, **kw) if colour and text else text


def _where(h: Hunk) -> str:
    path = h.new_path or h.old_path
    return " › ".join(path) if path else "(before the first heading)"


def _header(h: Hunk, colour: bool) -> str:
    cls = _style(h.classification, colour, fg=_CLASS_COLOUR[h.classification], bold=True)
    head = f"@@ {_where(h)} @@ {h.kind}, {cls}, significance {h.significance:.2f}"
    lines = [head]
    if h.kind in ("moved", "renumbered", "split", "merged") and h.old_path != h.new_path:
        lines.append(f"   from: {' › '.join(h.old_path) or '(top)'}")
    for reason in h.reasons:
        lines.append(f"   {reason}")
    if h.obligations:
        lines.append("   obligations: " + "; ".join(
            f"{o['id']} {o.get('confidence', 0):.2f} ({o.get('reason', '')})" for o in h.obligations))
    return "\n".join(lines)


def unified(change: Change, *, colour: bool = False, **_: object) -> str:
    """Each hunk as removed (-) and added (+) lines under a header with its section and class."""
    out = []
    for h in change.hunks:
        out.append(_header(h, colour))
        for line in h.old_text.splitlines() if h.old_text != h.new_text else []:
            out.append(_style("-" + line, colour, fg="red"))
        for line in h.new_text.splitlines() if h.old_text != h.new_text else []:
            out.append(_style("+" + line, colour, fg="green"))
        if h.old_text == h.new_text:
            out.append(" " + h.new_text.splitlines()[0] if h.new_text else "")
        out.append("")
    return "\n".join(out)


def word(change: Change, *, colour: bool = False, **_: object) -> str:
    """Each hunk's text with inline [-deleted-]{+inserted+} words (colour on a terminal)."""
    out = []
    for h in change.hunks:
        out.append(_header(h, colour))
        parts = []
        for op, text in h.edits:
            if op == 0:
                parts.append(_elide(text))
            elif colour:
                parts.append(click.style(text, fg="red", strikethrough=True) if op < 0 else click.style(text, fg="green", underline=True))
            else:
                parts.append(f"[-{text}-]" if op < 0 else f"{{+{text}+}}")
        out.append("".join(parts))
        out.append("")
    return "\n".join(out)


def _elide(text: str, keep: int = 160) -> str:
    if len(text) <= 2 * keep + 20:
        return text
    return text[:keep] + " … " + text[-keep:]


def side_by_side(change: Change, *, colour: bool = False, width: int | None = None, **_: object) -> str:
    """Each hunk in two columns: old on the left, new on the right."""
    width = width or shutil.get_terminal_size((160, 24)).columns
    col = max(20, (width - 3) // 2)
    out = []
    for h in change.hunks:
        out.append(_header(h, colour))
        # Markers, not colour, inside the columns: wrapping would cut ANSI codes apart.
        left = _mark(h, -1)
        right = _mark(h, 1)
        lw = _wrap(left, col)
        rw = _wrap(right, col)
        for k in range(max(len(lw), len(rw))):
            a = lw[k] if k < len(lw) else ""
            b = rw[k] if k < len(rw) else ""
            out.append(a.ljust(col) + " │ " + b)
        out.append("")
    return "\n".join(out)


def _mark(h: Hunk, side: int) -> str:
    parts = []
    for op, text in h.edits:
        if op == 0:
            parts.append(_elide(text))
        elif op == side:
            parts.append(f"[-{text}-]" if side < 0 else f"{{+{text}+}}")
    return "".join(parts)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        lines += textwrap.wrap(para, width=width, break_long_words=True, replace_whitespace=False) or [""]
    return lines


def stat(change: Change, *, colour: bool = False, **_: object) -> str:
    """One line per changed section (status, hunks, top class, significance) and the totals."""
    out = []
    by_section: dict[str, list[Hunk]] = {}
    for h in change.hunks:
        by_section.setdefault(_where(h), []).append(h)
    for s in change.sections:
        if s.status == "unchanged":
            continue
        name = s.new or s.old or "(before the first heading)"
        key = " › ".join(s.new_path or s.old_path) if (s.new_path or s.old_path) else "(before the first heading)"
        hunks = by_section.get(key, [])
        top = max(hunks, key=lambda h: h.significance, default=None)
        cls = top.classification if top else ""
        label = f"{s.old} → {s.new}" if s.old and s.new and s.old != s.new else name
        line = f"{s.status:<11} {len(hunks):>3} hunks  {cls:<11} {top.significance if top else 0:.2f}  {label}"
        out.append(_style(line, colour, fg=_CLASS_COLOUR.get(cls)) if cls else line)
    st = change.stats
    classes = ", ".join(f"{v} {k}" for k, v in st["classes"].items())
    statuses = ", ".join(f"{v} {k}" for k, v in sorted(st["sections"].items()))
    out.append(f"{st['hunks']} hunks ({classes}); sections: {statuses}")
    return "\n".join(out) + "\n"
