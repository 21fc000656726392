"""The obligation catalog, the linking of hunks to it, and the commands that show both."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import regwatch

from store.db import open_db
from tracker.cli import cli
from tracker.demo.server import LocalSite
from tracker.diff import diff_texts
from tracker.obligations.catalog import CatalogError, load_catalog, shipped_catalog
from tracker.obligations.citations import parse_citation
from tracker.obligations.mapping import default_mapper

# What the catalog must cover at least (the list; the Code's final commitments and
# measures are checked against the corpus text below).
REQUIRED = [
    "aia-51-2", "aia-52-1", "aia-53-1-a", "aia-53-1-b", "aia-53-1-c", "aia-53-1-d", "aia-53-2",
    "aia-54", "aia-54-6", "aia-55-1-a", "aia-55-1-b", "aia-55-1-c", "aia-55-1-d", "aia-56",
    "aia-annex-xi-1", "aia-annex-xi-2", "aia-annex-xii", "aia-annex-xiii",
    "cop-transparency-c1", "cop-transparency-m1.1", "cop-transparency-m1.2", "cop-transparency-m1.3",
    "cop-copyright-c1", *[f"cop-copyright-m1.{k}" for k in range(1, 6)],
]


def ids(hunk) -> set[str]:
    return {link["id"] for link in hunk.obligations}


def test_catalog_covers_the_gpai_duties():
    catalog = shipped_catalog()
    missing = [i for i in REQUIRED if catalog.get(i) is None]
    assert not missing
    for oid in REQUIRED:
        o = catalog.get(oid)
        assert o.cited_from and o.title
    # Code entries say which AI Act provisions they serve, by chapter.
    assert "aia-53-1-c" in _served(catalog, "cop-copyright-c1")
    assert {"aia-53-1-a", "aia-53-1-b"} <= _served(catalog, "cop-transparency-c1")
    assert "aia-55-1-c" in _served(catalog, "cop-ss-c9")
    assert "aia-55-1-d" in _served(catalog, "cop-ss-c6")
    # The open-source exemption and the dates are data too.
    assert "aia-53-2" in catalog.get("aia-53-1-a").exemptions
    dates = catalog.get("aia-55-1-c").dates or catalog.get("aia-55").dates
    assert str(dates.applies_from) == "2025-08-02" and str(dates.legacy_models_until) == "2027-08-02"


def _served(catalog, oid: str) -> set[str]:
    """What an entry and its measures serve."""
    out = set(catalog.get(oid).serves)
    for child in catalog.children(oid):
        out |= set(catalog.get(child).serves)
    return out


@pytest.mark.corpus
def test_catalog_has_every_final_safety_and_security_commitment_and_measure(corpus):
    """Every Commitment/Measure heading of the final chapter, as regwatch extracts it, has an
    entry with the printed title."""
    from tracker.compare import load_text
    from tracker.sections import build_sections

    text = load_text(str(corpus / "gpai-cop-safety-security" / "final-2025-07-10.txt"))
    printed = [s for s in build_sections(text) if s.kind in ("commitment", "measure")]
    assert len(printed) >= 40
    catalog = shipped_catalog()
    for sec in printed:
        kind, number = sec.number.split()
        oid = f"cop-ss-{'c' if kind == 'Commitment' else 'm'}{number}"
        entry = catalog.get(oid)
        assert entry is not None, oid
        assert entry.title.casefold() == sec.title.casefold(), oid


def test_every_citation_form_resolves_to_its_entry():
    catalog = shipped_catalog()
    mapper = default_mapper()
    forms = 0
    for o in catalog.obligations:
        for form in [o.ref, *o.citations]:
            keys = parse_citation(form)
            assert len(keys) == 1, f"{o.id}: {form!r} parses to {keys}"
            assert mapper.resolve(keys[0], o.source) == o.id, f"{o.id}: {form!r}"
            forms += 1
    assert forms > 3 * len(catalog.obligations)


def test_invalid_catalogs_are_refused_with_the_entry_named(tmp_path):
    good = yaml_of(shipped_catalog())
    bad = dict(good, obligations=[*good["obligations"], dict(good["obligations"][0])])
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps(bad))
    with pytest.raises(CatalogError, match="duplicate ids: " + re.escape(good["obligations"][0]["id"])):
        load_catalog(path)
    entry = dict(good["obligations"][1], parent="aia-99-nowhere")
    path.write_text(json.dumps(dict(good, obligations=[good["obligations"][0], entry])))
    with pytest.raises(CatalogError, match="aia-99-nowhere"):
        load_catalog(path)
    path.write_text(json.dumps(dict(good, obligations=[dict(good["obligations"][0], colour="red")])))
    with pytest.raises(CatalogError, match=re.escape(good["obligations"][0]["id"]) + r"\.colour"):
        load_catalog(path)


def yaml_of(catalog) -> dict:
    return catalog.model_dump(mode="json", exclude_defaults=True)


# --- linking hunks ---------------------------------------------------------------------------

ACT = """# Regulation (EU) 2024/1689

