"""Running a crawl from any process, any number of times: one subprocess per crawl."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.settings import crawl_settings
from crawler.sources import CrawlSource


class CrawlError(Exception):
    """Raised when the crawl process itself failed (not when a source failed), from run_crawl."""


@dataclass
class CrawlSummary:
    """Every fetch of one crawl, as reported by the crawl process."""

    fetches: list[dict[str, Any]] = field(default_factory=list)
    # Filled by tracker.pipeline after the crawl: ids of the changes stored, and tracking
    # transitions (source, event, alerts queued).
    changes: list[int] = field(default_factory=list)
    tracking: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Fetches that failed, or whose result could not be stored."""
        return [f for f in self.fetches if f["outcome"] in ("failed", "not_stored")]

    @property
    def new_versions(self) -> list[dict[str, Any]]:
        """Fetches that stored a new version."""
        return [f for f in self.fetches if f["outcome"] == "new_version"]


def run_crawl(
    database: str | Path,
    sources: list[CrawlSource],
    *,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    timeout: float | None = None,
    **options: Any,
) -> CrawlSummary:
    """Crawl `sources` into `database` in a fresh subprocess and return what happened.

    `options` are the crawl-wide settings of `crawler.settings.crawl_settings` (user_agent,
    obey_robots, concurrency_per_host, retries, backoff, max_retry_after).
    """
    defaults: dict[str, Any] = {
        "user_agent": "regwatch/0.1 (regulatory change tracker)",
        "obey_robots": True,
        "concurrency_per_host": 1,
        "retries": 2,
        "backoff": 2.0,
        "max_retry_after": 120.0,
    }
    spec = {
        "database": str(database),
        "sources": [s.to_dict() for s in sources],
        "settings": crawl_settings(sources, **{**defaults, **options}),
    }
    summary = CrawlSummary()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "REGWATCH_PARENT_PID": str(os.getpid())},
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(spec))
        proc.stdin.close()
        done = False
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a stray print from a library; events are JSON
            if event.get("event") == "fetched":
                summary.fetches.append(event)
            done = done or event.get("event") == "done"
            if on_event:
                on_event(event)
        code = proc.wait(timeout=timeout)
        if code != 0 or not done:
            log.seek(0)
            tail = "".join(log.readlines()[-20:])
            raise CrawlError(f"crawl process exited with code {code}:\n{tail}")
    return summary
