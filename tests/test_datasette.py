"""Datasette: the shipped metadata describes every table and view, its canned queries run on a
real database, and `regwatch serve` starts Datasette read-only (skipped without Datasette)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from conftest import regwatch
from test_query import fingerprint

from store.db import open_db
from tracker.datasette import serve as ds

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = {"document": "act", "date": "2026-02-01", "obligation": "aia-55", "section": "Article 55",
           "q": "incident"}
QUERIES = {"timeline", "substantive_since", "obligation", "latest", "section", "failing_sources", "as_of", "search"}


def canned() -> dict[str, dict]:
    return ds.shipped_metadata()["databases"][ds.SHIPPED_NAME]["queries"]


def run_canned(db, name: str, **params) -> list[dict]:
    sql = canned()[name]["sql"]
    names = set(re.findall(r"(?<!:):(\w+)", sql))
    cur = db.execute(sql, {n: params.get(n, SAMPLES[n]) for n in names})
    columns = [d[0] for d in cur.description]
    return [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]


def test_metadata_describes_every_table_and_view(tmp_path):
    db = open_db(tmp_path / "m.db")
    described = ds.shipped_metadata()["databases"][ds.SHIPPED_NAME]["tables"]
    names = [t for t in db.table_names() if not t.startswith("latest_texts_fts_")] + db.view_names()
    for name in names:
        assert described.get(name, {}).get("description"), name
    assert set(described) <= set(names)  # nothing described that does not exist
    db.close()
    assert set(canned()) == QUERIES


def test_every_canned_query_runs_on_a_populated_database(analyst_db):
    db = open_db(analyst_db.database, readonly=True)
    for name in canned():
        assert run_canned(db, name), f"canned query {name} found nothing"
    db.close()


def test_canned_queries_answer_their_question(analyst_db):
    db = open_db(analyst_db.database, readonly=True)
    assert [r["version"] for r in run_canned(db, "timeline")] == [2, 3, 1, 4]
    since = run_canned(db, "substantive_since", date="2026-02-15")
    assert [(r["from_label"], r["to_label"]) for r in since] == [("Second draft", "Final"), ("Draft", "Second draft")]
    assert run_canned(db, "substantive_since", date="2026-02-16") == []
    # An obligation and everything below it in the catalog (aia-55 -> aia-55-1 -> aia-55-1-c).
    assert {r["obligation"] for r in run_canned(db, "obligation")} == {"aia-55-1-c", "aia-55-1-d"}
    assert {r["obligation"] for r in run_canned(db, "obligation", obligation="aia-55-1-d")} == {"aia-55-1-d"}
    assert [(r["document"], r["version"]) for r in run_canned(db, "latest")] == [("act", 4), ("faq", 1)]
    assert [(r["from_version"], r["to_version"]) for r in run_canned(db, "section")] == [(2, 3), (3, 1)]
    assert run_canned(db, "section", section="Article 5") == []  # not Article 53 or 55
    assert [r["source"] for r in run_canned(db, "failing_sources")] == ["faq"]
    (as_of,) = run_canned(db, "as_of", date="2026-02-20")
    assert (as_of["version"], as_of["label"]) == (1, "Final") and "without undue delay" in as_of["text"]
    assert run_canned(db, "as_of", date="2026-01-09") == []
    assert [r["document"] for r in run_canned(db, "search")] == ["act"]
    db.close()


def test_metadata_follows_the_database_name_and_ships_with_the_package(tmp_path):
    meta = ds.metadata_for(tmp_path / "history.db")
    assert list(meta["databases"]) == ["history"]
    assert meta["databases"]["history"]["queries"]["timeline"]["sql"] == canned()["timeline"]["sql"]
    written = json.loads(ds.write_metadata(tmp_path / "my.db", tmp_path).read_text())
    assert list(written["databases"]) == ["my"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert any(d.startswith("datasette") for d in project["project"]["optional-dependencies"]["datasette"])
    assert not any(d.startswith("datasette") for d in project["project"]["optional-dependencies"]["test"])
    assert "tracker.datasette" in project["tool"]["setuptools"]["packages"]
    data = project["tool"]["setuptools"]["package-data"]["tracker"]
    shipped = {p.relative_to(ROOT / "tracker").as_posix() for p in (ROOT / "tracker" / "datasette").rglob("*")
               if p.suffix in (".yaml", ".py") and p.name != "__init__.py" and p.parent.name != "__pycache__"
               and p.name != "serve.py"}
    assert shipped == {"datasette/metadata.yaml", "datasette/plugins/regwatch_sql.py"}
    for path in shipped:
        assert any(Path(path).match(pattern) for pattern in data), path


def test_serve_without_datasette_says_how_to_install_it(analyst_db, monkeypatch):
    monkeypatch.setattr(ds, "installed", lambda: False)
    res = regwatch(analyst_db.config, "serve")
    assert res.exit_code == 2
    assert "Datasette is not installed" in res.stderr and "pip install 'regwatch[datasette]'" in res.stderr


needs_datasette = pytest.mark.skipif(importlib.util.find_spec("datasette") is None,
                                     reason="datasette is not installed (pip install 'regwatch[datasette]')")


@needs_datasette
def test_the_plugin_registers_version_text_and_reads_only(analyst_db):
    import sqlite3

    spec = importlib.util.spec_from_file_location("regwatch_sql", ds.PLUGINS_DIR / "regwatch_sql.py")
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    conn = sqlite3.connect(analyst_db.database)  # as Datasette's write connection would be
    plugin.prepare_connection(conn, "history", None)
    assert conn.execute("SELECT version_text(4)").fetchone()[0].startswith("# Questions")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM versions")
    internal = sqlite3.connect(":memory:")
    plugin.prepare_connection(internal, "_internal", None)  # Datasette's own database is left alone
    internal.execute("CREATE TABLE t (a)")
    conn.close()
    internal.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a local test server
        return response.read()


@needs_datasette
def test_regwatch_serve_starts_datasette_read_only(analyst_db, tmp_path):
    shutil.copy(analyst_db.database, tmp_path / "history.db")
    shutil.copy(analyst_db.config, tmp_path / "config.yaml")
    before = fingerprint(tmp_path / "history.db")
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "--config", str(tmp_path / "config.yaml"), "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                meta = json.loads(_get(f"{base}/-/metadata.json"))
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "datasette did not answer in 60 s"
                time.sleep(0.3)
        assert set(meta["databases"]["history"]["queries"]) == QUERIES
        rows = json.loads(_get(f"{base}/history/timeline.json?document=act&_shape=array"))
        assert [r["version"] for r in rows] == [2, 3, 1, 4]
        # version_text() comes from regwatch's plugin.
        (as_of,) = json.loads(_get(f"{base}/history/as_of.json?document=act&date=2026-02-20&_shape=array"))
        assert as_of["label"] == "Final" and "without undue delay" in as_of["text"]
        latest = json.loads(_get(f"{base}/history/latest_versions.json?_shape=array"))
        assert [(r["document"], r["version"]) for r in latest] == [("act", 4), ("faq", 1)]
        proc.send_signal(signal.SIGTERM)  # stopping regwatch stops the server it started
        assert proc.wait(timeout=30) == 0
        with pytest.raises(OSError):
            _get(f"{base}/-/metadata.json")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert fingerprint(tmp_path / "history.db") == before