### Article 53 — Obligations for providers of general-purpose AI models

1. Providers of general-purpose AI models shall:

(a) draw up and keep up-to-date the technical documentation of the model, including its training and testing process;

(b) draw up, keep up-to-date and make available information and documentation to providers of AI systems;

(c) put in place a policy to comply with Union law on copyright and related rights;

2. The obligations set out in paragraph 1, points (a) and (b), shall not apply to providers of AI models released under a free and open-source licence.

### Article 55 — Obligations of providers of general-purpose AI models with systemic risk

1. In addition to the obligations listed in Articles 53 and 54, providers of general-purpose AI models with systemic risk shall:

(a) perform model evaluation in accordance with standardised protocols and tools reflecting the state of the art;

(b) assess and mitigate possible systemic risks at Union level;

(c) keep track of, document, and report, without undue delay, to the AI Office relevant information about serious incidents;

(d) ensure an adequate level of cybersecurity protection for the general-purpose AI model.

### Recitals

(110) General-purpose AI models could pose systemic risks at Union level which include actual or reasonably foreseeable negative effects.
"""


def _amend(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def test_a_change_in_a_point_of_an_article_maps_to_that_point():
    new = _amend(ACT, "without undue delay", "within 48 hours")
    (hunk,) = diff_texts(ACT, new).hunks
    assert ids(hunk) == {"aia-55-1-c"}
    (link,) = hunk.obligations
    assert link["method"] == "section" and link["confidence"] >= 0.9 and "55(1)(c)" in link["reason"]

    new = _amend(ACT, "released under a free and open-source licence", "released under any licence")
    (hunk,) = diff_texts(ACT, new).hunks
    assert ids(hunk) == {"aia-53-2"}
    new = _amend(ACT, "(d) ensure an adequate level", "(d) ensure a high level")
    assert ids(diff_texts(ACT, new).hunks[0]) == {"aia-55-1-d"}


def test_obligations_count_in_significance():
    """The same edit weighs more in a duty than in a recital, and a substantive one more than
    an editorial one."""
    duty_text = "assess and mitigate possible systemic risks at Union level"
    recital_text = "could pose systemic risks at Union level"
    in_duty = diff_texts(ACT, _amend(ACT, duty_text, duty_text + " within 30 days")).hunks
    in_recital = diff_texts(ACT, _amend(ACT, recital_text, recital_text + " within 30 days")).hunks
    assert in_duty[0].classification == in_recital[0].classification == "substantive"
    assert ids(in_duty[0]) == {"aia-55-1-b"} and in_recital[0].obligations == []
    assert in_duty[0].significance_parts.get("obligation", 0) > 0
    assert "obligation" not in in_recital[0].significance_parts
    assert in_duty[0].significance > in_recital[0].significance
    editorial = diff_texts(ACT, _amend(ACT, "document, and report", "document and report")).hunks
    assert in_duty[0].significance > editorial[0].significance


CODE_FINAL = """# Safety and Security Chapter

## Commitment 9 Serious incident reporting

Signatories commit to implementing appropriate processes for keeping track of serious incidents.

### Measure 9.3 Reporting timelines

Signatories will provide an initial report to the AI Office within 5 days of becoming aware of a serious incident.

Signatories will update the report every 4 weeks until resolution.

## Commitment 6 Security mitigations

Signatories commit to implementing an adequate level of cybersecurity protection for their models.

## Glossary

'Near miss' means an event that did not cause harm.
"""

CODE_DRAFT = """# Third Draft - Safety and Security Section

## Commitment II.12 Serious incident reporting

Signatories commit to implementing appropriate processes for keeping track of serious incidents.

### Measure II.12.3 Reporting timelines

Signatories will provide an initial report to the AI Office within 10 days of becoming aware of a serious incident.

Signatories will update the report every 4 weeks until resolution.

## Commitment II.7 Security mitigations

Signatories commit to implementing an adequate level of cybersecurity protection for their models.

## Glossary

