"""Storing and reading changes (diffs between consecutive versions) and their hunks."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlite_utils

from store.db import transaction
from store.records import Change, Route
from store.versions import ORDER_SQL, now_iso


def save_change(
    db: sqlite_utils.Database, document: str, from_version: int, to_version: int, change: Change,
    engine_version: str, alerts: list[Route] | None = None,
) -> int:
    """Store (or replace) the change between two versions with its hunks, and in the same
    transaction its `alerts` in the outbox; returns its id.

    An alert is keyed by version pair x subscription x channel, so recomputing a change never
    queues a second alert for it, and alerts already queued follow the recomputed change."""
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
        ids = dict(conn.execute("SELECT ordinal, id FROM hunks WHERE change_id = ?", (change_id,)).fetchall())
        conn.executemany(
            "INSERT INTO hunk_obligations (hunk_id, obligation, method, confidence, reason) VALUES (?, ?, ?, ?, ?)",
            [
                (ids[k], link["id"], link["method"], link["confidence"], link["reason"])
                for k, h in enumerate(change.hunks)
                for link in h.obligations
            ],
        )
        # Alerts of an earlier computation of this pair (their change row was replaced).
        conn.execute("UPDATE alerts SET change_id = ? WHERE from_version = ? AND to_version = ?",
                     (change_id, from_version, to_version))
        created = now_iso()
        conn.executemany(
            "INSERT OR IGNORE INTO alerts (change_id, from_version, to_version, subscription, channel, digest_at,"
            " dedup_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(change_id, from_version, to_version, r.subscription, r.channel, r.digest_at,
              alert_key(from_version, to_version, r.subscription, r.channel), created)
             for r in alerts or []],
        )
        return change_id


def alert_key(from_version: int, to_version: int, subscription: str, channel: str) -> str:
    """The outbox's dedup key of one change x subscription x channel."""
    raw = json.dumps([from_version, to_version, subscription, channel])
    return hashlib.sha256(raw.encode()).hexdigest()


def change_summary(db: sqlite_utils.Database, change_id: int) -> dict[str, Any] | None:
    """One stored change with its versions' numbers and labels, or None."""
    row = db.execute(
        """SELECT c.id, c.document, pv.number, pv.label, nv.number, nv.label, nv.first_seen,
                  c.hunks, c.substantive, c.editorial, c.cosmetic, c.max_significance
           FROM changes c JOIN versions pv ON pv.id = c.from_version JOIN versions nv ON nv.id = c.to_version
           WHERE c.id = ?""", (change_id,),
    ).fetchone()
    if row is None:
        return None
    keys = ("id", "document", "from_version", "from_label", "to_version", "to_label", "detected_at",
            "hunks", "substantive", "editorial", "cosmetic", "max_significance")
    return dict(zip(keys, row, strict=True))


def change_hunks(db: sqlite_utils.Database, change_id: int) -> list[dict[str, Any]]:
    """Every hunk of a stored change in document order, with its word edits and obligation links."""
    rows = db.execute(
        "SELECT id, kind, classification, significance, section, old_path, new_path, edits, reasons "
        "FROM hunks WHERE change_id = ? ORDER BY ordinal", (change_id,),
    ).fetchall()
    return [{"kind": k, "classification": c, "significance": s, "section": sec, "old_path": json.loads(op),
             "new_path": json.loads(np), "edits": json.loads(e), "reasons": json.loads(r),
             "obligations": hunk_links(db, hid)}
            for hid, k, c, s, sec, op, np, e, r in rows]


