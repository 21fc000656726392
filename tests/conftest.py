"""Shared fixtures: the real corpus in ../shared/corpus (skipped cleanly when absent), and a
lineage of three versions crawled from a local site."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Path of ../shared/corpus; the test is skipped when it is not there."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    return CORPUS


# --- A lineage on a local site: three versions of one document at three URLs ---------------
# Used by tests/test_lineage.py and tests/test_trace.py; crawled once per test session
# because a crawl (Scrapy in a subprocess) costs seconds.

RISK = ("Signatories commit to determining whether the systemic risks stemming from their model are "
        "acceptable before placing the model on the market.")
REPORTING = ("Signatories commit to tracking, documenting and reporting serious incidents to the AI Office "
             "{when}, and to keeping the documentation of serious incidents for {months} months.")
WHISTLE = ("Signatories commit to protecting workers who report concerns about systemic risks to the AI "
           "Office from any retaliation.")

SECOND_DRAFT_MD = f"""# Safety and Security

## Commitment 9. Risk acceptance

{RISK}

## Commitment 17. Serious incident reporting

{REPORTING.format(when="without undue delay", months=12)}

## Commitment 18. Whistleblower protection

{WHISTLE}
"""

# The third draft (a PDF) drops the whistleblower commitment; the final restores it.
THIRD_DRAFT_LINES = [
    "# Safety and Security",
    "# Commitment II.5. Risk acceptance", RISK,
    "# Commitment II.12. Serious incident reporting", REPORTING.format(when="without undue delay", months=36),
]

FINAL_HTML = f"""<!doctype html><html><head><title>Safety and Security</title></head><body>
<nav><a href="/">Home</a></nav><main>
<h1>Safety and Security</h1>
<h2>Commitment 4. Risk acceptance</h2><p>{RISK}</p>
<h2>Commitment 9. Serious incident reporting</h2><p>{REPORTING.format(when="within 15 days", months=36)}</p>
<h2>Commitment 10. Whistleblower protection</h2><p>{WHISTLE}</p>
</main></body></html>"""


def pdf_from_lines(lines: list[str]) -> bytes:
    """A PDF whose "# " lines are bold headings and the other lines wrapped body text."""
    import io
    import textwrap

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    y = 800
    for line in lines:
        if line.startswith("# "):
            y -= 10
            c.setFont("Helvetica-Bold", 14)
            c.drawString(72, y, line[2:])
            y -= 24
            continue
        c.setFont("Helvetica", 10)
        for part in textwrap.wrap(line, 85):
            c.drawString(72, y, part)
            y -= 14
    c.save()
    return buf.getvalue()


@pytest.fixture
def site():
    """A local HTTP server on 127.0.0.1 whose pages a test sets."""
    from tracker.demo.server import LocalSite

    with LocalSite() as s:
        yield s


def regwatch(cfg: Path, *args: str):
    """Run `regwatch --config cfg ARGS...` in process, as a user would; the click Result."""
    from click.testing import CliRunner

    from tracker.cli import cli

    return CliRunner().invoke(cli, ["--config", str(cfg), *args], catch_exceptions=False)


@dataclass
class CrawledLineage:
    """A config and its database after the crawls of `three_drafts`."""

    config: Path
    crawls: list[dict]  # `regwatch crawl --json` of each crawl, in order


@pytest.fixture(scope="session")
def three_drafts(tmp_path_factory) -> CrawledLineage:
    """The second draft (Markdown), third draft (PDF) and final (HTML) of one document
    `cop-ss`, each at its own URL, configured in that order and crawled three times: the
    final alone first, then all three, then all three again. The site sends no validators,
    so every crawl downloads and compares every body (a 304 would hide a flip-flop)."""
    from tracker.demo.server import LocalSite

    tmp = tmp_path_factory.mktemp("three-drafts")
    cfg = tmp / "config.yaml"
    crawls = []
    with LocalSite() as site:
        site.set("/second.md", SECOND_DRAFT_MD, content_type="text/markdown; charset=utf-8", validators=False)
        site.set("/third.pdf", pdf_from_lines(THIRD_DRAFT_LINES), content_type="application/pdf", validators=False)
        site.set("/final", FINAL_HTML, validators=False)
        cfg.write_text(
            "database: hist.db\ndefaults: {delay: 0, timeout: 5, retries: 0}\nsources:\n"
            f"  - {{name: ss-second, url: '{site.url('/second.md')}', document: cop-ss, label: Second draft}}\n"
            f"  - {{name: ss-third, url: '{site.url('/third.pdf')}', document: cop-ss, label: Third draft}}\n"
            f"  - {{name: ss-final, url: '{site.url('/final')}', document: cop-ss, label: Final, selector: main}}\n"
        )
        for args in (["ss-final"], [], []):
            res = regwatch(cfg, "crawl", "--json", *args)
            assert res.exit_code == 0, res.output
            crawls.append(json.loads(res.stdout))
    return CrawledLineage(cfg, crawls)


@pytest.fixture(scope="session")
def analyst_db(tmp_path_factory):
    """The history database of tests/analyst_data.py (an out-of-order lineage and a FAQ),
    built once per session: tests only read it (copy it to write)."""
    from analyst_data import build

    return build(tmp_path_factory.mktemp("analyst"))
