"""Aligning two versions' section trees: which old section became which new one.

Matching goes from the most to the least certain evidence, each stage only on what is
still unmatched:
  1. the same heading at the same place (path of numbers/titles from the top);
  2. the same title under another number, once on each side (a section moved up or down);
     then the same number with a similar title or content (3-gram shingles, or as many
     content words in common as stage 5 asks);
  3. the same title under another number (renumbered), of the same kind, then of another
     kind when that title is found once on each side (a measure that became an appendix);
     then similar titles, unless the contents say otherwise (another unpaired section
     shares three times as many content words with either one);
  4. similar content (word 3-gram shingles through an inverted index: only pairs that share
     shingles are ever compared, never all pairs, and never with a full diff);
  5. numbered sections' content words, anywhere;
  6. between two pairs that kept their order, leftover numbered sections that share a fifth of
     their title or content words (a commitment redrafted in place);
  7. leftover numbered sections anywhere that are each other's clear best match on content
     words (a measure rewritten into an appendix);
then sections left over are checked for splits (one old into several new) and merges
(several old into one new) by containment, and the rest are added or removed.
Statuses follow: renumbered (number changed), moved (parent changed, or out of order),
modified (text or heading changed), unchanged.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter, defaultdict
from functools import cached_property
from itertools import chain, repeat

from store.records import SectionMatch
from tracker.sections import BlockWords, Section, norm_text, word_shingles

MIN_CONTENT_SIM = 0.5  # stage 4: Jaccard of shingles to call two sections the same
MIN_NUMBER_SIM = 0.35  # stage 2: same number needs at least this much title/content likeness
MIN_TITLE_SIM = 0.5  # stage 3b: share of title words two renumbered headings have in common
MIN_WEIGHTED_TITLE_SIM = 0.3  # ... and with words weighed by rarity among the headings
MIN_OTHER_KIND_TITLE_SIM = 0.6  # stage 3c: the same across kinds (a measure become an appendix)
MIN_CHILD_SIM = 0.2  # subsections of paired parents: mean of title and content likeness
MIN_WORD_SIM = 0.4  # stage 5: content-word overlap of leftover numbered sections
MIN_WORDS = 12
MIN_MUTUAL_SIM = 0.2  # stage 7: content-word likeness of two leftovers that are each other's best
MUTUAL_MARGIN = 1.5  # ... by this factor over the next best on either side
MIN_CONTAIN = 0.6  # split/merge: share of a part's shingles found in the whole
MIN_SHINGLES = 6  # below this a section is too short for content evidence
MIN_GAP_SIM = 0.2  # stage 6: title or content-word likeness of leftovers between kept pairs
CONTENT_VETO = 3.0  # stages 3b/3c: a similar title loses to another section's content words this much closer


class _Info:
    """A section with what matching needs, shingles computed only when asked for: most
    sections match on their heading alone and never need them."""

    def __init__(self, sec: Section, ident: tuple, ntitle: str, infos: list[_Info],
                 block_words: BlockWords) -> None:
        self.sec, self.ident, self.ntitle, self._infos = sec, ident, ntitle, infos
        self._block_words = block_words

    @cached_property
    def shingles(self) -> frozenset[int]:
        """Shingles of the title and of each paragraph of its own text."""
        # Paragraph by paragraph (no 3-gram spans two): each distinct paragraph is shingled
        # once for both versions, which share most of their paragraphs.
        shingles = self._block_words.shingles
        return word_shingles(norm_text(self.sec.title).split()).union(*map(shingles, self.sec.blocks))

    @cached_property
    def words(self) -> frozenset[str]:
        """Content words of the section with its subsections."""
        text = " ".join([self.sec.title or "", self.sec.text] + [self._infos[c].sec.text for c in self.sec.children])
        return frozenset(w for w in norm_text(text).split() if len(w) > 3)

    @cached_property
    def tree(self) -> frozenset[int]:
        """Shingles of the section with its subsections."""
        tree = set(self.shingles)
        for child in self.sec.children:
            tree |= self._infos[child].tree
        return frozenset(tree)


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    """|a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def containment(part: frozenset[int], whole: frozenset[int]) -> float:
    """Share of `part` found in `whole`."""
    return len(part & whole) / len(part) if part else 0.0


