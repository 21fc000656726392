"""`regwatch query SQL`: read-only by four guards, one statement, rows streamed in three
formats, and no "database is locked" while another process writes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import regwatch

from store.query_sql import QueryRefused, ReadOnlyDatabase, single_statement


@pytest.fixture
def history(analyst_db, tmp_path) -> Path:
    """A private copy of the analysts' database (config and file) that a test may try to write."""
    shutil.copy(analyst_db.database, tmp_path / "history.db")
    shutil.copy(analyst_db.config, tmp_path / "config.yaml")
    return tmp_path / "config.yaml"


def fingerprint(db_path: Path) -> tuple:
    """The bytes of the database and its WAL, and the row count of every table and view."""
    digest = hashlib.sha256()
    for path in (db_path, db_path.with_name(db_path.name + "-wal")):
        if path.exists():
            digest.update(path.read_bytes())
    conn = sqlite3.connect(db_path)
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")]
    counts = {n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    return digest.hexdigest(), counts, version


WRITES = [
    "DELETE FROM versions",
    "UPDATE versions SET label = 'x'",
    "INSERT INTO documents (id, first_seen) VALUES ('x', 'y')",
    "REPLACE INTO documents (id, first_seen) VALUES ('act', 'y')",
    "DROP TABLE versions",
    "DROP VIEW latest_versions",
    "CREATE TABLE t (a)",
    "CREATE TEMP TABLE t AS SELECT 1",
    "ALTER TABLE versions ADD COLUMN x",
    "ATTACH DATABASE '{tmp}/other.db' AS other",
    "VACUUM INTO '{tmp}/copy.db'",
    "PRAGMA user_version = 99",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA query_only = OFF",
    "BEGIN IMMEDIATE",
    "ANALYZE",
    "REINDEX",
    "SELECT 1; DELETE FROM versions",
    "SELECT ';'; -- a comment\nDELETE FROM versions",
    "SELECT * FROM versions; ATTACH '{tmp}/other.db' AS other",
    "WITH x AS (SELECT 1) DELETE FROM versions",
    "WITH x AS (SELECT 1) UPDATE versions SET label = 'x'",
    "WITH x AS (SELECT 1) INSERT INTO documents (id, first_seen) SELECT 'x', 'y' FROM x",
    "/* SELECT */ DELETE FROM versions",
]


@pytest.mark.parametrize("sql", WRITES)
def test_writes_are_refused_and_the_database_is_unchanged(history, sql):
    tmp = history.parent
    database = tmp / "history.db"
    before = fingerprint(database)
    res = regwatch(history, "query", sql.format(tmp=tmp))
    assert res.exit_code == 2, res.output
    assert "refused" in res.stderr
    assert res.stdout == ""
    assert fingerprint(database) == before
    assert not (tmp / "other.db").exists() and not (tmp / "copy.db").exists()


def test_each_guard_refuses_writes_on_its_own(history):
    """The authorizer, query_only and mode=ro each refuse a write the others let through."""
    database = history.parent / "history.db"
    before = fingerprint(database)
    with ReadOnlyDatabase(database) as db:
        # The statement check is bypassed: the authorizer says no.
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            db.conn.execute("DELETE FROM versions")
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            db.conn.execute("ATTACH DATABASE ? AS other", (str(history.parent / "other.db"),))
        assert db.conn.execute("PRAGMA query_only").fetchone() == (1,)
        db.conn.set_authorizer(None)
        # Without the authorizer, query_only (and under it mode=ro) still refuse.
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.conn.execute("DELETE FROM versions")
    with ReadOnlyDatabase(database) as db:
        db.conn.set_authorizer(None)
        db.conn.execute("PRAGMA query_only = OFF")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):  # mode=ro
            db.conn.execute("DELETE FROM versions")
    assert fingerprint(database) == before
    assert not (history.parent / "other.db").exists()


