"""One section through every version of a lineage: its number and title in each, and the
hunks between them ("Commitment 17" of the second draft became "Commitment II.12" of the
third and "Commitment 9" of the final).

The section is found where SECTION names it (`find_anchors`: by number, else by title, else
by a regular expression on the heading) and followed forward and backward from there
through the alignment of each pair of consecutive versions (`tracker.diff.diff_texts`).
A split or merge is followed along every branch. Where the section is absent from a version,
the next version is compared with the last one that had it, so a section dropped from one
draft and restored in the next is still found.

Pure functions of the texts: no I/O, and a diff is computed once per pair of versions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from store.records import Change, Hunk, SectionMatch
from tracker.diff import diff_texts
from tracker.sections import Section, build_sections, norm_number, norm_text


@dataclass(frozen=True)
class SectionAt:
    """A section as it stands in one version."""

    index: int  # among the version's sections (tracker.sections.build_sections)
    heading: str
    number: str | None
    title: str | None
    path: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The section as JSON."""
        return {"heading": self.heading, "number": self.number, "title": self.title, "path": list(self.path)}


@dataclass
class Step:
    """What happened to the section between two versions (consecutive, or around a version
    where it was absent)."""

    old: int  # version position in the lineage
    new: int
    rows: list[SectionMatch]  # the alignment rows the trace followed
    hunks: list[Hunk]  # hunks of those sections (their own text, not their subsections')

    @property
    def statuses(self) -> list[str]:
        """The statuses of the followed rows, in order, each once."""
        return list(dict.fromkeys(r.status for r in self.rows))


@dataclass
class Thread:
    """One section followed through all versions; `sections[k]` is empty where it is absent."""

    anchor: tuple[int, int]  # (version position, section index) where SECTION matched
    sections: list[list[SectionAt]]
    steps: list[Step] = field(default_factory=list)


def find_anchors(versions: list[list[Section]], query: str) -> list[tuple[int, int]]:
    """(version position, section index) of the sections SECTION names, latest version first:
    the heading number ("Commitment 9") if any version has it, else the title, else a
    case-insensitive regular expression (or plain text) searched in the heading."""
    tests: list[Callable[[Section], bool]] = [
        lambda s: s.key == norm_number(query),
        lambda s: bool(s.title) and norm_text(s.title) == norm_text(query),
    ]
    try:
        pattern = re.compile(query, re.IGNORECASE)
    except re.error:
        pattern = re.compile(re.escape(query), re.IGNORECASE)
    tests.append(lambda s: bool(pattern.search(s.heading or "")))
    for test in tests:
        hits = [(k, s.index) for k in reversed(range(len(versions))) for s in versions[k][1:] if test(s)]
        if hits:
            return hits
    return []


class _Pairs:
    """Diffs between versions, computed once each."""

    def __init__(self, texts: list[str], differ: Callable[[str, str], Change]) -> None:
        self.texts, self.differ = texts, differ
        self.cache: dict[tuple[int, int], Change] = {}

    def __call__(self, old: int, new: int) -> Change:
        if (old, new) not in self.cache:
            self.cache[(old, new)] = self.differ(self.texts[old], self.texts[new])
        return self.cache[(old, new)]


def trace_section(texts: list[str], query: str, *, at: int | None = None,
                  differ: Callable[[str, str], Change] = diff_texts) -> list[Thread]:
    """The threads of the section SECTION (`query`) through `texts` (the versions' texts in
    lineage order): one per distinct section it names, the latest version's first.

    `at` restricts the anchors to one version (position in `texts`).
    """
    versions = [build_sections(t) for t in texts]
    anchors = find_anchors(versions, query)
    if at is not None:
        anchors = [a for a in anchors if a[0] == at]
    pairs = _Pairs(texts, differ)
    threads: list[Thread] = []
    for pos, index in anchors:
        if any(index in {s.index for s in t.sections[pos]} for t in threads):
            continue  # the same section, already followed from a later version
        thread = Thread((pos, index), [[] for _ in texts])
        thread.sections[pos] = [_at(versions[pos][index])]
        _follow(thread, versions, pairs, pos, {index}, forward=True)
        _follow(thread, versions, pairs, pos, {index}, forward=False)
        thread.steps.sort(key=lambda s: (s.old, s.new))
        threads.append(thread)
    return threads


def _follow(thread: Thread, versions: list[list[Section]], pairs: _Pairs, start: int, indices: set[int],
            *, forward: bool) -> None:
    here, current = start, indices
    others = range(start + 1, len(versions)) if forward else range(start - 1, -1, -1)
    for k in others:
        old, new = (here, k) if forward else (k, here)
        change = pairs(old, new)
        if forward:
            rows = [r for r in change.sections if r.old_index in current]
            found = {r.new_index for r in rows if r.new_index is not None}
        else:
            rows = [r for r in change.sections if r.new_index in current]
            found = {r.old_index for r in rows if r.old_index is not None}
        old_paths = {tuple(versions[old][r.old_index].path) for r in rows if r.old_index is not None}
        new_paths = {tuple(versions[new][r.new_index].path) for r in rows if r.new_index is not None}
        hunks = [h for h in change.hunks if tuple(h.old_path) in old_paths or tuple(h.new_path) in new_paths]
        thread.steps.append(Step(old, new, rows, hunks))
        thread.sections[k] = [_at(versions[k][i]) for i in sorted(found)]
        if found:
            # Absent here: the next version is compared with the last one that had it.
            here, current = k, found


def _at(sec: Section) -> SectionAt:
    return SectionAt(sec.index, sec.heading or "", sec.number, sec.title, tuple(sec.path))


def thread_json(thread: Thread, refs: list[dict[str, Any]]) -> dict[str, Any]:
    """A thread as JSON; `refs[k]` describes version k (ref, label, ...)."""
    pos, index = thread.anchor
    anchor = next(s for s in thread.sections[pos] if s.index == index)
    return {
        "anchor": {**refs[pos], "section": anchor.to_json()},
        "versions": [{**refs[k], "absent": not secs, "sections": [s.to_json() for s in secs]}
                     for k, secs in enumerate(thread.sections)],
        "steps": [
            {"from": refs[s.old], "to": refs[s.new], "statuses": s.statuses,
             "sections": [{"old": r.old, "new": r.new, "status": r.status, "similarity": round(r.similarity, 4)}
                          for r in s.rows],
             "hunks": [h.to_json() for h in s.hunks]}
            for s in thread.steps
        ],
    }


def format_thread(thread: Thread, names: list[str]) -> list[str]:
    """A thread as lines of text; `names[k]` names version k ("v2 (Third draft)")."""
    width = max(len(n) for n in names)
    lines = []
    for k, secs in enumerate(thread.sections):
        heading = " + ".join(s.heading for s in secs) if secs else "(absent)"
        lines.append(f"  {names[k]:<{width}}  {heading}")
    for s in thread.steps:
        if not s.rows:
            continue  # absent on both sides
        moves = "; ".join(f"{r.status}: {r.old or '-'} -> {r.new or '-'}" + (
            f" (similarity {r.similarity:.2f})" if r.old and r.new else "") for r in s.rows)
        lines.append("")
        lines.append(f"  {names[s.old]} -> {names[s.new]}: {moves}")
        for h in s.hunks:
            why = "; ".join(h.reasons[:2])
            lines.append(f"    {h.kind:<10} {h.classification:<11} {h.significance:.2f}  {why}")
    return lines
