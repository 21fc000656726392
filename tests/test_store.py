"""The versioned store: one write path, dedup, deltas, failures never become versions."""

from __future__ import annotations

import os
import sqlite3

import pytest
import sqlite_utils

from store.blobs import MAX_DEPTH, get_blob, put_blob
from store.db import StoreError, open_db
from store.migrations import MIGRATIONS, schema_version
from store.records import Block, DocText, FetchResult, parse_text
from store.versions import (
    find_version,
    history,
    record_fetch,
    validators_for,
    version_raw,
    version_text,
)


def ok(document: str = "doc", text: str = "Hello.", body: bytes = b"<p>Hello.</p>", **kw) -> FetchResult:
    return FetchResult(
        source="src", document=document, url="http://127.0.0.1/doc", started_at="2026-01-01T00:00:00+00:00",
        body=body, doc=DocText([Block("heading", "Article 1 — Scope", level=3, number="Article 1", title="Scope"),
                               Block("paragraph", text)]),
        content_type="text/html", extractor_version="1", **kw,
    )


def failed(document: str = "doc", **kw) -> FetchResult:
    return FetchResult(source="src", document=document, url="http://127.0.0.1/doc",
                       started_at="2026-01-01T00:00:00+00:00", error="HTTP 500", error_kind="http", **kw)


@pytest.fixture
def db(tmp_path):
    d = open_db(tmp_path / "h.db")
    yield d
    d.close()


def test_versions_are_created_only_for_new_text(db):
    assert record_fetch(db, ok()).outcome == "new_version"
    # Same text from different bytes (markup changed): only a fetch row.
    assert record_fetch(db, ok(body=b"<div><p>Hello.</p></div>")).outcome == "unchanged"
    second = record_fetch(db, ok(text="Hello, world."))
    assert (second.outcome, second.version_number) == ("new_version", 2)
    # A revert to the first text is a change too: a third version, not a lookup of the first.
    assert record_fetch(db, ok()).version_number == 3
    assert [v.number for v in history(db, "doc")] == [1, 2, 3]
    assert version_text(db, history(db, "doc")[1].id).endswith("Hello, world.\n")
    assert db.execute("SELECT COUNT(*) FROM fetches").fetchone()[0] == 4


def test_failures_and_304_never_create_versions_or_deletions(db):
    record_fetch(db, ok(etag='"v1"'))
    assert record_fetch(db, failed()).outcome == "failed"
    nm = ok(etag='"v1"')
    nm.body, nm.doc, nm.not_modified = None, None, True
    assert record_fetch(db, nm).outcome == "not_modified"
    assert len(history(db, "doc")) == 1
    latest = find_version(db, "doc")
    assert "Hello." in version_text(db, latest.id)  # the last good text is still the latest
    # The failed fetch carries no validators, so the next request stays conditional on v1.
    assert validators_for(db, "http://127.0.0.1/doc") == ('"v1"', None)


def test_failed_fetch_of_a_new_document_keeps_it_without_versions(db):
    record_fetch(db, failed(document="new"))
    assert history(db, "new") == []
    assert db.execute("SELECT outcome, error FROM fetches").fetchall() == [("failed", "HTTP 500")]


