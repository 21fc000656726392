"""Writing rows (column names and tuples from SQLite) as a text table, JSON or CSV, row by row:
a large result is never held whole."""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from typing import Any, TextIO

FORMATS = ("table", "json", "csv")
MAX_CELL = 60  # characters a table cell shows; longer values end with …
MEASURED_ROWS = 200  # a table's column widths come from its first rows


def write_rows(out: TextIO, columns: list[str], rows: Iterable[tuple[Any, ...]], fmt: str) -> int:
    """Write `rows` under `columns` to `out` in `fmt` (table, json or csv); the number of rows."""
    writer = {"table": _table, "json": _json, "csv": _csv}[fmt]
    return writer(out, columns, iter(rows))


def json_keys(columns: list[str]) -> list[str]:
    """Object keys for `columns`: a repeated name gets a suffix (`id`, `id_2`) so that no value
    is lost when two columns share a name (`SELECT a.id, b.id`)."""
    keys: list[str] = []
    for name in columns:
        key, n = name, 1
        while key in keys:
            n += 1
            key = f"{name}_{n}"
        keys.append(key)
    return keys


def json_value(value: Any) -> Any:
    """A value as JSON can hold it: bytes as `{"$base64": true, "encoded": ...}` (as Datasette)."""
    if isinstance(value, bytes):
        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    return value


def _json(out: TextIO, columns: list[str], rows: Iterator[tuple]) -> int:
    keys = json_keys(columns)
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps({k: json_value(v) for k, v in zip(keys, row, strict=True)}, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _csv(out: TextIO, columns: list[str], rows: Iterator[tuple]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v
                         for v in row])
        count += 1
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    text = " ".join(str(value).split()) if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _table(out: TextIO, columns: list[str], rows: Iterator[tuple]) -> int:
    first = list(islice(rows, MEASURED_ROWS))
    widths = [min(len(c), MAX_CELL) for c in columns]
    for row in first:
        for k, value in enumerate(row):
            widths[k] = max(widths[k], len(_cell(value)))

    def line(row: tuple, header: bool = False) -> str:
        cells = []
        for k, value in enumerate(row):
            text = _cell(value)
            if len(text) > widths[k]:  # a later row wider than the measured ones
                text = text[: widths[k] - 1] + "…"
            numeric = not header and isinstance(value, int | float) and not isinstance(value, bool)
            cells.append(text.rjust(widths[k]) if numeric else text.ljust(widths[k]))
        return "  ".join(cells).rstrip() + "\n"

    out.write(line(tuple(columns), header=True))
    out.write("  ".join("-" * w for w in widths) + "\n")
    count = 0
    for row in chain(first, rows):
        out.write(line(row))
        count += 1
    return count