def test_messages_say_what_was_refused(history):
    res = regwatch(history, "query", "WITH x AS (SELECT 1) DELETE FROM versions")
    assert "would DELETE rows of versions" in res.stderr
    res = regwatch(history, "query", "PRAGMA user_version = 99")
    assert "PRAGMA user_version" in res.stderr
    res = regwatch(history, "query", "SELECT 1; SELECT 2")
    assert "one SQL statement at a time" in res.stderr
    res = regwatch(history, "query", "VACUUM")
    assert "VACUUM is not a reading statement" in res.stderr
    res = regwatch(history, "query", "SELECT * FROM nope")
    assert res.exit_code == 2 and "SQL error: no such table: nope" in res.stderr
    res = regwatch(history, "query", "  -- nothing\n")
    assert res.exit_code == 2 and "no SQL statement" in res.stderr


@pytest.mark.parametrize(("sql", "statement"), [
    ("SELECT ';' AS semi;", "SELECT ';' AS semi"),
    ("SELECT 1 -- trailing ; comment\n;  /* done */ ", "SELECT 1 -- trailing ; comment\n"),
    ('SELECT "a;b" FROM [c;d]', 'SELECT "a;b" FROM [c;d]'),
    ("SELECT 'it''s; fine'", "SELECT 'it''s; fine'"),
    ("/* x */ WITH a AS (SELECT 1) SELECT * FROM a", "/* x */ WITH a AS (SELECT 1) SELECT * FROM a"),
])
def test_one_statement_with_semicolons_in_strings_and_comments(sql, statement):
    assert single_statement(sql) == statement


def test_single_statement_refuses_two():
    for sql in ("SELECT 1; SELECT 2", "SELECT 'a'';'; DELETE FROM x", "SELECT 1 /* ; */; PRAGMA x"):
        with pytest.raises(QueryRefused):
            single_statement(sql)


def test_reading_statements_views_functions_and_pragmas_work(history):
    res = regwatch(history, "query", "--json", "SELECT document, version, label FROM latest_versions")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [{"document": "act", "version": 4, "label": "Final"},
                                      {"document": "faq", "version": 1, "label": None}]
    res = regwatch(history, "query", "--json", "SELECT l.document FROM latest_texts_fts "
                   "JOIN latest_texts l ON l.rowid = latest_texts_fts.rowid WHERE latest_texts_fts MATCH 'sign'")
    assert json.loads(res.stdout) == [{"document": "faq"}]
    res = regwatch(history, "query", "--json", "SELECT substr(version_text(version_id), 1, 9) AS head "
                   "FROM latest_versions WHERE document = 'faq'")
    assert json.loads(res.stdout) == [{"head": "# Questio"}]
    res = regwatch(history, "query", "--format", "csv", "PRAGMA table_info(versions)")
    assert res.exit_code == 0 and res.stdout.startswith("cid,name,type,notnull,dflt_value,pk\n0,id,INTEGER")
    res = regwatch(history, "query", "--json", "SELECT name FROM pragma_table_info('tracking') LIMIT 1")
    assert json.loads(res.stdout) == [{"name": "source"}]
    res = regwatch(history, "query", "--json", "PRAGMA user_version")
    assert json.loads(res.stdout)[0]["user_version"] >= 7


