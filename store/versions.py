"""Writing fetch results and reading versions: the store's one write path for crawls."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from store.blobs import get_blob, put_blob, sha256
from store.db import transaction
from store.records import FetchResult, FetchStatus


def now_iso() -> str:
    """The current UTC time in ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Recorded:
    """What `record_fetch` did: the fetch row, its outcome and the version it created (if any)."""

    fetch_id: int
    outcome: FetchStatus
    version_id: int | None
    version_number: int | None


def record_fetch(db: sqlite_utils.Database, result: FetchResult) -> Recorded:
    """Log one fetch and, when its text is new for the document, store a new version.

    All in one transaction: a crash leaves either nothing or the fetch row with its version.
    A failed fetch only adds a fetch row (never a version, never a deletion); a 304 adds a
    `not_modified` row; content whose normalised text equals the latest version fetched from
    the same URL, or any version of the document fetched from another URL, adds an
    `unchanged` row.
    """
    return record_fetches(db, [result])[0]


def record_fetches(db: sqlite_utils.Database, results: list[FetchResult]) -> list[Recorded]:
    """`record_fetch` for several results in one transaction (all or none are recorded).

    A crawl records in batches because a COMMIT per page cost a third of the store's time;
    results are recorded in order, so two versions of one document in a batch stay ordered.
    """
    with transaction(db) as conn:
        return [_record(conn, r) for r in results]


def _record(conn: sqlite3.Connection, result: FetchResult) -> Recorded:
    _ensure_document(conn, result)
    if not result.ok:
        return _insert_fetch(conn, result, "failed")
    if result.not_modified:
        return _insert_fetch(conn, result, "not_modified")
    if result.doc is None or result.body is None:
        raise ValueError("a successful fetch result must carry its body and extracted text")
    text = result.doc.to_text()
    text_bytes = text.encode("utf-8")
    text_digest = sha256(text_bytes)
    # Compared with what this URL gave last, not with the document's latest version: a draft
    # URL and a final URL of one document would otherwise make two versions on every crawl.
    same_url = conn.execute(
        "SELECT id, number, raw_sha256, text_sha256 FROM versions WHERE document = ? AND url = ? "
        "ORDER BY number DESC LIMIT 1",
        (result.document, result.url),
    ).fetchone()
    raw_digest = sha256(result.body)
    if same_url is not None and same_url[3] == text_digest:
        return _insert_fetch(conn, result, "unchanged", raw_digest=raw_digest)
    # The same text at a second address is not a new version; a URL that goes back to an
    # earlier text of its own is (that is a real change), hence only other URLs here.
    elsewhere = conn.execute(
        "SELECT 1 FROM versions WHERE document = ? AND url != ? AND text_sha256 = ? LIMIT 1",
        (result.document, result.url, text_digest),
    ).fetchone()
    if elsewhere is not None:
        return _insert_fetch(conn, result, "unchanged", raw_digest=raw_digest)
    doc_latest = conn.execute(
        "SELECT id, number, raw_sha256, text_sha256 FROM versions WHERE document = ? ORDER BY number DESC LIMIT 1",
        (result.document,),
    ).fetchone()
    # Deltas against what this URL gave last; a new URL's text is most like the document's last.
    latest = same_url or doc_latest
    put_blob(conn, result.body, base=latest[2] if latest else None)
    # A text is most like the previous text; failing that (first version, or a chain cut),
    # like its own HTML, which shares all its words: a full copy then costs a few percent.
    text_like_raw = raw_digest if not (result.content_type or "").endswith("pdf") else None
    put_blob(conn, text_bytes, base=[latest[3] if latest else None, text_like_raw])
    outline = result.doc.outline()
    previous_outline = _outline_of(conn, latest[0]) if latest else None
    outline_digest = put_blob(conn, json.dumps(outline).encode("utf-8"), base=previous_outline)
    recorded = _insert_fetch(conn, result, "new_version", raw_digest=raw_digest)
    number = (doc_latest[1] if doc_latest else 0) + 1
    title = result.title or result.doc.title
    cur = conn.execute(
        """INSERT INTO versions (document, number, label, title, url, final_url, content_type,
               first_seen, fetch_id, etag, last_modified, raw_sha256, raw_size, text_sha256,
               text_chars, outline_sha256, headings, warnings, extractor_version)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            result.document, number, result.label, title, result.url, result.final_url,
            result.content_type, result.started_at, recorded.fetch_id, result.etag,
            result.last_modified, raw_digest, len(result.body), text_digest, len(text),
            outline_digest, len(outline), json.dumps(result.doc.warnings or []),
            result.extractor_version or "",
        ),
    )
    version_id = cur.lastrowid
    conn.execute("UPDATE fetches SET version_id = ? WHERE id = ?", (version_id, recorded.fetch_id))
    if _last_in_order(conn, result.document) != version_id:
        # A draft fetched after the final: a new version, but not the document's latest.
        return Recorded(recorded.fetch_id, "new_version", version_id, number)
    conn.execute(
        "UPDATE documents SET url = ?, title = COALESCE(?, title) WHERE id = ?",
        (result.final_url or result.url, title, result.document),
    )
    conn.execute(
        "INSERT INTO latest_texts (document, version_id, title, text) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(document) DO UPDATE SET version_id = excluded.version_id, "
        "title = excluded.title, text = excluded.text",
        (result.document, version_id, title, text),
    )
    return Recorded(recorded.fetch_id, "new_version", version_id, number)


# Publication order of a document's versions: sources in config order (a draft listed before
# the final), then arrival; versions of sources without a position (not configured any more)
# come last. `v` is the versions table; a version's source is the one whose fetch made it.
POSITION_SQL = "(SELECT s.position FROM fetches f JOIN sources s ON s.name = f.source WHERE f.id = v.fetch_id)"
ORDER_SQL = f"{POSITION_SQL} IS NULL, {POSITION_SQL}, v.number"
REVERSE_ORDER_SQL = f"{POSITION_SQL} IS NULL DESC, {POSITION_SQL} DESC, v.number DESC"


def _last_in_order(conn: sqlite3.Connection, document: str) -> int | None:
    row = conn.execute(
        f"SELECT v.id FROM versions v WHERE v.document = ? ORDER BY {REVERSE_ORDER_SQL} LIMIT 1", (document,)
    ).fetchone()
    return row[0] if row else None


def _outline_of(conn: sqlite3.Connection, version_id: int) -> str | None:
    row = conn.execute("SELECT outline_sha256 FROM versions WHERE id = ?", (version_id,)).fetchone()
    return row[0] if row else None


def _ensure_document(conn: sqlite3.Connection, result: FetchResult) -> None:
    conn.execute(
        "INSERT INTO documents (id, title, url, source, discovered_from, first_seen) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
        (result.document, result.title, result.url, result.source, result.discovered_from, result.started_at),
    )


def _insert_fetch(
    conn: sqlite3.Connection, result: FetchResult, outcome: FetchStatus, raw_digest: str | None = None
) -> Recorded:
    cur = conn.execute(
        """INSERT INTO fetches (source, document, url, final_url, started_at, duration_ms, outcome,
               http_status, error, error_kind, bytes, content_type, declared_type, encoding, etag,
               last_modified, raw_sha256, redirects)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            result.source, result.document, result.url, result.final_url, result.started_at,
            result.duration_ms, outcome, result.http_status, result.error, result.error_kind,
            len(result.body) if result.body is not None else None, result.content_type,
            result.declared_type, result.encoding, result.etag, result.last_modified, raw_digest,
            json.dumps(result.redirects) if result.redirects else None,
        ),
    )
    return Recorded(cur.lastrowid, outcome, None, None)


