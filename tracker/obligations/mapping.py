"""Linking diff hunks to the obligations they affect, each link with a method, a confidence
and a reason an analyst can check.

Evidence, strongest first:
- section: the hunk lies in a section the catalog knows (Article 55 paragraph 1 point (c);
  "Commitment 9 Serious incident reporting", found by number and title, or by a draft's
  number and title recorded as an alias). Inside an article or annex the hunk's paragraph and
  point are read from the numbered blocks above it.
- numbering: the hunk's section on the other side of the alignment is a known one (a hunk in
  third-draft "Commitment II.12" aligned with final "Commitment 9").
- serves: a Code commitment or measure implements AI Act provisions (catalog `serves`).
- citation: the changed words cite a provision ("Article 52(1)"); citations in the hunk's
  unchanged words count only when nothing else places the hunk.
- terms: the changed words use a duty's key terms ("serious incident"), the weakest evidence.

Only the most specific obligations are kept: a link to Article 55(1)(c) implies Article 55(1)
and Article 55, which are not listed again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from store.numbering import split_heading
from store.records import Hunk
from tracker.obligations.catalog import Catalog, Obligation, shipped_catalog
from tracker.obligations.citations import Citation, Key, find_citations, heading_key, parse_citation
from tracker.sections import Section, norm_text

MIN_CONFIDENCE = 0.5  # weaker links are not reported
# A passage added or removed whole cites provisions in passing (a FAQ, a summary of changes):
# its citations and key terms count only when it is short and nothing else places it.
SHORT_PASSAGE = 80  # words
CACHE_LIMIT = 20_000
MIN_TERMS = 2  # key terms of one duty in the changed words
BASIS_BLOCKS = 3  # a section states its legal basis in its first blocks
_BASIS = re.compile(r"(?i)\blegal text\b|\bobligations?\s+(?:under|pursuant to|set out in|laid down in)\b|"
                    r"\bin order to (?:fulfil|comply)|\bto fulfil\b")
TITLE_SIM = 0.6  # share of title words two headings of one commitment/measure have in common
WEAK_TITLE_SIM = 0.3  # enough when the numbers agree too
# What a link to an obligation adds to a hunk's significance, times the link's confidence:
# a substantive change to a duty outranks the same change outside any duty.
OBLIGATION_WEIGHT = {"substantive": 0.15, "editorial": 0.05, "cosmetic": 0.0}
DUTY_SCOPES = {"all-gpai", "systemic-risk", "third-country", "signatories"}

_STOP = {"the", "of", "and", "a", "an", "to", "for", "in", "on", "or", "by", "with", "its", "their"}
_PARA_MARK = re.compile(r"^(\d+[a-z]?)\.\s")
_POINT_MARK = re.compile(r"^\(([a-z]{1,2})\)\s")
_ROMAN_POINT = re.compile(r"^\((?:i{1,3}|iv|v|vi{0,3}|ix|x)\)\s")
_SECTION_NUM = re.compile(r"^section\s+(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    """One hunk-to-obligation link."""

    obligation: str
    method: str  # section | numbering | serves | citation | terms
    confidence: float
    reason: str

    def to_json(self) -> dict:
        """The link as shown in `diff --format json` (`obligations` of a hunk)."""
        return {"id": self.obligation, "method": self.method, "confidence": round(self.confidence, 2),
                "reason": self.reason}


def _words(text: str | None) -> frozenset[str]:
    return frozenset(w for w in norm_text(text).split() if w not in _STOP)


def _sim(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class Mapper:
    """Links hunks to a catalog's obligations (one per catalog; cheap to reuse)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.by_id = catalog.by_id
        self._keys: dict[Key, str] = {}
        self._entry_keys: dict[str, Key | None] = {}  # by id
        for o in catalog.obligations:
            key = self._entry_keys[o.id] = self._entry_key(o)
            if key is not None:
                self._keys.setdefault(key, o.id)
        self._path_cache: dict[tuple, list[Link]] = {}
        self._basis_cache: dict[tuple, list[Link]] = {}
        # Per heading path: its chapter and whether it lies in a Code commitment/measure/appendix
        # (every hunk asks; a document has few paths).
        self._place_cache: dict[tuple, tuple[str | None, bool]] = {}
        self._ancestor_cache: dict[str, frozenset[str]] = {}
        self._heading_chapter: dict[str, str | None] = {}
        self._code_matches: dict[tuple, tuple[str, float, str] | None] = {}

    # --- the catalog's keys ---------------------------------------------------------------

    def _entry_key(self, o: Obligation) -> Key | None:
        key = heading_key(o.ref) if o.kind in ("commitment", "measure", "appendix") else None
        if key is not None:
            return ("cop", o.source, *key[1:])
        keys = parse_citation(o.ref)
        return keys[0] if len(keys) == 1 else None

    def resolve(self, key: Key, chapter: str | None = None) -> str | None:
        """The most specific catalog id for a citation key (trimming what the catalog lacks);
        Code keys need the chapter (a catalog source) they were read in."""
        if key[0] == "cop":
            if chapter is None:
                return None
            key = ("cop", chapter, *key[1:])
            if key in self._keys:
                return self._keys[key]
            alias = self._aliases.get((chapter, key[2], key[3]))
            return alias[0] if alias and len(alias) == 1 else None
        parts = list(key)
        if len(parts) > 4 and parts[1] == "annex" and parts[3] == "":
            # "Annex XI, point 2(d)": the point of whichever section has one (Section 1).
            hits = {v for k, v in self._keys.items()
                    if len(k) == len(parts) and k[:3] == key[:3] and k[4:] == key[4:] and k[3]}
            if len(hits) == 1:
                return hits.pop()
        while len(parts) > 2:
            found = self._keys.get(tuple(parts))
            if found:
                return found
            parts.pop()
            while parts and parts[-1] == "":
                parts.pop()
        return None

    @cached_property
    def _aliases(self) -> dict[tuple[str, str, str], list[str]]:
        """(chapter, kind, draft number) -> ids that number was used for in some draft."""
        out: dict[tuple[str, str, str], list[str]] = {}
        for o in self.catalog.obligations:
            for a in o.aliases:
                key = heading_key(a.number) if a.number else None
                if key and key[0] == "cop":
                    out.setdefault((o.source, key[1], key[2]), []).append(o.id)
        return out

    @cached_property
    def _code_names(self) -> dict[str, list[tuple[str | None, frozenset[str], str]]]:
        """Per Code entry id: (normalised number, title words, version) of its final form and
        of every alias."""
        out: dict[str, list[tuple[str | None, frozenset[str], str]]] = {}
        for o in self.catalog.obligations:
            if o.kind not in ("commitment", "measure", "appendix"):
                continue
            names = [(_num(o.ref), _words(o.title), "final")]
            names += [(_num(a.number) if a.number else None, _words(a.title), a.version) for a in o.aliases]
            out[o.id] = names
        return out

    @cached_property
    def _chapter_words(self) -> list[tuple[str, str]]:
        return [(word.casefold(), name) for name, src in self.catalog.sources.items() for word in src.match]

    @cached_property
    def _terms(self) -> tuple[re.Pattern | None, dict[str, list[str]]]:
        """One pattern for every key term (one pass over a text, not one per term) and the
        obligations each term belongs to."""
        owners: dict[str, list[str]] = {}
        for o in self.catalog.obligations:
            for term in o.terms:
                owners.setdefault(term.casefold(), []).append(o.id)
        return (re.compile(r"\b(?:" + _longest_first(owners) + r")\b") if owners else None), owners

    def _ancestors(self, obligation_id: str) -> frozenset[str]:
        """`Catalog.ancestors`, remembered (it rebuilds the catalog's `by_id` on each call)."""
        found = self._ancestor_cache.get(obligation_id)
        if found is None:
            found = self._ancestor_cache[obligation_id] = frozenset(self.catalog.ancestors(obligation_id))
        return found

    # --- sections -----------------------------------------------------------------------------

    def chapter_of(self, path: list[str]) -> str | None:
        """The Code chapter (catalog source) a heading path is in, from the nearest heading
        naming one."""
        return self._place(path)[0]

    def _place(self, path: list[str]) -> tuple[str | None, bool]:
        """(`chapter_of(path)`, whether a heading of `path` is a Code commitment, measure or
        appendix), remembered per path."""
        key = tuple(path)
        place = self._place_cache.get(key)
        if place is None:
            if len(self._place_cache) > CACHE_LIMIT:
                self._place_cache.clear()
            place = self._place_cache[key] = (self._chapter(path), any(_is_code_heading(h) for h in path))
        return place

    def _chapter(self, path: list[str]) -> str | None:
        for heading in reversed(path):
            name = self._chapter_named(heading)
            if name is not None:
                return name
        return None

    def _chapter_named(self, heading: str) -> str | None:
        """The Code chapter one heading names, if any (remembered per heading)."""
        if heading in self._heading_chapter:
            return self._heading_chapter[heading]
        if len(self._heading_chapter) > CACHE_LIMIT:
            self._heading_chapter.clear()
        name = None
        # "Commitment 10 Additional documentation and transparency" names no chapter.
        if not _is_code_heading(heading):
            low = heading.casefold()
            name = next((name for word, name in self._chapter_words if word in low), None)
        self._heading_chapter[heading] = name
        return name

    def _match_code(self, kind: str, number: str | None, title: str | None, chapter: str | None,
                    parent: str | None) -> tuple[str, float, str] | None:
        """The Code entry a commitment/measure/appendix heading is, with confidence and reason
        (remembered: a commitment's heading is on the path of each of its measures)."""
        key = (kind, number, title, chapter, parent)
        if key not in self._code_matches:
            if len(self._code_matches) > CACHE_LIMIT:
                self._code_matches.clear()
            self._code_matches[key] = self._best_code_match(kind, number, title, chapter, parent)
        return self._code_matches[key]

    def _best_code_match(self, kind: str, number: str | None, title: str | None, chapter: str | None,
                         parent: str | None) -> tuple[str, float, str] | None:
        words = _words(title)
        num = _num(number) if number else None
        best: tuple[float, str, str] | None = None
        for oid, names in self._code_names.items():
            o = self.by_id[oid]
            if o.kind != kind or (chapter and o.source != chapter):
                continue
            if parent and o.parent and o.parent != parent and kind == "measure":
                continue
            for n_num, n_words, version in names:
                sim = _sim(words, n_words)
                same_num = num is not None and n_num == num
                if sim >= TITLE_SIM and (same_num or num is None or n_num is None):
                    conf, why = 0.95, "number and title"
                elif sim >= TITLE_SIM:
                    conf, why = 0.85, "title"
                elif same_num and (sim >= WEAK_TITLE_SIM or (not words and chapter and version == "final")):
                    conf, why = 0.8, "number"
                elif same_num and parent and o.parent == parent:
                    conf, why = 0.75, "number within its commitment"
                else:
                    continue
                label = f"{version} {n_num or o.ref}" if version != "final" else o.ref
                if best is None or conf > best[0]:
                    best = (conf, oid, f"in {number or title} ({why} of {label})")
        return (best[1], best[0], best[2]) if best else None

    def section_links(self, path: list[str]) -> list[Link]:
        """Links of a section, from its heading path (cached: many hunks share a section)."""
        cache_key = tuple(path)
        if cache_key in self._path_cache:
            return self._path_cache[cache_key]
        if len(self._path_cache) > CACHE_LIMIT:  # a daemon maps many documents over its life
            self._path_cache.clear()
            self._basis_cache.clear()
        links: list[Link] = []
        chapter = self.chapter_of(path)
        aia: list[str] | None = None  # key parts of an AI Act article or annex context
        code_parent: str | None = None
        for heading in path:
            number, title = _split(heading)
            if number is None:
                continue
            if aia and aia[1] == "annex":
                m = _SECTION_NUM.match(number.strip())
                if m:
                    aia = aia[:3] + [m.group(1)]
                    continue
            key = _heading_key(number)
            if key is None:
                continue
            if key[0] == "aia":
                aia = list(key)
                code_parent = None
            elif key[0] == "cop":
                match = self._match_code(key[1], number, title, chapter, code_parent)
                if match:
                    oid, conf, reason = match
                    links = [lk for lk in links if lk.obligation not in self._ancestors(oid)]
                    links.append(Link(oid, "section", conf, reason))
                    code_parent = oid
                    aia = None
        if aia:
            oid = self.resolve(tuple(aia))
            if oid:
                links.append(Link(oid, "section", 0.95, f"in {self.by_id[oid].ref}"))
        self._path_cache[cache_key] = links
        return links

    def refine_in_section(self, link: Link, section: Section | None, text: str) -> Link:
        """An article/annex link made specific to the numbered paragraph and point the hunk's
        text sits in ("Article 53" -> "Article 53(1)(a)")."""
        if section is None or not text:
            return link
        o = self.by_id.get(link.obligation)
        if o is None or o.source not in self._aia_sources:
            return link
        first = text.split("\n\n", 1)[0].strip()
        try:
            at = section.blocks.index(first)
        except ValueError:
            at = next((k for k, b in enumerate(section.blocks) if first and first[:80] in b), None)
            if at is None:
                return link
        para = point = None
        for k in range(at, -1, -1):
            body = section.blocks[k].lstrip()
            m = _POINT_MARK.match(body)
            if m and point is None and para is None:
                if _is_subpoint(m.group(1), section.blocks[k - 1] if k else ""):
                    continue
                point = m.group(1)
                continue
            m = _PARA_MARK.match(body)
            if m:
                para = m.group(1)
                break
        if para is None and point is None:
            return link
        base = self._entry_keys.get(o.id)
        if base is None:
            return link
        parts = [*base]
        if para is not None:
            parts.append(para)
        elif base[1] == "annex" and len(base) == 3:
            parts.append("")  # an annex without sections: points directly below it
        if point is not None:
            parts.append(point)
        oid = self.resolve(tuple(parts))
        if oid is None or oid == link.obligation:
            return link
        return Link(oid, link.method, link.confidence, f"in {self.by_id[oid].ref}")

    @cached_property
    def _aia_sources(self) -> set[str]:
        return {o.source for o in self.catalog.obligations
                if (key := self._entry_keys[o.id]) is not None and key[0] == "aia"}

    # --- one hunk ---------------------------------------------------------------------------

    def link_hunk(self, hunk: Hunk, old_secs: dict[tuple, Section] | None = None,
                  new_secs: dict[tuple, Section] | None = None) -> list[Link]:
        """The obligations one hunk affects, most specific only, strongest first (`old_secs`,
        `new_secs`: the versions' sections by heading path, for evidence in their text)."""
        old_secs, new_secs = old_secs or {}, new_secs or {}
        old_sec, new_sec = old_secs.get(tuple(hunk.old_path)), new_secs.get(tuple(hunk.new_path))
        found: dict[str, Link] = {}

        def add(link: Link) -> None:
            if link.confidence < MIN_CONFIDENCE:
                return
            have = found.get(link.obligation)
            if have is None or link.confidence > have.confidence:
                found[link.obligation] = link

        new_links = [self.refine_in_section(lk, new_sec, hunk.new_text) for lk in self.section_links(hunk.new_path)] \
            if hunk.new_path else []
        old_links = [self.refine_in_section(lk, old_sec, hunk.old_text) for lk in self.section_links(hunk.old_path)] \
            if hunk.old_path else []
        for lk in new_links:
            add(lk)
        new_ids = {lk.obligation for lk in new_links}
        for lk in old_links:
            if lk.obligation in new_ids or not hunk.new_path:
                add(lk)
            else:
                where = hunk.new_path[-1] if hunk.new_path else "the new version"
                add(Link(lk.obligation, "numbering", lk.confidence * 0.95,
                         f"{lk.reason}; that section became {where}"))
        # The legal basis a section states places it. For a section the catalog knows, only a
        # basis down to a point ("Article 55(1), points (b) and (d)") adds to the catalog's
        # curated `serves`; a bare "Article 55(1)" would only blur them.
        known = any(self.by_id[oid].source != "aia" for oid in found if oid in self.by_id)
        for path, secs in ((hunk.new_path, new_secs), (hunk.old_path, old_secs)):
            for lk in self._legal_basis(path, secs):
                if not known or self.by_id[lk.obligation].kind in ("point", "annex-point", "annex-section"):
                    add(lk)
        placed = bool(found)
        chapter, in_code = self._place(hunk.new_path or hunk.old_path)
        for lk in self._citation_links(hunk, placed, in_code, chapter):
            add(lk)
        short = len((hunk.new_text or hunk.old_text).split()) <= SHORT_PASSAGE
        if not placed and (short or in_code):
            for lk in self._term_links(hunk):
                add(lk)
        for lk in list(found.values()):
            o = self.by_id.get(lk.obligation)
            for served in (o.serves if o else []):
                add(Link(served, "serves", round(lk.confidence * 0.95, 4),
                         f"{o.ref} ({o.title}) serves {self.by_id[served].ref}"))
        return self._most_specific(list(found.values()))

    @staticmethod
    def _is_code_heading(heading: str) -> bool:
        return _is_code_heading(heading)

    def _legal_basis(self, path: list[str], secs: dict[tuple, Section]) -> list[Link]:
        """The AI Act provisions the nearest enclosing section states as its legal basis
        ("LEGAL TEXT: Article 55(1)", "In order to fulfil their obligations under Article
        55(1), points (b) and (d)") in its opening blocks."""
        for k in range(len(path), 0, -1):
            sec = secs.get(tuple(path[:k]))
            if sec is None:
                continue
            cache_key = (sec.heading, *sec.blocks[:BASIS_BLOCKS])
            if cache_key not in self._basis_cache:
                links = []
                for block in sec.blocks[:BASIS_BLOCKS]:
                    if not _BASIS.search(block):
                        continue
                    for c in find_citations(block):
                        oid = self.resolve(c.key) if c.key[0] == "aia" else None
                        if oid:
                            links.append(Link(oid, "section", 0.85,
                                              f"{sec.heading} states its legal basis: {c.text.strip()}"))
                self._basis_cache[cache_key] = links
            if self._basis_cache[cache_key]:
                return self._basis_cache[cache_key]
        return []

    def _citation_links(self, hunk: Hunk, placed: bool, in_code: bool, chapter: str | None) -> list[Link]:
        """Links from citations the change adds or removes, and (for a hunk nothing else
        places) from citations around the change."""
        out: list[Link] = []
        whole = hunk.kind in ("added", "removed")
        short = len((hunk.new_text or hunk.old_text).split()) <= SHORT_PASSAGE
        new_citations = find_citations(hunk.new_text)
        if not whole or (short and not placed):
            for c, added in self._changed_citations(hunk, new_citations):
                # Code cross-references ("as in Measure 3.2") are navigation, not duties of the
                # hunk, unless it lies in a Code section the catalog does not place; a changed AI
                # Act citation is a changed legal basis.
                if c.key[0] == "cop" and (placed or not in_code):
                    continue
                oid = self.resolve(c.key, chapter)
                if oid:
                    out.append(Link(oid, "citation", 0.9, f"the change {'adds' if added else 'removes'} "
                                                          f"the citation {c.text.strip()}"))
        if not placed and not whole and (short or in_code):
            for c in new_citations:
                if c.key[0] == "cop" and not in_code:
                    continue
                oid = self.resolve(c.key, chapter)
                if oid:
                    out.append(Link(oid, "citation", 0.55, f"the text around the change cites {c.text.strip()}"))
        return out

    def _term_links(self, hunk: Hunk) -> list[Link]:
        """Links to duties two or more of whose key terms the changed words use."""
        changed = " ".join(t for op, t in hunk.edits if op != 0) if hunk.edits else hunk.new_text
        pattern, owners = self._terms
        hits: dict[str, list[str]] = {}
        for term in dict.fromkeys(pattern.findall(changed.casefold())) if pattern else ():
            for oid in owners[term]:
                hits.setdefault(oid, []).append(term)
        # One shared phrase is chance; two of a duty's key terms are evidence.
        return [Link(oid, "terms", 0.6, "the changed words use its key terms " + ", ".join(f"'{t}'" for t in terms[:3]))
                for oid, terms in hits.items() if len(terms) >= MIN_TERMS]

    @staticmethod
    def _changed_citations(hunk: Hunk, new: list[Citation]) -> list[tuple[Citation, bool]]:
        """Citations on one side of the hunk and not the other (all of them for a passage
        added or removed whole); `new`: the citations of its new text."""
        if hunk.old_text == hunk.new_text:
            return []  # a passage moved as it was
        old = find_citations(hunk.old_text)
        old_keys, new_keys = {c.key for c in old}, {c.key for c in new}
        return [(c, True) for c in new if c.key not in old_keys] + [(c, False) for c in old if c.key not in new_keys]

    def _most_specific(self, links: list[Link]) -> list[Link]:
        ids = {lk.obligation for lk in links}
        implied: set[str] = set()
        for oid in ids:
            implied.update(self._ancestors(oid))
        kept = [lk for lk in links if lk.obligation not in implied]
        kept.sort(key=lambda lk: (-lk.confidence, lk.obligation))
        return kept


