"""Storing and reading changes (diffs between consecutive versions) and their hunks."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from store.db import transaction
from store.records import Change
from store.versions import now_iso


def save_change(
    db: sqlite_utils.Database, document: str, from_version: int, to_version: int, change: Change,
    engine_version: str,
) -> int:
    """Store (or replace) the change between two versions with its hunks; returns its id."""
    stats = change.stats
    with transaction(db) as conn:
        conn.execute("DELETE FROM changes WHERE from_version = ? AND to_version = ?", (from_version, to_version))
        cur = conn.execute(
            """INSERT INTO changes (document, from_version, to_version, created_at, engine_version,
                   hunks, substantive, editorial, cosmetic, max_significance, stats, sections)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                document, from_version, to_version, now_iso(), engine_version, len(change.hunks),
                stats["classes"]["substantive"], stats["classes"]["editorial"], stats["classes"]["cosmetic"],
                max((h.significance for h in change.hunks), default=0.0), json.dumps(stats),
                json.dumps(change.to_json()["sections"]),
            ),
        )
        change_id = cur.lastrowid
        conn.executemany(
            """INSERT INTO hunks (change_id, ordinal, kind, classification, significance, section,
                   old_path, new_path, old_text, new_text, edits, flags, reasons, significance_parts)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    change_id, k, h.kind, h.classification, h.significance,
                    (h.new_path or h.old_path or [None])[-1], json.dumps(h.old_path), json.dumps(h.new_path),
                    h.old_text, h.new_text, json.dumps(h.edits), json.dumps(h.flags), json.dumps(h.reasons),
                    json.dumps(h.significance_parts),
                )
                for k, h in enumerate(change.hunks)
            ],
        )
        return change_id


def delete_changes(db: sqlite_utils.Database) -> None:
    """Forget every stored change (and its hunks), before recomputing them all."""
    with transaction(db) as conn:
        conn.execute("DELETE FROM hunks")
        conn.execute("DELETE FROM changes")


def pending_pairs(db: sqlite_utils.Database, document: str | None = None) -> list[tuple[str, int, int]]:
    """(document, previous version id, version id) for versions with no stored change yet."""
    sql = """SELECT v.document, p.id, v.id FROM versions v
             JOIN versions p ON p.document = v.document AND p.number = v.number - 1
             WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.from_version = p.id AND c.to_version = v.id)"""
    params: tuple = ()
    if document:
        sql += " AND v.document = ?"
        params = (document,)
    return db.execute(sql + " ORDER BY v.id", params).fetchall()


def list_changes(
    db: sqlite_utils.Database, *, since: str | None = None, document: str | None = None,
) -> list[dict[str, Any]]:
    """Stored changes, newest first, with their versions' numbers, labels and times."""
    sql = """SELECT c.id, c.document, pv.number, pv.label, nv.number, nv.label, nv.first_seen,
                    c.hunks, c.substantive, c.editorial, c.cosmetic, c.max_significance, c.stats
             FROM changes c JOIN versions pv ON pv.id = c.from_version JOIN versions nv ON nv.id = c.to_version
             WHERE 1 = 1"""
    params: list[Any] = []
    if since:
        sql += " AND nv.first_seen >= ?"
        params.append(since)
    if document:
        sql += " AND c.document = ?"
        params.append(document)
    rows = db.execute(sql + " ORDER BY nv.first_seen DESC, c.id DESC", params).fetchall()
    keys = ("id", "document", "from_version", "from_label", "to_version", "to_label", "detected_at",
            "hunks", "substantive", "editorial", "cosmetic", "max_significance", "stats")
    out = []
    for r in rows:
        row = dict(zip(keys, r, strict=True))
        row["stats"] = json.loads(row["stats"])
        out.append(row)
    return out


def top_hunks(db: sqlite_utils.Database, change_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """The most significant hunks of a stored change."""
    rows = db.execute(
        "SELECT kind, classification, significance, section, reasons FROM hunks WHERE change_id = ? "
        "ORDER BY significance DESC, ordinal LIMIT ?",
        (change_id, limit),
    ).fetchall()
    return [{"kind": k, "classification": c, "significance": s, "section": sec, "reasons": json.loads(r)}
            for k, c, s, sec, r in rows]