def validators_for(db: sqlite_utils.Database, url: str) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) to send with a conditional GET of `url`.

    Taken from the last fetch of that URL that delivered content which was stored; a failed
    fetch must not make the next request conditional on content we never kept.
    """
    row = db.execute(
        "SELECT etag, last_modified FROM fetches WHERE url = ? AND outcome IN "
        "('new_version', 'unchanged', 'not_modified') AND (etag IS NOT NULL OR last_modified IS NOT NULL) "
        "ORDER BY id DESC LIMIT 1",
        (url,),
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


@dataclass(frozen=True)
class VersionRow:
    """One stored version's metadata."""

    id: int
    document: str
    number: int
    label: str | None
    title: str | None
    url: str
    final_url: str | None
    content_type: str
    first_seen: str
    raw_sha256: str
    text_sha256: str
    text_chars: int
    raw_size: int
    extractor_version: str
    outline: list[dict]


_VERSION_COLS = (
    "id, document, number, label, title, url, final_url, content_type, first_seen, raw_sha256, "
    "text_sha256, text_chars, raw_size, extractor_version, outline_sha256"
)


def _row(conn: sqlite3.Connection, r: tuple) -> VersionRow:
    return VersionRow(*r[:-1], outline=json.loads(get_blob(conn, r[-1])))