@lru_cache(maxsize=4096)
def _is_code_heading(heading: str) -> bool:
    """True for a Code commitment, measure or appendix heading."""
    # A Code key is read from a (case-sensitive) "Commitment", "Measure" or "Appendix"/
    # "Appendices" in the heading's number, which is words of the heading: most headings are
    # settled without splitting them.
    if "Commitment" not in heading and "Measure" not in heading and "Appendi" not in heading:
        return False
    number, _ = _split(heading)
    key = _heading_key(number) if number else None
    return key is not None and key[0] == "cop"


@lru_cache(maxsize=8192)
def _heading_key(number: str) -> Key | None:
    """`heading_key`, remembered: the same numbers ("Section 1") recur in a document."""
    return heading_key(number)


@lru_cache(maxsize=8192)
def _split(heading: str) -> tuple[str | None, str | None]:
    """`split_heading`, remembered: the same headings come back for every hunk of a section."""
    return split_heading(heading)


def _is_subpoint(marker: str, previous_block: str) -> bool:
    """True for a roman sub-point marker ("(ii)"), False for a letter point: "(i)" is the
    letter after "(h)" only when the point before it is "(h)"."""
    if not _ROMAN_POINT.match(f"({marker}) "):
        return False
    if len(marker) == 1:
        m = _POINT_MARK.match(previous_block.lstrip())
        return not (m and m.group(1) == chr(ord(marker) - 1))
    return True


