"""Exporting stored changes with their hunks and obligation links, as JSON or CSV.

The changes are those of the analysts' views (docs/schema.md): between versions consecutive
in publication order, detected when the later-seen version was first seen, oldest first.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import sqlite_utils

FORMATS = ("json", "csv")

CSV_COLUMNS = [
    "change_id", "document", "from_version", "from_label", "to_version", "to_label", "detected_at",
    "change_hunks", "change_substantive", "change_editorial", "change_cosmetic", "change_max_significance",
    "hunk_id", "ordinal", "section", "kind", "classification", "significance", "reasons",
    "old_text", "new_text", "obligations", "obligation_links",
]


@dataclass(frozen=True)
class ExportFilter:
    """Which changes to export: detected at or after `since`, of `document`, and with
    `obligations` (ids, descendants included by the caller) only the hunks linked to them."""

    since: datetime | None = None
    document: str | None = None
    obligations: frozenset[str] | None = None


def iter_changes(db: sqlite_utils.Database, selection: ExportFilter) -> Iterator[dict[str, Any]]:
    """The selected changes, oldest first, each with its hunks (in document order) and each hunk
    with its obligation links (strongest first); read one change at a time."""
    sql = """SELECT t.change_id, t.document, t.previous_version, t.previous_label, t.version, t.label,
                    t.detected_at, t.hunks, t.substantive, t.editorial, t.cosmetic, t.max_significance
             FROM document_timeline t WHERE t.change_id IS NOT NULL"""
    params: list[Any] = []
    if selection.since is not None:
        sql += " AND julianday(t.detected_at) >= julianday(?)"
        params.append(selection.since.isoformat())
    if selection.document is not None:
        sql += " AND t.document = ?"
        params.append(selection.document)
    linked = ""
    if selection.obligations is not None:
        marks = ", ".join("?" for _ in selection.obligations) or "NULL"
        linked = f" AND id IN (SELECT hunk_id FROM hunk_obligations WHERE obligation IN ({marks}))"
        sql += (f" AND EXISTS (SELECT 1 FROM hunks h JOIN hunk_obligations ho ON ho.hunk_id = h.id"
                f" WHERE h.change_id = t.change_id AND ho.obligation IN ({marks}))")
        params += sorted(selection.obligations)
    keys = ("change_id", "document", "from_version", "from_label", "to_version", "to_label", "detected_at",
            "hunk_count", "substantive", "editorial", "cosmetic", "max_significance")
    # fetchall of the change rows only (small); hunks, with their texts, are read per change.
    rows = db.execute(sql + " ORDER BY t.detected_at, t.document, t.publication_order", params).fetchall()
    for row in rows:
        change = dict(zip(keys, row, strict=True))
        change["hunks"] = _hunks(db, change["change_id"], linked, sorted(selection.obligations or ()))
        yield change


def _hunks(db: sqlite_utils.Database, change_id: int, linked: str, obligations: list[str]) -> list[dict[str, Any]]:
    links: dict[int, list[dict[str, Any]]] = {}
    for hunk_id, oid, ref, title, method, confidence, reason in db.execute(
        "SELECT ho.hunk_id, ho.obligation, o.ref, o.title, ho.method, ho.confidence, ho.reason "
        "FROM hunk_obligations ho LEFT JOIN obligations o ON o.id = ho.obligation "
        "WHERE ho.hunk_id IN (SELECT id FROM hunks WHERE change_id = ?) "
        "ORDER BY ho.confidence DESC, ho.obligation", (change_id,),
    ):
        links.setdefault(hunk_id, []).append({"id": oid, "ref": ref, "title": title, "method": method,
                                              "confidence": confidence, "reason": reason})
    rows = db.execute(
        "SELECT id, ordinal, section, old_path, new_path, kind, classification, significance, reasons, flags, "
        f"old_text, new_text FROM hunks WHERE change_id = ?{linked} ORDER BY ordinal",
        [change_id, *(obligations if linked else [])],
    ).fetchall()
    return [{"hunk_id": hid, "ordinal": ordinal, "section": section, "old_path": json.loads(old_path),
             "new_path": json.loads(new_path), "kind": kind, "classification": cls, "significance": sig,
             "reasons": json.loads(reasons), "flags": json.loads(flags), "old_text": old_text,
             "new_text": new_text, "obligations": links.get(hid, [])}
            for hid, ordinal, section, old_path, new_path, kind, cls, sig, reasons, flags, old_text, new_text in rows]


def write_json(out: TextIO, changes: Iterator[dict[str, Any]]) -> int:
    """Write `changes` as one JSON list, a change at a time; the number written."""
    count = 0
    out.write("[")
    for change in changes:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(change, ensure_ascii=False, indent=2))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_csv(out: TextIO, changes: Iterator[dict[str, Any]]) -> int:
    """Write `changes` as CSV, one row per hunk (a change without hunks: one row with empty hunk
    columns), the change's columns repeated and obligations joined with ";"; the number of changes."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for change in changes:
        count += 1
        head = [change["change_id"], change["document"], change["from_version"], change["from_label"],
                change["to_version"], change["to_label"], change["detected_at"], change["hunk_count"],
                change["substantive"], change["editorial"], change["cosmetic"], change["max_significance"]]
        if not change["hunks"]:
            writer.writerow(head + [""] * (len(CSV_COLUMNS) - len(head)))
        for h in change["hunks"]:
            writer.writerow(head + [
                h["hunk_id"], h["ordinal"], h["section"], h["kind"], h["classification"], h["significance"],
                "; ".join(h["reasons"]), h["old_text"], h["new_text"],
                ";".join(link["id"] for link in h["obligations"]),
                ";".join(f"{link['id']} {link['method']} {link['confidence']:.2f}" for link in h["obligations"]),
            ])
    return count


WRITERS: dict[str, Callable[[TextIO, Iterator[dict[str, Any]]], int]] = {"json": write_json, "csv": write_csv}


def write_file_atomically(path: Path, write: Callable[[TextIO], Any]) -> Any:
    """Call `write` on a temporary file next to `path`, then rename it to `path`: on any error
    the temporary file is removed and `path` is left as it was (absent or whole). Returns what
    `write` returned."""
    path = Path(path)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, before the rename
        "w", encoding="utf-8", newline="", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False,
    )
    try:
        with handle:
            result = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # A temporary file is private (0600); the export gets the mode a plain open() would give.
        os.chmod(handle.name, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        os.replace(handle.name, path)
        return result
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
