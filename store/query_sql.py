"""Analysts' SQL on the history database: one statement, read-only, rows streamed.

Four independent guards refuse writes, so that no single mistake in one of them lets a query
change the history: the statement must be one statement starting with a reading keyword; an
SQLite authorizer denies every action but reading; `PRAGMA query_only`; and the file is
opened with SQLite's `mode=ro`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.db import open_db

READING_KEYWORDS = ("SELECT", "WITH", "VALUES", "EXPLAIN", "PRAGMA")

# Pragmas that only report, whatever their argument (`table_info(versions)`).
_REPORTING_PRAGMAS = frozenset({
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "foreign_key_check", "function_list", "module_list", "pragma_list",
    "collation_list", "database_list", "compile_options", "integrity_check", "quick_check",
    "data_version",
})
# Pragmas that set something when given a value and only report without one.
_SETTING_PRAGMAS = frozenset({
    "user_version", "schema_version", "application_id", "journal_mode", "page_count", "page_size",
    "freelist_count", "encoding", "foreign_keys", "busy_timeout", "query_only", "synchronous",
    "auto_vacuum", "cache_size", "max_page_count",
})

_ACTIONS = {getattr(sqlite3, f"SQLITE_{name}"): name for name in (
    "CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE", "CREATE_TEMP_TRIGGER",
    "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE", "DROP_INDEX", "DROP_TABLE",
    "DROP_TEMP_INDEX", "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER", "DROP_TEMP_VIEW", "DROP_TRIGGER",
    "DROP_VIEW", "INSERT", "PRAGMA", "READ", "SELECT", "TRANSACTION", "UPDATE", "ATTACH", "DETACH",
    "ALTER_TABLE", "REINDEX", "ANALYZE", "CREATE_VTABLE", "DROP_VTABLE", "FUNCTION", "SAVEPOINT",
    "RECURSIVE",
)}
_READING_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                              sqlite3.SQLITE_RECURSIVE})


class QueryRefused(Exception):
    """Raised for SQL that is not one reading statement: it would write, or holds several."""


class QueryError(Exception):
    """Raised when SQLite rejects or fails a reading statement (syntax, unknown table...)."""


def single_statement(sql: str) -> str:
    """The one statement in `sql`, without a trailing semicolon. Raises QueryRefused when
    `sql` holds no statement or more than one, or one that does not start with SELECT, WITH,
    VALUES, EXPLAIN or PRAGMA."""
    end = _first_semicolon(sql)
    statement, rest = (sql, "") if end is None else (sql[:end], sql[end + 1:])
    if _strip_comments(rest).strip():
        raise QueryRefused("refused: one SQL statement at a time (text follows the first `;`)")
    keyword = _strip_comments(statement).strip().split(None, 1)
    if not keyword:
        raise QueryRefused("refused: no SQL statement given")
    word = re.match(r"\W*(\w*)", keyword[0]).group(1).upper() or keyword[0]
    if word not in READING_KEYWORDS:
        raise QueryRefused(f"refused: regwatch query only reads; {word} is not a reading statement "
                           f"(start with {', '.join(READING_KEYWORDS)})")
    return statement


def _segments(sql: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of the parts of `sql`: `code`, `quoted` (a string literal or a quoted
    name, where `;` and `--` mean nothing) and `comment`."""
    i = code_start = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"`[":
            close = "]" if ch == "[" else ch
            j = i + 1
            while j < n:
                if sql[j] == close:
                    # A doubled quote is an escaped quote, except in [names].
                    if close != "]" and sql.startswith(close * 2, j):
                        j += 2
                        continue
                    break
                j += 1
            kind, stop = "quoted", min(j + 1, n)
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            kind, stop = "comment", n if j < 0 else j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            kind, stop = "comment", n if j < 0 else j + 2
        else:
            i += 1
            continue
        if code_start < i:
            yield "code", code_start, i
        yield kind, i, stop
        i = code_start = stop
    if code_start < n:
        yield "code", code_start, n


