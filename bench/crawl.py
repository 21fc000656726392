"""Benchmark: regwatch crawl throughput against bare Scrapy, and version-store size.

Run: `python bench/crawl.py [--pages N] [--repeats R] [--versions V]`

Part 1 serves N small legal-style HTML pages from a local `LocalSite` on 127.0.0.1 and
times, each as a whole subprocess (start-up included, as `run_crawl` also starts one):
  - bare Scrapy: a minimal spider that requests every URL and ignores the body;
  - regwatch: `run_crawl` into a fresh SQLite file (fetch + extraction + store per page);
  - regwatch again on the same unchanged pages (all answered 304).
Part 2 stores 20 slightly edited versions of a ~1 MB HTML document with `record_fetch` and
reports the size of the blobs, of the whole database, and of the latest-text + FTS share.

Regwatch modules are imported inside functions so that the bare-Scrapy child (this file run
with --baseline-child) imports no more than Scrapy itself.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SEED = 20240801
CONCURRENCY = 16
USER_AGENT = "regwatch/0.1 (regulatory change tracker)"
CRAWL_TIMEOUT = 120.0  # seconds; a crawl of the local site that takes longer is a failure
MB = 1_000_000

_WORD_TEXT = (
    "provider providers deployer deployers model models general-purpose artificial intelligence "
    "system systems risk risks systemic obligation obligations shall may must ensure ensures "
    "documentation technical information authority authorities competent national market "
    "surveillance Commission Office Union Member State States requirement requirements "
    "accordance pursuant referred paragraph Article Annex Regulation Directive measure measures "
    "appropriate necessary proportionate transparency copyright training data evaluation "
    "adversarial testing incident incidents serious cybersecurity protection downstream "
    "integrators code practice signatories commit commitment commitments including without "
    "prejudice to the of and in for with by on that which where such any other this as be "
    "are is been have has its their from at or not all each within after before upon period "
    "months days notify notification publish published update updated review reviewed "
    "implementing delegated act acts adopt adopted conformity assessment procedure procedures "
    "penalties fines administrative confidentiality personal rights fundamental health safety"
)
WORDS = _WORD_TEXT.split()

ARTICLE_TITLES = (
    "Subject matter", "Scope", "Definitions", "Obligations of providers", "Transparency",
    "Technical documentation", "Copyright policy", "Systemic risk assessment", "Serious incidents",
    "Cybersecurity", "Authorised representatives", "Codes of practice", "Penalties",
    "Confidentiality", "Entry into force", "Evaluation and review", "Delegated acts",
    "Market surveillance", "Cooperation with authorities", "Record keeping",
)


# --- deterministic legal-style content --------------------------------------------------------


def sentence(rng: random.Random, lo: int = 12, hi: int = 28) -> str:
    """One legal-sounding sentence of lo..hi words."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def paragraph(rng: random.Random, number: int | None = None) -> str:
    """A numbered paragraph of 2..5 sentences."""
    text = " ".join(sentence(rng) for _ in range(rng.randint(2, 5)))
    return f"{number}. {text}" if number is not None else text


def small_page(index: int) -> bytes:
    """A ~5-10 KB HTML page with one or two articles (deterministic per `index`)."""
    rng = random.Random(SEED + index)
    parts = [
        "<!doctype html><html><head><meta charset=\"utf-8\">",
        f"<title>Regulation (EU) 2024/{1000 + index}</title></head><body>",
        "<nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav>",
        f"<main><h1>Regulation (EU) 2024/{1000 + index} laying down harmonised rules</h1>",
    ]
    size = sum(map(len, parts))
    target = rng.randint(5_000, 9_500)
    article = index * 3 + 1
    while size < target:
        heading = f"<h2>Article {article} {rng.choice(ARTICLE_TITLES)}</h2>"
        parts.append(heading)
        size += len(heading)
        for n in range(1, rng.randint(3, 7) + 1):
            p = f"<p>{paragraph(rng, n)}</p>"
            parts.append(p)
            size += len(p)
            if size >= target:
                break
        article += 1
    parts.append("</main><footer>&copy; European Union</footer></body></html>")
    return "\n".join(parts).encode("utf-8")


