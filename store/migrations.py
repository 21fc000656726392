"""Schema migrations, applied in order; `PRAGMA user_version` records the last one applied.

Each migration is a few statements, never edited once released (a new one is added instead).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils


def m001_initial(db: sqlite_utils.Database) -> None:
    """Sources, documents, content-addressed blobs, versions, the fetch log, FTS over latest text."""
    _run(
        db,
        """
        CREATE TABLE sources (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            document TEXT NOT NULL,
            kind TEXT NOT NULL,              -- page | listing
            label TEXT,
            config TEXT NOT NULL,            -- the source's settings as JSON (no secrets)
            updated_at TEXT NOT NULL
        );
        CREATE TABLE documents (
            id TEXT PRIMARY KEY,
            title TEXT,
            url TEXT,                        -- URL of the latest version
            source TEXT,                     -- configured source that found it
            discovered_from TEXT,            -- listing page URL, for followed publications
            first_seen TEXT NOT NULL
        );
        CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY,         -- of the uncompressed content
            size INTEGER NOT NULL,           -- uncompressed bytes
            codec TEXT NOT NULL,             -- zstd | zstd-delta
            base TEXT REFERENCES blobs(sha256),  -- zstd-delta: the blob used as dictionary
            depth INTEGER NOT NULL DEFAULT 0,    -- length of the delta chain
            data BLOB NOT NULL
        );
        CREATE TABLE fetches (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            document TEXT NOT NULL,
            url TEXT NOT NULL,
            final_url TEXT,
            started_at TEXT NOT NULL,
            duration_ms INTEGER NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('new_version', 'unchanged', 'not_modified', 'failed')),
            http_status INTEGER,
            error TEXT,
            error_kind TEXT,
            bytes INTEGER,
            content_type TEXT,
            declared_type TEXT,
            encoding TEXT,
            etag TEXT,
            last_modified TEXT,
            raw_sha256 TEXT,
            redirects TEXT,                  -- JSON list of URLs
            version_id INTEGER REFERENCES versions(id)
        );
        CREATE INDEX fetches_url ON fetches(url, id);
        CREATE INDEX fetches_source ON fetches(source, id);
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            document TEXT NOT NULL REFERENCES documents(id),
            number INTEGER NOT NULL,         -- 1, 2, ... per document
            label TEXT,
            title TEXT,
            url TEXT NOT NULL,
            final_url TEXT,
            content_type TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            fetch_id INTEGER REFERENCES fetches(id),
            etag TEXT,
            last_modified TEXT,
            raw_sha256 TEXT NOT NULL REFERENCES blobs(sha256),
            raw_size INTEGER NOT NULL,
            text_sha256 TEXT NOT NULL REFERENCES blobs(sha256),
            text_chars INTEGER NOT NULL,
            outline_sha256 TEXT NOT NULL REFERENCES blobs(sha256),  -- JSON list of headings
            headings INTEGER NOT NULL,       -- number of headings
            warnings TEXT,                   -- JSON list of extraction warnings
            extractor_version TEXT NOT NULL,
            UNIQUE (document, number)
        );
        CREATE TABLE latest_texts (
            document TEXT PRIMARY KEY REFERENCES documents(id),
            version_id INTEGER NOT NULL REFERENCES versions(id),
            title TEXT,
            text TEXT NOT NULL
        );
        CREATE VIRTUAL TABLE latest_texts_fts USING fts5(
            title, text, content='latest_texts', content_rowid='rowid', tokenize='porter unicode61'
        );
        CREATE TRIGGER latest_texts_ai AFTER INSERT ON latest_texts BEGIN
            INSERT INTO latest_texts_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
        END;
        CREATE TRIGGER latest_texts_ad AFTER DELETE ON latest_texts BEGIN
            INSERT INTO latest_texts_fts(latest_texts_fts, rowid, title, text)
            VALUES ('delete', old.rowid, old.title, old.text);
        END;
        CREATE TRIGGER latest_texts_au AFTER UPDATE ON latest_texts BEGIN
            INSERT INTO latest_texts_fts(latest_texts_fts, rowid, title, text)
            VALUES ('delete', old.rowid, old.title, old.text);
            INSERT INTO latest_texts_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
        END;
        """,
    )


def _run(db: sqlite_utils.Database, script: str) -> None:
    """Execute a script statement by statement: `executescript` would COMMIT the migration's
    transaction before running, so a failed migration could leave half a schema behind."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement!r}")


