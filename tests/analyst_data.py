"""A small history database for the analysts' features (views, query, export, Datasette),
built through the store's write path without crawling.

Document `act` has three sources in publication order draft (position 0), second-draft (1),
final (2), but its versions arrived out of that order:

    id  number  source         first seen            text
    1   1       act-final      2026-01-10 12:00 UTC  FINAL        (Final)
    2   2       act-draft      2026-02-01 12:00 UTC  DRAFT        (Draft)
    3   3       act-draft2     2026-02-15 12:00 UTC  DRAFT2       (Second draft)
    4   4       act-final      2026-03-01 12:00 UTC  FINAL2       (Final)

so publication order is 2, 3, 1, 4 and the latest version of `act` is number 4, but at
2026-02-20 it was number 1 (the final seen in January) although 3 was the newest arrival.
Changes stored: 2 -> 1 (computed when 2 arrived, superseded once 3 arrived between them),
2 -> 3, 3 -> 1, 1 -> 4. Document `faq` has one version from its own source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from store.db import open_db
from store.records import FetchResult, parse_text
from store.versions import record_fetch, upsert_source
from tracker.pipeline import update_changes

ACT = """# Regulation (EU) 2024/1689

### Article 53 — Obligations for providers of general-purpose AI models

1. Providers of general-purpose AI models shall:

(a) draw up and keep up-to-date the technical documentation of the model, including its training and testing process;

(b) draw up, keep up-to-date and make available information and documentation to providers of AI systems;

2. The obligations set out in paragraph 1, points (a) and (b), shall not apply to providers of AI models released under a free and open-source licence.

### Article 55 — Obligations of providers of general-purpose AI models with systemic risk

1. In addition to the obligations listed in Articles 53 and 54, providers of general-purpose AI models with systemic risk shall:

(b) assess and mitigate possible systemic risks at Union level;

(c) keep track of, document, and report, without undue delay, to the AI Office relevant information about serious incidents;

(d) ensure an adequate level of cybersecurity protection for the general-purpose AI model.
"""

FINAL = ACT
DRAFT = ACT.replace("without undue delay", "within 30 days").replace("an adequate level", "a level")
DRAFT2 = ACT.replace("without undue delay", "within 15 days")
FINAL2 = ACT.replace("released under a free and open-source licence", "released under any licence")
FAQ = "# Questions and answers\n\n## Who must sign?\n\nProviders may sign the code.\n"

TITLES = {"act": "AI Act, Articles 53 and 55", "faq": "Q&A on the Code"}
SOURCES = [("act-draft", "act", "Draft"), ("act-draft2", "act", "Second draft"), ("act-final", "act", "Final"),
           ("faq", "faq", None)]
ARRIVALS = [("act-final", FINAL, "2026-01-10T12:00:00+00:00"), ("act-draft", DRAFT, "2026-02-01T12:00:00+00:00"),
            ("act-draft2", DRAFT2, "2026-02-15T12:00:00+00:00"), ("faq", FAQ, "2026-02-20T08:00:00+00:00"),
            ("act-final", FINAL2, "2026-03-01T12:00:00+00:00")]


@dataclass
class AnalystDb:
    """The config and database built by `build`."""

    config: Path
    database: Path


def url_of(source: str) -> str:
    """The URL the source `source` is fetched from."""
    return f"http://127.0.0.1:9/{source}"


def build(directory: Path, arrivals: int = len(ARRIVALS)) -> AnalystDb:
    """Write a config and record the first `arrivals` arrivals above into its database,
    computing changes after each (as a crawl does), and a failing tracking state for `faq`."""
    directory.mkdir(parents=True, exist_ok=True)
    cfg = directory / "config.yaml"
    lines = ["database: history.db", "sources:"]
    for name, document, label in SOURCES:
        lines.append(f"  - {{name: {name}, url: '{url_of(name)}', document: {document}"
                     + (f", label: {label}" if label else "") + "}")
    cfg.write_text("\n".join(lines) + "\n")
    db = open_db(directory / "history.db")
    labels = {name: label for name, _doc, label in SOURCES}
    for position, (name, document, label) in enumerate(SOURCES):
        upsert_source(db, name, url_of(name), document, "page", label, {"url": url_of(name)}, position)
    documents = {name: document for name, document, _label in SOURCES}
    for name, text, when in ARRIVALS[:arrivals]:
        record_fetch(db, FetchResult(
            source=name, document=documents[name], url=url_of(name), started_at=when, body=text.encode(),
            doc=parse_text(text), content_type="text/html", label=labels[name], title=TITLES[documents[name]],
            extractor_version="1",
        ))
        update_changes(db)
    db.conn.execute(
        "INSERT INTO tracking (source, url, state, since, failures, last_fetch, last_error, updated_at) "
        "VALUES ('faq', ?, 'failing', '2026-03-02T00:00:00+00:00', 3, NULL, 'HTTP 500', "
        "'2026-03-03T00:00:00+00:00')", (url_of("faq"),))
    db.close()
    return AnalystDb(cfg, directory / "history.db")
