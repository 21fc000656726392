"""What an alert says, built from stored data as a channel-neutral `Message`.

A message is a subject, a few summary lines, parts (a heading and its entries) and a footer;
each channel renders that structure its own way (plain text and HTML for email, Block Kit
for Slack), so every channel says the same thing.
"""

from __future__ import annotations

import html
import shlex
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from store.changes import change_hunks, change_summary, obligation_titles

TOP_HUNKS = 5
DIGEST_TOP_HUNKS = 2
_CLASS_ORDER = ("substantive", "editorial", "cosmetic")

Edits = list[tuple[int, str]]  # diff-match-patch style: (-1 deleted | 0 kept | 1 inserted, text)


@dataclass
class Entry:
    """One item of a part: a title line, detail lines, and optionally word-level edits."""

    title: str
    details: list[str] = field(default_factory=list)
    edits: Edits | None = None


@dataclass
class Part:
    """A heading and its entries (sections touched, most significant changes, obligations...)."""

    heading: str
    entries: list[Entry]


@dataclass
class Message:
    """What any channel sends: subject, summary lines, parts, and a footer (how to see more)."""

    subject: str
    summary: list[str]
    parts: list[Part] = field(default_factory=list)
    footer: str = ""

    @property
    def text(self) -> str:
        """The plain-text rendering (email's text/plain part, logs, `regwatch demo`)."""
        lines = list(self.summary)
        for part in self.parts:
            lines += ["", f"{part.heading}:"]
            for e in part.entries:
                lines.append(f"  {e.title}")
                lines += [f"     {d}" for d in e.details]
                if e.edits:
                    lines.append("     " + words_text(e.edits))
        if self.footer:
            lines += ["", self.footer]
        return "\n".join(lines) + "\n"

    @property
    def html(self) -> str:
        """The HTML rendering (email's text/html part): inline styles only, as mail clients need."""
        e = html.escape
        out = ["<html><body>", "<p>" + "<br>".join(e(s) for s in self.summary) + "</p>"]
        for part in self.parts:
            out.append(f"<h3>{e(part.heading)}</h3><ul>")
            for en in part.entries:
                item = f"<li><b>{e(en.title)}</b>"
                if en.details:
                    item += "<br><i>" + e("; ".join(en.details)) + "</i>"
                if en.edits:
                    item += "<br>" + words_html(en.edits)
                out.append(item + "</li>")
            out.append("</ul>")
        if self.footer:
            out.append(f"<p><code>{e(self.footer)}</code></p>")
        out.append("</body></html>")
        return "\n".join(out)


class MessageError(Exception):
    """Raised when an alert's change is no longer stored, from `build_message`."""


def _label(number: int, label: str | None) -> str:
    return f"v{number} ({label})" if label else f"v{number}"


def _ref(number: int, label: str | None) -> str:
    return label or str(number)


def elide(text: str, keep: int = 120) -> str:
    """Unchanged context shortened to its first and last `keep` characters."""
    return text if len(text) <= 2 * keep + 20 else text[:keep] + " … " + text[-keep:]


def _shown(op: int, text: str) -> str:
    # Context is cut hard; a whole added or removed section only beyond a screenful.
    return elide(text) if op == 0 else elide(text, 300)


def words_text(edits: Edits) -> str:
    """Word edits as git's --word-diff: [-deleted-] {+inserted+}."""
    return "".join(_shown(op, t) if op == 0 else (f"[-{_shown(op, t)}-]" if op < 0 else f"{{+{_shown(op, t)}+}}")
                   for op, t in edits)


def words_html(edits: Edits) -> str:
    """Word edits as <del>/<ins> with inline colours."""
    out = []
    for op, t in edits:
        t = html.escape(_shown(op, t))
        out.append(t if op == 0 else (f'<del style="background:#fdd">{t}</del>' if op < 0
                                      else f'<ins style="background:#dfd">{t}</ins>'))
    return "".join(out)


def _counts(cnt: Counter) -> str:
    return ", ".join(f"{cnt[k]} {k}" for k in _CLASS_ORDER if cnt[k])


def _touched(hunks: list[dict[str, Any]]) -> Counter:
    """Obligations of the substantive hunks (of any hunk when none is substantive), by hunk count."""
    touched = Counter(link["id"] for h in hunks if h["classification"] == "substantive" for link in h["obligations"])
    return touched or Counter(link["id"] for h in hunks for link in h["obligations"])


def _hunk_entry(h: dict[str, Any]) -> Entry:
    return Entry(f"@@ {h['section'] or '(top)'} @@ {h['kind']}, {h['classification']}, "
                 f"significance {h['significance']:.2f}", list(h["reasons"]), [tuple(x) for x in h["edits"]])


def diff_command(c: dict[str, Any]) -> str:
    """The command that shows a stored change in full."""
    return "regwatch diff " + " ".join(shlex.quote(x) for x in (
        c["document"], _ref(c["from_version"], c["from_label"]), _ref(c["to_version"], c["to_label"])))