def history(db: sqlite_utils.Database, document: str) -> list[VersionRow]:
    """Versions of `document` in publication order: by the config order of the sources that
    fetched them (a draft source listed before the final one), then by number (arrival)."""
    rows = db.execute(
        f"SELECT {_VERSION_COLS} FROM versions v WHERE v.document = ? ORDER BY {ORDER_SQL}", (document,)
    ).fetchall()
    return [_row(db.conn, r) for r in rows]


def find_version(db: sqlite_utils.Database, document: str, ref: str | int | None = None) -> VersionRow | None:
    """The version of `document` named by `ref` (see `pick_version`)."""
    return pick_version(history(db, document), ref)


def pick_version(versions: list[VersionRow], ref: str | int | None = None) -> VersionRow | None:
    """The version among `versions` (in publication order, as `history` gives them) named by
    `ref`: a number, a negative index (-1 = latest), a label (case-insensitive, the latest
    with that label), or None for the latest."""
    if not versions:
        return None
    if ref is None:
        return versions[-1]
    ref_s = str(ref).strip()
    if ref_s.lstrip("-").isdigit():
        n = int(ref_s)
        if n < 0:
            return versions[n] if -n <= len(versions) else None
        return next((v for v in versions if v.number == n), None)
    matches = [v for v in versions if (v.label or "").casefold() == ref_s.casefold()]
    return matches[-1] if matches else None


def version_as_of(versions: list[VersionRow], at: datetime) -> VersionRow | None:
    """The version current at `at` (aware) among `versions` (in publication order, as `history`
    gives them): the last in publication order among those first seen at or before `at` — the
    one regwatch showed as the latest then. None when none had been seen yet."""
    seen = [v for v in versions if _utc(v.first_seen) <= at]
    return seen[-1] if seen else None


def _utc(stored: str) -> datetime:
    moment = datetime.fromisoformat(stored)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def version_text(db: sqlite_utils.Database, version_id: int) -> str:
    """The extracted, normalised text of a version."""
    return version_text_sql(db.conn, version_id)


def version_text_sql(conn: sqlite3.Connection, version_id: int | None) -> str | None:
    """`version_text(id)` as registered for SQL: None for an unknown version."""
    if version_id is None:
        return None
    row = conn.execute("SELECT text_sha256 FROM versions WHERE id = ?", (version_id,)).fetchone()
    return get_blob(conn, row[0]).decode("utf-8") if row else None


def version_raw(db: sqlite_utils.Database, version_id: int) -> bytes:
    """The raw bytes fetched for a version."""
    row = db.execute("SELECT raw_sha256 FROM versions WHERE id = ?", (version_id,)).fetchone()
    if row is None:
        raise KeyError(f"no version {version_id}")
    return get_blob(db.conn, row[0])


def replace_version_text(
    db: sqlite_utils.Database, version_id: int, text: str, outline: list[dict], extractor_version: str,
    warnings: list[str] | None = None,
) -> bool:
    """Replace a version's extracted text (after re-extraction); True when the text changed."""
    text_bytes = text.encode("utf-8")
    digest = sha256(text_bytes)
    with transaction(db) as conn:
        row = conn.execute("SELECT document, text_sha256 FROM versions WHERE id = ?", (version_id,)).fetchone()
        if row is None:
            raise KeyError(f"no version {version_id}")
        document, old = row
        changed = old != digest
        if changed:
            put_blob(conn, text_bytes, base=old)
        outline_digest = put_blob(conn, json.dumps(outline).encode("utf-8"))
        conn.execute(
            "UPDATE versions SET text_sha256 = ?, text_chars = ?, outline_sha256 = ?, headings = ?, "
            "warnings = ?, extractor_version = ? WHERE id = ?",
            (digest, len(text), outline_digest, len(outline), json.dumps(warnings or []), extractor_version, version_id),
        )
        conn.execute("UPDATE latest_texts SET text = ? WHERE version_id = ? AND text != ?", (text, version_id, text))
        return changed


def upsert_source(db: sqlite_utils.Database, name: str, url: str, document: str, kind: str,
                  label: str | None, config: dict, position: int | None = None) -> None:
    """Record a configured source (its settings as JSON) so history outlives config edits;
    `position` is its index in config.yaml, the publication order of a document's versions
    (None keeps the stored one)."""
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO sources (name, url, document, kind, label, config, updated_at, position) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET url = excluded.url, "
            "document = excluded.document, kind = excluded.kind, label = excluded.label, "
            "config = excluded.config, updated_at = excluded.updated_at, "
            "position = COALESCE(excluded.position, position)",
            (name, url, document, kind, label, json.dumps(config, sort_keys=True), now_iso(), position),
        )
