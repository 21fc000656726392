"""The diff engine: two versions' texts in, a `Change` (alignment + classified hunks) out.

`diff_texts` reads no environment, does no I/O and never degrades on a timer: the input of
every diff-match-patch call is bounded by the alignment (one section's paragraphs, then one
paragraph's words).

Within each aligned pair of sections, paragraphs are diffed as units; a deleted and an
inserted paragraph that resemble each other become one "modified" hunk with word edits.
Paragraphs deleted in one place and inserted in another (in any section) are "moved";
the rest are "added" or "removed". Whole sections added, removed, renumbered, moved, split
or merged get a hunk of their own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from store.records import Change, Hunk, SectionMatch
from tracker.align import align, jaccard, similar_pairs, word_shingles
from tracker.classify import classify, cosmetic_form
from tracker.gc_pause import paused_gc
from tracker.obligations.mapping import Mapper, default_mapper, link_hunks
from tracker.sections import BlockWords, Section, build_sections, norm_text
from tracker.wordiff import diff_sequences, diff_words

# Bump when the engine's output changes; `regwatch reprocess` recomputes stored changes.
ENGINE_VERSION = "2"  # 2: hunks linked to obligations

PAIR_SIMILARITY = 0.4  # a deleted and an inserted paragraph at one place: the same one edited
MOVE_SIMILARITY = 0.6  # a paragraph deleted here and inserted there: the same one moved
REFORMAT_SIMILARITY = 0.8  # removed and added passages at one place with the same words


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
    for pos, row in enumerate(rows):
        o = old_secs[row.old_index] if row.old_index is not None else None
        n = new_secs[row.new_index] if row.new_index is not None else None
        if row.status == "added" and n is not None:
            loose += _whole_section(1, n, pos)
        elif row.status == "removed" and o is not None:
            loose += _whole_section(-1, o, pos)
        elif row.status in ("split", "merged") and o is not None and n is not None:
            text_o, text_n = _full(o), _full(n)
            hunks.append(((pos, 0), Hunk(row.status, o.path, n.path, text_o, text_n, diff_words(text_o, text_n))))
        elif o is not None and n is not None:
            hunks += _section_pair(row, o, n, pos, loose, words)
    hunks += _moves(loose, words)
    hunks += _confirm_tentative(loose)
    hunks += _leftovers(loose)
    hunks.sort(key=lambda kh: kh[0])
    change = Change(sections=rows, hunks=[classify(h) for _, h in hunks])
    link_hunks(change.hunks, old_secs, new_secs, mapper or default_mapper())
    return change


def _full(sec: Section) -> str:
    return "\n\n".join(p for p in [sec.heading_line, *sec.blocks] if p)


def _whole_section(side: int, sec: Section, pos: int) -> list[_Loose]:
    path = sec.path
    group = ("section", side, sec.index)
    out = [_Loose(side, sec.heading_line, path, (pos, -1), group,
                  heading=sec.heading)]
    out += [_Loose(side, b, path, (pos, k), group) for k, b in enumerate(sec.blocks)]
    return out


def _section_pair(row: SectionMatch, o: Section, n: Section, pos: int, loose: list[_Loose],
                  words: BlockWords) -> list[tuple[tuple, Hunk]]:
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
            out += _pair_run(deleted, inserted, o, n, pos, loose, words)
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
    out += _pair_run(deleted, inserted, o, n, pos, loose, words)
    return out


def _pair_run(deleted, inserted, o: Section, n: Section, pos: int, loose: list[_Loose],
              words: BlockWords) -> list[tuple[tuple, Hunk]]:
    """Pair deleted and inserted paragraphs of one place in order; the rest go loose."""
    out: list[tuple[tuple, Hunk]] = []
    start = 0
    used_ins: set[int] = set()
    if len(deleted) == 1 and len(inserted) == 1:
        (d_pos, d_text), (i_pos, i_text) = deleted[0], inserted[0]
        sim = jaccard(frozenset(words[d_text]), frozenset(words[i_text]))
        if sim < PAIR_SIMILARITY:
            # One paragraph replaced by one at the same place is that paragraph edited, however
            # much, unless one side turns out to be half of a move: decided after moves.
            key = ("tentative", o.index, d_pos)
            loose.append(_Loose(-1, d_text, o.path, (pos, d_pos, 0.5), ("para", -1, o.index, pos), tentative=key))
            loose.append(_Loose(1, i_text, n.path, (pos, i_pos), ("para", 1, n.index, pos), tentative=key))
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
            loose.append(_Loose(-1, d_text, o.path, (pos, d_pos, 0.5), ("para", -1, o.index, pos)))
            continue
        for k in range(start, best):  # inserted before the partner: loose
            used_ins.add(k)
            i_pos, i_text = inserted[k]
            loose.append(_Loose(1, i_text, n.path, (pos, i_pos), ("para", 1, n.index, pos)))
        used_ins.add(best)
        i_pos, i_text = inserted[best]
        out.append(((pos, i_pos), Hunk("modified", o.path, n.path, d_text, i_text, diff_words(d_text, i_text))))
        start = best + 1
    for k in range(len(inserted)):
        if k not in used_ins:
            i_pos, i_text = inserted[k]
            loose.append(_Loose(1, i_text, n.path, (pos, i_pos), ("para", 1, n.index, pos)))
    return out


def _moves(loose: list[_Loose], words: BlockWords) -> list[tuple[tuple, Hunk]]:
    """Pair loose deletions with loose insertions elsewhere: identical first, then similar."""
    out: list[tuple[tuple, Hunk]] = []
    dels = [x for x in loose if x.side == -1 and x.heading is None]
    ins = [x for x in loose if x.side == 1 and x.heading is None]
    by_form: dict[str, list[_Loose]] = defaultdict(list)
    for x in ins:
        by_form[cosmetic_form(x.text)].append(x)
    for d in dels:
        form = cosmetic_form(d.text)
        for x in by_form.get(form, []) if form else []:
            if not x.used:
                d.used = x.used = True
                out.append((x.order, Hunk("moved", d.path, x.path, d.text, x.text, diff_words(d.text, x.text))))
                break
    rest_d = [d for d in dels if not d.used]
    rest_i = [x for x in ins if not x.used]
    found = similar_pairs([word_shingles(words[d.text]) for d in rest_d],
                          [word_shingles(words[x.text]) for x in rest_i], MOVE_SIMILARITY)
    for n, k, _score in found:
        d, x = rest_d[n], rest_i[k]
        if d.used or x.used:
            continue
        d.used = x.used = True
        out.append((x.order, Hunk("moved", d.path, x.path, d.text, x.text, diff_words(d.text, x.text))))
    return out


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
    for x in loose:
        if not x.used:
            groups[x.group].append(x)
    out: list[tuple[tuple, Hunk]] = []
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
            old_text = "\n\n".join(x.text for x in old_items)
            new_text = "\n\n".join(x.text for x in new_items)
            if _bag_similarity(old_text, new_text) >= REFORMAT_SIMILARITY:
                out.append((new_items[0].order, Hunk("modified", old_items[0].path, new_items[0].path,
                                                     old_text, new_text, diff_words(old_text, new_text))))
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
