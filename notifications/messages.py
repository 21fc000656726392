"""The message of one alert, built from stored data: subject, plain text and HTML."""

from __future__ import annotations

import html
import shlex
from collections import Counter
from dataclasses import dataclass

import sqlite_utils

from store.changes import change_hunks, change_summary, obligation_titles

TOP_HUNKS = 5
_CLASS_ORDER = ("substantive", "editorial", "cosmetic")


@dataclass
class Message:
    """What any channel sends: a subject, a plain-text and an HTML body."""

    subject: str
    text: str
    html: str


class MessageError(Exception):
    """Raised when an alert's change is no longer stored, from `build_message`."""


def _label(number: int, label: str | None) -> str:
    return f"v{number} ({label})" if label else f"v{number}"


def _ref(number: int, label: str | None) -> str:
    return label or str(number)


def _elide(text: str, keep: int = 120) -> str:
    return text if len(text) <= 2 * keep + 20 else text[:keep] + " … " + text[-keep:]


def _words_text(edits: list) -> str:
    return "".join(_elide(t) if op == 0 else (f"[-{t}-]" if op < 0 else f"{{+{t}+}}") for op, t in edits)


def _words_html(edits: list) -> str:
    out = []
    for op, t in edits:
        t = html.escape(_elide(t) if op == 0 else t)
        out.append(t if op == 0 else (f'<del style="background:#fdd">{t}</del>' if op < 0
                                      else f'<ins style="background:#dfd">{t}</ins>'))
    return "".join(out)


def build_message(db: sqlite_utils.Database, change_id: int | None, subscription: str) -> Message:
    """The alert for stored change `change_id` sent to `subscription`."""
    c = change_summary(db, change_id) if change_id is not None else None
    if c is None:
        raise MessageError(f"change {change_id} is no longer stored")
    hunks = change_hunks(db, change_id)
    old, new = _label(c["from_version"], c["from_label"]), _label(c["to_version"], c["to_label"])
    touched = Counter(link["id"] for h in hunks if h["classification"] == "substantive" for link in h["obligations"])
    if not touched:
        touched = Counter(link["id"] for h in hunks for link in h["obligations"])
    top_obl = [oid for oid, _ in touched.most_common(3)]
    subject = f"[regwatch] {c['document']}: {old} → {new}: {c['substantive']} substantive change(s)"
    if top_obl:
        subject += " (" + ", ".join(top_obl) + ")"
    command = "regwatch diff " + " ".join(shlex.quote(x) for x in (
        c["document"], _ref(c["from_version"], c["from_label"]), _ref(c["to_version"], c["to_label"])))

    sections: dict[str, Counter] = {}
    for h in hunks:
        sections.setdefault(h["section"] or "(before the first heading)", Counter())[h["classification"]] += 1
    top = sorted(hunks, key=lambda h: -h["significance"])[:TOP_HUNKS]
    titles = obligation_titles(db, list(touched))

    def counts(cnt: Counter) -> str:
        return ", ".join(f"{cnt[k]} {k}" for k in _CLASS_ORDER if cnt[k])

    lines = [f"{c['document']} changed: {old} → {new}, detected {c['detected_at'][:16]}.",
             f"{c['hunks']} change(s): {c['substantive']} substantive, {c['editorial']} editorial, "
             f"{c['cosmetic']} cosmetic; highest significance {c['max_significance']:.2f}.",
             f"Subscription: {subscription}", "", "Sections:"]
    lines += [f"  {sec}: {counts(cnt)}" for sec, cnt in sections.items()]
    lines += ["", "Most significant changes:"]
    for h in top:
        lines.append(f"  @@ {h['section'] or '(top)'} @@ {h['kind']}, {h['classification']}, "
                     f"significance {h['significance']:.2f}")
        lines += [f"     {r}" for r in h["reasons"]]
        lines.append("     " + _words_text(h["edits"]))
    if touched:
        lines += ["", "Obligations touched:"]
        lines += [f"  {oid} ({n} hunk(s)): {titles.get(oid, '')}" for oid, n in touched.most_common()]
    lines += ["", f"Full diff: {command}", ""]

    e = html.escape
    parts = [f"<p><b>{e(c['document'])}</b> changed: {e(old)} → {e(new)}, detected {e(c['detected_at'][:16])}.<br>"
             f"{c['substantive']} substantive, {c['editorial']} editorial, {c['cosmetic']} cosmetic; "
             f"highest significance {c['max_significance']:.2f}.</p>",
             "<h3>Sections</h3><ul>"]
    parts += [f"<li>{e(sec)}: {counts(cnt)}</li>" for sec, cnt in sections.items()]
    parts.append("</ul><h3>Most significant changes</h3>")
    for h in top:
        parts.append(f"<p><b>{e(h['section'] or '(top)')}</b>: {e(h['kind'])}, {e(h['classification'])}, "
                     f"significance {h['significance']:.2f}<br><i>{e('; '.join(h['reasons']))}</i><br>"
                     f"{_words_html(h['edits'])}</p>")
    if touched:
        parts.append("<h3>Obligations touched</h3><ul>")
        parts += [f"<li><b>{e(oid)}</b> ({n} hunk(s)): {e(titles.get(oid, ''))}</li>" for oid, n in touched.most_common()]
        parts.append("</ul>")
    parts.append(f"<p>Full diff: <code>{e(command)}</code></p>")
    return Message(subject, "\n".join(lines), "<html><body>" + "\n".join(parts) + "</body></html>")
