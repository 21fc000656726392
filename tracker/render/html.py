"""A Change as one standalone HTML page for a compliance analyst.

The page has no external resources and needs no JavaScript: a summary with a legend, a
table of every section (linked to its detail), then each changed section with its hunks
shown side by side (old text with `<del>`, new text with `<ins>`). Unchanged sections are
collapsed into one `<details>` at the end so a mostly-unchanged document stays short; a
few lines of optional script only open that `<details>` when a link or printing needs it.

Every piece of document text came from the web, so all of it goes through `html.escape`.
The page is built as a list of strings joined once: 2,000 hunks render in about a tenth
of a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape

from store.records import CLASS_ORDER, Change, Hunk, SectionMatch

# Equal runs longer than this are collapsed to their ends: the reader needs the words around
# an edit, not whole unchanged paragraphs (and a huge section would otherwise bloat the page).
COLLAPSE_OVER = 400
KEEP = 160  # characters kept on each side of a collapsed equal run
_SNAP = 40  # how far to look for a space so a cut does not split a word

STATUS_ORDER = ["modified", "moved", "renumbered", "split", "merged", "added", "removed", "unchanged"]
CLASSES = ["substantive", "editorial", "cosmetic"]

# Text glyphs next to colours, so a badge reads the same in grey scale or to a screen reader.
_STATUS_GLYPH = {
    "unchanged": "=",
    "modified": "~",
    "moved": "→",
    "renumbered": "#",
    "split": "1→n",
    "merged": "n→1",
    "added": "+",
    "removed": "−",
}
_STATUS_HELP = {
    "unchanged": "same heading, same text",
    "modified": "text edited",
    "moved": "section moved elsewhere in the document",
    "renumbered": "same text under a new number",
    "split": "one old section became several",
    "merged": "several old sections became one",
    "added": "only in the new version",
    "removed": "only in the old version",
}
_CLASS_GLYPH = {"substantive": "!!", "editorial": "!", "cosmetic": "·"}
_CLASS_HELP = {
    "substantive": "changes a duty, a number, an actor or the scope",
    "editorial": "wording changed, meaning kept",
    "cosmetic": "case, punctuation, spacing or markup only",
}

_CSS = """
:root{--fg:#1d2433;--muted:#5b6474;--line:#d5dae1;--bg:#fff;--soft:#f5f7fa;
--del-bg:#ffe4e1;--del-fg:#8a1020;--ins-bg:#d9f7df;--ins-fg:#0b5a22;
--subst:#b42318;--edit:#93370d;--cosm:#475467;--link:#1849a9}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif}
main{max-width:1200px;margin:0 auto;padding:24px 24px 64px}
a{color:var(--link)}
h1{font-size:1.6rem;line-height:1.25;margin:0 0 .35rem}
h2{font-size:1.25rem;margin:2rem 0 .75rem}
h3{font-size:1.1rem;line-height:1.3;margin:.25rem 0 .5rem}
.versions{color:var(--muted);margin:0 0 1rem;font-size:1.05rem}
.versions b{color:var(--fg)}
.summary{display:flex;flex-wrap:wrap;gap:12px 32px;padding:14px 16px;background:var(--soft);
border:1px solid var(--line);border-radius:8px}
.summary h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:0 0 6px}
.counts{display:flex;flex-wrap:wrap;gap:6px;margin:0;padding:0;list-style:none}
.counts li{white-space:nowrap}
.counts .n{font-weight:700;font-variant-numeric:tabular-nums;margin-left:2px}
details.legend{margin:12px 0 0;font-size:.92rem}
details.legend summary{cursor:pointer;color:var(--muted)}
.legend dl{display:grid;grid-template-columns:repeat(2,max-content minmax(0,1fr));gap:4px 12px;margin:8px 0 0;align-items:baseline}
@media (max-width:760px){.legend dl{grid-template-columns:max-content 1fr}}
.legend dt{margin:0}.legend dd{margin:0;color:var(--muted)}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;font-weight:600;
line-height:1.5;white-space:nowrap;border:1px solid transparent;vertical-align:baseline}
.st-unchanged{background:#fff;color:#475467;border-color:#98a2b3}
.st-modified{background:#1849a9;color:#fff}
.st-moved{background:#5925dc;color:#fff}
.st-renumbered{background:#0e6073;color:#fff}
.st-split,.st-merged{background:#9e165f;color:#fff}
.st-added{background:#067647;color:#fff}
.st-removed{background:#b42318;color:#fff}
.cl-substantive{background:var(--subst);color:#fff}
.cl-editorial{background:#fef0c7;color:var(--edit);border-color:#f7b27a}
.cl-cosmetic{background:#f2f4f7;color:var(--cosm);border-color:#d0d5dd}
.kind{background:#fff;color:var(--fg);border-color:#98a2b3;font-weight:500}
table.sections{width:100%;border-collapse:collapse;font-size:.92rem}
.sections caption{text-align:left;color:var(--muted);padding:0 0 6px;font-size:.85rem}
.sections th,.sections td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
.sections thead th{position:sticky;top:0;background:#eef1f5;font-size:.8rem;text-transform:uppercase;
letter-spacing:.04em;color:#344054;border-bottom:2px solid #b9c0cb}
.sections td.num,.sections th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.sections td.heading{overflow-wrap:anywhere;min-width:12em}
.sections td.same{color:var(--muted)}
.sections td.changes{white-space:nowrap}
.sections tr.row-unchanged td{color:var(--muted)}
.sections tr.row-substantive td:first-child{box-shadow:inset 4px 0 0 var(--subst)}
.sections tr.row-substantive{background:#fff6f5}
.sections .none{color:#98a2b3}
.meter{display:inline-block;width:48px;height:8px;background:#eaecf0;border-radius:4px;margin-right:6px;
vertical-align:middle;overflow:hidden}
.meter i{display:block;height:100%;background:#667085}
.row-substantive .meter i{background:var(--subst)}
.toggle{font-size:.9rem;color:var(--muted);margin:0 0 8px;display:block}
#hide-unchanged:checked~table tr.row-unchanged{display:none}
section.change{border-top:3px solid var(--line);margin-top:2.25rem;padding-top:.75rem}
section.change.sec-substantive{border-top-color:var(--subst)}
.crumbs{margin:0;padding:0;list-style:none;font-size:.85rem;color:var(--muted)}
.crumbs li{display:inline}
.crumbs li+li::before{content:" › ";color:#98a2b3}
.crumbs .side{font-weight:600;margin-right:4px}
.sec-meta{font-size:.9rem;color:var(--muted);margin:0 0 .75rem}
article.hunk{border:1px solid var(--line);border-radius:8px;margin:0 0 16px;background:#fff;overflow:hidden}
article.hunk.cls-substantive{border-left:5px solid var(--subst)}
article.hunk.cls-editorial{border-left:5px solid #f79009}
article.hunk.cls-cosmetic{border-left:5px solid #d0d5dd}
.hunk-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 10px;padding:8px 12px;background:var(--soft);
border-bottom:1px solid var(--line)}
.sig{font-size:.9rem;color:#344054;font-variant-numeric:tabular-nums}
.sig b{font-size:1rem}
.permalink{margin-left:auto;font-size:.8rem;color:var(--muted);text-decoration:none}
.hunk-info{padding:8px 12px 0;font-size:.9rem}
.hunk-info p{margin:0 0 6px}
.hunk-info ul{margin:0 0 6px;padding-left:1.2em}
.label{font-weight:600;color:#344054;margin-right:4px}
.flags{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0 0 6px}
.flags dt{font-weight:600;color:#344054}
.flags dd{margin:0}
.word{display:inline-block;background:#f2f4f7;border:1px solid #d0d5dd;border-radius:4px;padding:0 5px;
margin:0 4px 2px 0;font-size:.85rem;overflow-wrap:anywhere}
.sbs{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);margin-top:4px;padding-bottom:10px;
background:linear-gradient(90deg,#fffafa calc(50% - .5px),var(--line) calc(50% - .5px) calc(50% + .5px),#f8fffa calc(50% + .5px))}
.col{min-width:0;padding:3px 12px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.95rem;line-height:1.55;
font-family:Georgia,"Noto Serif","Liberation Serif",serif}
.col-label{min-width:0;padding:8px 12px 2px;font-size:.75rem;text-transform:uppercase;letter-spacing:.06em;
color:var(--muted)}
.col.whole del,.col.whole ins{text-decoration:none}
del{background:var(--del-bg);color:var(--del-fg);text-decoration:line-through;text-decoration-thickness:1px}
ins{background:var(--ins-bg);color:var(--ins-fg);text-decoration:underline;text-decoration-thickness:1px;
text-underline-offset:2px}
del,ins{border-radius:2px;padding:0 1px}
del.tiny,ins.tiny{outline:1px solid currentColor;outline-offset:-1px;padding:0 3px}
.gap{font-family:system-ui,sans-serif;font-size:.78rem;color:var(--muted);background:#eef1f5;border-radius:4px;
padding:0 6px;white-space:nowrap}
.absent{color:#98a2b3;font-style:italic;font-family:system-ui,sans-serif;font-size:.9rem}
.top{display:inline-block;font-size:.85rem;margin-top:2px}
details.unchanged{margin-top:2.5rem;border:1px solid var(--line);border-radius:8px;padding:8px 12px}
details.unchanged summary{cursor:pointer;font-weight:600}
details.unchanged ol{margin:8px 0 0;padding-left:0;list-style:none;font-size:.9rem}
details.unchanged li{padding:2px 0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
:target{scroll-margin-top:40px}
section.change:target h3,li:target{background:#fff8c5}
@media (max-width:760px){.sbs{grid-template-columns:1fr;background:#fff}.col.old{background:#fffafa}.col.new{background:#f8fffa}}
@media print{
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font-size:11pt}main{max-width:none;padding:0}
.top,.toggle,.permalink,details.legend summary{display:none}
.sections thead th{position:static}
a{color:inherit;text-decoration:none}
.hunk-head,.sections tr{break-inside:avoid}
section.change{break-before:auto}
}
"""

# Optional: opens a collapsed <details> when a link points inside it, and all of them when
# printing. The page reads fully without it (the <details> can be opened by hand).
_JS = """
(function(){function reveal(){var id=decodeURIComponent(location.hash.slice(1));
var e=id&&document.getElementById(id);for(;e;e=e.parentElement){if(e.tagName==="DETAILS")e.open=true;}}
addEventListener("hashchange",reveal);reveal();
addEventListener("beforeprint",function(){document.querySelectorAll("details").forEach(function(d){d.open=true;});});})();
"""


def render(change: Change, *, title: str, old_label: str, new_label: str) -> str:
    """Render `change` as one standalone HTML page (inline CSS, no external resources).

    `title` heads the page ("cop-safety-security: Third draft → Final"); `old_label` and
    `new_label` name the two versions in the summary and above the side-by-side columns.
    All text is HTML-escaped.
    """
    rows = _ordered(change.sections)
    assigned, orphans = _assign(rows, change.hunks)
    out: list[str] = []
    w = out.append
    _page_head(w, title)
    w('<main id="top">')
    w(f"<header><h1>{escape(title)}</h1>")
    w(f'<p class="versions">Old: <b>{escape(old_label)}</b> → New: <b>{escape(new_label)}</b></p>')
    _summary(w, change)
    w("</header>")
    _table(w, rows, assigned, bool(orphans))
    w('<h2 id="changes">Changes by section</h2>')
    if not change.hunks and all(s.status == "unchanged" for _, s in rows):
        w('<p class="sec-meta">No differences between the two versions.</p>')
    labels = (escape(old_label) or "old", escape(new_label) or "new")
    counter = [0]  # hunk ids run across sections so each hunk has a stable #h-N link
    unchanged: list[tuple[int, SectionMatch]] = []
    for n, s in rows:
        hunks = assigned.get(n, [])
        if s.status == "unchanged" and not hunks:
            unchanged.append((n, s))
            continue
        _section(w, n, s, hunks, labels, counter)
    if orphans:
        _section(w, 0, None, orphans, labels, counter)
    if unchanged:
        _unchanged(w, unchanged)
    w("</main>")
    w(f"<script>{_JS}</script>")
    w("</body></html>\n")
    return "".join(out)


# --- ordering and hunk assignment ---------------------------------------------------------


def _ordered(sections: list[SectionMatch]) -> list[tuple[int, SectionMatch]]:
    """Sections numbered from 1 (the number is the `s-N` anchor), in the order given.

    `Change.sections` is already in document order: the engine places a removed section
    right after where its predecessor now stands, which a sort on old and new indices (two
    different numberings) cannot reproduce.
    """
    return list(enumerate(sections, start=1))


def _assign(
    rows: list[tuple[int, SectionMatch]], hunks: list[Hunk]
) -> tuple[dict[int, list[Hunk]], list[Hunk]]:
    """Each hunk under the section it belongs to, and the hunks that match no section.

    A hunk is matched by its whole new path, then by the last heading of it, then the same
    on the old side (removed text has only an old path); empty paths mean the preamble.
    Whole paths come first because a heading like "Definitions" can occur more than once.
    When several rows share a path (one old section split in two rows), the row whose
    status is the hunk's kind wins.
    """
    status = {n: s.status for n, s in rows}
    index: dict[tuple, list[int]] = {}
    preamble: list[int] = []
    for n, s in rows:
        for key in (("np", *s.new_path), ("op", *s.old_path)):
            if len(key) > 1:
                index.setdefault(key, []).append(n)
        if s.new:
            index.setdefault(("nh", s.new), []).append(n)
        if s.old:
            index.setdefault(("oh", s.old), []).append(n)
        # The preamble (text before the first heading) has no heading on either side.
        if s.new is None and s.old is None and (s.new_index == 0 or s.old_index == 0):
            preamble.append(n)
    out: dict[int, list[Hunk]] = {}
    orphans: list[Hunk] = []
    for h in hunks:
        keys: list[tuple] = []
        if h.new_path:
            keys += [("np", *h.new_path), ("nh", h.new_path[-1])]
        if h.old_path:
            keys += [("op", *h.old_path), ("oh", h.old_path[-1])]
        found = next((index[k] for k in keys if k in index), None)
        if found is None and not h.new_path and not h.old_path:
            found = preamble or None
        if found is None:
            orphans.append(h)
            continue
        n = next((c for c in found if status[c] == h.kind), found[0])
        out.setdefault(n, []).append(h)
    return out, orphans


# --- page parts ---------------------------------------------------------------------------


def _page_head(w: Callable[[str], object], title: str) -> None:
    w('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">')
    w('<meta name="viewport" content="width=device-width, initial-scale=1">')
    w('<meta name="generator" content="regwatch">')
    w(f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>")


def _status_badge(status: str) -> str:
    glyph = _STATUS_GLYPH.get(status, "?")
    return (
        f'<span class="badge st-{escape(status)}" title="{escape(_STATUS_HELP.get(status, ""))}">'
        f'<span aria-hidden="true">[{glyph}]</span> {escape(status)}</span>'
    )


def _class_badge(cls: str) -> str:
    glyph = _CLASS_GLYPH.get(cls, "?")
    return (
        f'<span class="badge cl-{escape(cls)}" title="{escape(_CLASS_HELP.get(cls, ""))}">'
        f'<span aria-hidden="true">{glyph}</span> {escape(cls)}</span>'
    )


def _summary(w: Callable[[str], object], change: Change) -> None:
    stats = change.stats
    w('<div class="summary">')
    w(f'<div><h2>Sections ({len(change.sections)})</h2><ul class="counts">')
    by_status = stats["sections"]
    for status in STATUS_ORDER + sorted(set(by_status) - set(STATUS_ORDER)):
        if by_status.get(status):
            w(f'<li>{_status_badge(status)}<span class="n">{by_status[status]}</span></li>')
    if not by_status:
        w("<li>none</li>")
    w("</ul></div>")
    w(f'<div><h2>Changes ({stats["hunks"]})</h2><ul class="counts">')
    for cls in CLASSES:
        w(f'<li>{_class_badge(cls)}<span class="n">{stats["classes"].get(cls, 0)}</span></li>')
    w("</ul></div></div>")
    w('<details class="legend" open><summary>Legend</summary><dl>')
    w("<dt><del>deleted words</del></dt><dd>text only in the old version (struck through)</dd>")
    w("<dt><ins>inserted words</ins></dt><dd>text only in the new version (underlined)</dd>")
    w('<dt><span class="gap">… 812 unchanged characters …</span></dt><dd>unchanged text left out</dd>')
    for cls in CLASSES:
        w(f"<dt>{_class_badge(cls)}</dt><dd>{escape(_CLASS_HELP[cls])}</dd>")
    for status in STATUS_ORDER:
        w(f"<dt>{_status_badge(status)}</dt><dd>{escape(_STATUS_HELP[status])}</dd>")
    w("<dt>significance</dt><dd>0 to 1, the sum of the listed contributions; "
      "a section shows its highest</dd></dl></details>")


def _top(hunks: list[Hunk]) -> Hunk | None:
    """The hunk that speaks for a section: highest class, then highest significance."""
    return max(hunks, key=lambda h: (CLASS_ORDER.get(h.classification, 0), h.significance), default=None)


def _table(
    w: Callable[[str], object],
    rows: list[tuple[int, SectionMatch]],
    assigned: dict[int, list[Hunk]],
    has_orphans: bool,
) -> None:
    w('<h2 id="sections">Sections</h2>')
    # A CSS-only switch: hides unchanged rows without script; all rows show by default.
    w('<input type="checkbox" id="hide-unchanged"> <label class="toggle" for="hide-unchanged" '
      'style="display:inline">Hide unchanged sections</label>')
    w('<table class="sections"><caption>In document order; a marked row holds a substantive '
      'change. Follow a heading to its changes.</caption><thead><tr>'
      '<th class="num" scope="col">#</th><th scope="col">Old heading</th>'
      '<th scope="col">New heading</th><th scope="col">Status</th>'
      '<th class="num" scope="col">Similarity</th><th scope="col">Max significance</th>'
      '<th scope="col">Changes</th></tr></thead><tbody>')
    none = '<span class="none">—</span>'
    for n, s in rows:
        hunks = assigned.get(n, [])
        top = _top(hunks)
        substantive = top is not None and top.classification == "substantive"
        cls = "row-unchanged" if s.status == "unchanged" and not hunks else "row-changed"
        if substantive:
            cls += " row-substantive"
        href = f'href="#s-{n}"'
        new = f"<a {href}>{escape(s.new)}</a>" if s.new else (_preamble(s, "new") or none)
        # An old heading equal to the new one is shown muted and unlinked: the eye then goes
        # to the headings that did change.
        same = bool(s.old) and s.old == s.new
        if same:
            old = escape(s.old or "")
        else:
            old = f"<a {href}>{escape(s.old)}</a>" if s.old else (_preamble(s, "old") or none)
        if top is not None:
            sig = max(h.significance for h in hunks)
            pct = max(0.0, min(1.0, sig)) * 100
            sig_cell = f'<span class="meter" aria-hidden="true"><i style="width:{pct:.0f}%"></i></span>{sig:.2f}'
            changes = f"{len(hunks)} {_class_badge(top.classification)}"
        else:
            sig_cell, changes = none, none
        w(f'<tr class="{cls}" id="row-{n}"><td class="num"><a {href}>{n}</a></td>'
          f'<td class="heading{" same" if same else ""}">{old}</td><td class="heading">{new}</td>'
          f"<td>{_status_badge(s.status)}</td><td class=\"num\">{s.similarity:.2f}</td>"
          f'<td>{sig_cell}</td><td class="changes">{changes}</td></tr>')
    if has_orphans:
        w('<tr class="row-changed"><td class="num"><a href="#s-0">–</a></td>'
          '<td colspan="6"><a href="#s-0">Changes outside the listed sections</a></td></tr>')
    w("</tbody></table>")


def _preamble(s: SectionMatch, side: str) -> str:
    """'(preamble)' for the side of the untitled opening section that exists."""
    idx = s.old_index if side == "old" else s.new_index
    return "<i>(preamble)</i>" if idx == 0 else ""


def _crumbs(path: list[str], side: str | None) -> str:
    items = "".join(f"<li>{escape(p)}</li>" for p in path) or "<li>(preamble)</li>"
    label = f'<span class="side">{side}:</span>' if side else ""
    return f'<ol class="crumbs">{label}{items}</ol>'


def _section(
    w: Callable[[str], object],
    n: int,
    s: SectionMatch | None,
    hunks: list[Hunk],
    labels: tuple[str, str],
    counter: list[int],
) -> None:
    top = _top(hunks)
    extra = " sec-substantive" if top is not None and top.classification == "substantive" else ""
    w(f'<section class="change{extra}" id="s-{n}" aria-labelledby="s-{n}-h">')
    if s is None:
        w(f'<h3 id="s-{n}-h">Changes outside the listed sections</h3>')
    else:
        old_p, new_p = s.old_path or ([s.old] if s.old else []), s.new_path or ([s.new] if s.new else [])
        if old_p and new_p and old_p != new_p:
            w('<nav aria-label="Location">' + _crumbs(old_p, "Old") + _crumbs(new_p, "New") + "</nav>")
        else:
            w('<nav aria-label="Location">' + _crumbs(new_p or old_p, None) + "</nav>")
        if s.old and s.new and s.old != s.new:
            heading = f"{escape(s.old)} <span aria-label=\"became\">→</span> {escape(s.new)}"
        else:
            heading = escape(s.new or s.old or "(preamble)")
        w(f'<h3 id="s-{n}-h"><span class="sr">Section {n}: </span>{heading}</h3>')
        w(f'<p class="sec-meta">{_status_badge(s.status)} similarity {s.similarity:.2f} · '
          f"{len(hunks)} change{'s' if len(hunks) != 1 else ''}</p>")
    if not hunks:
        w('<p class="sec-meta">No text changes recorded for this section.</p>')
    for h in hunks:
        counter[0] += 1
        _hunk(w, h, counter[0], labels, s.old_path if s is not None else [])
    w('<a class="top" href="#top">↑ Back to top</a></section>')


def _parts(h: Hunk) -> str:
    """'0.72 = modal 0.35 + number 0.25 + size 0.12', largest contribution first."""
    head = f"significance <b>{h.significance:.2f}</b>"
    # Parts that print as 0.00 are noise next to the ones that make the score.
    parts = sorted(((k, v) for k, v in h.significance_parts.items() if abs(v) >= 0.005), key=lambda kv: -abs(kv[1]))
    if not parts:
        return head
    terms = []
    for i, (k, v) in enumerate(parts):
        sign = ("− " if v < 0 else "") if i == 0 else (" − " if v < 0 else " + ")
        terms.append(f"{sign}{escape(str(k))} {abs(v):.2f}")
    return f"{head} = {''.join(terms)}"


def _hunk(w: Callable[[str], object], h: Hunk, k: int, labels: tuple[str, str], section_old: list[str]) -> None:
    cls = escape(h.classification)
    w(f'<article class="hunk cls-{cls}" id="h-{k}"><div class="hunk-head">'
      f'<span class="badge kind">{escape(h.kind)}</span>{_class_badge(h.classification)}'
      f'<span class="sig">{_parts(h)}</span>'
      f'<a class="permalink" href="#h-{k}" title="Link to this change">change {k}</a></div>')
    info: list[str] = []
    # Where the text came from, when the section's breadcrumb does not already say it.
    if h.old_path and h.new_path and h.old_path != h.new_path and h.old_path != section_old:
        info.append(f'<p><span class="label">From:</span>{escape(" › ".join(h.old_path))}</p>')
    if h.reasons:
        info.append('<p class="label">Why</p><ul class="reasons">')
        info.extend(f"<li>{escape(r)}</li>" for r in h.reasons)
        info.append("</ul>")
    if h.flags:
        info.append('<dl class="flags">')
        for flag, words in h.flags.items():
            # The same word raising a flag six times is one chip with a count.
            counts: dict[str, int] = {}
            for x in words:
                counts[str(x)] = counts.get(str(x), 0) + 1
            chips = "".join(
                f'<span class="word">{escape(x)}{f" ×{c}" if c > 1 else ""}</span>' for x, c in counts.items()
            ) or "—"
            info.append(f"<dt>{escape(str(flag).replace('_', ' '))}</dt><dd>{chips}</dd>")
        info.append("</dl>")
    if h.obligations:
        info.append('<p class="label">Obligations</p><ul class="obligations">')
        for ob in h.obligations:
            conf = ob.get("confidence")
            conf_s = f" (confidence {conf:.2f})" if isinstance(conf, int | float) else ""
            reason = f" — {escape(str(ob.get('reason', '')))}" if ob.get("reason") else ""
            info.append(f"<li><b>{escape(str(ob.get('id', '?')))}</b>{reason}{conf_s}</li>")
        info.append("</ul>")
    if info:
        w('<div class="hunk-info">')
        w("".join(info))
        w("</div>")
    _side_by_side(w, _edits(h), labels)
    w("</article>")


# --- side-by-side text --------------------------------------------------------------------

_GAP = 2  # pseudo-op for a collapsed equal run; its text is the number of hidden characters


def _edits(h: Hunk) -> list[tuple[int, str]]:
    """The hunk's edits, or a whole delete + insert when the producer left them out."""
    if h.edits:
        return list(h.edits)
    if h.old_text == h.new_text:
        return [(0, h.old_text)] if h.old_text else []
    return [e for e in ((-1, h.old_text), (1, h.new_text)) if e[1]]


def _side_by_side(w: Callable[[str], object], edits: list[tuple[int, str]], labels: tuple[str, str]) -> None:
    """Old and new text in two columns, one grid row per paragraph so the columns line up.

    Rows break only at line breaks inside equal text: those exist on both sides, so each row
    holds the same passage in its old and its new form.
    """
    olds = {op for op, t in edits if t}
    # Text wholly added or removed is not struck through or underlined: a page of struck
    # text is hard to read, and the other column already says it is absent.
    whole = "" if 0 in olds or {-1, 1} <= olds else " whole"
    w(f'<div class="sbs"><div class="col-label"><span aria-hidden="true">[−]</span> Old · {labels[0]}</div>'
      f'<div class="col-label"><span aria-hidden="true">[+]</span> New · {labels[1]}</div>')
    pairs = [(_cell(row, -1), _cell(row, 1)) for row in _rows(_collapse(edits))] or [("", "")]
    absent = '<span class="absent">(not in this version)</span>'
    # A side with no text at all says so once, on the first row, instead of staying blank.
    no_old = not any(left for left, _ in pairs)
    no_new = not any(right for _, right in pairs)
    cells: list[str] = []
    for i, (left, right) in enumerate(pairs):
        if i == 0:
            left = absent if no_old else left
            right = absent if no_new else right
        cells.append(f'<div class="col old{whole}">{left}</div><div class="col new{whole}">{right}</div>')
    w("".join(cells))
    w("</div>")


def _collapse(edits: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Long equal runs cut to their ends around a `_GAP` marker; empty edits dropped."""
    out: list[tuple[int, str]] = []
    last = len(edits) - 1
    for i, (op, text) in enumerate(edits):
        if not text:
            continue
        if op != 0 or len(text) <= COLLAPSE_OVER:
            out.append((op, text))
            continue
        # Before the first edit only the tail matters; after the last edit only the head.
        head = "" if i == 0 and i != last else _cut_head(text)
        tail = "" if i == last and i != 0 else _cut_tail(text)
        if head:
            out.append((0, head))
        out.append((_GAP, str(len(text) - len(head) - len(tail))))
        if tail:
            out.append((0, tail))
    return out


def _rows(tokens: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """The tokens cut into rows, one per paragraph, so old and new line up.

    Rows break at line breaks inside equal text (both sides have them; the breaks are
    dropped since each row is its own block). A whole paragraph added or removed gets a row
    of its own, empty on the other side, or shared with the paragraph it replaced.
    """
    rows: list[list[tuple[int, str]]] = [[]]
    sealed = False  # the open row holds whole added/removed paragraphs only
    for op, text in tokens:
        if op in (0, _GAP):
            if sealed:
                rows.append([])
                sealed = False
            if op == _GAP or "\n" not in text:
                rows[-1].append((op, text))
                continue
            for k, piece in enumerate(text.split("\n")):
                if k and rows[-1]:
                    rows.append([])
                if piece:
                    rows[-1].append((0, piece))
            continue
        row = rows[-1]
        body = text.strip("\n")
        edge = body != text  # starts or ends at a paragraph boundary
        if body and sealed and edge and all(o != op for o, _ in row):
            row.append((op, body))  # the other side's whole paragraph(s) at the same place
        elif body and ((not row and text.endswith("\n")) or (row and not sealed and text.startswith("\n"))):
            if row:
                rows.append([])
            rows[-1].append((op, body))
            sealed = True
        else:
            if sealed:
                rows.append([])
                sealed = False
            rows[-1].append((op, text))
    return [r for r in rows if any(op != 0 or t.strip() for op, t in r)]


def _cell(row: list[tuple[int, str]], side: int) -> str:
    """One side of one row: equal text, gap markers and this side's edits, marked up."""
    tag = "del" if side < 0 else "ins"
    parts: list[str] = []
    for op, text in row:
        if op == 0:
            parts.append(escape(text))
        elif op == _GAP:
            parts.append(f'<span class="gap" title="{text} unchanged characters not shown">'
                         f"… {text} unchanged characters …</span>")
        elif op == side:
            if not text.strip() and "\n" in text:
                # A paragraph break added or removed would be an invisible blank: show a ¶.
                parts.append(f'<{tag} class="tiny" title="paragraph break">¶</{tag}>')
                continue
            # A changed comma or space is easy to miss: outline it.
            tiny = ' class="tiny"' if len(text.strip()) <= 2 else ""
            parts.append(f"<{tag}{tiny}>{escape(text)}</{tag}>")
    return "".join(parts)


def _cut_head(text: str) -> str:
    cut = text.rfind(" ", KEEP - _SNAP, KEEP)
    return text[: cut + 1 if cut > 0 else KEEP]


def _cut_tail(text: str) -> str:
    start = len(text) - KEEP
    cut = text.find(" ", start, start + _SNAP)
    return text[cut if cut >= 0 else start:]


def _unchanged(w: Callable[[str], object], rows: Iterable[tuple[int, SectionMatch]]) -> None:
    rows = list(rows)
    w(f'<details class="unchanged" id="unchanged"><summary>{len(rows)} unchanged '
      f"section{'s' if len(rows) != 1 else ''}</summary><ol>")
    for n, s in rows:
        name = escape(s.new or s.old or "(preamble)")
        w(f'<li id="s-{n}"><span class="sr">Section {n}: </span>{_status_badge("unchanged")} {name} '
          f'<a class="top" href="#row-{n}">↑ table</a></li>')
    w("</ol></details>")
