"""Entry point of the crawl subprocess: `python -m crawler.process < spec.json`.

Why a subprocess per crawl: Twisted's reactor cannot be restarted in a process, and the
scheduler daemon crawls again and again. A fresh process per crawl also returns the memory
of large PDFs to the system and isolates a crash of an extractor from the daemon.
The spec on stdin: {"database": path, "sources": [CrawlSource dicts], "settings": {...}}.
Events go to stdout as JSON lines; Scrapy's log goes to stderr.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys

from scrapy.crawler import CrawlerProcess

from crawler import events
from crawler.spiders.regwatch import RegwatchSpider


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux): a daemon killed with
    SIGKILL must not leave an orphan crawl writing to the database it is restarted on."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux: the broken stdout pipe ends the crawl at its next event instead
    if os.getppid() != parent:
        os._exit(1)  # the parent died before prctl took effect


def main() -> int:
    """Run one crawl described by the JSON spec on standard input."""
    if os.environ.get("REGWATCH_PARENT_PID"):
        die_with_parent(int(os.environ["REGWATCH_PARENT_PID"]))
    spec = json.load(sys.stdin)
    events.listen_stdout()
    process = CrawlerProcess(settings=spec["settings"], install_root_handler=True)
    process.crawl(RegwatchSpider, sources=spec["sources"], database=spec["database"])
    process.start()
    events.emit({"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
