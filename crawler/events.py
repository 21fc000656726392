"""Progress events of a crawl, written as JSON lines for the process that started it."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

stream: TextIO | None = None


def emit(event: dict[str, Any]) -> None:
    """Write one event as a JSON line to `stream` (nothing when no one listens)."""
    if stream is not None:
        stream.write(json.dumps(event) + "\n")
        stream.flush()


def listen_stdout() -> None:
    """Send events to standard output (used by the crawl subprocess)."""
    global stream
    stream = sys.stdout