def _infos(sections: list[Section], block_words: BlockWords) -> list[_Info]:
    infos: list[_Info] = []
    seen: Counter = Counter()
    for sec in sections:
        # A number alone does not identify a section: after a renumbering "Commitment 3" may
        # be another commitment. Number and title together do.
        own = (sec.key or "", norm_text(sec.title or sec.heading))
        parent_ident = infos[sec.parent].ident if sec.parent is not None else ()
        base = parent_ident + (own,)
        seen[base] += 1  # repeated unnumbered headings ("LEGAL TEXT") under one parent
        ident = base + ((seen[base],) if seen[base] > 1 else ())
        infos.append(_Info(sec, ident, norm_text(sec.title or sec.heading), infos, block_words))
    return infos


def align(old: list[Section], new: list[Section], block_words: BlockWords | None = None) -> list[SectionMatch]:
    """The alignment of two section lists (as built by `build_sections`), in document order
    (`block_words`: a cache of blocks' words to share with the caller)."""
    block_words = BlockWords() if block_words is None else block_words
    a, b = _infos(old, block_words), _infos(new, block_words)
    pairs: dict[int, int] = {0: 0}  # old index -> new index; the preambles always pair
    taken: set[int] = {0}

    def pair(i: int, j: int) -> None:
        pairs[i] = j
        taken.add(j)

    # 1. Same path identity.
    by_ident = {info.ident: info.sec.index for info in b[1:]}
    for info in a[1:]:
        j = by_ident.get(info.ident)
        if j is not None and j not in taken:
            pair(info.sec.index, j)

    # 2a. The same title under another number, that title found once on each side among the
    # unpaired numbered sections of one kind: stronger evidence than stage 2's same number
    # with a merely similar title ("Nature of systemic risks" moved up from 1.3 to 1.2 while
    # 1.3 became "Sources of systemic risks").
    def titled(infos: list[_Info], used) -> dict[tuple, list[int]]:
        found: dict[tuple, list[int]] = defaultdict(list)
        for x in infos[1:]:
            if x.sec.key and x.sec.title and x.sec.index not in used:
                found[(x.sec.kind, x.ntitle)].append(x.sec.index)
        return found

    old_titled, new_titled = titled(a, pairs), titled(b, taken)
    for key, olds_ in old_titled.items():
        news_ = new_titled.get(key, [])
        if len(olds_) == 1 and len(news_) == 1:
            pair(olds_[0], news_[0])

    # 2. Same number, similar title or content (a number alone is not enough: after a
    # renumbering, "Commitment 3" may be another commitment).
    by_key: dict[str, list[int]] = defaultdict(list)
    for info in b[1:]:
        if info.sec.key:
            by_key[info.sec.key].append(info.sec.index)
    for info in a[1:]:
        if info.sec.index in pairs or not info.sec.key:
            continue
        best, best_score = None, MIN_NUMBER_SIM
        for j in by_key.get(info.sec.key, []):
            if j in taken:
                continue
            score = max(_title_sim(info, b[j]), jaccard(info.tree, b[j].tree))
            if score < MIN_NUMBER_SIM and bool(info.sec.children) == bool(b[j].sec.children):
                # Retitled and rephrased, yet on the same subject: as many content words in
                # common as stage 5 asks of sections without the same number.
                words = jaccard(info.words, b[j].words)
                score = words if words >= MIN_WORD_SIM else score
            if score >= best_score:
                best, best_score = j, score
        if best is not None:
            pair(info.sec.index, best)

    # 3. Same title under another number (renumbered), same kind of heading.
    by_title: dict[str, list[int]] = defaultdict(list)
    for info in b[1:]:
        if info.ntitle and info.sec.index not in taken:
            by_title[info.ntitle].append(info.sec.index)
    for info in a[1:]:
        if info.sec.index in pairs or not info.ntitle:
            continue
        candidates = [j for j in by_title.get(info.ntitle, []) if j not in taken and b[j].sec.kind == info.sec.kind]
        if not info.sec.key:
            # Unnumbered titles repeat ("LEGAL TEXT", "Recitals"): only content can tell.
            candidates = [j for j in candidates if jaccard(info.tree, b[j].tree) >= MIN_CONTENT_SIM]
        if candidates:
            # A title listed twice (a summary of commitments, then the chapter): the closest
            # content wins, and without any shared content, the fuller section.
            pair(info.sec.index, max(candidates, key=lambda j: (jaccard(info.tree, b[j].tree), len(b[j].tree))))

    # 3a. The same title under a number of another kind, that title found once on each side
    # among the unpaired numbered sections: a measure that became an appendix ("Measure
    # II.4.6. Model elicitation" became "Appendix 3.2 Model elicitation").
    old_any, new_any = defaultdict(list), defaultdict(list)
    for infos, used, found in ((a, pairs, old_any), (b, taken, new_any)):
        for x in infos[1:]:
            if x.sec.key and x.sec.title and x.sec.index not in used:
                found[x.ntitle].append(x.sec.index)
    for title, olds_ in old_any.items():
        news_ = new_any.get(title, [])
        # A commitment with measures is not a measure of the same title: its measures went
        # there (Commitment II.16 "Public transparency" became Measure 10.2 of that title).
        if len(olds_) == 1 and len(news_) == 1 and bool(a[olds_[0]].sec.children) == bool(b[news_[0]].sec.children):
            pair(olds_[0], news_[0])

    # 3b. A similar title under another number ("Risk identification" became "Systemic risk
    # identification"), same kind of numbered heading, best pairs first.
    # 3c. Then under a number of another kind, on stronger likeness and between sections
    # that both have subsections or both have none (as in 3a).
    # Half the title words in common is not enough when they are the words every heading
    # has: weighed by their rarity among both versions' headings, "systemic risk selection"
    # and "systemic risk modelling" have little in common.
    weight = _title_weights(a, b)
    for same_kind, threshold in ((True, MIN_TITLE_SIM), (False, MIN_OTHER_KIND_TITLE_SIM)):
        scored = []
        for info in a[1:]:
            if info.sec.index in pairs or not info.sec.key:
                continue
            words = _title_words(info.ntitle)
            for other in b[1:]:
                j = other.sec.index
                if j in taken or not other.sec.key or (other.sec.kind == info.sec.kind) != same_kind:
                    continue
                if not same_kind and bool(other.sec.children) != bool(info.sec.children):
                    continue
                theirs = _title_words(other.ntitle)
                score = jaccard(words, theirs)
                if score >= threshold and _weighted_jaccard(words, theirs, weight) >= MIN_WEIGHTED_TITLE_SIM:
                    scored.append((score, jaccard(info.tree, other.tree), len(other.tree), info.sec.index, j))
        vetoed = _contradicted_by_content(a, b, [(i, j) for *_, i, j in scored], pairs, taken)
        for *_, i, j in sorted(scored, reverse=True):
            if i not in pairs and j not in taken and (i, j) not in vetoed:
                pair(i, j)

    # 4. Similar content, through an inverted index of shingles.
    free_old = [i for i in range(1, len(a)) if i not in pairs and len(a[i].shingles) >= MIN_SHINGLES]
    free_new = [j for j in range(1, len(b)) if j not in taken and len(b[j].shingles) >= MIN_SHINGLES]
    for i, j, _score in _similar_pairs(a, b, free_old, free_new, MIN_CONTENT_SIM):
        # Content alone must not pair a commitment with an unnumbered block that merely
        # quotes the same legal text; numbered sections may change kind (measures that
        # became an appendix).
        if i not in pairs and j not in taken and _compatible(a[i], b[j]):
            pair(i, j)

    # Headings without content (a commitment whose text is all in its measures) pair up
    # when their subsections did; then leftover subsections of paired parents pair on
    # weaker evidence, since a measure rarely leaves its commitment.
    _pair_parents_by_children(a, b, pairs, taken)
    _pair_children_of_pairs(a, b, pairs, taken)

    # 5. Redrafted numbered sections anywhere: their content words, best pairs first.
    olds = [i for i in range(1, len(a)) if i not in pairs and a[i].sec.key and len(a[i].words) >= MIN_WORDS]
    news = [j for j in range(1, len(b)) if j not in taken and b[j].sec.key and len(b[j].words) >= MIN_WORDS]
    for i, j, _score in _similar_pairs(a, b, olds, news, MIN_WORD_SIM, attr="words"):
        # A commitment whose words are all in one measure gave that measure its text: it is
        # not that measure (its own measure is).
        if i not in pairs and j not in taken and bool(a[i].sec.children) == bool(b[j].sec.children):
            pair(i, j)
    _pair_children_of_pairs(a, b, pairs, taken)

    # 6. Between two pairs that kept their order, numbered sections left on both sides are
    # the same ones redrafted when they share something: a draft renumbers and retitles a
    # commitment in place far more often than it drops one and writes another there.
    _pair_in_gaps(a, b, pairs, taken)
    _pair_children_of_pairs(a, b, pairs, taken)

    # 7. Leftover numbered sections anywhere that are each other's clear best match on
    # content words, however redrafted (a measure rewritten into an appendix).
    _pair_mutual_best(a, b, pairs, taken)
    _pair_children_of_pairs(a, b, pairs, taken)

    return _statuses(a, b, pairs, taken)


