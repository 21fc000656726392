"""Loading a file or URL for `regwatch compare`: bytes in, normalised text out."""

from __future__ import annotations

from pathlib import Path

from crawler.extract import ExtractionError, extract, sniff

MAX_BYTES = 200 * 1024 * 1024
TIMEOUT = 60


def load_text(location: str) -> str:
    """The normalised text of a local file or an http(s) URL; ValueError with a clear message."""
    declared = None
    if location.startswith(("http://", "https://")):
        import urllib.error  # only for URLs: http.client and ssl cost 40 ms to import
        import urllib.request

        request = urllib.request.Request(location, headers={"User-Agent": "regwatch-compare/0.1"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as resp:
                body = resp.read(MAX_BYTES + 1)
                declared = resp.headers.get("Content-Type")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ValueError(f"{location}: cannot fetch: {exc}") from exc
    else:
        path = Path(location)
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"{location}: cannot read: {exc.strerror or exc}") from exc
        if path.suffix.lower() in (".md", ".txt", ".markdown"):
            declared = "text/plain"
    if len(body) > MAX_BYTES:
        raise ValueError(f"{location}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        doc, _ = extract(body, sniff(body, declared), content_type_header=declared)
    except ExtractionError as exc:
        raise ValueError(f"{location}: {exc}") from exc
    return doc.to_text()