class LegalDocument:
    """A large legal text as a list of blocks ("h2"/"h3"/"p", text) that can be edited slightly."""

    def __init__(self, rng: random.Random, target_bytes: int) -> None:
        self.rng = rng
        self.blocks: list[tuple[str, str]] = []
        size, chapter, article = 0, 1, 1
        while size < target_bytes:
            if article % 12 == 1:
                self.blocks.append(("h2", f"Chapter {chapter} {rng.choice(ARTICLE_TITLES)}"))
                chapter += 1
            self.blocks.append(("h3", f"Article {article} {rng.choice(ARTICLE_TITLES)}"))
            for n in range(1, rng.randint(3, 8) + 1):
                text = paragraph(rng, n)
                self.blocks.append(("p", text))
                size += len(text) + 9
            article += 1

    def html(self) -> bytes:
        """The document rendered as one HTML page."""
        body = "\n".join(f"<{tag}>{text}</{tag}>" for tag, text in self.blocks)
        return (
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Regulation (EU) 2024/1689"
            "</title></head><body><main><h1>Regulation (EU) 2024/1689 (Artificial Intelligence Act)"
            f"</h1>\n{body}\n</main></body></html>"
        ).encode()

    def edit(self) -> None:
        """Change a few words in 3-5 paragraphs, then add or delete one paragraph."""
        rng = self.rng
        paras = [i for i, (tag, _) in enumerate(self.blocks) if tag == "p"]
        for i in rng.sample(paras, rng.randint(3, 5)):
            words = self.blocks[i][1].split(" ")
            for _ in range(rng.randint(1, 3)):
                words[rng.randrange(1, len(words))] = rng.choice(WORDS)
            self.blocks[i] = ("p", " ".join(words))
        at = rng.choice(paras)
        if rng.random() < 0.5:
            self.blocks.insert(at + 1, ("p", paragraph(rng)))
        else:
            del self.blocks[at]


# --- part 1: crawl throughput ----------------------------------------------------------------


def baseline_child() -> int:
    """Bare Scrapy: fetch every URL given as a JSON list on stdin, ignore the bodies."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls: list[str] = json.load(sys.stdin)
    counts = {"responses": 0}

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self):  # type: ignore[override]
            for url in urls:
                yield scrapy.Request(url, callback=self.parse, dont_filter=True)

        def parse(self, response: Any) -> None:
            counts["responses"] += 1

    process = CrawlerProcess(
        settings={
            "USER_AGENT": USER_AGENT,
            "CONCURRENT_REQUESTS": CONCURRENCY,
            "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
            "DOWNLOAD_DELAY": 0,
            "ROBOTSTXT_OBEY": True,
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
        }
    )
    process.crawl(BareSpider)
    process.start()
    print(json.dumps(counts))
    return 0


def time_baseline(urls: list[str]) -> float:
    """Wall-clock seconds of one bare-Scrapy crawl subprocess of `urls`."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--baseline-child"],
        input=json.dumps(urls),
        capture_output=True,
        text=True,
        timeout=CRAWL_TIMEOUT,
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"baseline crawl failed:\n{proc.stderr[-2000:]}")
    got = json.loads(proc.stdout.strip().splitlines()[-1])["responses"]
    if got != len(urls):
        raise RuntimeError(f"baseline crawl got {got} of {len(urls)} responses:\n{proc.stderr[-2000:]}")
    return elapsed


def time_regwatch(db_path: Path, sources: list[Any]) -> tuple[float, dict[str, int]]:
    """Wall-clock seconds of one `run_crawl` of `sources` into `db_path`, and outcome counts."""
    from crawler.runner import run_crawl

    t0 = time.perf_counter()
    summary = run_crawl(
        db_path, sources, concurrency_per_host=CONCURRENCY, retries=0, timeout=CRAWL_TIMEOUT
    )
    elapsed = time.perf_counter() - t0
    outcomes: dict[str, int] = {}
    for fetch in summary.fetches:
        outcomes[fetch["outcome"]] = outcomes.get(fetch["outcome"], 0) + 1
    if len(summary.fetches) != len(sources) or summary.failed:
        first = summary.failed[0] if summary.failed else None
        raise RuntimeError(f"regwatch crawl: {outcomes} for {len(sources)} sources; first failure: {first}")
    return elapsed, outcomes