def m002_changes(db: sqlite_utils.Database) -> None:
    """Changes between consecutive versions and their hunks."""
    _run(
        db,
        """
        CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            document TEXT NOT NULL REFERENCES documents(id),
            from_version INTEGER NOT NULL REFERENCES versions(id),
            to_version INTEGER NOT NULL REFERENCES versions(id),
            created_at TEXT NOT NULL,
            engine_version TEXT NOT NULL,
            hunks INTEGER NOT NULL,
            substantive INTEGER NOT NULL,
            editorial INTEGER NOT NULL,
            cosmetic INTEGER NOT NULL,
            max_significance REAL NOT NULL,
            stats TEXT NOT NULL,             -- JSON: counts per section status, hunk kind, class
            sections TEXT NOT NULL,          -- JSON: the section alignment
            UNIQUE (from_version, to_version)
        );
        CREATE INDEX changes_document ON changes(document, to_version);
        CREATE TABLE hunks (
            id INTEGER PRIMARY KEY,
            change_id INTEGER NOT NULL REFERENCES changes(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            kind TEXT NOT NULL,
            classification TEXT NOT NULL CHECK (classification IN ('cosmetic', 'editorial', 'substantive')),
            significance REAL NOT NULL,
            section TEXT,                    -- heading of the hunk's section (new, else old)
            old_path TEXT NOT NULL,          -- JSON list of headings
            new_path TEXT NOT NULL,
            old_text TEXT NOT NULL,
            new_text TEXT NOT NULL,
            edits TEXT NOT NULL,             -- JSON list of [op, text]
            flags TEXT NOT NULL,             -- JSON {flag: [words]}
            reasons TEXT NOT NULL,           -- JSON list
            significance_parts TEXT NOT NULL,  -- JSON {feature: contribution}
            UNIQUE (change_id, ordinal)
        );
        CREATE INDEX hunks_class ON hunks(classification, significance);
        """,
    )


def m003_obligations(db: sqlite_utils.Database) -> None:
    """The obligation catalog (a copy of the shipped data, for SQL) and the links of hunks to it."""
    _run(
        db,
        """
        CREATE TABLE obligations (
            id TEXT PRIMARY KEY,             -- aia-55-1-c, cop-ss-m9.3
            title TEXT NOT NULL,
            source TEXT NOT NULL,            -- aia | cop-transparency | cop-copyright | cop-safety-security
            kind TEXT NOT NULL,              -- article | paragraph | point | annex | ... | commitment | measure
            ref TEXT NOT NULL,               -- canonical citation: "Article 55(1)(c)", "Measure 9.3"
            parent TEXT,
            applies_to TEXT NOT NULL,        -- JSON list
            serves TEXT NOT NULL,            -- JSON list of AI Act ids (Code entries)
            catalog_version TEXT NOT NULL,
            data TEXT NOT NULL               -- the whole catalog entry as JSON
        );
        CREATE TABLE hunk_obligations (
            hunk_id INTEGER NOT NULL REFERENCES hunks(id) ON DELETE CASCADE,
            obligation TEXT NOT NULL,        -- an obligations.id (not a foreign key: the catalog may drop one)
            method TEXT NOT NULL,            -- citation | section | serves | numbering | terms
            confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
            reason TEXT NOT NULL,
            PRIMARY KEY (hunk_id, obligation)
        );
        CREATE INDEX hunk_obligations_obligation ON hunk_obligations(obligation, confidence);
        CREATE VIEW obligation_changes AS
            SELECT ho.obligation, o.ref, o.title AS obligation_title, c.document, c.id AS change_id,
                   pv.number AS from_version, nv.number AS to_version, nv.first_seen AS detected_at,
                   h.id AS hunk_id, h.section, h.kind, h.classification, h.significance,
                   ho.method, ho.confidence, ho.reason
            FROM hunk_obligations ho
            JOIN hunks h ON h.id = ho.hunk_id
            JOIN changes c ON c.id = h.change_id
            JOIN versions pv ON pv.id = c.from_version
            JOIN versions nv ON nv.id = c.to_version
            LEFT JOIN obligations o ON o.id = ho.obligation;
        """,
    )


