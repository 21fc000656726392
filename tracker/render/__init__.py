"""Renderers of a Change, by format name: `RENDERERS[name](change, **options) -> str`.

Options every renderer accepts (and may ignore): title, old_label, new_label, colour, width.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from store.records import Change
from tracker.render import text


def as_json(change: Change, *, pretty: bool = True, **_: object) -> str:
    """The JSON contract: {stats, sections, hunks}; indented when `pretty`, else on one line."""
    # One line is for programs: json's C encoder only runs without indentation, and it is
    # 5x faster on the 5 MB of JSON a large comparison gives.
    return json.dumps(change.to_json(), indent=2 if pretty else None, ensure_ascii=False) + "\n"


def as_html(change: Change, *, title: str = "", old_label: str = "", new_label: str = "", **_: object) -> str:
    """One standalone HTML page: a table of sections and a side-by-side view of each change."""
    from tracker.render.html import render

    return render(change, title=title, old_label=old_label, new_label=new_label)


RENDERERS: dict[str, Callable[..., str]] = {
    "unified": text.unified,
    "word": text.word,
    "side-by-side": text.side_by_side,
    "stat": text.stat,
    "json": as_json,
    "html": as_html,
}
