"""The analysts' views (m007): publication order, the latest version, what changed and when,
against a lineage whose versions arrived out of publication order (tests/analyst_data.py)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from analyst_data import build

from store.db import open_db
from store.versions import history

ROOT = Path(__file__).resolve().parents[1]
VIEWS = ["document_timeline", "latest_versions", "changes_per_obligation", "substantive_changes",
         "section_history", "obligation_changes"]


def rows(db, sql: str, params=()) -> list[dict]:
    cur = db.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_timeline_is_publication_order_with_the_change_from_the_previous_version(analyst_db):
    db = open_db(analyst_db.database, readonly=True)
    timeline = rows(db, "SELECT * FROM document_timeline WHERE document = 'act'")
    # Same order as `regwatch history` (store.versions.history), not arrival or id order.
    assert [t["version_id"] for t in timeline] == [v.id for v in history(db, "act")] == [2, 3, 1, 5]
    assert [t["publication_order"] for t in timeline] == [1, 2, 3, 4]
    assert [t["is_latest"] for t in timeline] == [0, 0, 0, 1]
    assert [t["previous_version"] for t in timeline] == [None, 2, 3, 1]
    stored = {(f, t): cid for cid, f, t in db.execute("SELECT id, from_version, to_version FROM changes")}
    assert [t["change_id"] for t in timeline] == [None, stored[2, 3], stored[3, 1], stored[1, 5]]
    first, second, final, final2 = timeline
    assert (second["label"], second["content_type"], second["url"]) == (
        "Second draft", "text/html", "http://127.0.0.1:9/act-draft2")
    assert second["text_chars"] == len(db.execute("SELECT version_text(3)").fetchone()[0])
    assert (second["hunks"], second["substantive"], second["editorial"], second["cosmetic"]) == (2, 1, 1, 0)
    assert final2["max_significance"] == db.execute(
        "SELECT MAX(significance) FROM hunks WHERE change_id = ?", (final2["change_id"],)).fetchone()[0]
    # The final (first seen in January) became the second draft's successor when the second
    # draft arrived on 15 February: that is when its change was detected.
    assert final["first_seen"].startswith("2026-01-10")
    assert final["detected_at"] == second["detected_at"] == "2026-02-15T12:00:00+00:00"
    assert first["detected_at"] is None
    db.close()


def test_a_change_superseded_by_a_version_arriving_between_is_in_no_view(analyst_db):
    db = open_db(analyst_db.database, readonly=True)
    (stale,) = db.execute("SELECT id FROM changes WHERE from_version = 2 AND to_version = 1").fetchone()
    for view in ("document_timeline", "substantive_changes", "section_history", "obligation_changes"):
        ids = {r[0] for r in db.execute(f"SELECT change_id FROM {view}")}
        assert stale not in ids, view
    db.close()


def test_latest_versions_is_last_in_publication_order_not_highest_id(tmp_path):
    # After four arrivals the newest version of `act` (id 3, the second draft) is not its
    # latest: the final seen in January (id 1) comes after it in publication order.
    built = build(tmp_path, arrivals=4)
    db = open_db(built.database, readonly=True)
    latest = {r["document"]: r for r in rows(db, "SELECT * FROM latest_versions")}
    assert set(latest) == {"act", "faq"}
    assert (latest["act"]["version_id"], latest["act"]["version"], latest["act"]["label"]) == (1, 1, "Final")
    assert latest["act"]["versions"] == 3
    assert latest["act"]["document_title"] == "AI Act, Articles 53 and 55"
    for document, row in latest.items():
        assert row["version_id"] == history(db, document)[-1].id
        assert row["version_id"] == db.execute(
            "SELECT version_id FROM latest_texts WHERE document = ?", (document,)).fetchone()[0]
    db.close()


def test_substantive_changes_by_period_with_obligations(analyst_db):
    db = open_db(analyst_db.database, readonly=True)
    every = rows(db, "SELECT * FROM substantive_changes")
    assert {r["hunk_id"] for r in every} == {
        r[0] for r in db.execute(
            "SELECT h.id FROM hunks h JOIN document_timeline t ON t.change_id = h.change_id "
            "WHERE h.classification = 'substantive'")}
    assert [(r["from_version"], r["to_version"]) for r in every] == [(2, 3), (3, 1)]
    assert all(r["obligations"] == "aia-55-1-c" for r in every)
    assert {r["from_label"] for r in every} == {"Draft", "Second draft"}
    assert "within 15 days" in every[0]["new_text"] and "within 30 days" in every[0]["old_text"]
    # A period by day, both ends included.
    feb = rows(db, "SELECT * FROM substantive_changes WHERE detected_date BETWEEN '2026-02-01' AND '2026-02-15'")
    assert len(feb) == 2
    assert rows(db, "SELECT * FROM substantive_changes WHERE detected_date BETWEEN '2026-01-01' AND '2026-01-31'") == []
    db.close()


def test_obligations_are_listed_strongest_first(tmp_path):
    built = build(tmp_path)
    db = sqlite3.connect(built.database)
    hunk = db.execute("SELECT hunk_id FROM substantive_changes ORDER BY hunk_id LIMIT 1").fetchone()[0]
    db.execute("INSERT INTO hunk_obligations VALUES (?, 'aia-55', 'terms', 0.99, 'shared terms')", (hunk,))
    db.execute("INSERT INTO hunk_obligations VALUES (?, 'aia-53', 'terms', 0.2, 'shared terms')", (hunk,))
    db.commit()
    got = db.execute("SELECT obligations FROM substantive_changes WHERE hunk_id = ?", (hunk,)).fetchone()[0]
    assert got == "aia-55, aia-55-1-c, aia-53"
    db.close()


def test_section_history_and_changes_per_obligation(analyst_db):
    db = open_db(analyst_db.database, readonly=True)
    art55 = rows(db, "SELECT * FROM section_history WHERE document = 'act' AND section LIKE 'Article 55%'")
    assert [(r["from_version"], r["to_version"]) for r in art55] == [(2, 3), (3, 1)]
    assert [(r["hunks"], r["kinds"], r["classification"]) for r in art55] == [
        (2, "modified", "substantive"), (1, "modified", "substantive")]
    art53 = rows(db, "SELECT * FROM section_history WHERE section LIKE 'Article 53%'")
    assert [(r["from_label"], r["to_label"], r["classification"]) for r in art53] == [("Final", "Final", "editorial")]

    per = {r["obligation"]: r for r in rows(db, "SELECT * FROM changes_per_obligation")}
    c = per["aia-55-1-c"]
    assert (c["ref"], c["changes"], c["hunks"], c["substantive_hunks"], c["last_change"]) == (
        "Article 55(1)(c)", 2, 2, 2, "2026-02-15T12:00:00+00:00")
    assert (per["aia-55-1-d"]["changes"], per["aia-55-1-d"]["substantive_hunks"]) == (1, 0)
    # A parent counts the distinct changes of itself and everything below it.
    assert (per["aia-55"]["changes"], per["aia-55"]["changes_incl_below"]) == (0, 2)
    assert per["aia-53"]["changes_incl_below"] == 1
    catalog = db.execute("SELECT COUNT(*) FROM obligations").fetchone()[0]
    assert len(per) == catalog  # every catalog entry, changed or not
    assert per["aia-51"]["changes_incl_below"] == 0 and per["aia-51"]["last_change"] is None
    db.close()


def test_obligation_changes_is_rebuilt_on_the_same_rules(analyst_db):
    db = open_db(analyst_db.database, readonly=True)
    got = rows(db, "SELECT obligation, from_version, to_version, detected_at, from_label, to_label "
                   "FROM obligation_changes WHERE obligation = 'aia-55-1-c'")
    assert got == [
        {"obligation": "aia-55-1-c", "from_version": 2, "to_version": 3, "detected_at": "2026-02-15T12:00:00+00:00",
         "from_label": "Draft", "to_label": "Second draft"},
        {"obligation": "aia-55-1-c", "from_version": 3, "to_version": 1, "detected_at": "2026-02-15T12:00:00+00:00",
         "from_label": "Second draft", "to_label": "Final"},
    ]
    db.close()


def test_every_view_and_its_columns_are_in_schema_md_with_an_example(tmp_path):
    doc = (ROOT / "docs" / "schema.md").read_text()
    db = open_db(tmp_path / "v.db")
    assert sorted(db.view_names()) == sorted(VIEWS)
    for view in VIEWS:
        section = re.search(rf"^### `{view}`\n(.*?)(?=^### |\Z)", doc, re.S | re.M)
        assert section, f"no section for view {view}"
        body = section.group(1)
        assert "```sql" in body and f"FROM {view}" in body, f"no example query for {view}"
        for column in db[view].columns:
            assert f"`{column.name}`" in body, f"{view}.{column.name}"
    db.close()


def test_the_documented_example_queries_run(analyst_db):
    """Every ```sql block of docs/schema.md runs on a populated database."""
    doc = (ROOT / "docs" / "schema.md").read_text()
    db = open_db(analyst_db.database, readonly=True)
    blocks = re.findall(r"```sql\n(.*?)```", doc, re.S)
    assert len(blocks) >= 10
    for sql in blocks:
        db.execute(sql).fetchall()
    db.close()


def test_timeline_order_follows_history_when_positions_change(tmp_path):
    """Same rule as store.versions.ORDER_SQL: a source no longer configured (no position) comes
    last; reordering sources in config reorders the timeline and the latest version."""
    built = build(tmp_path)
    conn = sqlite3.connect(built.database)
    conn.execute("UPDATE sources SET position = NULL WHERE name = 'act-draft'")
    conn.execute("UPDATE sources SET position = 9 WHERE name = 'act-draft2'")
    conn.commit()
    conn.close()
    db = open_db(built.database, readonly=True)
    ids = [r[0] for r in db.execute("SELECT version_id FROM document_timeline WHERE document = 'act'")]
    assert ids == [v.id for v in history(db, "act")] == [1, 5, 3, 2]
    assert db.execute("SELECT version_id FROM latest_versions WHERE document = 'act'").fetchone() == (2,)
    db.close()