def m004_lineage(db: sqlite_utils.Database) -> None:
    """Lineage: the config order of sources (publication order of a document's versions) and
    the links that join documents found on listing pages to configured documents."""
    _run(
        db,
        """
        ALTER TABLE sources ADD COLUMN position INTEGER;  -- index in config.yaml's sources
        CREATE TABLE lineage_links (
            document TEXT NOT NULL,          -- the linked document (found on a listing page)
            lineage TEXT NOT NULL,           -- the configured document whose versions it joins
            label TEXT,                      -- label for its versions (from config)
            before TEXT,                     -- place its versions before this label, source or document (config)
            status TEXT NOT NULL CHECK (status IN ('auto', 'candidate', 'confirmed', 'rejected')),
            title_similarity REAL,
            content_similarity REAL,
            evidence TEXT NOT NULL,          -- JSON: method, titles compared, versions compared, runner-up
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (document, lineage)
        );
        CREATE INDEX lineage_links_lineage ON lineage_links(lineage, status);
        """,
    )


def m005_alerts(db: sqlite_utils.Database) -> None:
    """The outbox: one alert per change x subscription x channel, written with the change."""
    _run(
        db,
        """
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            change_id INTEGER REFERENCES changes(id) ON DELETE SET NULL,  -- NULL while a recompute replaces it
            from_version INTEGER NOT NULL REFERENCES versions(id),
            to_version INTEGER NOT NULL REFERENCES versions(id),
            subscription TEXT NOT NULL,
            channel TEXT NOT NULL,
            dedup_key TEXT NOT NULL UNIQUE,  -- version pair x subscription x channel: never two alerts for one
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,            -- backoff: not sent before (NULL: at once)
            claimed_at TEXT,                 -- when a dispatcher took it (status sending)
            sent_at TEXT,
            last_error TEXT,
            message_id TEXT,                 -- Message-ID of the delivered message (derived from dedup_key)
            created_at TEXT NOT NULL
        );
        CREATE INDEX alerts_due ON alerts(status, next_attempt_at);
        CREATE INDEX alerts_change ON alerts(change_id);
        CREATE INDEX alerts_pair ON alerts(from_version, to_version);
        """,
    )


def m006_digests_and_tracking(db: sqlite_utils.Database) -> None:
    """Alerts for digests and for tracking failures (not tied to a change), and the tracking
    state of each source. SQLite cannot drop NOT NULL, so `alerts` is rebuilt and copied."""
    _run(
        db,
        """
        CREATE TABLE alerts_new (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL DEFAULT 'change'
                CHECK (kind IN ('change', 'tracking-failure', 'tracking-recovered')),
            change_id INTEGER REFERENCES changes(id) ON DELETE SET NULL,  -- NULL while a recompute replaces it
            from_version INTEGER REFERENCES versions(id),  -- kind change: the version pair
            to_version INTEGER REFERENCES versions(id),
            source TEXT,                     -- tracking alerts: the configured source
            detail TEXT,                     -- tracking alerts: JSON of the event (failures, since, error)
            subscription TEXT NOT NULL,      -- tracking alerts: 'operators'
            channel TEXT NOT NULL,
            digest_at TEXT,                  -- digest subscriptions: when the period's digest is sent
            dedup_key TEXT NOT NULL UNIQUE,  -- change: version pair x subscription x channel
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,            -- backoff: not sent before (NULL: at once)
            claimed_at TEXT,                 -- when a dispatcher took it (status sending)
            sent_at TEXT,
            last_error TEXT,
            message_id TEXT,                 -- Message-ID of the delivered message (derived from dedup_key)
            created_at TEXT NOT NULL,
            CHECK ((kind = 'change') = (from_version IS NOT NULL AND to_version IS NOT NULL))
        );
        INSERT INTO alerts_new (id, change_id, from_version, to_version, subscription, channel, dedup_key,
                                status, attempts, next_attempt_at, claimed_at, sent_at, last_error,
                                message_id, created_at)
            SELECT id, change_id, from_version, to_version, subscription, channel, dedup_key, status, attempts,
                   next_attempt_at, claimed_at, sent_at, last_error, message_id, created_at FROM alerts;
        DROP TABLE alerts;
        ALTER TABLE alerts_new RENAME TO alerts;
        CREATE INDEX alerts_due ON alerts(status, next_attempt_at);
        CREATE INDEX alerts_change ON alerts(change_id);
        CREATE INDEX alerts_pair ON alerts(from_version, to_version);
        CREATE INDEX alerts_digest ON alerts(status, digest_at);
        CREATE TABLE tracking (
            source TEXT PRIMARY KEY,         -- configured source name
            url TEXT NOT NULL,               -- the URL whose fetches are counted
            state TEXT NOT NULL CHECK (state IN ('ok', 'failing')),
            since TEXT NOT NULL,             -- start of the first fetch of the current state
            failures INTEGER NOT NULL,       -- failed fetches in a row (0 when ok)
            last_fetch INTEGER REFERENCES fetches(id),
            last_error TEXT,
            updated_at TEXT NOT NULL
        );
        """,
    )