_STOPWORDS = frozenset(["a", "an", "and", "the", "of", "for", "to", "in", "on", "by", "with", "from", "or", "at", "as"])


def _title_words(ntitle: str) -> frozenset[int]:
    # Plurals folded ("assessments" ~ "assessment"), small words ignored.
    return frozenset(hash(w[:-1] if w.endswith("s") and len(w) > 3 else w)
                     for w in ntitle.split() if w not in _STOPWORDS)


def _compatible(x: _Info, y: _Info) -> bool:
    """Both numbered (of any kind) or both unnumbered."""
    return (x.sec.key is None) == (y.sec.key is None)


def _title_weights(a: list[_Info], b: list[_Info]) -> dict[int, float]:
    """Inverse document frequency of each title word over the headings of both versions."""
    df: Counter = Counter()
    for info in chain(a[1:], b[1:]):
        df.update(_title_words(info.ntitle))
    n = max(len(a) + len(b) - 2, 1)
    return {w: math.log(1 + n / k) for w, k in df.items()}


def _weighted_jaccard(x: frozenset[int], y: frozenset[int], weight: dict[int, float]) -> float:
    union = sum(weight.get(w, 1.0) for w in x | y)
    return sum(weight.get(w, 1.0) for w in x & y) / union if union else 0.0


