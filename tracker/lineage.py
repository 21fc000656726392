"""Lineage links: which publication found on a listing page is a version of a configured
document, proposed from title and content similarity; config confirms or overrides.

Each document found on a listing page (a "discovered" document) is scored against every
configured page document: title similarity (Jaccard of title words, leaving out words that
name a version such as "third", "draft", "final") and content similarity (Jaccard of the
content words of its latest text and of each version of the configured document, the best
one kept). Only sets of words are compared, never full diffs, and never two discovered
documents with each other: the cost is (discovered documents) x (configured documents).

Status of a proposal (documented in README.md, "Lineage and section history"):
  auto       the best configured document, with content similarity >= AUTO_CONTENT, or
             >= SUPPORTED_CONTENT and a title similarity >= TITLE_MATCH, and ahead of the
             runner-up's content similarity by AUTO_MARGIN: used by `diff` and `trace`;
  candidate  any weaker sign (content >= CANDIDATE_CONTENT or a matching title): shown by
             `regwatch lineage`, never used;
  confirmed, rejected  from config (`lineage:`), which always wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from store.lineage import (
    LineageLink,
    LineageVersion,
    lineage_root,
    lineage_versions,
    replace_links,
    set_source_positions,
    stored_links,
)
from store.versions import history, version_text
from tracker.align import jaccard
from tracker.config import Config, LineageEntry
from tracker.sections import norm_text

# Calibrated on the real Code of Practice texts (../shared/corpus): successive drafts of one
# chapter share 0.49-0.55 of their content words (Safety and Security second -> third ->
# final); different chapters share 0.05-0.15, and up to 0.39 between two excerpts that
# repeat the Code's common front matter, which a title tells apart.
AUTO_CONTENT = 0.45  # content alone: another version of the same text
SUPPORTED_CONTENT = 0.25  # content that a matching title makes sufficient
TITLE_MATCH = 0.5  # title words in common (without the words naming a version)
CANDIDATE_CONTENT = 0.15  # below this (and without a matching title) no link at all
AUTO_MARGIN = 0.1  # the best configured document must beat the runner-up by this much
MIN_WORD_LENGTH = 4  # content words: short words are mostly grammar

CONTENT_MEASURE = f"Jaccard of content words ({MIN_WORD_LENGTH}+ letters)"
TITLE_MEASURE = "Jaccard of title words without version words"

# Words that say which version a title is ("Third draft of ..."), not which document.
_VERSION_WORDS = frozenset([
    "first", "second", "third", "fourth", "fifth", "draft", "drafts", "final", "version", "versions",
    "revised", "updated", "update", "new", "published", "publication", "consolidated", "edition", "text",
    "full", "pdf", "html",
])
_STOPWORDS = frozenset(["a", "an", "and", "the", "of", "for", "to", "in", "on", "by", "with", "from", "or",
                        "at", "as", "is", "its", "this", "that"])


def title_words(title: str | None) -> frozenset[str]:
    """The words of a title that name a document (not its version), normalised."""
    words = norm_text(re.sub(r"[-_/]", " ", title or "")).split()
    return frozenset(w for w in words if w not in _STOPWORDS and w not in _VERSION_WORDS and not w.isdigit())


def content_words(text: str) -> frozenset[str]:
    """The content words of a text: normalised words of at least MIN_WORD_LENGTH letters."""
    return frozenset(w for w in norm_text(text).split() if len(w) >= MIN_WORD_LENGTH)


@dataclass
class _Target:
    """A configured document with what scoring needs, texts read only when first needed."""

    document: str
    titles: list[str]
    versions: list[tuple[str, int]]  # (ref, version id)
    _words: list[tuple[str, frozenset[str]]] | None = None

    def words(self, db: sqlite_utils.Database) -> list[tuple[str, frozenset[str]]]:
        """(version ref, content words) of each distinct text of the document."""
        if self._words is None:
            self._words = [(ref, content_words(version_text(db, vid))) for ref, vid in self.versions]
        return self._words


@dataclass
class Score:
    """How much a discovered document looks like one configured document, and why."""

    lineage: str
    title_similarity: float
    content_similarity: float
    titles: tuple[str, str] | None  # (discovered title, configured title) that scored best
    versions: tuple[str, str] | None  # (discovered version ref, configured version ref)

    @property
    def strong(self) -> bool:
        """Evidence enough for an `auto` link, margin aside."""
        return self.content_similarity >= AUTO_CONTENT or (
            self.content_similarity >= SUPPORTED_CONTENT and self.title_similarity >= TITLE_MATCH
        )

    @property
    def weak(self) -> bool:
        """Evidence enough for a `candidate` link."""
        return self.strong or self.content_similarity >= CANDIDATE_CONTENT or self.title_similarity >= TITLE_MATCH


def configured_documents(config: Config) -> list[str]:
    """The documents of configured page sources (not listings), in config order: the
    lineages a discovered document may join."""
    out: list[str] = []
    for s in config.sources:
        doc = s.document or s.name
        if not s.follow and doc not in out:
            out.append(doc)
    return out


def propose_links(db: sqlite_utils.Database, targets: list[str]) -> list[LineageLink]:
    """Links proposed by similarity from every discovered document to the `targets`
    (configured documents): `auto` or `candidate` (see the module docstring), with evidence."""
    discovered = db.execute(
        "SELECT d.id, d.title FROM documents d WHERE d.discovered_from IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM versions v WHERE v.document = d.id) ORDER BY d.id"
    ).fetchall()
    discovered = [(doc, title) for doc, title in discovered if doc not in targets]
    if not discovered or not targets:
        return []
    prepared = [_target(db, t) for t in targets]
    links: list[LineageLink] = []
    for doc, title in discovered:
        latest = history(db, doc)[-1]
        words = content_words(version_text(db, latest.id))
        titles = [t for t in dict.fromkeys([title, latest.title]) if t]
        scores = [_score(db, f"{doc}:{latest.number}", titles, words, t) for t in prepared]
        scores.sort(key=lambda s: (s.content_similarity, s.title_similarity), reverse=True)
        for k, score in enumerate(scores):
            if not score.weak:
                continue
            runner_up = scores[1] if k == 0 and len(scores) > 1 else (scores[0] if k > 0 else None)
            margin = score.content_similarity - (runner_up.content_similarity if runner_up else 0.0)
            status = "auto" if k == 0 and score.strong and margin >= AUTO_MARGIN else "candidate"
            links.append(_link(doc, score, status, runner_up))
    return links


def _target(db: sqlite_utils.Database, document: str) -> _Target:
    versions = history(db, document)
    row = db.execute("SELECT title FROM documents WHERE id = ?", (document,)).fetchone()
    titles = [document, *([row[0]] if row and row[0] else []), *(v.title for v in versions if v.title)]
    seen: set[str] = set()
    distinct = []
    for v in versions:  # one text fetched at two addresses is compared once
        if v.text_sha256 not in seen:
            seen.add(v.text_sha256)
            distinct.append((f"{document}:{v.number}", v.id))
    return _Target(document, list(dict.fromkeys(titles)), distinct)


def _score(db: sqlite_utils.Database, ref: str, titles: list[str], words: frozenset[str], target: _Target) -> Score:
    title_pairs = [(_title_similarity(mine, theirs), (mine, theirs)) for mine in titles for theirs in target.titles]
    title_sim, title_pair = max(title_pairs, key=lambda p: p[0], default=(0.0, None))
    content_pairs = [(jaccard(words, theirs) if words and theirs else 0.0, (ref, theirs_ref))
                     for theirs_ref, theirs in target.words(db)]
    content_sim, version_pair = max(content_pairs, key=lambda p: p[0], default=(0.0, None))
    return Score(target.document, title_sim, content_sim, title_pair, version_pair)


def _title_similarity(a: str, b: str) -> float:
    wa, wb = title_words(a), title_words(b)
    return jaccard(wa, wb) if wa and wb else 0.0


def _link(document: str, score: Score, status: str, runner_up: Score | None) -> LineageLink:
    evidence = {
        "method": "title+content",
        "proposed": status,
        "title": {"measure": TITLE_MEASURE, "similarity": round(score.title_similarity, 4),
                  "compared": list(score.titles) if score.titles else None},
        "content": {"measure": CONTENT_MEASURE, "similarity": round(score.content_similarity, 4),
                    "compared": list(score.versions) if score.versions else None},
        "runner_up": ({"lineage": runner_up.lineage, "content_similarity": round(runner_up.content_similarity, 4),
                       "title_similarity": round(runner_up.title_similarity, 4)} if runner_up else None),
        "thresholds": {"auto_content": AUTO_CONTENT, "supported_content": SUPPORTED_CONTENT,
                       "title_match": TITLE_MATCH, "candidate_content": CANDIDATE_CONTENT, "auto_margin": AUTO_MARGIN},
    }
    return LineageLink(document, score.lineage, status, title_similarity=round(score.title_similarity, 4),
                       content_similarity=round(score.content_similarity, 4), evidence=evidence)


def apply_config(links: list[LineageLink], entries: list[LineageEntry]) -> list[LineageLink]:
    """`links` as config states them: each entry confirms (or with `reject`, rejects) one
    link, with its label and placement; a document confirmed into one lineage is only a
    `candidate` of any other. Statuses set by an earlier config that no longer says so fall
    back to what similarity proposed (links config alone made are dropped)."""
    out: dict[tuple[str, str], LineageLink] = {}
    for link in links:
        proposed = link.evidence.get("proposed")
        if proposed:
            evidence = {k: v for k, v in link.evidence.items() if k != "config"}
            out[(link.document, link.lineage)] = replace(link, status=proposed, label=None, before=None,
                                                         evidence=evidence)
    for e in entries:
        key = (e.document, e.of)
        link = out.get(key) or LineageLink(e.document, e.of, "confirmed", evidence={"method": "config"})
        status = "rejected" if e.reject else "confirmed"
        out[key] = replace(link, status=status, label=e.label, before=e.before,
                           evidence={**link.evidence, "config": status})
    confirmed = {link.document: link.lineage for link in out.values() if link.status == "confirmed"}
    for key, link in out.items():
        if link.status == "auto" and confirmed.get(link.document, link.lineage) != link.lineage:
            out[key] = replace(link, status="candidate")
    return sorted(out.values(), key=lambda link: (link.lineage, link.document))


def update_lineage(db: sqlite_utils.Database, config: Config) -> list[LineageLink]:
    """Bring the stored lineage in line with config and the crawled texts: sources' positions
    (config order) and the links (proposed by similarity, then config applied); returns them."""
    set_source_positions(db, [s.name for s in config.sources])
    links = apply_config(propose_links(db, configured_documents(config)), config.lineage)
    replace_links(db, links)
    return links


def current_links(db: sqlite_utils.Database, config: Config) -> list[LineageLink]:
    """The stored links with the current config applied (config edited since the last crawl
    takes effect at once, without writing)."""
    return apply_config(stored_links(db), config.lineage)


def lineage_for(db: sqlite_utils.Database, config: Config, document: str) -> tuple[str, list[LineageVersion]]:
    """(root, versions in publication order) of the lineage `document` belongs to."""
    links = current_links(db, config)
    root = lineage_root(document, links)
    return root, lineage_versions(db, root, links)


@dataclass
class LineageView:
    """One lineage as `regwatch lineage` shows it."""

    root: str
    versions: list[LineageVersion]
    links: list[LineageLink]

    def to_json(self) -> dict[str, Any]:
        """The lineage as JSON: documents, streams, versions in order, links with evidence."""
        streams: dict[str, dict[str, Any]] = {}
        for v in self.versions:
            streams.setdefault(v.stream, {"stream": v.stream, "document": v.document, "linked": v.linked,
                                          "source": v.source, "versions": 0})["versions"] += 1
        documents = list(dict.fromkeys([self.root, *(v.document for v in self.versions),
                                        *(link.document for link in self.links if link.active)]))
        return {"lineage": self.root, "documents": documents, "streams": list(streams.values()),
                "versions": [v.to_json() for v in self.versions], "links": [link.to_json() for link in self.links]}


def lineage_views(db: sqlite_utils.Database, config: Config, document: str | None = None) -> list[LineageView]:
    """Every configured document's lineage (or only the one `document` belongs to), with
    its links of any status."""
    links = current_links(db, config)
    if document is not None:
        roots = [lineage_root(document, links)]
    else:
        roots = list(dict.fromkeys([*configured_documents(config), *(link.lineage for link in links)]))
    return [LineageView(root, lineage_versions(db, root, links), [link for link in links if link.lineage == root])
            for root in roots]
