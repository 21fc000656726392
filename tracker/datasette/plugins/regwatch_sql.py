"""Datasette plugin (loaded with --plugins-dir by `regwatch serve`): each connection to the
history database reads only and has regwatch's SQL function `version_text(version_id)`."""

from __future__ import annotations

from datasette import hookimpl

from store.versions import version_text_sql


@hookimpl
def prepare_connection(conn, database, datasette):
    """Register version_text() and make the connection read-only (`PRAGMA query_only`), even
    one Datasette opens for writing: the database belongs to regwatch."""
    if database.startswith("_"):  # Datasette's own databases (_internal, _memory)
        return
    conn.execute("PRAGMA query_only = 1")
    conn.create_function("version_text", 1, lambda vid: version_text_sql(conn, vid), deterministic=True)