def test_formats_headers_params_and_stdin(history):
    sql = "SELECT version, label, first_seen FROM document_timeline WHERE document = :doc"
    res = regwatch(history, "query", "--format", "csv", "-p", "doc=act", sql)
    assert res.exit_code == 0, res.output
    parsed = list(csv.reader(io.StringIO(res.stdout)))
    conn = sqlite3.connect(history.parent / "history.db")
    expected = conn.execute(sql, {"doc": "act"}).fetchall()
    assert parsed[0] == ["version", "label", "first_seen"]
    assert parsed[1:] == [[str(v), label or "", seen] for v, label, seen in expected]
    as_json = regwatch(history, "query", "--json", "-p", "doc=act", sql).stdout
    assert as_json == regwatch(history, "query", "--format", "json", "--param", ":doc=act", sql).stdout
    assert [tuple(r.values()) for r in json.loads(as_json)] == expected
    table = regwatch(history, "query", "-p", "doc=act", sql)
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["version", "label", "first_seen"]
    assert set(lines[1]) <= {"-", " "}
    assert len(lines) == 2 + len(expected) and "Second draft" in table.stdout
    assert table.stderr.strip() == f"{len(expected)} rows"
    # The statement from stdin.
    from click.testing import CliRunner

    from tracker.cli import cli
    res = CliRunner().invoke(cli, ["--config", str(history), "query", "--json", "-"],
                             input="SELECT COUNT(*) AS n FROM versions;\n")
    assert json.loads(res.stdout) == [{"n": 5}]
    # Usage errors.
    assert regwatch(history, "query", "--json", "--format", "csv", "SELECT 1").exit_code == 2
    assert regwatch(history, "query", "-p", "novalue", "SELECT 1").exit_code == 2
    res = regwatch(history, "query", "SELECT :missing")
    assert res.exit_code == 2 and "SQL error" in res.stderr


def test_values_that_json_and_tables_cannot_show_plainly(history):
    sql = ("SELECT 1 AS id, 2 AS id, x'00ff' AS raw, NULL AS empty, 0.5 AS half, "
           "'line one\nline two ' || printf('%.80c', 'x') AS long")
    (row,) = json.loads(regwatch(history, "query", "--json", sql).stdout)
    assert row["id"] == 1 and row["id_2"] == 2
    assert row["raw"] == {"$base64": True, "encoded": "AP8="}
    assert row["empty"] is None and row["half"] == 0.5
    table = regwatch(history, "query", sql).stdout.splitlines()
    assert len(table) == 3  # header, rule, one row: the newline in a cell does not break the line
    assert "<2 bytes>" in table[2] and "line one line two" in table[2] and table[2].endswith("…")
    (header, values) = list(csv.reader(io.StringIO(regwatch(history, "query", "--format", "csv", sql).stdout)))
    assert header == ["id", "id", "raw", "empty", "half", "long"] and values[2] == "AP8=" and values[3] == ""
    empty = "SELECT * FROM versions WHERE 0"
    assert json.loads(regwatch(history, "query", "--json", empty).stdout) == []
    assert regwatch(history, "query", "--format", "csv", empty).stdout.startswith("id,document,number,")


def test_rows_are_streamed_not_loaded_whole(history):
    calls = []
    with ReadOnlyDatabase(history.parent / "history.db") as db:
        db.conn.create_function("tick", 1, lambda i: calls.append(i) or i)
        result = db.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) "
                            "SELECT tick(i) AS i FROM n", batch=100)
        first = [next(result.rows) for _ in range(3)]
    assert first == [(1,), (2,), (3,)]
    assert len(calls) <= 200  # SQLite computed a batch or two, not a million rows


def test_a_missing_database_is_an_error(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("database: none.db\nsources: []\n")
    res = regwatch(cfg, "query", "SELECT 1")
    assert res.exit_code == 2 and "does not exist" in res.stderr
    assert not (tmp_path / "none.db").exists()


WRITER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
# Enough rows that SQLite spills pages into the WAL before the commit.
conn.executemany("INSERT INTO documents (id, title, first_seen) VALUES (?, ?, '2026-04-01')",
                 [(f"w{i}", "x" * 500) for i in range(20000)])
print("holding", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
print("committed", flush=True)
"""


def test_query_reads_while_another_process_holds_a_write_transaction(history):
    database = history.parent / "history.db"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(database)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "holding"
        started = time.monotonic()
        res = regwatch(history, "query", "--json", "SELECT COUNT(*) AS n FROM documents")
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout) == [{"n": 2}]  # the uncommitted rows are not seen
        assert time.monotonic() - started < 10  # no wait for the busy timeout (30 s)
        writer.stdin.write("\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "committed"
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    res = regwatch(history, "query", "--json", "SELECT COUNT(*) AS n FROM documents")
    assert json.loads(res.stdout) == [{"n": 20002}]