def _title_sim(x: _Info, y: _Info) -> float:
    if not x.ntitle or not y.ntitle:
        return 0.0
    return jaccard(frozenset(x.ntitle.split()), frozenset(y.ntitle.split()))


def _similar_pairs(a: list[_Info], b: list[_Info], olds: list[int], news: list[int], threshold: float,
                   attr: str = "shingles"):
    """Candidate pairs of sections sharing features (shingles or words), by Jaccard, best first."""
    found = similar_pairs([getattr(a[i], attr) for i in olds], [getattr(b[j], attr) for j in news], threshold)
    return [(olds[i], news[j], score) for i, j, score in found]


def similar_pairs(olds: list[frozenset], news: list[frozenset], threshold: float) -> list[tuple[int, int, float]]:
    """(i, j, Jaccard) for the feature sets olds[i] and news[j] whose Jaccard is at least
    `threshold`: best first, ties in list order.

    An inverted index means only pairs with a feature in common are ever scored, never all
    pairs."""
    index: dict = defaultdict(list)
    for j, feats in enumerate(news):
        for h in feats:
            index[h].append(j)
    index = dict(index)  # a plain dict: looking up a missing feature must not add it
    scored = []
    for i, mine in enumerate(olds):
        # Counted in C (map, chain, Counter): this loop meets every feature of every set.
        counts = Counter(chain.from_iterable(map(index.get, mine, repeat((), len(mine)))))
        for j, inter in counts.items():
            score = inter / (len(mine) + len(news[j]) - inter)
            if score >= threshold:
                scored.append((-score, i, j))
    # Ties in list order: iterating hash sets gives another order in every process, and one
    # input must give one answer.
    scored.sort()
    return [(i, j, -s) for s, i, j in scored]


