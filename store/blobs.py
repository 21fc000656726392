"""Content-addressed storage of raw bytes and extracted text: each distinct content once,
zstd-compressed, and stored as a delta against the previous version of the same document.

Why zstd with a raw-content dictionary: successive versions of a regulation differ by a few
paragraphs, and zstd can reference the whole previous version (up to its window), where
zlib's 32 KB window sees almost none of a 1 MB document. A chain of deltas is cut every
MAX_DEPTH versions by a full copy, so reading any version decompresses at most MAX_DEPTH blobs.
"""

from __future__ import annotations

import hashlib
import sqlite3
from functools import lru_cache

import zstandard

# Small blobs (a web page) compress at level 3 in a twentieth of level 12's time for ~1.5%
# more bytes; large full copies, where the bytes matter, get level 12.
FAST_LEVEL, SMALL_LIMIT, LEVEL = 3, 256 * 1024, 12
MAX_DEPTH = 32


def sha256(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def put_blob(conn: sqlite3.Connection, data: bytes, base: str | None | list[str | None] = None) -> str:
    """Store `data` once (if not already stored) and return its SHA-256.

    `base`, the SHA-256 of a similar stored blob (the previous version), makes the new blob
    a delta against it; given a list, the first candidate whose delta chain is not too long
    is used. Call inside the caller's transaction.
    """
    digest = sha256(data)
    if conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (digest,)).fetchone():
        return digest
    depth = 0
    codec = "zstd"
    compressed: bytes | None = None
    base = _choose_base(conn, base)
    if base is not None:
        row = conn.execute("SELECT depth FROM blobs WHERE sha256 = ?", (base,)).fetchone()
        if row is not None and row[0] + 1 < MAX_DEPTH:
            dictionary = zstandard.ZstdCompressionDict(
                get_blob(conn, base), dict_type=zstandard.DICT_TYPE_RAWCONTENT
            )
            compressed = zstandard.ZstdCompressor(level=_level(data), dict_data=dictionary).compress(data)
            codec, depth = "zstd-delta", row[0] + 1
        else:
            base = None
    if compressed is None:
        compressed = zstandard.ZstdCompressor(level=_level(data)).compress(data)
    conn.execute(
        "INSERT INTO blobs (sha256, size, codec, base, depth, data) VALUES (?, ?, ?, ?, ?, ?)",
        (digest, len(data), codec, base, depth, compressed),
    )
    return digest


def _choose_base(conn: sqlite3.Connection, base: str | None | list[str | None]) -> str | None:
    candidates = base if isinstance(base, list) else [base]
    for cand in candidates:
        if cand is None:
            continue
        row = conn.execute("SELECT depth FROM blobs WHERE sha256 = ?", (cand,)).fetchone()
        if row is not None and row[0] + 1 < MAX_DEPTH:
            return cand
    return None


def _level(data: bytes) -> int:
    return FAST_LEVEL if len(data) < SMALL_LIMIT else LEVEL


def get_blob(conn: sqlite3.Connection, digest: str) -> bytes:
    """The uncompressed content of blob `digest`; KeyError when it is not stored."""
    return _cached_get(conn, digest)


@lru_cache(maxsize=64)
def _cached_get(conn: sqlite3.Connection, digest: str) -> bytes:
    # Blobs are immutable (content-addressed), so caching by hash is always correct.
    row = conn.execute("SELECT codec, base, data FROM blobs WHERE sha256 = ?", (digest,)).fetchone()
    if row is None:
        raise KeyError(f"blob {digest} is not stored")
    codec, base, data = row
    if codec == "zstd":
        return zstandard.ZstdDecompressor().decompress(data)
    if codec == "zstd-delta":
        dictionary = zstandard.ZstdCompressionDict(
            _cached_get(conn, base), dict_type=zstandard.DICT_TYPE_RAWCONTENT
        )
        return zstandard.ZstdDecompressor(dict_data=dictionary).decompress(data)
    raise ValueError(f"blob {digest} has unknown codec {codec}")
