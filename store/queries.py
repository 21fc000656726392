"""Read-only questions the CLI and analysts ask of the history database."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def last_fetches(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """The latest fetch of each source's own URL, keyed by source name."""
    rows = db.execute(
        """SELECT f.source, f.started_at, f.outcome, f.http_status, f.error, f.error_kind, f.url
           FROM fetches f JOIN (SELECT source, MAX(id) AS id FROM fetches
                                WHERE document IN (SELECT document FROM sources s WHERE s.name = fetches.source)
                                GROUP BY source) last ON last.id = f.id"""
    ).fetchall()
    keys = ("source", "started_at", "outcome", "http_status", "error", "error_kind", "url")
    return {r[0]: dict(zip(keys, r, strict=True)) for r in rows}


def version_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Number of versions per document."""
    return dict(db.execute("SELECT document, COUNT(*) FROM versions GROUP BY document").fetchall())


def documents(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every document with its version count and latest version's time, label and URL."""
    rows = db.execute(
        """SELECT d.id, d.title, d.source, d.discovered_from, d.first_seen, COUNT(v.id),
                  MAX(v.first_seen), d.url
           FROM documents d LEFT JOIN versions v ON v.document = d.id
           GROUP BY d.id ORDER BY d.id"""
    ).fetchall()
    keys = ("document", "title", "source", "discovered_from", "first_seen", "versions", "last_change", "url")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def document_ids(db: sqlite_utils.Database) -> list[str]:
    """Ids of all known documents."""
    return [r[0] for r in db.execute("SELECT id FROM documents ORDER BY id").fetchall()]


def source_config(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    """The settings a source had when it was last crawled."""
    import json

    row = db.execute("SELECT config FROM sources WHERE name = ?", (name,)).fetchone()
    return json.loads(row[0]) if row else None


def versions_with_source(db: sqlite_utils.Database) -> list[tuple]:
    """(version id, document, source name, discovered_from, declared Content-Type, sniffed
    content type) for every version."""
    return db.execute(
        """SELECT v.id, v.document, f.source, d.discovered_from, f.declared_type, v.content_type
           FROM versions v
           LEFT JOIN fetches f ON f.id = v.fetch_id JOIN documents d ON d.id = v.document
           ORDER BY v.id"""
    ).fetchall()