def _contradicted_by_content(a: list[_Info], b: list[_Info], candidates: list[tuple[int, int]],
                             pairs: dict[int, int], taken: set[int]) -> set[tuple[int, int]]:
    """The candidate pairs on title likeness whose contents say otherwise: either section's
    content words are far closer to another unpaired section's ("Selected types of systemic
    risk" is like "Types of risks" by title, but its four risks are the list now called
    "Specified systemic risks")."""
    # Sections with too few words to tell are neither vetoed nor the reason for a veto. The
    # candidates are unpaired numbered sections themselves: they are among olds and news.
    candidates = [(i, j) for i, j in candidates if len(a[i].words) >= MIN_WORDS and len(b[j].words) >= MIN_WORDS]
    if not candidates:
        return set()
    olds = [i for i in range(1, len(a)) if i not in pairs and a[i].sec.key and len(a[i].words) >= MIN_WORDS]
    news = [j for j in range(1, len(b)) if j not in taken and b[j].sec.key and len(b[j].words) >= MIN_WORDS]
    best_old: dict[int, list[tuple[float, int]]] = defaultdict(list)
    best_new: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for i, j, score in _similar_pairs(a, b, olds, news, MIN_MUTUAL_SIM, attr="words"):
        best_old[i].append((score, j))
        best_new[j].append((score, i))
    vetoed = set()
    for i, j in candidates:
        own = jaccard(a[i].words, b[j].words)
        other = max([sc for sc, k in best_old[i] if k != j] + [sc for sc, k in best_new[j] if k != i], default=0.0)
        if other >= CONTENT_VETO * max(own, 1e-9):
            vetoed.add((i, j))
    return vetoed


def _pair_parents_by_children(a: list[_Info], b: list[_Info], pairs: dict[int, int], taken: set[int]) -> None:
    for info in a[1:]:
        i = info.sec.index
        if i in pairs or not info.sec.children:
            continue
        votes = Counter(b[pairs[c]].sec.parent for c in info.sec.children if c in pairs)
        votes.pop(None, None)
        if votes:
            j, n = votes.most_common(1)[0]
            if j not in taken and j != 0 and n * 2 >= len(info.sec.children) and b[j].sec.kind == info.sec.kind:
                pairs[i] = j
                taken.add(j)


def _pair_children_of_pairs(a: list[_Info], b: list[_Info], pairs: dict[int, int], taken: set[int]) -> None:
    for i, j in sorted(pairs.items()):
        olds = [c for c in a[i].sec.children if c not in pairs and a[c].sec.key]
        news = [c for c in b[j].sec.children if c not in taken and b[c].sec.key]
        if not olds or not news:
            continue
        scored = []
        for c in olds:
            for d in news:
                if not _compatible(a[c], b[d]):
                    continue
                title = jaccard(_title_words(a[c].ntitle), _title_words(b[d].ntitle))
                # Word sets, not 3-grams: a redrafted measure keeps its vocabulary more than
                # its phrasing.
                score = (title + jaccard(a[c].words, b[d].words)) / 2
                if score >= MIN_CHILD_SIM:
                    scored.append((score, c, d))
        for _, c, d in sorted(scored, reverse=True):
            if c not in pairs and d not in taken:
                pairs[c] = d
                taken.add(d)


