"""`regwatch trace`: one section through every version of a lineage, after real crawls of a
local site (Markdown, PDF and HTML versions of one document at three URLs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import regwatch

from tracker.trace import trace_section

run = regwatch  # `regwatch --config cfg ARGS...`, in process


@pytest.fixture
def three_versions(three_drafts) -> Path:
    """The config of the three-version lineage of conftest.py (Markdown, PDF, HTML)."""
    return three_drafts.config


def numbers(thread: dict) -> list[list[str | None]]:
    return [[s["number"] for s in v["sections"]] for v in thread["versions"]]


def names(cfg: Path) -> list[str]:
    """How the text output names each version, in publication order."""
    return [f"v{r['version']} ({r['label']})" for r in json.loads(run(cfg, "history", "cop-ss", "--json").stdout)]


def test_a_renumbered_commitment_is_followed_through_three_versions(three_versions):
    res = run(three_versions, "trace", "cop-ss", "Commitment 9", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["lineage"] == "cop-ss" and data["section"] == "Commitment 9"
    first = data["threads"][0]  # the section named so in the latest version comes first
    assert first["anchor"]["label"] == "Final"
    assert [v["label"] for v in first["versions"]] == ["Second draft", "Third draft", "Final"]
    assert numbers(first) == [["Commitment 17"], ["Commitment II.12"], ["Commitment 9"]]
    assert {s["title"] for v in first["versions"] for s in v["sections"]} == {"Serious incident reporting"}
    steps = first["steps"]
    assert [(s["from"]["label"], s["to"]["label"], s["statuses"]) for s in steps] == [
        ("Second draft", "Third draft", ["renumbered"]), ("Third draft", "Final", ["renumbered"])]
    kinds = [[(h["kind"], h["classification"]) for h in s["hunks"]] for s in steps]
    assert ("renumbered", "editorial") in kinds[0] and ("modified", "substantive") in kinds[0]
    twelve = next(h for h in steps[0]["hunks"] if h["kind"] == "modified")
    assert "12 months" in twelve["old_text"] and "36 months" in twelve["new_text"]
    assert any("15 days" in h["new_text"] for h in steps[1]["hunks"])
    # "Commitment 9" of the second draft is another commitment: a thread of its own.
    other = data["threads"][1]
    assert other["anchor"]["label"] == "Second draft"
    assert numbers(other) == [["Commitment 9"], ["Commitment II.5"], ["Commitment 4"]]

    # --at keeps the section so named in one version; the text output shows the same story.
    res = run(three_versions, "trace", "cop-ss", "Commitment 9", "--at", "Final")
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    # Numbers follow arrival (the three were fetched at once); the order is config's.
    second, third, final = names(three_versions)
    assert lines[0] == f"cop-ss: 'Commitment 9' as named in {final}"
    assert lines[1:4] == [
        f"  {second}  Commitment 17. Serious incident reporting",
        f"  {third}   Commitment II.12. Serious incident reporting",
        f"  {final}         Commitment 9. Serious incident reporting",
    ]
    assert "Risk acceptance" not in res.stdout
    assert f"{second} -> {third}: renumbered" in res.stdout
    assert "substantive" in res.stdout


def test_a_section_absent_from_one_version_is_shown_absent_and_found_again(three_versions):
    data = json.loads(run(three_versions, "trace", "cop-ss", "Whistleblower protection", "--json").stdout)
    assert len(data["threads"]) == 1  # named so in two versions, but one section
    thread = data["threads"][0]
    assert [v["absent"] for v in thread["versions"]] == [False, True, False]
    assert numbers(thread) == [["Commitment 18"], [], ["Commitment 10"]]
    # Followed back from the final: added after the third draft; across the gap the second
    # draft is compared with the final, the nearest version that has it.
    steps = [(s["from"]["label"], s["to"]["label"], s["statuses"]) for s in thread["steps"]]
    assert steps == [("Second draft", "Final", ["renumbered"]), ("Third draft", "Final", ["added"])]
    # Followed forward from the second draft, it is removed, then back in the final.
    data = json.loads(run(three_versions, "trace", "cop-ss", "Commitment 18", "--json").stdout)
    steps = [(s["from"]["label"], s["to"]["label"], s["statuses"]) for s in data["threads"][0]["steps"]]
    assert steps == [("Second draft", "Third draft", ["removed"]), ("Second draft", "Final", ["renumbered"])]
    text = run(three_versions, "trace", "cop-ss", "whistleblower").stdout  # a pattern on the heading
    assert f"  {names(three_versions)[1]}   (absent)" in text


def test_trace_errors_exit_2(three_versions):
    res = run(three_versions, "trace", "cop-ss", "Commitment 99")
    assert res.exit_code == 2 and "no section 'Commitment 99'" in res.stderr
    assert run(three_versions, "trace", "cop-ss", "Commitment 9", "--at", "Fourth draft").exit_code == 2
    assert run(three_versions, "trace", "nope", "Commitment 9").exit_code == 2


ASSESS = ("Signatories commit to assessing the systemic risks of their models at every stage of "
          "development, with model evaluations, red-teaming and forecasts of capabilities.")
MITIGATE = ("Signatories commit to mitigating the systemic risks they identified with safety and "
            "security measures proportionate to the risk, reviewed after every serious incident.")


def test_a_split_is_followed_along_both_branches():
    old = f"# Commitment 5. Risk assessment and mitigation\n\n{ASSESS}\n\n{MITIGATE}\n"
    new = f"# Commitment 5. Risk assessment\n\n{ASSESS}\n\n# Commitment 6. Risk mitigation\n\n{MITIGATE}\n"
    [forward] = trace_section([old, new], "Commitment 5", at=0)
    assert [[s.number for s in secs] for secs in forward.sections] == [["Commitment 5"], ["Commitment 5", "Commitment 6"]]
    assert forward.steps[0].statuses == ["modified", "split"]
    # From the later part back: the section it was split from.
    [backward] = trace_section([old, new], "Risk mitigation")
    assert [[s.number for s in secs] for secs in backward.sections] == [["Commitment 5"], ["Commitment 6"]]
    assert backward.steps[0].statuses == ["split"]
    assert any(h.kind == "split" for h in backward.steps[0].hunks)


def test_real_commitment_17_became_ii_12_then_final_commitment_9(corpus, site, tmp_path):
    # The real texts, served locally as three sources of one document: the second draft (the
    # official PDF of the whole Code: its per-chapter text dump loses its headings), the
    # Safety and Security chapter's third draft (Markdown) and final (text).
    files = {
        "/second-draft.pdf": ("gpai-cop-full/second-draft-2024-12-19.pdf", "application/pdf"),
        "/third-draft.md": ("gpai-cop-safety-security/third-draft-2025-03-11.md", "text/markdown; charset=utf-8"),
        "/final.txt": ("gpai-cop-safety-security/final-2025-07-10.txt", "text/plain; charset=utf-8"),
    }
    for path, (name, content_type) in files.items():
        site.set(path, (corpus / name).read_bytes(), content_type=content_type)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "database: hist.db\ndefaults: {delay: 0, timeout: 30, retries: 0}\nsources:\n"
        f"  - {{name: ss-second, url: '{site.url('/second-draft.pdf')}', document: cop-ss, label: Second draft}}\n"
        f"  - {{name: ss-third, url: '{site.url('/third-draft.md')}', document: cop-ss, label: Third draft}}\n"
        f"  - {{name: ss-final, url: '{site.url('/final.txt')}', document: cop-ss, label: Final}}\n"
    )
    assert run(cfg, "crawl").exit_code == 0
    res = run(cfg, "trace", "cop-ss", "Commitment 9", "--at", "Final", "--json")
    assert res.exit_code == 0, res.output
    [thread] = json.loads(res.stdout)["threads"]
    # The drafts' own notes state it (tests/data/alignment/ss-*-to-*.yaml).
    assert numbers(thread) == [["Commitment 17"], ["Commitment II.12"], ["Commitment 9"]]
    assert {s["title"] for v in thread["versions"] for s in v["sections"]} == {"Serious incident reporting"}
    assert [s["statuses"] for s in thread["steps"]] == [["renumbered"], ["renumbered"]]
    assert all(s["hunks"] for s in thread["steps"])