def m007_analyst_views(db: sqlite_utils.Database) -> None:
    """Views for the questions analysts ask: a document's timeline, the latest version of each
    document, changes per obligation, substantive changes, and the history of each section.

    Publication order is spelled out here rather than taken from `store.versions.ORDER_SQL`:
    a released migration must not change when that constant does (a later migration would
    recreate the views). A change counts when its two versions are consecutive in publication
    order; one left behind by a version that arrived between them later is not shown. A change
    is detected when the later-seen of its two versions was first seen: a draft fetched after
    the final makes the draft -> final change new then, not when the final was seen.
    `obligation_changes` (m003) is recreated on these two rules."""
    _run(
        db,
        """
        CREATE VIEW document_timeline AS
            WITH placed AS (
                SELECT v.id, v.document, v.number, v.label, v.title, v.url, v.final_url, v.content_type,
                       v.first_seen, v.text_chars, v.raw_size, v.headings, f.source, s.position
                FROM versions v
                LEFT JOIN fetches f ON f.id = v.fetch_id
                LEFT JOIN sources s ON s.name = f.source
            ), ordered AS (
                SELECT p.*, ROW_NUMBER() OVER w AS publication_order, LAG(p.id) OVER w AS previous_id,
                       COUNT(*) OVER (PARTITION BY p.document) AS versions_of_document
                FROM placed p
                WINDOW w AS (PARTITION BY p.document ORDER BY p.position IS NULL, p.position, p.number)
            )
            SELECT o.document, o.publication_order, o.publication_order = o.versions_of_document AS is_latest,
                   o.id AS version_id, o.number AS version, o.label, o.title, o.first_seen, o.content_type,
                   o.source, o.url, o.final_url, o.text_chars, o.raw_size, o.headings,
                   pv.id AS previous_version_id, pv.number AS previous_version, pv.label AS previous_label,
                   c.id AS change_id,
                   CASE WHEN c.id IS NULL THEN NULL
                        WHEN julianday(pv.first_seen) > julianday(o.first_seen) THEN pv.first_seen
                        ELSE o.first_seen END AS detected_at,
                   c.hunks, c.substantive, c.editorial, c.cosmetic, c.max_significance
            FROM ordered o
            LEFT JOIN versions pv ON pv.id = o.previous_id
            LEFT JOIN changes c ON c.from_version = o.previous_id AND c.to_version = o.id
            ORDER BY o.document, o.publication_order;
        CREATE VIEW latest_versions AS
            SELECT t.document, d.title AS document_title, t.publication_order AS versions, t.version_id,
                   t.version, t.label, t.title, t.first_seen, t.content_type, t.source, t.url, t.final_url,
                   t.text_chars, t.change_id, t.detected_at, t.substantive, t.max_significance
            FROM document_timeline t JOIN documents d ON d.id = t.document
            WHERE t.is_latest
            ORDER BY t.document;
        CREATE VIEW changes_per_obligation AS
            WITH links AS (
                SELECT ho.obligation, h.id AS hunk_id, h.change_id, h.classification, t.detected_at
                FROM hunk_obligations ho
                JOIN hunks h ON h.id = ho.hunk_id
                JOIN document_timeline t ON t.change_id = h.change_id
            ), tree (ancestor, id) AS (
                SELECT id, id FROM obligations
                UNION  -- not ALL: ends even if a parent chain loops
                SELECT tree.ancestor, o.id FROM tree JOIN obligations o ON o.parent = tree.id
            ), below AS (
                SELECT tree.ancestor, COUNT(DISTINCT links.change_id) AS changes
                FROM tree JOIN links ON links.obligation = tree.id
                GROUP BY tree.ancestor
            ), ids AS (
                SELECT id FROM obligations UNION SELECT obligation FROM links
            )
            SELECT ids.id AS obligation, o.ref, o.title, o.source, o.parent,
                   COUNT(DISTINCT links.change_id) AS changes,
                   COUNT(DISTINCT links.hunk_id) AS hunks,
                   COUNT(DISTINCT CASE WHEN links.classification = 'substantive' THEN links.hunk_id END)
                       AS substantive_hunks,
                   MAX(links.detected_at) AS last_change,
                   COALESCE(below.changes, COUNT(DISTINCT links.change_id)) AS changes_incl_below
            FROM ids
            LEFT JOIN obligations o ON o.id = ids.id
            LEFT JOIN links ON links.obligation = ids.id
            LEFT JOIN below ON below.ancestor = ids.id
            GROUP BY ids.id
            ORDER BY changes_incl_below DESC, changes DESC, ids.id;
        CREATE VIEW substantive_changes AS
            SELECT h.id AS hunk_id, t.change_id, t.document,
                   t.previous_version AS from_version, t.previous_label AS from_label,
                   t.version AS to_version, t.label AS to_label,
                   t.detected_at, date(t.detected_at) AS detected_date,
                   h.section, h.kind, h.significance, h.reasons,
                   (SELECT group_concat(ho.obligation, ', ') FROM (
                        SELECT obligation FROM hunk_obligations WHERE hunk_id = h.id
                        ORDER BY confidence DESC, obligation) ho) AS obligations,
                   h.old_text, h.new_text
            FROM hunks h JOIN document_timeline t ON t.change_id = h.change_id
            WHERE h.classification = 'substantive'
            ORDER BY t.detected_at, t.document, t.publication_order, h.ordinal;
        CREATE VIEW section_history AS
            SELECT t.document, h.section, t.change_id,
                   t.previous_version AS from_version, t.previous_label AS from_label,
                   t.version AS to_version, t.label AS to_label, t.detected_at,
                   COUNT(*) AS hunks, group_concat(DISTINCT h.kind) AS kinds,
                   CASE MAX(CASE h.classification WHEN 'substantive' THEN 3 WHEN 'editorial' THEN 2 ELSE 1 END)
                       WHEN 3 THEN 'substantive' WHEN 2 THEN 'editorial' ELSE 'cosmetic' END AS classification,
                   MAX(h.significance) AS max_significance
            FROM hunks h JOIN document_timeline t ON t.change_id = h.change_id
            GROUP BY t.document, h.section, t.change_id
            ORDER BY t.document, h.section, MIN(t.publication_order);
        DROP VIEW obligation_changes;
        CREATE VIEW obligation_changes AS
            SELECT ho.obligation, o.ref, o.title AS obligation_title, t.document, t.change_id,
                   t.previous_version AS from_version, t.version AS to_version, t.detected_at,
                   h.id AS hunk_id, h.section, h.kind, h.classification, h.significance,
                   ho.method, ho.confidence, ho.reason, t.previous_label AS from_label, t.label AS to_label
            FROM hunk_obligations ho
            JOIN hunks h ON h.id = ho.hunk_id
            JOIN document_timeline t ON t.change_id = h.change_id
            LEFT JOIN obligations o ON o.id = ho.obligation
            ORDER BY t.detected_at, t.document, t.publication_order, h.ordinal, ho.confidence DESC;
        """,
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    m001_initial, m002_changes, m003_obligations, m004_lineage, m005_alerts, m006_digests_and_tracking,
    m007_analyst_views,
]


def schema_version(db: sqlite_utils.Database) -> int:
    """The number of migrations applied to `db`."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database) -> None:
    """Apply every migration not yet applied, each in its own transaction."""
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {current} is newer than this regwatch ({len(MIGRATIONS)}): upgrade regwatch"
        )
    for number, step in enumerate(MIGRATIONS[current:], start=current + 1):
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            if schema_version(db) >= number:
                db.conn.execute("ROLLBACK")
                continue
            step(db)
            db.conn.execute(f"PRAGMA user_version = {number}")
            db.conn.execute("COMMIT")
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