def time_in_process(pages: list[bytes]) -> tuple[float, float]:
    """Seconds per page of sniff + extract alone, and of record_fetch alone (in this process)."""
    from crawler.extract import EXTRACTOR_VERSION, extract, sniff
    from store.db import open_db
    from store.records import FetchResult
    from store.versions import now_iso, record_fetch

    declared = "text/html; charset=utf-8"
    extract(pages[0], sniff(pages[0], declared), content_type_header=declared)  # warm imports
    results = []
    t0 = time.perf_counter()
    for body in pages:
        kind = sniff(body, declared)
        doc, encoding = extract(body, kind, content_type_header=declared)
        results.append((body, kind, doc, encoding))
    extract_s = (time.perf_counter() - t0) / len(pages)

    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "store.db")
        t0 = time.perf_counter()
        for i, (body, kind, doc, encoding) in enumerate(results):
            record_fetch(db, FetchResult(
                source=f"p{i}", document=f"p{i}", url=f"http://127.0.0.1/p{i}", started_at=now_iso(),
                http_status=200, content_type=kind, declared_type=declared, encoding=encoding,
                body=body, doc=doc, etag=f'"{i}"', extractor_version=EXTRACTOR_VERSION,
            ))
        store_s = (time.perf_counter() - t0) / len(pages)
        db.close()
    return extract_s, store_s


def bench_crawl(n_pages: int, repeats: int) -> list[str]:
    """Part 1; returns the report lines."""
    from crawler.sources import CrawlSource
    from tracker.demo.server import LocalSite

    pages = [small_page(i) for i in range(n_pages)]
    lines: list[str] = []
    with LocalSite() as site, tempfile.TemporaryDirectory() as tmp:
        site.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        for i, body in enumerate(pages):
            site.set(f"/doc/{i}", body)
        urls = [site.url(f"/doc/{i}") for i in range(n_pages)]
        sources = [CrawlSource(name=f"p{i}", url=u, document=f"p{i}", delay=0) for i, u in enumerate(urls)]

        bare, regwatch = [], []
        db_path = Path(tmp)
        for r in range(repeats):  # interleaved, so drift in machine load hits both alike
            bare.append(time_baseline(urls))
            db_path = Path(tmp) / f"crawl{r}.db"
            elapsed, outcomes = time_regwatch(db_path, sources)
            if outcomes.get("new_version") != n_pages:
                raise RuntimeError(f"first crawl should store {n_pages} new versions: {outcomes}")
            regwatch.append(elapsed)
        second, outcomes = time_regwatch(db_path, sources)
        extract_s, store_s = time_in_process(pages)

    bare_rate = n_pages / statistics.median(bare)
    reg_rate = n_pages / statistics.median(regwatch)
    ratio = reg_rate / bare_rate
    share_304 = outcomes.get("not_modified", 0) / n_pages
    kb = sum(map(len, pages)) / len(pages) / 1000
    lines.append(f"crawl: {n_pages} local HTML pages (avg {kb:.1f} KB), median of {repeats}, "
                 f"{CONCURRENCY} concurrent, start-up included")
    lines.append(f"  bare scrapy          {bare_rate:7.1f} pages/s   ({_times(bare)})")
    lines.append(f"  regwatch (store)     {reg_rate:7.1f} pages/s   ratio {ratio:.2f}x "
                 f"(goal >= 0.8x) {'OK' if ratio >= 0.8 else 'MISSED'}   ({_times(regwatch)})")
    lines.append(f"  regwatch 2nd (304)   {n_pages / second:7.1f} pages/s   304s: {share_304:.0%}   "
                 f"({second:.2f} s)")
    lines.append(f"  extraction alone     {extract_s * 1000:7.2f} ms/page  (sniff + extract, in-process)")
    lines.append(f"  store alone          {store_s * 1000:7.2f} ms/page  (record_fetch, in-process)")
    return lines


def _times(seconds: list[float]) -> str:
    return "runs " + " ".join(f"{s:.2f}" for s in seconds) + " s"


# --- part 2: store size ----------------------------------------------------------------------


