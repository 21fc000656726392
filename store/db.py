"""Opening the history database: WAL, foreign keys, busy timeout, migrations, read-only mode."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from store.migrations import migrate

BUSY_TIMEOUT_MS = 30_000


class StoreError(Exception):
    """Raised when the database cannot be opened or written, from store functions."""


def open_db(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open (creating and migrating if needed) the database at `path`.

    Read-only connections use SQLite's `mode=ro` so that any write is refused by SQLite
    itself, not by a check of ours that could be bypassed.
    """
    path = Path(path)
    if readonly and path.exists() and _outdated(path):
        # A database written by an older regwatch: bring its schema up to date once, so
        # read-only commands see the tables and columns they query.
        open_db(path).close()
    try:
        if readonly:
            if not path.exists():
                raise StoreError(f"database {path} does not exist (run `regwatch crawl` first)")
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL is durable in WAL mode except for the last commits on power loss; a crash
            # of the process never loses a committed transaction.
            conn.execute("PRAGMA synchronous = NORMAL")
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    db = sqlite_utils.Database(conn)
    _register_functions(conn)
    if not readonly:
        try:
            migrate(db)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot migrate database {path}: {exc}") from exc
    return db


def _outdated(path: Path) -> bool:
    """True when the database's schema is older than this regwatch's migrations."""
    from store.migrations import MIGRATIONS

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return False  # the read-only open below reports the problem
    return version < len(MIGRATIONS)


def _register_functions(conn: sqlite3.Connection) -> None:
    """SQL helpers for analysts: `version_text(version_id)` returns a version's extracted text."""
    from store.versions import version_text_sql

    conn.create_function("version_text", 1, lambda vid: version_text_sql(conn, vid), deterministic=True)


class transaction:  # noqa: N801 - used as a context manager, reads like a statement
    """BEGIN IMMEDIATE ... COMMIT (or ROLLBACK on error): one writer at a time."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.conn = db.conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error:
                if self.conn.in_transaction:  # a failed COMMIT (disk full) leaves it open
                    self.conn.execute("ROLLBACK")
                raise
        elif self.conn.in_transaction:
            # Some errors (SQLITE_FULL, SQLITE_IOERR) have already rolled back; a second
            # ROLLBACK would raise and hide the real error.
            self.conn.execute("ROLLBACK")
