"""`regwatch export`: changes with hunks and obligation links as JSON or CSV, filtered, and
written to a file whole or not at all."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from conftest import regwatch

import tracker.export


def export(cfg, *args: str):
    res = regwatch(cfg, "export", *args)
    assert res.exit_code == 0, res.output
    return res


def test_json_has_every_current_change_with_its_hunks_and_links(analyst_db):
    changes = json.loads(export(analyst_db.config).stdout)
    # Oldest first; the change superseded when the second draft arrived (2 -> 1) is not there.
    assert [(c["from_version"], c["to_version"]) for c in changes] == [(2, 3), (3, 1), (1, 4)]
    assert [c["detected_at"][:10] for c in changes] == ["2026-02-15", "2026-02-15", "2026-03-01"]
    conn = sqlite3.connect(analyst_db.database)
    for c in changes:
        stored = conn.execute("SELECT hunks, substantive, editorial, cosmetic, max_significance FROM changes "
                              "WHERE id = ?", (c["change_id"],)).fetchone()
        assert (c["hunk_count"], c["substantive"], c["editorial"], c["cosmetic"], c["max_significance"]) == stored
        assert len(c["hunks"]) == c["hunk_count"]
        assert [h["ordinal"] for h in c["hunks"]] == sorted(h["ordinal"] for h in c["hunks"])
    first = changes[0]
    assert (first["document"], first["from_label"], first["to_label"]) == ("act", "Draft", "Second draft")
    hunk = first["hunks"][0]
    assert (hunk["kind"], hunk["classification"]) == ("modified", "substantive")
    assert hunk["section"].startswith("Article 55") and hunk["new_path"][-1] == hunk["section"]
    assert "within 30 days" in hunk["old_text"] and "within 15 days" in hunk["new_text"]
    assert hunk["reasons"] and "duration" in hunk["flags"]
    (link,) = hunk["obligations"]
    assert (link["id"], link["ref"], link["method"]) == ("aia-55-1-c", "Article 55(1)(c)", "section")
    assert 0 < link["confidence"] <= 1 and link["reason"]


def test_csv_is_one_row_per_hunk_with_the_change_repeated(analyst_db):
    as_json = json.loads(export(analyst_db.config).stdout)
    rows = list(csv.DictReader(io.StringIO(export(analyst_db.config, "--format", "csv").stdout)))
    assert list(rows[0]) == tracker.export.CSV_COLUMNS
    hunks = [(c, h) for c in as_json for h in c["hunks"]]
    assert len(rows) == len(hunks) == 4
    for row, (c, h) in zip(rows, hunks, strict=True):
        assert (row["change_id"], row["document"], row["to_label"]) == (str(c["change_id"]), c["document"],
                                                                        c["to_label"] or "")
        assert row["change_hunks"] == str(c["hunk_count"])
        assert (row["hunk_id"], row["section"], row["classification"]) == (str(h["hunk_id"]), h["section"],
                                                                          h["classification"])
        assert row["old_text"] == h["old_text"] and row["new_text"] == h["new_text"]
        assert row["obligations"] == ";".join(o["id"] for o in h["obligations"])
        assert row["obligation_links"].startswith(f"{h['obligations'][0]['id']} section 0.9")


def test_several_obligations_are_joined_and_a_change_without_hunks_kept(analyst_db, tmp_path):
    import shutil

    shutil.copy(analyst_db.database, tmp_path / "history.db")
    shutil.copy(analyst_db.config, tmp_path / "config.yaml")
    conn = sqlite3.connect(tmp_path / "history.db")
    conn.execute("INSERT INTO hunk_obligations VALUES (4, 'aia-55', 'terms', 0.3, 'shared terms')")
    conn.commit()
    conn.close()
    rows = list(csv.DictReader(io.StringIO(export(tmp_path / "config.yaml", "--format", "csv").stdout)))
    row = next(r for r in rows if r["hunk_id"] == "4")
    assert row["obligations"] == "aia-55-1-c;aia-55"
    assert row["obligation_links"] == "aia-55-1-c section 0.95;aia-55 terms 0.30"
    # A change without hunks still has its row, with empty hunk columns.
    conn = sqlite3.connect(tmp_path / "history.db")
    conn.execute("DELETE FROM hunks WHERE change_id = (SELECT id FROM changes WHERE from_version = 1)")
    conn.commit()
    conn.close()
    rows = list(csv.DictReader(io.StringIO(export(tmp_path / "config.yaml", "--format", "csv").stdout)))
    last = rows[-1]
    assert (last["from_version"], last["to_version"], last["hunk_id"], last["section"]) == ("1", "4", "", "")


def test_filters(analyst_db):
    def pairs(*args):
        return [(c["from_version"], c["to_version"]) for c in json.loads(export(analyst_db.config, *args).stdout)]

    # Detected on 15 February, though the final it leads to was first seen in January.
    assert pairs("--since", "2026-02-15") == [(2, 3), (3, 1), (1, 4)]
    assert pairs("--since", "2026-02-15T12:00:01Z") == [(1, 4)]
    assert pairs("--since", "2026-02-15T13:00:00+02:00") == [(2, 3), (3, 1), (1, 4)]  # 11:00 UTC
    assert pairs("--since", "2026-03-02") == []
    assert pairs("--document", "faq") == []
    assert pairs("--document", "act", "--since", "2026-03-01") == [(1, 4)]
    # --obligation: the id and everything below it; only the hunks linked to them.
    by_obligation = json.loads(export(analyst_db.config, "--obligation", "aia-55").stdout)
    assert [(c["from_version"], c["to_version"]) for c in by_obligation] == [(2, 3), (3, 1)]
    assert {o["id"] for c in by_obligation for h in c["hunks"] for o in h["obligations"]} == {
        "aia-55-1-c", "aia-55-1-d"}
    only_c = json.loads(export(analyst_db.config, "--obligation", "aia-55-1-c").stdout)
    assert [len(c["hunks"]) for c in only_c] == [1, 1] and only_c[0]["hunk_count"] == 2
    assert pairs("--obligation", "aia-53") == [(1, 4)]
    csv_rows = list(csv.DictReader(io.StringIO(
        export(analyst_db.config, "--format", "csv", "--obligation", "aia-55-1-c").stdout)))
    assert [r["obligations"] for r in csv_rows] == ["aia-55-1-c", "aia-55-1-c"]


def test_errors_exit_2(analyst_db, tmp_path):
    for args in (["--since", "yesterday"], ["--document", "nope"], ["--obligation", "aia-999"],
                 ["--format", "xml"], ["-o", str(tmp_path / "missing" / "out.json")]):
        res = regwatch(analyst_db.config, "export", *args)
        assert res.exit_code == 2, args
        assert res.stdout == ""


def test_output_file_is_whole_or_untouched(analyst_db, tmp_path, monkeypatch):
    target = tmp_path / "changes.json"
    res = export(analyst_db.config, "-o", str(target))
    assert res.stdout == "" and "wrote 3 changes" in res.stderr
    assert json.loads(target.read_text()) == json.loads(export(analyst_db.config).stdout)
    assert target.stat().st_mode & 0o777 != 0o600  # not the temporary file's private mode
    whole = target.read_bytes()

    real = tracker.export._hunks
    calls = []

    def failing(db, change_id, *args):
        calls.append(change_id)
        if len(calls) == 2:  # the first change is already written when the second fails
            raise sqlite3.OperationalError("disk I/O error")
        return real(db, change_id, *args)

    monkeypatch.setattr(tracker.export, "_hunks", failing)
    for fmt in ("json", "csv"):
        calls.clear()
        res = regwatch(analyst_db.config, "export", "--format", fmt, "-o", str(target))
        assert res.exit_code == 2 and "disk I/O error" in res.stderr and "nothing written" in res.stderr
        assert target.read_bytes() == whole  # the earlier export is intact
        fresh = tmp_path / f"fresh.{fmt}"
        calls.clear()
        assert regwatch(analyst_db.config, "export", "--format", fmt, "-o", str(fresh)).exit_code == 2
        assert not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["changes.json"]  # no temporary files left


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_an_empty_export_is_valid(analyst_db, fmt):
    out = export(analyst_db.config, "--format", fmt, "--since", "2030-01-01").stdout
    if fmt == "json":
        assert json.loads(out) == []
    else:
        assert list(csv.reader(io.StringIO(out))) == [tracker.export.CSV_COLUMNS]