def _load(db: sqlite_utils.Database, change_id: int | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    c = change_summary(db, change_id) if change_id is not None else None
    if c is None:
        raise MessageError(f"change {change_id} is no longer stored")
    return c, change_hunks(db, change_id)


def build_message(db: sqlite_utils.Database, change_id: int | None, subscription: str) -> Message:
    """The alert for stored change `change_id` sent to `subscription`."""
    c, hunks = _load(db, change_id)
    old, new = _label(c["from_version"], c["from_label"]), _label(c["to_version"], c["to_label"])
    touched = _touched(hunks)
    subject = f"[regwatch] {c['document']}: {old} → {new}: {c['substantive']} substantive change(s)"
    if touched:
        subject += " (" + ", ".join(oid for oid, _ in touched.most_common(3)) + ")"
    sections: dict[str, Counter] = {}
    for h in hunks:
        sections.setdefault(h["section"] or "(before the first heading)", Counter())[h["classification"]] += 1
    titles = obligation_titles(db, list(touched))
    parts = [Part("Sections", [Entry(f"{sec}: {_counts(cnt)}") for sec, cnt in sections.items()]),
             Part("Most significant changes",
                  [_hunk_entry(h) for h in sorted(hunks, key=lambda h: -h["significance"])[:TOP_HUNKS]])]
    if touched:
        parts.append(Part("Obligations touched", [Entry(f"{oid} ({n} hunk(s)): {titles.get(oid, '')}")
                                                  for oid, n in touched.most_common()]))
    summary = [f"{c['document']} changed: {old} → {new}, detected {c['detected_at'][:16]}.",
               f"{c['hunks']} change(s): {c['substantive']} substantive, {c['editorial']} editorial, "
               f"{c['cosmetic']} cosmetic; highest significance {c['max_significance']:.2f}.",
               f"Subscription: {subscription}"]
    return Message(subject, summary, parts, f"Full diff: {diff_command(c)}")


def build_digest(db: sqlite_utils.Database, change_ids: list[int], subscription: str, period: str) -> Message:
    """One message for the changes of a digest period, the most significant change first."""
    loaded = [_load(db, cid) for cid in change_ids]
    loaded.sort(key=lambda ch: (-ch[0]["max_significance"], -ch[0]["substantive"], ch[0]["id"]))
    substantive = sum(c["substantive"] for c, _ in loaded)
    docs = sorted({c["document"] for c, _ in loaded})
    touched: Counter = Counter()
    for _c, hunks in loaded:
        touched.update(_touched(hunks))
    subject = (f"[regwatch] {period}: {len(loaded)} change(s) in {len(docs)} document(s), "
               f"{substantive} substantive")
    if touched:
        subject += " (" + ", ".join(oid for oid, _ in touched.most_common(3)) + ")"
    parts = []
    for c, hunks in loaded:
        old, new = _label(c["from_version"], c["from_label"]), _label(c["to_version"], c["to_label"])
        top = sorted(hunks, key=lambda h: -h["significance"])[:DIGEST_TOP_HUNKS]
        obl = ", ".join(oid for oid, _ in _touched(hunks).most_common(5))
        head = Entry(f"{c['hunks']} change(s): {c['substantive']} substantive, {c['editorial']} editorial, "
                     f"{c['cosmetic']} cosmetic; highest significance {c['max_significance']:.2f}",
                     ([f"Obligations: {obl}"] if obl else []) + [f"Full diff: {diff_command(c)}"])
        parts.append(Part(f"{c['document']}: {old} → {new} (detected {c['detected_at'][:16]})",
                          [head] + [_hunk_entry(h) for h in top]))
    summary = [f"{period[:1].upper()}{period[1:]}: {len(loaded)} change(s) in {', '.join(docs)}, "
               "most significant first.",
               f"Subscription: {subscription}"]
    return Message(subject, summary, parts, "Every change: regwatch changes")


def build_tracking(kind: str, source: str, detail: dict[str, Any]) -> Message:
    """The operators' alert that a source stopped being tracked (`tracking-failure`) or is
    tracked again (`tracking-recovered`); `detail` is the event stored with the alert."""
    url, failures = detail.get("url", ""), detail.get("failures", 0)
    if kind == "tracking-failure":
        why = ("its selector matched nothing" if detail.get("error_kind") == "selector"
               else f"{failures} fetch(es) in a row failed")
        subject = f"[regwatch] tracking failure: {source}: {why}"
        summary = [f"Source {source} ({url}) is not being tracked: {why}.",
                   f"Failing since {detail.get('since', '?')[:16]}; last error ({detail.get('error_kind') or 'unknown'}): "
                   f"{detail.get('error') or ''}",
                   "Changes to it are not detected until it recovers; you will get one message when it does."]
        footer = f"Fetch log: regwatch sources --json; config: the source named {source}"
    else:
        subject = f"[regwatch] tracking recovered: {source}"
        summary = [f"Source {source} ({url}) is tracked again: the fetch of {detail.get('since', '?')[:16]} succeeded "
                   f"after {failures} failed fetch(es) since {detail.get('failing_since', '?')[:16]}."]
        footer = f"Its history: regwatch history {detail.get('document', source)}"
    return Message(subject, summary, [], footer)
