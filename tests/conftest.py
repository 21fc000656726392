"""Shared fixtures: the real corpus in ../shared/corpus (skipped cleanly when absent), and a
lineage of three versions crawled from a local site."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# --- A local stand-in for Slack -------------------------------------------------------------
# Used by tests/test_slack.py and tests/test_alerts.py: a real HTTP server on 127.0.0.1 that
# checks each payload as Slack would, answers scripted statuses and records what it got.

SLACK_WEBHOOK_PATH = "/services/T0RWTEST/B0RWTEST/xyzzy5ecretHookPath"
SLACK_BLOCK_TYPES = {"header", "section", "divider", "context"}


def _slack_text_problems(where: str, obj: object, limit: int, kinds: tuple[str, ...]) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in kinds or not isinstance(obj.get("text"), str):
        return [f"{where}: not a text object of type {'/'.join(kinds)}: {obj!r:.200}"]
    text = obj["text"]
    out = [] if 1 <= len(text) <= limit else [f"{where}: text of {len(text)} characters (1..{limit})"]
    if obj["type"] == "mrkdwn":
        import re

        # Slack reads <...> as links and &...; as entities: a bare one means text was not escaped.
        if "<" in text or ">" in text or re.search(r"&(?!(amp|lt|gt);)", text):
            out.append(f"{where}: unescaped &, < or > in mrkdwn: {text[:200]!r}")
    return out


def slack_problems(payload: object) -> list[str]:
    """What Slack would refuse (or show wrongly) in a message payload; [] when valid."""
    if not isinstance(payload, dict):
        return ["payload is not a JSON object"]
    out = [] if isinstance(payload.get("text"), str) and payload["text"].strip() else ["no `text` fallback"]
    blocks = payload.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
        return out + [f"`blocks` must be a list of 1..50 blocks, got {type(blocks).__name__} "
                      f"of {len(blocks) if isinstance(blocks, list) else '-'}"]
    for k, b in enumerate(blocks):
        kind = b.get("type") if isinstance(b, dict) else None
        where = f"blocks[{k}] ({kind})"
        if kind not in SLACK_BLOCK_TYPES:
            out.append(f"{where}: unknown block type")
            continue
        allowed = {"header": {"type", "text", "block_id"}, "section": {"type", "text", "block_id"},
                   "divider": {"type", "block_id"}, "context": {"type", "elements", "block_id"}}[kind]
        if set(b) - allowed:
            out.append(f"{where}: unexpected keys {sorted(set(b) - allowed)}")
        if kind == "header":
            out += _slack_text_problems(where, b.get("text"), 150, ("plain_text",))
        elif kind == "section":
            out += _slack_text_problems(where, b.get("text"), 3000, ("mrkdwn", "plain_text"))
        elif kind == "context":
            elements = b.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                out.append(f"{where}: elements must be a list of 1..10")
                continue
            for j, el in enumerate(elements):
                out += _slack_text_problems(f"{where}.elements[{j}]", el, 3000, ("mrkdwn", "plain_text"))
    return out


@dataclass
class SlackRequest:
    """One POST the receiver got."""

    path: str
    headers: dict[str, str]
    payload: object  # the parsed JSON body (None when it was not JSON)
    at: float  # time.monotonic() when it arrived
    problems: list[str]


class SlackReceiver:
    """A threaded HTTP server on a free loopback port answering like a Slack incoming webhook
    (any path; body `ok`) or the Web API (paths ending in /chat.postMessage; JSON `{ok, error}`).
    `script` holds the answers (status, error text, extra headers) of the next requests in
    order; when it is empty the answer is 200. A payload Slack would refuse gets 400
    `invalid_blocks`, and its problems are kept in `requests`."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[SlackRequest] = []
        self.script: list[tuple[int, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                receiver._answer(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # tests read `requests`

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval, at every test's teardown.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str = SLACK_WEBHOOK_PATH) -> str:
        """Absolute URL of `path` on this receiver (by default a webhook-like path)."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def _answer(self, handler: Any) -> None:
        import time

        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        at = time.monotonic()
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        problems = slack_problems(payload)
        with self._lock:
            self.requests.append(SlackRequest(handler.path, dict(handler.headers), payload, at, problems))
            status, error, headers = self.script.pop(0) if self.script else (200, "", {})
        if problems:
            status, error, headers = 400, "invalid_blocks", {}
        if handler.path.endswith("/chat.postMessage"):
            data = {"ok": True, "channel": (payload or {}).get("channel"), "ts": "1700000000.000100"}
            ok = status == 200 and not error  # the Web API refuses most requests with 200 and `ok: false`
            out = json.dumps(data if ok else {"ok": False, "error": error or "internal_error"}).encode()
            ctype = "application/json; charset=utf-8"
        else:
            out, ctype = (b"ok" if status == 200 else (error or "error").encode()), "text/plain; charset=utf-8"
        handler.send_response(status)
        for k, v in {"Content-Type": ctype, "Content-Length": str(len(out)), **headers}.items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(out)

    def __enter__(self) -> SlackReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack_hook(monkeypatch):
    """A running SlackReceiver; proxies are ignored so requests stay on 127.0.0.1."""
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(var, raising=False)
    with SlackReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def analyst_db(tmp_path_factory):
    """The history database of tests/analyst_data.py (an out-of-order lineage and a FAQ),
    built once per session: tests only read it (copy it to write)."""
    from analyst_data import build

    return build(tmp_path_factory.mktemp("analyst"))
