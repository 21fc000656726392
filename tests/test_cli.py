"""The `regwatch` command line, driven like a user would, against a real local server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from store.db import open_db
from store.versions import find_version, replace_version_text, version_text
from tracker.cli import cli
from tracker.demo.server import LocalSite

PAGE = "<html><head><title>Q&amp;A</title></head><body><main><h2>Commitment 1. Documentation</h2><p>{text}</p></main></body></html>"


@pytest.fixture
def site():
    with LocalSite() as s:
        yield s


def write_config(tmp_path: Path, site: LocalSite, extra: str = "") -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "database: hist.db\n"
        "defaults: {delay: 0, timeout: 3, retries: 0}\n"
        "sources:\n"
        f"  - {{name: faq, url: '{site.url('/faq')}', label: First}}\n"
        f"  - {{name: broken, url: '{site.url('/broken')}'}}\n" + extra
    )
    return cfg


def run(cfg: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(cfg), *args], catch_exceptions=False)


def test_crawl_history_show_sources(site, tmp_path):
    site.set("/faq", PAGE.format(text="Signatories commit to documentation."))
    site.set("/broken", "<h1>down</h1>", status=500)
    cfg = write_config(tmp_path, site)

    res = run(cfg, "crawl")
    assert res.exit_code == 3  # partial failure: one source failed
    assert "failed: broken" in res.stderr
    assert "new_version" in res.stdout and "HTTP 500" in res.stdout

    res = run(cfg, "crawl", "faq", "--json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)  # nothing but JSON on stdout
    assert [f["outcome"] for f in data["fetches"]] == ["not_modified"]

    site.set("/faq", PAGE.format(text="Signatories shall document their models."))
    assert run(cfg, "crawl", "faq").exit_code == 0

    res = run(cfg, "history", "faq", "--json")
    rows = json.loads(res.stdout)
    assert [r["version"] for r in rows] == [1, 2]
    assert set(rows[0]) >= {"version", "label", "first_seen", "url", "content_type", "text_sha256"}
    assert rows[0]["label"] == "First" and rows[0]["content_type"] == "text/html"
    assert rows[0]["first_seen"] <= rows[1]["first_seen"] and "T" in rows[0]["first_seen"]

    assert "shall document" in run(cfg, "show", "faq").stdout
    assert "commit to documentation" in run(cfg, "show", "faq", "1").stdout
    # A source's label marks every version it yields; the label names the latest of them.
    assert run(cfg, "show", "faq", "First").stdout == run(cfg, "show", "faq", "2").stdout
    assert "Commitment 1. Documentation" in run(cfg, "show", "faq", "--outline").stdout

    res = run(cfg, "sources", "--json")
    by_name = {r["name"]: r for r in json.loads(res.stdout)}
    assert by_name["faq"]["versions"] == 2 and by_name["faq"]["last_fetch"]["outcome"] == "new_version"
    assert by_name["broken"]["last_fetch"]["outcome"] == "failed"
    assert by_name["broken"]["versions"] == 0


def test_usage_errors_exit_2_before_anything_runs(site, tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("database: h.db\nsources:\n  - {name: x, url: 'nota url'}\n")
    res = run(bad, "crawl")
    assert res.exit_code == 2 and "config.yaml:3: sources[0].url" in res.stderr
    assert not (tmp_path / "h.db").exists()

    cfg = write_config(tmp_path, site)
    assert run(cfg, "crawl", "nope").exit_code == 2
    site.set("/faq", PAGE.format(text="x"))
    run(cfg, "crawl", "faq")
    res = run(cfg, "history", "unknown-doc")
    assert res.exit_code == 2 and "known documents: faq" in res.stderr
    assert run(cfg, "show", "faq", "9").exit_code == 2


def test_reprocess_rebuilds_text_from_raw_bytes(site, tmp_path):
    site.set("/faq", PAGE.format(text="Original wording."))
    cfg = write_config(tmp_path, site)
    run(cfg, "crawl", "faq")
    db = open_db(tmp_path / "hist.db")
    v = find_version(db, "faq")
    good = version_text(db, v.id)
    replace_version_text(db, v.id, "stale text from an old extractor\n", [], "0")
    db.close()

    res = run(cfg, "reprocess")
    assert res.exit_code == 0 and "1 texts changed" in res.stdout
    db = open_db(tmp_path / "hist.db")
    assert version_text(db, v.id) == good
    assert find_version(db, "faq").extractor_version != "0"


def test_demo_runs_offline_and_shows_two_versions(tmp_path):
    res = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    db = open_db(tmp_path / "demo.db")
    counts = dict(db.execute("SELECT document, COUNT(*) FROM versions GROUP BY document").fetchall())
    assert counts["demo-code"] == 2 and counts["demo-code-pdf"] == 2
    assert counts.get("demo-news/qa-final") == 1  # found on the listing page once published
    assert str(tmp_path / "demo.db") in res.output
    labels = [r[0] for r in db.execute("SELECT label FROM versions WHERE document = 'demo-code' ORDER BY number")]
    assert labels == ["First draft", "Final"]
    # It shows what changed, and stored the changes.
    assert "[-should-]{+shall+}" in res.output and "renumbered" in res.output
    assert db.execute("SELECT COUNT(*) FROM changes WHERE document = 'demo-code'").fetchone()[0] == 1
    # The unchanged Q&A page was answered by a 304 the second time.
    assert db.execute("SELECT COUNT(*) FROM fetches WHERE outcome = 'not_modified'").fetchone()[0] >= 1
    # The alerts it would send, rendered, and nothing sent without channels.
    assert "Subject: [regwatch] demo-code: v1 (First draft) → v2 (Final)" in res.output
    assert "Full diff: regwatch diff demo-code 'First draft' Final" in res.output
    assert "No channel configured, so nothing was sent" in res.output
    assert db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0


DEMO = Path(__file__).resolve().parents[1] / "tracker" / "demo" / "data"


def test_compare_formats_filters_and_exit_code(tmp_path):
    old, new = str(DEMO / "v1" / "code.html"), str(DEMO / "v2" / "code.pdf")
    res = CliRunner().invoke(cli, ["compare", old, new, "--format", "json"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert set(data) == {"stats", "sections", "hunks"}
    hunk = data["hunks"][0]
    assert {"kind", "old_path", "new_path", "classification", "significance", "reasons", "flags",
            "obligations", "old_text", "new_text", "edits"} <= set(hunk)
    for h in data["hunks"]:  # edits rebuild both texts
        assert "".join(t for op, t in h["edits"] if op <= 0) == h["old_text"]
        assert "".join(t for op, t in h["edits"] if op >= 0) == h["new_text"]
    rows = {(s["old"], s["new"]): s["status"] for s in data["sections"]}
    assert rows[("Commitment 4. Public transparency", "Commitment 3. Public transparency")] == "renumbered"

    res = CliRunner().invoke(cli, ["compare", old, new, "--format", "json", "--min-class", "substantive",
                                   "--section", "Measure 2"])
    hunks = json.loads(res.stdout)["hunks"]
    assert hunks and all(h["classification"] == "substantive" for h in hunks)
    assert all(any("Measure 2" in p for p in h["new_path"] + h["old_path"]) for h in hunks)

    word = CliRunner().invoke(cli, ["compare", old, new, "--format", "word", "--exit-code"])
    assert word.exit_code == 1  # like git: differences found
    assert "[-should-]{+shall+}" in word.stdout and "\x1b[" not in word.stdout  # no colour when piped
    same = CliRunner().invoke(cli, ["compare", old, old, "--exit-code"])
    assert same.exit_code == 0 and same.stdout == ""
    for fmt in ("unified", "side-by-side", "stat"):
        out = CliRunner().invoke(cli, ["compare", old, new, "--format", fmt]).stdout
        assert "Measure 2.4. Incident drills" in out, fmt
    bad = CliRunner().invoke(cli, ["compare", old, str(tmp_path / "missing.pdf")])
    assert bad.exit_code == 2 and "cannot read" in bad.stderr


def test_changes_are_stored_after_crawls_and_diffable_by_label(site, tmp_path):
    site.set("/faq", PAGE.format(text="Signatories should report within 15 days."))
    cfg = write_config(tmp_path, site)
    run(cfg, "crawl", "faq")
    site.set("/faq", PAGE.format(text="Signatories shall report within 10 days."))
    run(cfg, "crawl", "faq")
    rows = json.loads(run(cfg, "changes", "--json").stdout)
    assert len(rows) == 1 and rows[0]["document"] == "faq" and rows[0]["substantive"] == 1
    assert (rows[0]["from_version"], rows[0]["to_version"]) == (1, 2)
    assert "modal" in rows[0]["top"][0]["reasons"][0] or "modal" in " ".join(rows[0]["top"][0]["reasons"])
    assert json.loads(run(cfg, "changes", "--since", "2999-01-01", "--json").stdout) == []

    res = run(cfg, "diff", "faq", "--format", "json")
    flags = json.loads(res.stdout)["hunks"][0]["flags"]
    assert "modal" in flags and "duration" in flags
    assert run(cfg, "diff", "faq", "1", "2", "--exit-code").exit_code == 1
    assert run(cfg, "diff", "faq", "1", "7").exit_code == 2
    db = open_db(tmp_path / "hist.db")
    assert db.execute("SELECT COUNT(*) FROM hunks WHERE classification = 'substantive'").fetchone()[0] == 1
