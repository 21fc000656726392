"""The diff engine: two versions' texts in, a `Change` (alignment + classified hunks) out.

`diff_texts` reads no environment, does no I/O and never degrades on a timer: the input of
every diff-match-patch call is bounded by the alignment (one section's paragraphs, then one
paragraph's words).

Within each aligned pair of sections, paragraphs are diffed as units; a deleted and an
inserted paragraph that resemble each other become one "modified" hunk with word edits.
Paragraphs deleted in one place and inserted in another (in any section) are "moved";
the rest are "added" or "removed". Whole sections added, removed, renumbered, moved, split
or merged get a hunk of their own; the paragraphs of a part split off or merged in are found
again on the other side like any others.

Layout is not content: a paragraph that kept its place in the text while a heading around it
appeared or vanished is not moved; a heading set as a plain line by another rendering is a
cosmetic change; paragraphs broken differently with the same words are one reflowed passage.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from store.records import Change, Hunk, SectionMatch
from tracker.align import align, jaccard, similar_pairs
from tracker.classify import classify, cosmetic_form
from tracker.gc_pause import paused_gc
from tracker.obligations.mapping import Mapper, default_mapper, link_hunks
from tracker.sections import BlockWords, Section, build_sections, norm_text
from tracker.wordiff import diff_sequences, diff_words

# Bump when the engine's output changes; `regwatch reprocess` recomputes stored changes.
ENGINE_VERSION = "4"  # 2: hunks linked to obligations; 3: split/merged parts diffed paragraph by paragraph;
# 4: table-of-contents page numbers are layout

PAIR_SIMILARITY = 0.4  # a deleted and an inserted paragraph at one place: the same one edited
MOVE_SIMILARITY = 0.6  # a paragraph deleted here and inserted there: the same one moved
REFORMAT_SIMILARITY = 0.8  # removed and added passages at one place with the same words
REFLOW_SIMILARITY = 0.9  # n paragraphs here, m there, the same words: one passage re-broken


@dataclass
class _Loose:
    """A paragraph deleted or inserted that may turn out to be half of a move."""

    side: int  # -1 deleted, 1 inserted
    text: str
    path: list[str]
    order: tuple[float, ...]
    group: tuple  # adjacent loose paragraphs of one group form one hunk
    heading: str | None = None  # set on the heading line of a whole added/removed section
    tentative: tuple | None = None  # a one-for-one replacement, paired unless a move claims it
    # On the heading of a part split off or merged in: (kind, the other version's section,
    # whether that section's heading is reported nowhere else), reported as that event
    # unless the heading turns out to be merely demoted to a paragraph (and then only when
    # the other heading is reported elsewhere).
    fate: tuple[str, Section, bool] | None = None
    used: bool = False


def diff_texts(old_text: str, new_text: str, *, mapper: Mapper | None = None) -> Change:
    """The Change from one normalised text (as stored) to another, its hunks linked to the
    obligations they affect (`mapper`: the shipped catalog's by default)."""
    with paused_gc():
        return _diff_texts(old_text, new_text, mapper)


def _diff_texts(old_text: str, new_text: str, mapper: Mapper | None) -> Change:
    old_secs, new_secs = build_sections(old_text), build_sections(new_text)
    words = BlockWords()
    rows = align(old_secs, new_secs, words)
    hunks: list[tuple[tuple, Hunk]] = []
    loose: list[_Loose] = []
    regions = _Regions(rows, old_secs, new_secs)
    lost = _lost_headings(rows, old_secs, new_secs, regions)
    # The whole a part was split from (or merged into) is normally paired, and that pair's
    # diff holds the part's text; a whole left unpaired gives its paragraphs up once.
    covered = {(side, index) for row in rows if row.status not in ("split", "merged")
               for side, index in ((-1, row.old_index), (1, row.new_index)) if index is not None}
    # A section may be the part of one split or merge and the whole of another: its
    # paragraphs go loose once.
    wholes_uncovered = {(-1 if row.status == "split" else 1, row.old_index if row.status == "split" else row.new_index)
                        for row in rows if row.status in ("split", "merged")} - covered
    for pos, row in enumerate(rows):
        o = old_secs[row.old_index] if row.old_index is not None else None
        n = new_secs[row.new_index] if row.new_index is not None else None
        if row.status == "added" and n is not None:
            loose += _whole_section(1, n, pos)
        elif row.status == "removed" and o is not None:
            loose += _whole_section(-1, o, pos)
        elif row.status in ("split", "merged") and o is not None and n is not None:
            # The part's paragraphs go loose, to be found again in the whole as moved (or
            # unchanged) text; its heading reports the split or merge.
            side, part, whole = (1, n, o) if row.status == "split" else (-1, o, n)
            items = _whole_section(side, part, pos, fate=(row.status, whole, (-side, whole.index) in wholes_uncovered))
            loose += items if (side, part.index) not in covered else items[:1]
            covered.add((side, part.index))
            if (-side, whole.index) not in covered:
                covered.add((-side, whole.index))
                loose += _whole_section(-side, whole, pos)[1:]
        elif o is not None and n is not None:
            hunks += _section_pair(row, o, n, pos, loose, words, lost)
    hunks += _moves(loose, words, regions)
    hunks += _confirm_tentative(loose)
    hunks += _leftovers(loose)
    hunks.sort(key=lambda kh: kh[0])
    change = Change(sections=rows, hunks=[classify(h) for _, h in hunks])
    link_hunks(change.hunks, old_secs, new_secs, mapper or default_mapper())
    return change


def _whole_section(side: int, sec: Section, pos: int, fate: tuple[str, Section, bool] | None = None) -> list[_Loose]:
    """A section's heading and paragraphs as loose items (the heading first)."""
    path = sec.path
    group = ("section", side, sec.index)
    out = [_Loose(side, sec.heading_line, path, (pos, -1), group, heading=sec.heading, fate=fate)]
    out += [_Loose(side, b, path, (pos, k), group) for k, b in enumerate(sec.blocks)]
    return out


def _lost_headings(rows: list[SectionMatch], old_secs: list[Section], new_secs: list[Section],
                   regions: _Regions) -> dict[int, set[tuple[str, int]]]:
    """Per side (-1 old, 1 new), the cosmetic forms of headings whose section found no
    counterpart of its own (added, removed, split off, merged in), with their region."""
    lost: dict[int, set[tuple[str, int]]] = {-1: set(), 1: set()}
    for row in rows:
        if row.status in ("removed", "merged") and row.old_index is not None and old_secs[row.old_index].heading:
            lost[-1].add((cosmetic_form(old_secs[row.old_index].heading or ""), regions.section_region(-1, row.old_index)))
        if row.status in ("added", "split") and row.new_index is not None and new_secs[row.new_index].heading:
            lost[1].add((cosmetic_form(new_secs[row.new_index].heading or ""), regions.section_region(1, row.new_index)))
    return lost


def _section_pair(row: SectionMatch, o: Section, n: Section, pos: int, loose: list[_Loose],
                  words: BlockWords, lost: dict[int, set[tuple[str, int]]]) -> list[tuple[tuple, Hunk]]:
    out: list[tuple[tuple, Hunk]] = []
    if row.status in ("renumbered", "moved") or o.heading != n.heading:
        kind = row.status if row.status in ("renumbered", "moved") else "modified"
        head_o, head_n = o.heading or "", n.heading or ""
        out.append(((pos, -1), Hunk(kind, o.path, n.path, head_o, head_n, diff_words(head_o, head_n))))
    if o.blocks == n.blocks:
        return out
    deleted: list[tuple[int, str]] = []
    inserted: list[tuple[int, str]] = []
    o_pos = n_pos = 0
    for op, items in diff_sequences(o.blocks, n.blocks):
        if op == 0:
            out += _pair_run(deleted, inserted, o, n, pos, loose, words, lost)
            deleted, inserted = [], []
            o_pos += len(items)
            n_pos += len(items)
            continue
        for item in items:
            if op == -1:
                deleted.append((o_pos, item))
                o_pos += 1
            else:
                inserted.append((n_pos, item))
                n_pos += 1
    out += _pair_run(deleted, inserted, o, n, pos, loose, words, lost)
    return out


def _pair_run(deleted, inserted, o: Section, n: Section, pos: int, loose: list[_Loose],
              words: BlockWords, lost: dict[int, set[tuple[str, int]]]) -> list[tuple[tuple, Hunk]]:
    """Pair deleted and inserted paragraphs of one place in order; the rest go loose."""
    out: list[tuple[tuple, Hunk]] = []
    if not deleted or not inserted:
        loose += [_para(-1, item, o, pos) for item in deleted] + [_para(1, item, n, pos) for item in inserted]
        return out
    # A paragraph that reads as a heading lost on the other side in the same region is that
    # heading, set as plain text by the other rendering: matched to it later, never paired here.
    if lost[1] or lost[-1]:
        demoted = [(side, item) for side, items in ((-1, deleted), (1, inserted)) for item in items
                   if len(item[1]) < 300 and (cosmetic_form(item[1]), n.index) in lost[-side]]
        loose += [_para(side, item, o if side == -1 else n, pos) for side, item in demoted]
        if demoted:
            gone = {(side, p) for side, (p, _) in demoted}
            deleted = [d for d in deleted if (-1, d[0]) not in gone]
            inserted = [i for i in inserted if (1, i[0]) not in gone]
            return out + _pair_run(deleted, inserted, o, n, pos, loose, words, {-1: set(), 1: set()})
    if len(deleted) != len(inserted):
        # The same words broken into paragraphs differently (a list run into one paragraph
        # by one rendering, an item's sub-points split off by another): one passage reflowed.
        old_texts, new_texts = [t for _, t in deleted], [t for _, t in inserted]
        if _bag_similarity("\n\n".join(old_texts), "\n\n".join(new_texts)) >= REFLOW_SIMILARITY:
            return [_passage((pos, inserted[0][0]), o.path, n.path, old_texts, new_texts)]
        # Or one paragraph of the run is a run of consecutive paragraphs on the other side.
        for d_items, i_items in _reflowed(deleted, inserted, words):
            out.append(_passage((pos, i_items[0][0]), o.path, n.path, [t for _, t in d_items], [t for _, t in i_items]))
            deleted = [d for d in deleted if d not in d_items]
            inserted = [i for i in inserted if i not in i_items]
    start = 0
    used_ins: set[int] = set()
    if len(deleted) == 1 and len(inserted) == 1:
        (d_pos, d_text), (i_pos, i_text) = deleted[0], inserted[0]
        sim = jaccard(frozenset(words[d_text]), frozenset(words[i_text]))
        if sim < PAIR_SIMILARITY:
            # One paragraph replaced by one at the same place is that paragraph edited, however
            # much, unless one side turns out to be half of a move: decided after moves.
            key = ("tentative", o.index, d_pos)
            loose += [_para(-1, deleted[0], o, pos, key), _para(1, inserted[0], n, pos, key)]
            return out
    inserted_words = [frozenset(words[i_text]) for _, i_text in inserted]
    for d_pos, d_text in deleted:
        d_sh = frozenset(words[d_text])
        best, best_sim = None, PAIR_SIMILARITY
        for k in range(start, len(inserted)):
            sim = jaccard(d_sh, inserted_words[k])
            if sim >= best_sim:
                best, best_sim = k, sim
        if best is None:
            loose.append(_para(-1, (d_pos, d_text), o, pos))
            continue
        for k in range(start, best):  # inserted before the partner: loose
            used_ins.add(k)
            loose.append(_para(1, inserted[k], n, pos))
        used_ins.add(best)
        i_pos, i_text = inserted[best]
        out.append(((pos, i_pos), Hunk("modified", o.path, n.path, d_text, i_text, diff_words(d_text, i_text))))
        start = best + 1
    loose += [_para(1, item, n, pos) for k, item in enumerate(inserted) if k not in used_ins]
    return out


def _passage(order: tuple, old_path: list[str], new_path: list[str], old_texts: list[str],
             new_texts: list[str]) -> tuple[tuple, Hunk]:
    """One "modified" hunk for paragraphs on each side taken as one passage (reflowed or
    reformatted), at `order`."""
    old_text, new_text = "\n\n".join(old_texts), "\n\n".join(new_texts)
    return order, Hunk("modified", old_path, new_path, old_text, new_text, diff_words(old_text, new_text))


def _para(side: int, item: tuple[int, str], sec: Section, pos: int, tentative: tuple | None = None) -> _Loose:
    """A paragraph of a section pair left unpaired (deleted -1, inserted 1) at row `pos`."""
    p, text = item
    # Deletions sort after the insertions at the same place.
    return _Loose(side, text, sec.path, (pos, p, 0.5) if side == -1 else (pos, p), ("para", side, sec.index, pos),
                  tentative=tentative)


MAX_REFLOW_PAIRS = 10_000  # deleted x inserted paragraphs at one place searched for reflows


def _reflowed(deleted: list[tuple[int, str]], inserted: list[tuple[int, str]],
              words: BlockWords) -> list[tuple[list[tuple[int, str]], list[tuple[int, str]]]]:
    """(deleted, inserted) groups where one paragraph on one side carries the same words as
    a run of consecutive paragraphs on the other (a list broken out of a paragraph, or run
    into one)."""
    if len(deleted) * len(inserted) > MAX_REFLOW_PAIRS:
        return []
    groups: list[tuple[list[tuple[int, str]], list[tuple[int, str]]]] = []
    grouped: dict[int, set[int]] = {-1: set(), 1: set()}  # per side, positions already in a group
    for side, one, many in ((-1, deleted, inserted), (1, inserted, deleted)):
        sets = [frozenset(words[t]) for _, t in many]
        for item in one:
            if item[0] in grouped[side]:
                continue
            run = _run_within(frozenset(words[item[1]]), item[1], many, sets, grouped[-side])
            if run:
                grouped[side].add(item[0])
                grouped[-side].update(p for p, _ in run)
                groups.append(([item], run) if side == -1 else (run, [item]))
    return groups


def _run_within(whole: frozenset[str], text: str, many: list[tuple[int, str]], sets: list[frozenset[str]],
                taken: set[int]) -> list[tuple[int, str]] | None:
    """The first run of two or more consecutive paragraphs of `many`, each made of words of
    `whole`, that together read as `text`."""

    def part(k: int) -> bool:
        return (many[k][0] not in taken and 0 < len(sets[k]) < len(whole)
                and len(sets[k] & whole) >= 0.9 * len(sets[k]))

    k = 0
    while k < len(many):
        if not part(k):
            k += 1
            continue
        end = k + 1
        while end < len(many) and many[end][0] == many[end - 1][0] + 1 and part(end):
            end += 1
        run = many[k:end]
        if len(run) >= 2 and _bag_similarity(text, "\n\n".join(t for _, t in run)) >= REFLOW_SIMILARITY:
            return run
        k = end
    return None


class _Regions:
    """Where a paragraph stands relative to the paired sections: a section without a
    counterpart (added, removed, split off, merged in) belongs to the region of the nearest
    paired section before it, and a region's text is its sections' headings and paragraphs
    in document order."""

    def __init__(self, rows: list[SectionMatch], old_secs: list[Section], new_secs: list[Section]) -> None:
        self.old_secs, self.new_secs = old_secs, new_secs
        self.pairs = {r.old_index: r.new_index for r in rows
                      if r.status not in ("added", "removed", "split", "merged")}
        self.old_anchor = _anchors(len(old_secs), self.pairs.keys())
        self.new_anchor = _anchors(len(new_secs), set(self.pairs.values()))
        self._by_anchor = {j: i for i, j in self.pairs.items()}
        self._gaps: dict[int, tuple[dict, dict]] = {}

    def region(self, x: _Loose) -> int:
        """The new index of the paired section whose region holds loose item `x`."""
        return self.section_region(x.side, x.group[2])

    def section_region(self, side: int, index: int) -> int:
        """The new index of the paired section whose region holds section `index` of the old
        (-1) or new (1) version."""
        return self.pairs[self.old_anchor[index]] if side == -1 else self.new_anchor[index]

    def stays(self, d: _Loose, x: _Loose) -> bool:
        """True when deleted `d` and inserted `x` are one paragraph that kept its place in the
        text, only the section boundary around it moved (a heading demoted, added or removed,
        a section merged into the one before it)."""
        old_sec, new_sec = d.group[2], x.group[2]
        if old_sec in self.pairs and self.new_anchor[new_sec] == new_sec:
            return False  # between (or within) sections that kept their counterparts: a move
        region = self.region(d)
        if region != self.region(x):
            return False
        # In place: between the same two paragraphs the region kept, or kept as one of them.
        old_gap, new_gap = self._region_gaps(region)
        return old_gap.get((old_sec, d.order[1])) == new_gap.get((new_sec, x.order[1]))

    def _region_gaps(self, region: int) -> tuple[dict, dict]:
        """Per side, (section, block position) -> where it stands among the paragraphs the
        region's two texts share: ("kept", k) for the k-th shared one, ("gap", k) between the
        (k-1)-th and the k-th."""
        if region not in self._gaps:
            keys_o, forms_o = _region_text(self.old_secs, self._by_anchor[region], self.old_anchor)
            keys_n, forms_n = _region_text(self.new_secs, region, self.new_anchor)
            gaps_o: dict = {}
            gaps_n: dict = {}
            k = i = j = 0
            for op, items in diff_sequences(forms_o, forms_n):
                for _ in items:
                    if op == 0:
                        gaps_o[keys_o[i]] = gaps_n[keys_n[j]] = ("kept", k)
                        k, i, j = k + 1, i + 1, j + 1
                    elif op == -1:
                        gaps_o[keys_o[i]] = ("gap", k)
                        i += 1
                    else:
                        gaps_n[keys_n[j]] = ("gap", k)
                        j += 1
            self._gaps[region] = (gaps_o, gaps_n)
        return self._gaps[region]


def _region_text(secs: list[Section], anchor: int, anchors: list[int]) -> tuple[list[tuple[int, int]], list[str]]:
    """The (section, block position) keys and cosmetic forms of a region's headings (other
    than the anchor's, position -1) and paragraphs, in document order."""
    keys: list[tuple[int, int]] = []
    forms: list[str] = []
    index = anchor
    while index < len(secs) and anchors[index] == anchor:
        sec = secs[index]
        if index != anchor and sec.heading:
            keys.append((index, -1))
            forms.append(cosmetic_form(sec.heading))
        for k, block in enumerate(sec.blocks):
            keys.append((index, k))
            forms.append(cosmetic_form(block))
        index += 1
    return keys, forms


def _anchors(count: int, paired) -> list[int]:
    paired = set(paired)
    out, last = [], 0
    for k in range(count):
        if k in paired:
            last = k
        out.append(last)
    return out


def _moves(loose: list[_Loose], words: BlockWords, regions: _Regions) -> list[tuple[tuple, Hunk]]:
    """Pair loose deletions with loose insertions, from the surest to the loosest: the same
    paragraph kept in place (only a heading around it changed), headings set as plain lines,
    passages broken differently in one region, the same paragraph elsewhere (moved), then
    similar ones (moved and edited). A pair that kept its place is no move: it gives no hunk
    when its text is the same, a "modified" one otherwise."""
    out: list[tuple[tuple, Hunk]] = []

    def pair_up(d: _Loose, x: _Loose) -> None:
        d.used = x.used = True
        if not regions.stays(d, x):
            out.append((x.order, Hunk("moved", d.path, x.path, d.text, x.text, diff_words(d.text, x.text))))
        elif d.text != x.text:
            out.append((x.order, Hunk("modified", d.path, x.path, d.text, x.text, diff_words(d.text, x.text))))

    dels = [x for x in loose if x.side == -1 and x.heading is None]
    ins = [x for x in loose if x.side == 1 and x.heading is None]
    by_form: dict[str, list[_Loose]] = defaultdict(list)
    by_form_region: dict[tuple[str, int], list[_Loose]] = defaultdict(list)
    for x in ins:
        form = cosmetic_form(x.text)
        by_form[form].append(x)
        by_form_region[(form, regions.region(x))].append(x)
    forms = {id(d): cosmetic_form(d.text) for d in dels}
    for d in dels:  # kept in place
        if forms[id(d)]:
            same_region = _unused(by_form_region.get((forms[id(d)], regions.region(d)), []))
            x = next((x for x in same_region if not x.used and regions.stays(d, x)), None)
            if x is not None:
                pair_up(d, x)
    out += _demoted_headings(loose, regions)
    out += _regional_reflows(dels, ins, words, regions)
    for d in dels:  # the same text elsewhere: in the same region first
        if not d.used and forms[id(d)]:
            candidates = _unused(by_form_region.get((forms[id(d)], regions.region(d)), []))
            if not any(not x.used for x in candidates):
                candidates = _unused(by_form.get(forms[id(d)], []))
            x = next((x for x in candidates if not x.used), None)
            if x is not None:
                pair_up(d, x)
    rest_d = [d for d in dels if not d.used]
    rest_i = [x for x in ins if not x.used]
    found = similar_pairs([words.shingles(d.text) for d in rest_d],
                          [words.shingles(x.text) for x in rest_i], MOVE_SIMILARITY)
    for n, k, _score in found:
        d, x = rest_d[n], rest_i[k]
        if not d.used and not x.used:
            pair_up(d, x)
    return out


def _unused(items: list[_Loose]) -> list[_Loose]:
    """`items` without its leading used ones, dropped for good (used ones never come back)."""
    k = 0
    while k < len(items) and items[k].used:
        k += 1
    del items[:k]
    return items


def _regional_reflows(dels: list[_Loose], ins: list[_Loose], words: BlockWords,
                      regions: _Regions) -> list[tuple[tuple, Hunk]]:
    """Loose paragraphs of one region broken differently with the same words (points run
    into a paragraph under a heading that one rendering set as plain text): one hunk each."""
    by_region: dict[int, tuple[list[_Loose], list[_Loose]]] = defaultdict(lambda: ([], []))
    for side, items in ((0, dels), (1, ins)):
        for x in items:
            if not x.used:
                by_region[regions.region(x)][side].append(x)
    out: list[tuple[tuple, Hunk]] = []
    for region_dels, region_ins in by_region.values():
        if not region_dels or not region_ins:
            continue
        (d_items, d_of), (i_items, i_of) = _positions(region_dels), _positions(region_ins)
        for d_group, i_group in _reflowed(d_items, i_items, words):
            d_loose, i_loose = [d_of[p] for p, _ in d_group], [i_of[p] for p, _ in i_group]
            for x in d_loose + i_loose:
                x.used = True
            out.append(_passage(i_loose[0].order, d_loose[0].path, i_loose[0].path,
                                [x.text for x in d_loose], [x.text for x in i_loose]))
    return out


def _positions(items: list[_Loose]) -> tuple[list[tuple[int, str]], dict[int, _Loose]]:
    """Loose paragraphs as (position, text) in document order, positions consecutive only
    where the paragraphs were (same group, next block)."""
    out: list[tuple[int, str]] = []
    of: dict[int, _Loose] = {}
    prev: _Loose | None = None
    p = 0
    for x in sorted(items, key=lambda x: x.order):
        p += 1 if prev is not None and prev.group == x.group and x.order[1] == prev.order[1] + 1 else 2
        out.append((p, x.text))
        of[p] = x
        prev = x
    return out, of


def _demoted_headings(loose: list[_Loose], regions: _Regions) -> list[tuple[tuple, Hunk]]:
    """Headings of sections without a counterpart whose words stand as a paragraph on the
    other side: one rendering's heading is the other's plain line (heading markup only)."""
    paragraphs: dict[tuple[int, str], list[_Loose]] = defaultdict(list)
    bodies: dict[tuple, list[_Loose]] = defaultdict(list)  # a whole section's loose paragraphs
    for x in loose:
        if x.heading is None and not x.used:
            if len(x.text) < MAX_DEMOTED:
                paragraphs[(x.side, cosmetic_form(x.text))].append(x)
            if x.group[0] == "section":
                bodies[x.group].append(x)
    out: list[tuple[tuple, Hunk]] = []
    for h in loose:
        if h.heading is None or h.used or (h.fate is not None and h.fate[2]):
            continue
        # The heading alone, or with the first paragraphs under it: a list item "1. Title
        # Measures 1.2-1.3" in one rendering, a bold numbered line and a line under it in the
        # other.
        body = sorted((x for x in bodies.get(h.group, []) if not x.used), key=lambda x: x.order)
        run = [h]
        for x in body[:MAX_DEMOTED_BODY]:
            if x.order[1] != len(run) - 1:
                break
            run.append(x)
        for k in range(1, len(run) + 1):
            part = run[:k]
            text = " ".join([h.heading or ""] + [x.text for x in part[1:]])
            if len(text) >= MAX_DEMOTED:
                break
            # In the same region (where the heading stood), with the same numbers: the form
            # sets list markers aside, and "1. Scope" is not "2. Scope".
            digits = _DIGITS.findall(text)
            candidates = [x for x in paragraphs.get((-h.side, cosmetic_form(text)), [])
                          if not x.used and regions.region(x) == regions.region(h) and _DIGITS.findall(x.text) == digits]
            if not candidates:
                continue
            # The nearest one: a heading like "LEGAL TEXT" recurs once per commitment.
            x = min(candidates, key=lambda c: (abs(c.order[0] - h.order[0]), c.order))
            for y in part + [x]:
                y.used = True
            mine = "\n\n".join([h.heading or ""] + [y.text for y in part[1:]])
            old_text, new_text = (mine, x.text) if h.side == -1 else (x.text, mine)
            d_path, i_path = (h.path, x.path) if h.side == -1 else (x.path, h.path)
            order = x.order if h.side == -1 else h.order
            out.append((order, Hunk("modified", d_path, i_path, old_text, new_text, diff_words(old_text, new_text))))
            break
    return out


_DIGITS = re.compile(r"\d+")
MAX_DEMOTED = 600  # characters of a heading (with the lines under it) set as a plain paragraph
MAX_DEMOTED_BODY = 3  # paragraphs under a heading that may run into its plain-text line


def _confirm_tentative(loose: list[_Loose]) -> list[tuple[tuple, Hunk]]:
    """One-for-one replacements whose halves no move claimed: each is one edited paragraph."""
    halves: dict[tuple, dict[int, _Loose]] = defaultdict(dict)
    for x in loose:
        if x.tentative is not None and not x.used:
            halves[x.tentative][x.side] = x
    out: list[tuple[tuple, Hunk]] = []
    for pair in halves.values():
        if len(pair) == 2:
            d, i = pair[-1], pair[1]
            d.used = i.used = True
            out.append((i.order, Hunk("modified", d.path, i.path, d.text, i.text, diff_words(d.text, i.text))))
    return out


def _bag_similarity(a: str, b: str) -> float:
    """Similarity of two texts' word multisets (order and layout ignored)."""
    wa, wb = Counter(norm_text(a).split()), Counter(norm_text(b).split())
    total = sum((wa | wb).values())
    return sum((wa & wb).values()) / total if total else 1.0


def _leftovers(loose: list[_Loose]) -> list[tuple[tuple, Hunk]]:
    """Loose paragraphs that moved nowhere: adjacent ones of one group form one hunk."""
    groups: dict[tuple, list[_Loose]] = defaultdict(list)
    out: list[tuple[tuple, Hunk]] = []
    for x in loose:
        if x.used:
            continue
        if x.fate is not None:
            # The heading of a part split off or merged in: that event, heading to heading.
            kind, other, _ = x.fate
            part = x.heading or ""
            head_o, head_n = (part, other.heading or "") if x.side == -1 else (other.heading or "", part)
            path_o, path_n = (x.path, other.path) if x.side == -1 else (other.path, x.path)
            out.append((x.order, Hunk(kind, path_o, path_n, head_o, head_n, diff_words(head_o, head_n))))
            continue
        groups[x.group].append(x)
    # Paragraphs removed and added at one place that carry the same words are one passage
    # reformatted (a table in one rendering, paragraphs in the other), not a deletion plus
    # an insertion of content.
    by_place: dict[tuple, dict[int, tuple]] = defaultdict(dict)
    for group in groups:
        if group[0] == "para":
            by_place[group[3]][group[1]] = group
    for sides in by_place.values():
        if len(sides) == 2:
            old_items = sorted(groups.pop(sides[-1]), key=lambda x: x.order)
            new_items = sorted(groups.pop(sides[1]), key=lambda x: x.order)
            old_texts, new_texts = [x.text for x in old_items], [x.text for x in new_items]
            if _bag_similarity("\n\n".join(old_texts), "\n\n".join(new_texts)) >= REFORMAT_SIMILARITY:
                out.append(_passage(new_items[0].order, old_items[0].path, new_items[0].path, old_texts, new_texts))
            else:
                groups[sides[-1]], groups[sides[1]] = old_items, new_items
    for group, items in groups.items():
        items.sort(key=lambda x: x.order)
        text = "\n\n".join(x.text for x in items)
        side = group[1]
        path = items[0].path
        if side == 1:
            out.append((items[0].order, Hunk("added", [], path, "", text, [(1, text)])))
        else:
            out.append((items[0].order, Hunk("removed", path, [], text, "", [(-1, text)])))
    return out


def select(change: Change, *, section: str | None = None, min_class: str | None = None,
           obligations: set[str] | None = None) -> Change:
    """The part of `change` in sections whose heading path matches `section` (a case-insensitive
    regular expression, or plain text), with hunks at or above `min_class` and, when
    `obligations` is given, linked to one of those ids (then only their sections are kept)."""
    import re

    from store.records import CLASS_ORDER

    sections, hunks = change.sections, change.hunks
    if section:
        try:
            pattern = re.compile(section, re.IGNORECASE)
        except re.error:
            pattern = re.compile(re.escape(section), re.IGNORECASE)

        def hit(path: list[str]) -> bool:
            return any(pattern.search(h) for h in path)

        sections = [s for s in sections if hit(s.old_path) or hit(s.new_path)]
        hunks = [h for h in hunks if hit(h.old_path) or hit(h.new_path)]
    if min_class:
        floor = CLASS_ORDER[min_class]
        hunks = [h for h in hunks if CLASS_ORDER[h.classification] >= floor]
    if obligations is not None:
        hunks = [h for h in hunks if any(link["id"] in obligations for link in h.obligations)]
        paths = {tuple(p) for h in hunks for p in (h.old_path, h.new_path) if p}
        sections = [s for s in sections if tuple(s.old_path) in paths or tuple(s.new_path) in paths]
    return Change(sections=list(sections), hunks=list(hunks))
