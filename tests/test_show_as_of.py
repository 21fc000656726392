"""`regwatch show DOC --as-of DATE`: the text as it stood then, with versions from several
URLs arriving out of publication order (tests/analyst_data.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from analyst_data import DRAFT2, FINAL, FINAL2
from conftest import regwatch

from store.db import open_db
from store.versions import history, version_as_of, version_text
from tracker.when import parse_instant


@pytest.mark.parametrize(("as_of", "expected"), [
    ("2026-01-10", FINAL),                    # a day counts whole: the final seen at noon
    ("2026-01-10T12:00:00Z", FINAL),          # at the very second it was first seen
    ("2026-02-20", FINAL),                    # drafts seen since come before the final
    ("2026-02-15T12:00:00", FINAL),           # naive times are UTC
    ("2026-03-01T13:30:00+02:00", FINAL),     # 11:30 UTC, before the second final
    ("2026-03-01T14:30:00+02:00", FINAL2),    # 12:30 UTC
    ("2026-12-31", FINAL2),
])
def test_show_as_of_prints_the_version_current_then(analyst_db, as_of, expected):
    res = regwatch(analyst_db.config, "show", "act", "--as-of", as_of)
    assert res.exit_code == 0, res.output
    assert res.stdout == expected
    assert "act as of" in res.stderr


def test_the_newest_arrival_is_not_what_stood_if_it_comes_earlier_in_publication_order(tmp_path):
    """At 2026-02-16 the newest version was the second draft (seen on the 15th), but the final
    seen in January was the latest then and stays what stood."""
    from analyst_data import build

    built = build(tmp_path, arrivals=3)
    res = regwatch(built.config, "show", "act", "--as-of", "2026-02-16")
    assert res.exit_code == 0
    assert "without undue delay" in res.stdout and res.stdout != DRAFT2
    db = open_db(built.database, readonly=True)
    assert version_text(db, db.execute("SELECT version_id FROM latest_texts WHERE document = 'act'").fetchone()[0]) \
        == res.stdout
    db.close()


def test_show_as_of_before_the_first_version_is_an_error(analyst_db):
    for as_of in ("2026-01-09", "2026-01-10T11:59:59Z", "2026-01-10T13:59:59+02:00"):
        res = regwatch(analyst_db.config, "show", "act", "--as-of", as_of)
        assert res.exit_code == 2, as_of
        assert "had no version yet" in res.stderr and "first seen 2026-01-10T12:00:00" in res.stderr
        assert res.stdout == ""


def test_show_as_of_usage_errors_and_other_modes_still_work(analyst_db):
    res = regwatch(analyst_db.config, "show", "act", "1", "--as-of", "2026-02-01")
    assert res.exit_code == 2 and "not both" in res.stderr
    res = regwatch(analyst_db.config, "show", "act", "--as-of", "last tuesday")
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.stderr
    res = regwatch(analyst_db.config, "show", "act", "--as-of", "2026-02-30")
    assert res.exit_code == 2
    res = regwatch(analyst_db.config, "show", "nope", "--as-of", "2026-02-01")
    assert res.exit_code == 2 and "unknown document" in res.stderr
    # Unchanged: by number, by label, the latest; and --outline with --as-of.
    assert regwatch(analyst_db.config, "show", "act", "2").stdout.count("within 30 days") == 1
    assert regwatch(analyst_db.config, "show", "act", "Final").stdout == FINAL2  # the latest so labelled
    assert regwatch(analyst_db.config, "show", "act").stdout == FINAL2
    outline = regwatch(analyst_db.config, "show", "act", "--as-of", "2026-02-20", "--outline")
    assert outline.exit_code == 0 and "Article 55" in outline.stdout and "shall" not in outline.stdout


def test_version_as_of_compares_instants_not_strings(analyst_db):
    db = open_db(analyst_db.database, readonly=True)
    versions = history(db, "act")
    db.close()
    assert version_as_of(versions, datetime(2026, 1, 10, 11, 59, 59, tzinfo=UTC)) is None
    assert version_as_of(versions, parse_instant("2026-01-10T13:00:00+01:00")).number == 1
    assert version_as_of(versions, parse_instant("2026-03-01T12:00:00Z")).number == 4
    assert parse_instant("2026-02-20") == datetime(2026, 2, 20, tzinfo=UTC)
    assert parse_instant("2026-02-20", day_end=True) == datetime(2026, 2, 20, 23, 59, 59, 999999, tzinfo=UTC)