def _pair_in_gaps(a: list[_Info], b: list[_Info], pairs: dict[int, int], taken: set[int]) -> None:
    anchors = sorted(_longest_increasing(sorted(pairs.items())))
    anchors.append((len(a), len(b)))
    prev_i, prev_j = 0, 0
    for next_i, next_j in anchors:
        olds = [i for i in range(prev_i + 1, next_i) if i not in pairs and a[i].sec.key]
        news = [j for j in range(prev_j + 1, next_j) if j not in taken and b[j].sec.key]
        prev_i, prev_j = next_i, next_j
        if not olds or not news:
            continue
        # Through the inverted index, as everywhere: a gap may be most of two documents.
        best: dict[tuple[int, int], float] = {}
        for features in (lambda x: _title_words(x.ntitle), lambda x: x.words):
            found = similar_pairs([features(a[i]) for i in olds], [features(b[j]) for j in news], MIN_GAP_SIM)
            for i, j, score in found:
                key = (olds[i], news[j])
                best[key] = max(score, best.get(key, 0.0))
        scored = sorted((-score, i, j) for (i, j), score in best.items()
                        if a[i].sec.level == b[j].sec.level or a[i].sec.kind == b[j].sec.kind)
        chosen: list[tuple[int, int]] = []
        for _, i, j in scored:
            # Keep the gap's order: a pair may not cross one already chosen.
            if i in pairs or j in taken or any((i < ci) != (j < cj) for ci, cj in chosen):
                continue
            pairs[i] = j
            taken.add(j)
            chosen.append((i, j))


def _pair_mutual_best(a: list[_Info], b: list[_Info], pairs: dict[int, int], taken: set[int]) -> None:
    # Sections without subsections only: a commitment's content words are mostly its
    # measures', and commitments merge and split more than they move.
    olds = [i for i in range(1, len(a))
            if i not in pairs and a[i].sec.key and not a[i].sec.children and len(a[i].words) >= MIN_WORDS]
    news = [j for j in range(1, len(b))
            if j not in taken and b[j].sec.key and not b[j].sec.children and len(b[j].words) >= MIN_WORDS]
    if not olds or not news:
        return
    scores: dict[int, list[tuple[float, int]]] = defaultdict(list)
    back: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for i, j, score in _similar_pairs(a, b, olds, news, MIN_MUTUAL_SIM / MUTUAL_MARGIN, attr="words"):
        scores[i].append((score, j))
        back[j].append((score, i))

    def clear_best(options: list[tuple[float, int]]) -> int | None:
        options = sorted(options, key=lambda o: -o[0])  # stable: ties stay in document order
        first = options[0][0]
        second = options[1][0] if len(options) > 1 else 0.0
        return options[0][1] if first >= MIN_MUTUAL_SIM and first >= MUTUAL_MARGIN * second else None

    for i in olds:
        j = clear_best(scores[i]) if scores.get(i) else None
        if j is not None and clear_best(back[j]) == i:
            pairs[i] = j
            taken.add(j)