'Near miss' means an event that did not cause any harm.
"""


def test_code_hunks_map_to_their_commitment_and_the_ai_act_provisions_it_serves():
    change = diff_texts(CODE_DRAFT, CODE_FINAL)
    by_text = {h.new_text: h for h in change.hunks}
    timeline = next(h for t, h in by_text.items() if "5 days" in t)
    assert {"cop-ss-m9.3", "aia-55-1-c"} <= ids(timeline)
    methods = {link["id"]: link["method"] for link in timeline.obligations}
    assert methods["aia-55-1-c"] == "serves"
    # The renumbered headings map to the same obligations on both sides of the alignment.
    heading = next(h for h in change.hunks if h.new_text.startswith("Commitment 9"))
    assert "cop-ss-c9" in ids(heading) and heading.kind == "renumbered"
    security = next(h for h in change.hunks if h.new_text.startswith("Commitment 6"))
    assert {"cop-ss-c6", "aia-55-1-d"} <= ids(security)
    # A glossary wording change touches no obligation.
    glossary = next(h for h in change.hunks if "harm" in h.new_text)
    assert glossary.obligations == []


def test_a_changed_citation_links_the_cited_provision():
    old = "# Notes\n\nProviders notify the Commission as set out in the Regulation.\n"
    new = "# Notes\n\nProviders notify the Commission as set out in Article 52(1), within two weeks.\n"
    (hunk,) = diff_texts(old, new).hunks
    (link,) = hunk.obligations
    assert link["id"] == "aia-52-1" and link["method"] == "citation"


def test_a_text_with_no_evidence_links_nothing():
    old = "# Minutes\n\nThe plenary met in Brussels on Tuesday.\n"
    new = "# Minutes\n\nThe plenary met online on Wednesday.\n"
    assert all(h.obligations == [] for h in diff_texts(old, new).hunks)


# --- commands ----------------------------------------------------------------------------------

run = regwatch  # `regwatch --config cfg ARGS...`, in process


def test_compare_shows_and_filters_obligations(tmp_path):
    a, b = tmp_path / "draft.md", tmp_path / "final.md"
    a.write_text(CODE_DRAFT)
    b.write_text(CODE_FINAL)
    cfg = tmp_path / "none.yaml"
    res = run(cfg, "compare", str(a), str(b), "--format", "json")
    assert res.exit_code == 0
    hunks = json.loads(res.stdout)["hunks"]
    assert all(set(link) >= {"id", "reason", "confidence", "method"} for h in hunks for link in h["obligations"])
    res = run(cfg, "compare", str(a), str(b), "--format", "json", "--obligation", "aia-55-1-c")
    only = json.loads(res.stdout)["hunks"]
    assert only and all("aia-55-1-c" in {x["id"] for x in h["obligations"]} for h in only)
    assert len(only) < len(hunks)
    # An id selects what is below it: Article 55 takes in 55(1)(c) and 55(1)(d).
    res = run(cfg, "compare", str(a), str(b), "--format", "json", "--obligation", "aia-55")
    assert len(json.loads(res.stdout)["hunks"]) > len(only)
    res = run(cfg, "compare", str(a), str(b), "--format", "unified")
    assert "obligations: " in res.stdout and "aia-55-1-c" in res.stdout
    res = CliRunner().invoke(cli, ["--config", str(cfg), "compare", str(a), str(b), "--obligation", "aia-99"])
    assert res.exit_code == 2 and "unknown obligation" in res.output


def test_stored_links_drive_changes_and_obligations_commands(tmp_path):
    with LocalSite() as site:
        site.set("/act", "<html><body><main>" + _html(ACT) + "</main></body></html>")
        cfg = tmp_path / "config.yaml"
        cfg.write_text("database: h.db\ndefaults: {delay: 0, timeout: 3, retries: 0}\n"
                       f"sources:\n  - {{name: act, url: '{site.url('/act')}'}}\n")
        assert run(cfg, "crawl").exit_code == 0
        amended = _amend(ACT, "without undue delay", "within 48 hours")
        site.set("/act", "<html><body><main>" + _html(amended) + "</main></body></html>")
        assert run(cfg, "crawl").exit_code == 0
    db = open_db(tmp_path / "h.db", readonly=True)
    links = db.execute("SELECT obligation, method FROM hunk_obligations").fetchall()
    assert ("aia-55-1-c", "section") in links
    assert db.execute("SELECT COUNT(*) FROM obligations").fetchone()[0] == len(shipped_catalog().obligations)
    view = db.execute("SELECT ref, classification FROM obligation_changes WHERE obligation = 'aia-55-1-c'").fetchall()
    assert view == [("Article 55(1)(c)", "substantive")]
    db.close()

    rows = json.loads(run(cfg, "changes", "--obligation", "aia-55-1-c", "--json").stdout)
    assert len(rows) == 1 and rows[0]["top"][0]["obligations"][0]["id"] == "aia-55-1-c"
    assert json.loads(run(cfg, "changes", "--obligation", "aia-53-1-c", "--json").stdout) == []

    listing = json.loads(run(cfg, "obligations", "--json").stdout)
    counts = {o["id"]: o["changes"] for o in listing["obligations"]}
    assert counts["aia-55-1-c"] == 1 and counts["aia-55"] == 1 and counts["aia-53-1-c"] == 0
    shown = json.loads(run(cfg, "obligations", "show", "aia-55-1-c", "--json").stdout)
    assert shown["id"] == "aia-55-1-c" and "cop-ss-c9" in shown["served_by"]
    assert shown["recent_changes"][0]["document"] == "act"
    text = run(cfg, "obligations", "show", "AIA-55-1-C").stdout
    assert "Article 55(1)(c)" in text and "recent changes" in text


def _html(markdown: str) -> str:
    """The test texts as HTML (headings and paragraphs), as a site would serve them."""
    out = []
    for block in markdown.strip().split("\n\n"):
        m = re.match(r"^(#+) (.*)$", block)
        out.append(f"<h{len(m.group(1))}>{m.group(2)}</h{len(m.group(1))}>" if m else f"<p>{block}</p>")
    return "".join(out)