def bench_store(n_versions: int, doc_bytes: int) -> list[str]:
    """Part 2; returns the report lines."""
    from crawler.extract import EXTRACTOR_VERSION, extract, sniff
    from store.db import open_db
    from store.records import FetchResult
    from store.versions import now_iso, record_fetch

    declared = "text/html; charset=utf-8"
    document = LegalDocument(random.Random(SEED), doc_bytes)
    raw_total = 0
    first_size = 0
    outcomes: list[str] = []
    t_extract = t_store = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "versions.db"
        db = open_db(path)
        for v in range(n_versions):
            if v:
                document.edit()
            body = document.html()
            raw_total += len(body)
            first_size = first_size or len(body)
            t0 = time.perf_counter()
            kind = sniff(body, declared)
            doc, encoding = extract(body, kind, content_type_header=declared)
            t1 = time.perf_counter()
            recorded = record_fetch(db, FetchResult(
                source="act", document="act", url="http://127.0.0.1/act", started_at=now_iso(),
                http_status=200, content_type=kind, declared_type=declared, encoding=encoding,
                body=body, doc=doc, etag=f'"v{v}"', extractor_version=EXTRACTOR_VERSION,
            ))
            t_store += time.perf_counter() - t1
            t_extract += t1 - t0
            outcomes.append(recorded.outcome)
        if outcomes.count("new_version") != n_versions:
            raise RuntimeError(f"expected {n_versions} new versions, got {outcomes}")
        conn = db.conn
        blobs = conn.execute("SELECT SUM(length(data)) FROM blobs").fetchone()[0]
        raw_blobs = conn.execute("SELECT SUM(length(data)) FROM blobs WHERE sha256 IN "
                                 "(SELECT raw_sha256 FROM versions)").fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db_file = path.stat().st_size
        wal = path.with_name(path.name + "-wal")
        db_file += wal.stat().st_size if wal.exists() else 0
        try:
            latest = conn.execute(
                "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'latest_texts%' "
                "OR name LIKE 'sqlite_autoindex_latest_texts%'"
            ).fetchone()[0]
            versions_rows = conn.execute(
                "SELECT SUM(pgsize) FROM dbstat WHERE name = 'versions'"
            ).fetchone()[0]
            latest_how = "dbstat"
        except sqlite3.OperationalError:  # no dbstat: the text itself, roughly twice with FTS
            latest = 2 * conn.execute("SELECT SUM(length(text)) FROM latest_texts").fetchone()[0]
            versions_rows = conn.execute(
                "SELECT SUM(length(warnings) + 300) FROM versions"
            ).fetchone()[0]
            latest_how = "estimate"
        db.close()

    def pct(x: float) -> str:
        return f"{100 * x / raw_total:5.1f}%"

    versions_store = blobs + versions_rows
    ratio = versions_store / raw_total
    return [
        f"store: {n_versions} versions of a {first_size / MB:.2f} MB HTML document "
        f"(3-5 paragraphs edited + 1 added/deleted per version)",
        f"  raw total            {raw_total / MB:7.2f} MB",
        f"  version storage      {versions_store / MB:7.2f} MB  {pct(versions_store)} (goal <= 5%) "
        f"{'OK' if ratio <= 0.05 else 'MISSED'}   blobs: raw {raw_blobs / MB:.2f} MB + "
        f"text and outlines {(blobs - raw_blobs) / MB:.2f} MB; version rows {versions_rows / MB:.2f} MB",
        f"  database file        {db_file / MB:7.2f} MB  {pct(db_file)} (after checkpoint + VACUUM)",
        f"  of which latest text + FTS  {latest / MB:.2f} MB ({latest_how}): one plain copy per "
        f"document for SQL and search, not per version",
        f"  time per version     extract {1000 * t_extract / n_versions:.0f} ms, "
        f"store {1000 * t_store / n_versions:.0f} ms",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run both parts and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="pages to crawl (default 300)")
    parser.add_argument("--repeats", type=int, default=3, help="crawl repetitions (default 3)")
    parser.add_argument("--versions", type=int, default=20, help="versions stored (default 20)")
    parser.add_argument("--doc-bytes", type=int, default=MB, help="size of the large document")
    parser.add_argument("--skip-crawl", action="store_true", help="only part 2")
    parser.add_argument("--skip-store", action="store_true", help="only part 1")
    parser.add_argument("--baseline-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_child:
        return baseline_child()
    if not args.skip_crawl:
        for line in bench_crawl(args.pages, args.repeats):
            print(line, flush=True)
    if not args.skip_store:
        for line in bench_store(args.versions, args.doc_bytes):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
