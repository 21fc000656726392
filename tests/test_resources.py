"""Running out of resources: a full disk (a file-size limit on the real process), an
unwritable database path. Clear errors, exit codes that say so, and no half-written state."""

from __future__ import annotations

import resource
import sqlite3
import subprocess
from pathlib import Path

from conftest import regwatch
from test_daemon import REGWATCH

SMALL = "<html><body><h1>Small</h1><p>Providers shall keep records.</p></body></html>"
BIG = ("<html><body><h1>Big</h1>" + "".join(f"<h2>Article {i}</h2><p>{'providers shall keep records ' * 60}</p>"
                                             for i in range(1500)) + "</body></html>")


def _cfg(tmp_path: Path, site, names: list[str], database: str = "h.db") -> Path:
    cfg = tmp_path / "config.yaml"
    sources = "".join(f"  - {{name: {n}, url: '{site.url('/' + n)}'}}\n" for n in names)
    cfg.write_text(f"database: {database}\ndefaults: {{delay: 0, retries: 0}}\nsources:\n{sources}")
    return cfg


def test_a_full_disk_is_reported_and_leaves_the_history_intact(tmp_path, site):
    site.set("/small", SMALL)
    site.set("/big", BIG)
    cfg = _cfg(tmp_path, site, ["small"])
    assert regwatch(cfg, "crawl").exit_code == 0
    db = tmp_path / "h.db"
    before = sum(p.stat().st_size for p in tmp_path.glob("h.db*"))
    site.set("/small", SMALL.replace("records", "complete records"))
    cfg = _cfg(tmp_path, site, ["small", "big"])

    def limit() -> None:  # the "disk" is full a little above what the database holds now
        resource.setrlimit(resource.RLIMIT_FSIZE, (before + 150_000, before + 150_000))

    res = subprocess.run([REGWATCH, "--config", str(cfg), "crawl"], capture_output=True, text=True,
                         preexec_fn=limit, timeout=120)
    assert res.returncode == 3, res.stdout + res.stderr
    assert "not_stored" in res.stdout and "could not store the result" in res.stdout
    assert "error: failed: big" in res.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The small page's new version fitted and is complete; the big one is not half there.
    rows = conn.execute("SELECT document, number FROM versions ORDER BY document, number").fetchall()
    assert rows == [("small", 1), ("small", 2)]
    assert conn.execute("SELECT COUNT(*) FROM fetches WHERE document = 'big'").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == 1
    conn.close()
    # With room again, the next crawl stores it.
    assert regwatch(cfg, "crawl").exit_code == 0
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM versions WHERE document = 'big'").fetchone()[0] == 1
    conn.close()


def test_an_unwritable_database_path_is_a_clear_error(tmp_path, site):
    site.set("/small", SMALL)
    (tmp_path / "afile").write_text("not a directory")
    cfg = _cfg(tmp_path, site, ["small"], database="afile/h.db")
    for args in (["crawl"], ["run", "--once"]):
        res = regwatch(cfg, *args)
        assert res.exit_code == 2, args
        assert "afile/h.db" in res.output and "Traceback" not in res.output