def test_crash_inside_the_transaction_leaves_nothing_half_written(db):
    record_fetch(db, ok())
    blobs_before = db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0]
    db.execute("CREATE TRIGGER boom BEFORE INSERT ON versions BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.IntegrityError):
        record_fetch(db, ok(text="Changed text.", body=b"<p>Changed text.</p>"))
    assert db.execute("SELECT COUNT(*) FROM fetches").fetchone()[0] == 1
    # The new raw and text blobs were written before the failing insert: rolled back too.
    assert db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == blobs_before
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_blob_delta_chains_round_trip_and_are_small(db):
    base = os.urandom(200_000)
    digests = []
    prev = None
    versions = []
    for i in range(MAX_DEPTH + 4):
        data = base[: 1000 * i] + b"edit %d" % i + base[1000 * i :]
        versions.append(data)
        with db.conn:
            prev = put_blob(db.conn, data, base=prev)
        digests.append(prev)
    rows = db.execute("SELECT codec, depth, length(data) FROM blobs ORDER BY rowid").fetchall()
    assert rows[0][0] == "zstd" and rows[1][0] == "zstd-delta"
    assert max(r[1] for r in rows) < MAX_DEPTH  # chains are cut by a full copy
    assert rows[1][2] < 2_000  # a delta of a small edit is tiny even for random content
    for data, digest in zip(versions, digests, strict=True):
        assert get_blob(db.conn, digest) == data


def test_raw_bytes_are_kept_and_readable(db):
    r = record_fetch(db, ok(body=b"%PDF-1.4 raw"))
    assert version_raw(db, r.version_id) == b"%PDF-1.4 raw"


def test_find_version_by_number_label_and_negative_index(db):
    record_fetch(db, ok(label="Third draft"))
    record_fetch(db, ok(text="Final text.", label="Final"))
    assert find_version(db, "doc", "final").number == 2
    assert find_version(db, "doc", "Third draft").number == 1
    assert find_version(db, "doc", "-2").number == 1
    assert find_version(db, "doc", 3) is None
    assert find_version(db, "doc", "nope") is None


def test_full_text_search_over_latest_text(db):
    record_fetch(db, ok(text="Serious incidents are reported within two weeks."))
    record_fetch(db, ok(document="other", text="Copyright policy."))
    hits = db.execute(
        "SELECT l.document FROM latest_texts_fts f JOIN latest_texts l ON l.rowid = f.rowid "
        "WHERE latest_texts_fts MATCH 'incident'"
    ).fetchall()
    assert hits == [("doc",)]  # porter stemming: "incident" finds "incidents"


def test_version_text_sql_function_for_analysts(db):
    r = record_fetch(db, ok())
    assert db.execute("SELECT version_text(?)", (r.version_id,)).fetchone()[0].startswith("### Article 1")


def test_migrations_are_idempotent_and_recorded(tmp_path):
    open_db(tmp_path / "m.db").close()
    db = open_db(tmp_path / "m.db")
    assert schema_version(db) == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_readonly_refuses_writes_and_missing_files(tmp_path):
    open_db(tmp_path / "r.db").close()
    ro = open_db(tmp_path / "r.db", readonly=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.execute("DELETE FROM versions")
    with pytest.raises(StoreError, match="does not exist"):
        open_db(tmp_path / "missing.db", readonly=True)


def test_readonly_open_of_an_older_database_brings_its_schema_up_to_date(tmp_path):
    """A database last written by an older regwatch (two migrations applied) still answers the
    read-only commands, which query tables added since."""
    from store.migrations import m001_initial, m002_changes

    path = tmp_path / "old.db"
    old = sqlite3.connect(path, isolation_level=None)
    db = sqlite_utils.Database(old)
    for number, step in enumerate((m001_initial, m002_changes), start=1):
        step(db)
        old.execute(f"PRAGMA user_version = {number}")
    old.close()
    ro = open_db(path, readonly=True)
    assert schema_version(ro) == len(MIGRATIONS)
    assert ro.execute("SELECT COUNT(*) FROM hunk_obligations").fetchone() == (0,)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.execute("DELETE FROM versions")


def test_text_model_round_trips_through_its_serialisation():
    doc = DocText([
        Block("heading", "Commitment II.1. Safety and Security Framework", level=3,
              number="Commitment II.1", title="Safety and Security Framework"),
        Block("paragraph", "Signatories commit to:"),
        Block("list_item", "adopting a Framework;", marker="(a)"),
        Block("list_item", "nested point", level=1, marker="-"),
        Block("table", rows=(("Term", "Days"), ("Report", "2 | 5"))),
        Block("footnote", "See Article 55(1).", marker="3"),
    ])
    parsed = parse_text(doc.to_text())
    assert parsed.blocks == doc.blocks


def test_pending_pairs_are_the_consecutive_pairs_without_a_change(tmp_path):
    """Each pair of versions consecutive in publication order is diffed once: a crawl does not
    recompute stored changes, and a pair is not skipped because some change's id happens to
    equal its newer version's id."""
    from analyst_data import build

    from store.changes import pending_pairs
    from tracker.pipeline import update_changes

    built = build(tmp_path)
    db = open_db(built.database)
    pairs = db.execute("SELECT id, from_version, to_version FROM changes ORDER BY id").fetchall()
    # 2 -> 1 was computed before version 3 arrived between them; then 3 -> 1 and 2 -> 3.
    assert sorted((f, t) for _id, f, t in pairs) == [(1, 5), (2, 1), (2, 3), (3, 1)]
    assert pending_pairs(db) == []
    assert update_changes(db) == []
    assert db.execute("SELECT id, from_version, to_version FROM changes ORDER BY id").fetchall() == pairs
    db.close()