def obligation_titles(db: sqlite_utils.Database, ids: list[str]) -> dict[str, str]:
    """Reference and title of stored obligations, by id."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = db.execute(f"SELECT id, ref, title FROM obligations WHERE id IN ({marks})", ids).fetchall()
    return {oid: f"{ref}: {title}" if ref else title for oid, ref, title in rows}


def delete_changes(db: sqlite_utils.Database) -> None:
    """Forget every stored change (and its hunks), before recomputing them all."""
    with transaction(db) as conn:
        conn.execute("DELETE FROM hunks")
        conn.execute("DELETE FROM changes")


def pending_pairs(db: sqlite_utils.Database, document: str | None = None) -> list[tuple[str, int, int]]:
    """(document, previous version id, version id) for consecutive versions in publication
    order (`store.versions.history`) with no stored change yet. A draft fetched after the
    final yields draft -> final, never final -> draft."""
    where, params = ("WHERE v.document = ?", (document,)) if document else ("", ())
    # Qualified names: inside the subquery a bare `id` is the change's own id, not the version's.
    sql = f"""WITH ordered AS (
                  SELECT v.document, v.id AS version_id,
                         LAG(v.id) OVER (PARTITION BY v.document ORDER BY {ORDER_SQL}) AS prev
                  FROM versions v {where})
              SELECT o.document, o.prev, o.version_id FROM ordered o
              WHERE o.prev IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM changes c
                                WHERE c.from_version = o.prev AND c.to_version = o.version_id)"""
    return db.execute(sql + " ORDER BY o.version_id", params).fetchall()


def list_changes(
    db: sqlite_utils.Database, *, since: str | None = None, document: str | None = None,
    obligations: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Stored changes, newest first, with their versions' numbers, labels and times; with
    `obligations`, only changes with a hunk linked to one of those ids."""
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
    if obligations is not None:
        marks = ", ".join("?" for _ in obligations) or "NULL"
        sql += (f" AND EXISTS (SELECT 1 FROM hunks h JOIN hunk_obligations ho ON ho.hunk_id = h.id"
                f" WHERE h.change_id = c.id AND ho.obligation IN ({marks}))")
        params += obligations
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
    """The most significant hunks of a stored change, with the obligations each touches."""
    rows = db.execute(
        "SELECT id, kind, classification, significance, section, reasons FROM hunks WHERE change_id = ? "
        "ORDER BY significance DESC, ordinal LIMIT ?",
        (change_id, limit),
    ).fetchall()
    return [{"kind": k, "classification": c, "significance": s, "section": sec, "reasons": json.loads(r),
             "obligations": hunk_links(db, hid)}
            for hid, k, c, s, sec, r in rows]


def hunk_links(db: sqlite_utils.Database, hunk_id: int) -> list[dict[str, Any]]:
    """The obligations a stored hunk is linked to, strongest first."""
    rows = db.execute(
        "SELECT obligation, method, confidence, reason FROM hunk_obligations WHERE hunk_id = ? "
        "ORDER BY confidence DESC, obligation", (hunk_id,),
    ).fetchall()
    return [{"id": o, "method": m, "confidence": c, "reason": r} for o, m, c, r in rows]


def obligation_change_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Per obligation id: the number of stored changes with a hunk linked to it directly."""
    rows = db.execute(
        "SELECT ho.obligation, h.change_id FROM hunk_obligations ho JOIN hunks h ON h.id = ho.hunk_id"
    ).fetchall()
    out: dict[str, set[int]] = {}
    for oid, cid in rows:
        out.setdefault(oid, set()).add(cid)
    return {oid: len(cids) for oid, cids in out.items()}


def obligation_hunks(db: sqlite_utils.Database, obligations: list[str], limit: int = 20) -> list[dict[str, Any]]:
    """The latest stored hunks linked to any of `obligations`, newest change first."""
    if not obligations:
        return []
    marks = ", ".join("?" for _ in obligations)
    rows = db.execute(
        f"""SELECT h.id, c.id, c.document, pv.number, pv.label, nv.number, nv.label, nv.first_seen,
                   h.kind, h.classification, h.significance, h.section, h.reasons,
                   ho.obligation, ho.method, ho.confidence, ho.reason
            FROM hunk_obligations ho JOIN hunks h ON h.id = ho.hunk_id JOIN changes c ON c.id = h.change_id
            JOIN versions pv ON pv.id = c.from_version JOIN versions nv ON nv.id = c.to_version
            WHERE ho.obligation IN ({marks})
            ORDER BY nv.first_seen DESC, c.id DESC, h.significance DESC, h.ordinal LIMIT ?""",
        (*obligations, limit),
    ).fetchall()
    keys = ("hunk_id", "change_id", "document", "from_version", "from_label", "to_version", "to_label",
            "detected_at", "kind", "classification", "significance", "section", "reasons",
            "obligation", "method", "confidence", "reason")
    out = []
    for r in rows:
        row = dict(zip(keys, r, strict=True))
        row["reasons"] = json.loads(row["reasons"])
        out.append(row)
    return out


def sync_obligations(db: sqlite_utils.Database, version: str, rows: list[dict[str, Any]]) -> bool:
    """Make the `obligations` table a copy of the catalog `version` (rows: id, title, source,
    kind, ref, parent, applies_to, serves, data); False when it already was."""
    current = db.execute("SELECT DISTINCT catalog_version FROM obligations").fetchall()
    if current == [(version,)]:
        return False
    with transaction(db) as conn:
        conn.execute("DELETE FROM obligations")
        conn.executemany(
            "INSERT INTO obligations (id, title, source, kind, ref, parent, applies_to, serves, catalog_version, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r["id"], r["title"], r["source"], r["kind"], r["ref"], r.get("parent"),
              json.dumps(r.get("applies_to", [])), json.dumps(r.get("serves", [])), version,
              json.dumps(r, default=str)) for r in rows],
        )
    return True