def _first_semicolon(sql: str) -> int | None:
    for kind, start, end in _segments(sql):
        if kind == "code" and (at := sql.find(";", start, end)) >= 0:
            return at
    return None


def _strip_comments(sql: str) -> str:
    return "".join(" " if kind == "comment" else sql[start:end] for kind, start, end in _segments(sql))


@dataclass
class QueryResult:
    """Column names and the rows of a statement, read from SQLite as they are iterated."""

    columns: list[str]
    rows: Iterator[tuple[Any, ...]]


class ReadOnlyDatabase:
    """A connection to the history database that can only read (see the module's docstring)."""

    def __init__(self, path: str | Path) -> None:
        # open_db: mode=ro, the busy timeout, version_text(), and a schema brought up to date
        # for a database written by an older regwatch (as every read-only command does).
        self.conn = open_db(path, readonly=True).conn
        # No implicit BEGIN from Python's sqlite3: it would be a transaction the authorizer denies.
        self.conn.isolation_level = None
        self.conn.execute("PRAGMA query_only = ON")
        self._denied: list[str] = []
        self.conn.set_authorizer(self._authorize)

    def _authorize(self, action: int, arg1: str | None, arg2: str | None, _db: str | None,
                   _trigger: str | None) -> int:
        if action in _READING_ACTIONS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA:
            name = (arg1 or "").lower()
            if name in _REPORTING_PRAGMAS or (name in _SETTING_PRAGMAS and arg2 is None):
                return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_schema"):
            # SQLite's own bookkeeping when a statement first uses a virtual table (FTS5, a
            # pragma function) reports these; a user's UPDATE of the schema is stopped by the
            # keyword check, query_only and mode=ro.
            return sqlite3.SQLITE_OK
        self._denied.append(_describe(action, arg1, arg2))
        return sqlite3.SQLITE_DENY

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), batch: int = 500) -> QueryResult:
        """Run one reading statement; its rows are fetched `batch` at a time as they are read.
        Raises QueryRefused for anything else, QueryError when SQLite fails it."""
        statement = single_statement(sql)
        self._denied.clear()
        try:
            cursor = self.conn.execute(statement, params)
        except (sqlite3.Error, ValueError, OverflowError) as exc:
            raise self._error(exc) from None
        columns = [d[0] for d in cursor.description or ()]
        return QueryResult(columns, self._rows(cursor, batch))

    def _rows(self, cursor: sqlite3.Cursor, batch: int) -> Iterator[tuple[Any, ...]]:
        while True:
            try:
                chunk = cursor.fetchmany(batch)
            except sqlite3.Error as exc:
                raise self._error(exc) from None
            if not chunk:
                return
            yield from chunk

    def _error(self, exc: Exception) -> Exception:
        if self._denied:
            return QueryRefused(f"refused: regwatch query only reads; this statement would {self._denied[0]}")
        message = str(exc)
        if "readonly" in message or "read-only" in message or "query_only" in message:
            return QueryRefused(f"refused: regwatch query only reads ({message})")
        if isinstance(exc, sqlite3.ProgrammingError) and "one statement" in message:
            return QueryRefused("refused: one SQL statement at a time")
        return QueryError(f"SQL error: {message}")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> ReadOnlyDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _describe(action: int, arg1: str | None, arg2: str | None) -> str:
    name = _ACTIONS.get(action, f"action {action}")
    if name in ("INSERT", "UPDATE", "DELETE"):
        if arg1 in ("sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"):
            return "change the schema (create, alter or drop a table, view, index or trigger)"
        return f"{name} rows of {arg1}"
    if name == "PRAGMA":
        return f"set PRAGMA {arg1}" + (f" = {arg2}" if arg2 is not None else "")
    if name in ("ATTACH", "DETACH"):
        return f"{name} a database" + (f" ({arg1})" if arg1 else "")
    if name in ("TRANSACTION", "SAVEPOINT"):
        return f"{arg1 or 'open'} a transaction" if name == "TRANSACTION" else f"{arg1} a savepoint"
    what = name.replace("_", " ").lower()
    return f"{what} {arg1}" if arg1 else what