def _statuses(a: list[_Info], b: list[_Info], pairs: dict[int, int], taken: set[int]) -> list[SectionMatch]:
    # Leftovers contained in each other are one section rewritten: a pair, not a split or a
    # merge (those are one-to-many).
    unmatched_old = [i for i in range(1, len(a)) if i not in pairs]
    unmatched_new = [j for j in range(1, len(b)) if j not in taken]
    merged_into = _contained_in(a, b, unmatched_old, range(1, len(b)))
    split_from = _contained_in(b, a, unmatched_new, range(1, len(a)))
    for i, (j, _) in list(merged_into.items()):
        if j not in taken and split_from.get(j, (None,))[0] == i and a[i].sec.kind == b[j].sec.kind:
            pairs[i] = j
            taken.add(j)
            del merged_into[i], split_from[j]
    in_order = _longest_increasing(sorted(pairs.items()))
    rows: list[SectionMatch] = []
    for i, j in pairs.items():
        o, n = a[i].sec, b[j].sec
        same_text = o.blocks == n.blocks  # blocks never hold a blank line: same as comparing texts
        sim = 1.0 if same_text else jaccard(a[i].shingles, b[j].shingles)
        # Moved to another parent: the old parent's counterpart is not the new parent.
        # Only numbered parents count: unnumbered headings get their levels from layout,
        # which differs between renderings of one text.
        parent_moved = (
            o.parent not in (None, 0) and n.parent not in (None, 0)
            and a[o.parent].sec.key is not None and b[n.parent].sec.key is not None
            and o.parent in pairs and pairs[o.parent] != n.parent
        )
        if (o.key and n.key and o.key != n.key) or ((o.key is None) != (n.key is None) and i != 0):
            status = "renumbered"
        elif parent_moved or (i, j) not in in_order:
            status = "moved"
        elif not same_text or o.heading != n.heading:
            status = "modified"
        else:
            status = "unchanged"
        rows.append(_row(o, n, status, sim))

    # Splits and merges: what is left over, contained in a section of the other version.
    split_sources = {i for i, _ in split_from.values()}
    for i in (i for i in unmatched_old if i not in pairs):
        if i in merged_into:
            j, score = merged_into[i]
            rows.append(_row(a[i].sec, b[j].sec, "merged", score))
        elif i not in split_sources:  # a section split into others is not also removed
            rows.append(_row(a[i].sec, None, "removed", 0.0))
    for j in (j for j in unmatched_new if j not in taken):
        if j in split_from:
            i, score = split_from[j]
            rows.append(_row(a[i].sec, b[j].sec, "split", score))
        else:
            rows.append(_row(None, b[j].sec, "added", 0.0))
    matched_old = sorted(pairs)

    def order(row: SectionMatch) -> tuple[float, int]:
        if row.new_index is not None:
            return (float(row.new_index), row.old_index if row.old_index is not None else -1)
        # A removed section goes right after where its old predecessor now stands.
        pos = bisect_left(matched_old, row.old_index or 0) - 1
        anchor = pairs[matched_old[pos]] if pos >= 0 else 0
        return (anchor + 0.5, row.old_index or 0)

    rows.sort(key=order)
    return rows


def _contained_in(x: list[_Info], y: list[_Info], parts: list[int], wholes) -> dict[int, tuple[int, float]]:
    """For each part (of x) whose shingles lie mostly in one section of y: that section."""
    parts = [p for p in parts if len(x[p].shingles) >= MIN_SHINGLES]
    if not parts:
        return {}
    index: dict[int, list[int]] = defaultdict(list)
    wanted = {h for p in parts for h in x[p].shingles}
    for k in wholes:
        for h in y[k].shingles:
            if h in wanted:
                index[h].append(k)
    found: dict[int, tuple[int, float]] = {}
    for p in parts:
        sh = x[p].shingles
        if len(sh) < MIN_SHINGLES:
            continue
        counts = Counter(chain.from_iterable(map(index.get, sh, repeat((), len(sh)))))
        # The best whole of a compatible kind: a commitment is not merged into an untitled
        # block that happens to repeat its words.
        # Most shared first, ties in document order (not the hash sets' iteration order).
        for k, inter in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            if not _compatible(x[p], y[k]):
                continue
            score = inter / len(sh)
            if score >= MIN_CONTAIN:
                found[p] = (k, score)
            break
    return found


def _row(o: Section | None, n: Section | None, status: str, sim: float) -> SectionMatch:
    return SectionMatch(
        old=o.heading if o else None,
        new=n.heading if n else None,
        status=status,  # type: ignore[arg-type]
        similarity=sim,
        old_path=list(o.path) if o else [],
        new_path=list(n.path) if n else [],
        old_index=o.index if o else None,
        new_index=n.index if n else None,
    )


def _longest_increasing(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The largest set of pairs whose new indices increase with their old ones (kept order)."""
    tails: list[int] = []
    tail_idx: list[int] = []
    prev: list[int] = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        pos = bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_idx.append(k)
        else:
            tails[pos] = j
            tail_idx[pos] = k
        prev[k] = tail_idx[pos - 1] if pos else -1
    keep: set[tuple[int, int]] = set()
    k = tail_idx[-1] if tail_idx else -1
    while k >= 0:
        keep.add(pairs[k])
        k = prev[k]
    return keep
