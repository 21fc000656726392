"""`regwatch serve`: Datasette on the history database, read-only, with regwatch's metadata,
canned queries and SQL functions."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
METADATA = HERE / "metadata.yaml"
PLUGINS_DIR = HERE / "plugins"
INSTALL_HINT = "pip install 'regwatch[datasette]'"
SHIPPED_NAME = "regwatch"  # the database name metadata.yaml is written for


def installed() -> bool:
    """True when Datasette can be imported by this Python."""
    return importlib.util.find_spec("datasette") is not None


def database_name(path: Path) -> str:
    """The name Datasette gives the database file `path` (in its URLs and metadata)."""
    return Path(path).stem


def shipped_metadata() -> dict[str, Any]:
    """The metadata shipped with regwatch (descriptions and canned queries), as written."""
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))


def metadata_for(path: Path) -> dict[str, Any]:
    """The shipped metadata filed under the name Datasette gives the database at `path`."""
    meta = shipped_metadata()
    meta["databases"] = {database_name(path): meta["databases"][SHIPPED_NAME]}
    return meta


def write_metadata(path: Path, directory: Path) -> Path:
    """Write `metadata_for(path)` as JSON into `directory`; the file written."""
    target = directory / "metadata.json"
    target.write_text(json.dumps(metadata_for(path), ensure_ascii=False, indent=2), encoding="utf-8")
    return target


def command(path: Path, metadata: Path, host: str, port: int) -> list[str]:
    """The `datasette serve` command line for the database at `path`.

    The database is given as a plain argument, which Datasette opens with SQLite's `mode=ro`
    and re-reads as regwatch writes; `--immutable` would let Datasette assume the file never
    changes (stale counts, errors while a crawl writes). The plugin makes every connection
    `query_only` and registers version_text()."""
    return [sys.executable, "-m", "datasette", "serve", str(path), "--metadata", str(metadata),
            "--plugins-dir", str(PLUGINS_DIR), "--host", host, "--port", str(port)]


def run(cmd: list[str]) -> int:
    """Run Datasette until it exits or this process is interrupted or terminated (then stop it
    too, so that no server outlives `regwatch serve`); its exit code, 0 when stopped by us."""
    child = subprocess.Popen(cmd)
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        child.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = child.wait()  # our handler runs meanwhile; wait() goes on until Datasette exits
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if child.poll() is None:
            child.terminate()
            child.wait(timeout=10)
    return 0 if stopping else code