def _longest_first(words: dict[str, object] | list[str]) -> str:
    """A regular expression alternation of `words` that matches as `w1|w2|...` with the words
    longest first does (the longest word at each place), grouped by first character: Python's
    engine tries each alternative at each place, so one group per first character makes a
    scan of a text with hundreds of key terms some ten times faster."""
    groups: dict[str, list[str]] = {}
    for word in sorted(words, key=len, reverse=True):
        if word:
            groups.setdefault(word[0], []).append(re.escape(word[1:]))
    # Words of one group share their first character, so no other group can match where one
    # of them does: only the order within a group matters.
    alternatives = [re.escape(first) + "(?:" + "|".join(rests) + ")" for first, rests in groups.items()]
    if "" in words:
        alternatives.append("")  # the empty word, shortest, last
    return "|".join(alternatives)


def _num(ref: str | None) -> str | None:
    """"Commitment II.12" / "Measure 9.3" -> "ii.12" / "9.3" (the number without its kind)."""
    if not ref:
        return None
    key = heading_key(ref)
    return key[-1] if key and key[0] == "cop" else None


@lru_cache(maxsize=1)
def default_mapper() -> Mapper:
    """A mapper over the shipped catalog, built once per process."""
    return Mapper(shipped_catalog())


def link_hunks(hunks: list[Hunk], old_secs: list[Section], new_secs: list[Section], mapper: Mapper) -> None:
    """Fill each hunk's `obligations` and add their weight to its significance (in place)."""
    old_by_path = {tuple(s.path): s for s in reversed(old_secs)}
    new_by_path = {tuple(s.path): s for s in reversed(new_secs)}
    for h in hunks:
        links = mapper.link_hunk(h, old_by_path, new_by_path)
        h.obligations = [lk.to_json() for lk in links]
        weight = OBLIGATION_WEIGHT.get(h.classification, 0.0)
        duties = [lk.confidence for lk in links
                  if DUTY_SCOPES & set(getattr(mapper.by_id.get(lk.obligation), "applies_to", []))]
        if weight and duties:
            part = round(weight * max(duties), 4)
            h.significance_parts["obligation"] = part
            h.significance = min(1.0, h.significance + part)
