"""Lineage: the versions of one publication across documents, in publication order.

A lineage is a configured document (its root) with the documents linked to it: publications
found on listing pages that are versions of it (a third draft announced on the policy page).
Links are proposed by `tracker.lineage` and stored here with their evidence; only `auto` and
`confirmed` links join a document's versions to a lineage.

Order of a lineage's versions: the root's own versions in `history` order (sources in config
order, then arrival); each linked document's versions (in their own order) go as one block
right before the version named by the link's `before` (a label, source name or document id)
or, without it, right before the first version of the lineage first seen later than the
block's first version (at the end when there is none): a publication found later is newer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from store.db import transaction
from store.versions import VersionRow, history, now_iso, pick_version

STATUSES = ("auto", "candidate", "confirmed", "rejected")  # as the schema checks them
ACTIVE = ("auto", "confirmed")  # statuses whose document joins the lineage


@dataclass(frozen=True)
class LineageLink:
    """`document` proposed (or stated in config) to be versions of the lineage `lineage`."""

    document: str
    lineage: str
    status: str  # auto | candidate | confirmed | rejected
    label: str | None = None  # label for the document's versions (from config)
    before: str | None = None  # place its versions before this label, source or document
    title_similarity: float | None = None
    content_similarity: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def active(self) -> bool:
        """True when the link joins the document's versions to the lineage."""
        return self.status in ACTIVE

    def to_json(self) -> dict[str, Any]:
        """The link as shown by `regwatch lineage --json`."""
        return {
            "document": self.document, "lineage": self.lineage, "status": self.status,
            "label": self.label, "before": self.before,
            "title_similarity": _round(self.title_similarity),
            "content_similarity": _round(self.content_similarity),
            "evidence": self.evidence, "created_at": self.created_at, "updated_at": self.updated_at,
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


_LINK_COLS = ("document, lineage, status, label, before, title_similarity, content_similarity, evidence, "
              "created_at, updated_at")


def stored_links(db: sqlite_utils.Database) -> list[LineageLink]:
    """Every stored link, by lineage then document."""
    if "lineage_links" not in db.table_names():
        return []  # a database opened read-only before its migration to lineage
    rows = db.execute(f"SELECT {_LINK_COLS} FROM lineage_links ORDER BY lineage, document").fetchall()
    return [LineageLink(*r[:7], evidence=json.loads(r[7]), created_at=r[8], updated_at=r[9]) for r in rows]


def replace_links(db: sqlite_utils.Database, links: list[LineageLink]) -> None:
    """Make the stored links exactly `links`, in one transaction (all or nothing).

    A link that is already stored keeps its `created_at`; `updated_at` changes only when the
    link's status, label, placement or scores changed.
    """
    now = now_iso()
    with transaction(db) as conn:
        old = {(r[0], r[1]): r[2:] for r in conn.execute(
            "SELECT document, lineage, status, label, before, title_similarity, content_similarity, evidence, "
            "created_at, updated_at FROM lineage_links")}
        conn.execute("DELETE FROM lineage_links")
        for link in links:
            evidence = json.dumps(link.evidence, sort_keys=True)
            values = (link.status, link.label, link.before, link.title_similarity, link.content_similarity, evidence)
            prev = old.get((link.document, link.lineage))
            created = prev[6] if prev else now
            updated = prev[7] if prev and tuple(prev[:6]) == values else now
            conn.execute(
                f"INSERT INTO lineage_links ({_LINK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (link.document, link.lineage, *values, created, updated),
            )


def set_source_positions(db: sqlite_utils.Database, names: list[str]) -> None:
    """Record each source's index in `names` (config order) as its position; sources not
    named keep theirs."""
    with transaction(db) as conn:
        conn.executemany("UPDATE sources SET position = ? WHERE name = ? AND position IS NOT ?",
                         [(i, name, i) for i, name in enumerate(names)])


def lineage_root(document: str, links: list[LineageLink]) -> str:
    """The lineage `document` belongs to: the document it is actively linked to, else itself."""
    return next((link.lineage for link in links if link.document == document and link.active), document)


@dataclass(frozen=True)
class LineageVersion:
    """One version in a lineage, with where it came from."""

    version: VersionRow
    source: str | None  # the configured source whose fetch created it
    label: str | None  # the version's label, else its link's label
    linked: bool  # True for versions of a linked document

    @property
    def id(self) -> int:
        """The version's row id."""
        return self.version.id

    @property
    def document(self) -> str:
        """The document the version belongs to."""
        return self.version.document

    @property
    def number(self) -> int:
        """The version's number within its document."""
        return self.version.number

    @property
    def first_seen(self) -> str:
        """When its text was first fetched."""
        return self.version.first_seen

    @property
    def ref(self) -> str:
        """A reference that names it anywhere in the lineage: "<document>:<number>"."""
        return f"{self.document}:{self.number}"

    @property
    def stream(self) -> str:
        """Where the lineage gets it from: the source for the root's versions, the document
        for a linked document's."""
        return self.document if self.linked else (self.source or self.document)

    def to_json(self) -> dict[str, Any]:
        """The version as listed by `regwatch lineage --json`."""
        v = self.version
        return {"ref": self.ref, "document": v.document, "version": v.number, "label": self.label,
                "stream": self.stream, "linked": self.linked, "url": v.url, "final_url": v.final_url,
                "content_type": v.content_type, "first_seen": v.first_seen, "title": v.title}


def lineage_versions(db: sqlite_utils.Database, root: str, links: list[LineageLink]) -> list[LineageVersion]:
    """The versions of lineage `root` (its own and its actively linked documents') in
    publication order (see the module docstring)."""
    sources = _sources_of(db, root)
    seq = [LineageVersion(v, sources.get(v.id), v.label, False) for v in history(db, root)]
    blocks = []
    for link in links:
        if link.lineage != root or not link.active or link.document == root:
            continue
        versions = history(db, link.document)
        if versions:
            blocks.append((min(v.first_seen for v in versions), link, versions))
    for first_seen, link, versions in sorted(blocks, key=lambda b: (b[0], b[1].document)):
        linked_sources = _sources_of(db, link.document)
        items = [LineageVersion(v, linked_sources.get(v.id), v.label or link.label, True) for v in versions]
        at = _place(seq, link.before, first_seen)
        seq[at:at] = items
    return seq


def _place(seq: list[LineageVersion], before: str | None, first_seen: str) -> int:
    if before:
        wanted = before.casefold()
        for k, item in enumerate(seq):
            if wanted in ((item.label or "").casefold(), (item.source or "").casefold(), item.document.casefold()):
                return k
    return next((k for k, item in enumerate(seq) if item.first_seen > first_seen), len(seq))


def _sources_of(db: sqlite_utils.Database, document: str) -> dict[int, str]:
    rows = db.execute(
        "SELECT v.id, f.source FROM versions v JOIN fetches f ON f.id = v.fetch_id WHERE v.document = ?", (document,)
    ).fetchall()
    return dict(rows)


def pick_in_lineage(versions: list[LineageVersion], ref: str | int | None, document: str) -> LineageVersion | None:
    """The version among `versions` (in lineage order) named by `ref`, None when none is.

    `ref`: None for the latest; a negative index (-1 = latest); a number (a version of
    `document`, the document named on the command line); "<document>:<number>"; a label
    (case-insensitive; the latest with that label); a document id of the lineage (its latest
    version).
    """
    text = str(ref).strip() if ref is not None else ""
    if text.isdigit():  # a number names a version of `document`, not of a linked one
        return pick_version([v for v in versions if v.document == document], text)
    doc, sep, number = text.rpartition(":")
    if sep and number.isdigit():
        hit = next((v for v in versions if v.document == doc and v.number == int(number)), None)
        if hit is not None:
            return hit
    hit = pick_version(versions, ref)  # latest, negative index or label: the same rules as one document
    if hit is not None or ref is None:
        return hit
    by_document = [v for v in versions if v.document == text]
    return by_document[-1] if by_document else None

