"""The HTML report: structure, escaping, collapsing, speed, and a real headless-browser render."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from store.records import Change, Hunk, SectionMatch
from tracker.render.html import render

CHROMIUM = Path("/usr/bin/chromium")

LONG_EQUAL = ("The Signatory will keep the documentation up to date and available to the AI Office. " * 8)


def _sections() -> list[SectionMatch]:
    top = "Safety and Security Section"
    return [
        SectionMatch(None, None, "unchanged", 1.0, [], [], 0, 0),
        SectionMatch("Commitment II.1. Safety and security framework", "Commitment II.1. Safety and security framework",
                     "modified", 0.82,
                     [top, "Commitment II.1. Safety and security framework"],
                     [top, "Commitment II.1. Safety and security framework"], 1, 1),
        SectionMatch("Measure II.1.1. Creating the framework", "Measure II.1.1. Creating the framework",
                     "unchanged", 1.0,
                     [top, "Commitment II.1. Safety and security framework", "Measure II.1.1. Creating the framework"],
                     [top, "Commitment II.1. Safety and security framework", "Measure II.1.1. Creating the framework"],
                     2, 2),
        SectionMatch("Commitment II.3. Systemic risk modelling", "Commitment II.2. Systemic risk modelling",
                     "renumbered", 1.0,
                     [top, "Commitment II.3. Systemic risk modelling"],
                     [top, "Commitment II.2. Systemic risk modelling"], 4, 3),
        # In document order, as the engine gives them: the removed section where it stood.
        SectionMatch("Commitment II.2. Legacy measures", None, "removed", 0.0,
                     [top, "Commitment II.2. Legacy measures"], [], 3, None),
        SectionMatch(None, "Commitment II.4. Serious incident reporting <urgent>", "added", 0.0,
                     [], [top, "Commitment II.4. Serious incident reporting <urgent>"], None, 4),
    ]


def _change() -> Change:
    top = "Safety and Security Section"
    c1 = [top, "Commitment II.1. Safety and security framework"]
    subst = Hunk(
        "modified", c1, c1,
        LONG_EQUAL + "Signatories should report within 15 days.",
        LONG_EQUAL + "Signatories shall report within 2 days.",
        [(0, LONG_EQUAL + "Signatories "), (-1, "should"), (1, "shall"), (0, " report within "),
         (-1, "15"), (1, "2"), (0, " days.")],
        classification="substantive", significance=0.72,
        significance_parts={"modal": 0.35, "number": 0.25, "size": 0.12},
        reasons=["modal strengthened: should → shall", "number changed: 15 → 2"],
        flags={"modal": ["should", "shall"], "number": ["15", "2"]},
        obligations=[{"id": "AIA-55-1-c", "reason": "serious incident reporting", "confidence": 0.8}],
    )
    cosmetic = Hunk(
        "modified", c1, c1, "risk-assessment", "risk assessment",
        [(0, "risk"), (-1, "-"), (1, " "), (0, "assessment")],
        classification="cosmetic", significance=0.02, significance_parts={"size": 0.02},
        reasons=["only case, punctuation, quotes, spacing or markup changed"],
    )
    c_old = [top, "Commitment II.3. Systemic risk modelling"]
    c_new = [top, "Commitment II.2. Systemic risk modelling"]
    renum = Hunk(
        "renumbered", c_old, c_new, "# Commitment II.3. Systemic risk modelling",
        "# Commitment II.2. Systemic risk modelling",
        [(0, "# Commitment II."), (-1, "3"), (1, "2"), (0, ". Systemic risk modelling")],
        classification="editorial", significance=0.1, significance_parts={"renumber": 0.1},
        reasons=["section renumbered with its text unchanged"],
    )
    added_path = [top, "Commitment II.4. Serious incident reporting <urgent>"]
    xss = "<script>alert(1)</script> Providers & deployers must notify the AI Office."
    added = Hunk(
        "added", [], added_path, "", xss, [(1, xss)],
        classification="substantive", significance=0.9, significance_parts={"section": 0.9},
        reasons=["section added"], flags={"section_added": ["<b>Serious</b>"]},
    )
    removed_path = [top, "Commitment II.2. Legacy measures"]
    removed = Hunk(
        "removed", removed_path, [], "Legacy measures apply until 2026.", "",
        [(-1, "Legacy measures apply until 2026.")],
        classification="editorial", significance=0.3, significance_parts={"size": 0.3},
    )
    return Change(sections=_sections(), hunks=[subst, cosmetic, renum, added, removed])


def _page() -> str:
    return render(_change(), title="cop-safety-security: Third draft → Final",
                  old_label="Third draft", new_label="Final")


class _Strict(HTMLParser):
    """Checks that non-void tags close in order (html.parser itself never raises)."""

    VOID = {"meta", "br", "input", "img", "hr", "link", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [v for k, v in attrs if k == "id" and v]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def test_page_is_well_formed_with_unique_ids() -> None:
    page = _page()
    assert page.startswith("<!DOCTYPE html>")
    parser = _Strict()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    assert len(parser.ids) == len(set(parser.ids))
    # Standalone: nothing fetched from elsewhere.
    soup = BeautifulSoup(page, "html.parser")
    assert not soup.select("link[href], img[src], script[src], iframe")
    assert "http://" not in page and "https://" not in page


def test_table_lists_every_section_in_document_order_with_links() -> None:
    soup = BeautifulSoup(_page(), "html.parser")
    table = soup.select_one("table.sections")
    assert table is not None
    text = table.get_text(" ")
    for s in _sections():
        for heading in (s.old, s.new):
            if heading:
                assert heading in text
    rows = table.select("tbody tr")
    assert len(rows) == len(_sections())
    # Document order: new index first, removed sections at their old place.
    firsts = [r.select("td")[2].get_text() or r.select("td")[1].get_text() for r in rows]
    assert firsts[3].startswith("Commitment II.2. Systemic")
    assert firsts[4] == "Legacy measures" or "Legacy" in rows[4].get_text()
    assert "Serious incident" in rows[5].get_text()
    for row in rows:
        targets = {a["href"] for a in row.select("a[href]")}
        assert len(targets) == 1
        anchor = next(iter(targets))[1:]
        assert soup.find(id=anchor) is not None, anchor
    # Every changed section has a detail block the table links to.
    linked = {a["href"][1:] for a in table.select("a[href]")}
    details = soup.select("section.change")
    assert len(details) == 4  # modified, renumbered, added, removed
    for sec in details:
        assert sec["id"] in linked
        assert sec.select_one('a[href="#top"]') is not None
    # Substantive rows are marked with a class and a text badge, not only a colour.
    marked = table.select("tr.row-substantive")
    assert len(marked) == 2
    assert all("substantive" in r.get_text() for r in marked)
    # Maximum significance of the section's hunks.
    assert "0.72" in marked[0].get_text()


def test_hunk_details_edits_and_metadata() -> None:
    page = _page()
    soup = BeautifulSoup(page, "html.parser")
    hunk = soup.select_one("article.hunk.cls-substantive")
    assert hunk is not None
    assert [d.get_text() for d in hunk.select(".col.old del")] == ["should", "15"]
    assert [i.get_text() for i in hunk.select(".col.new ins")] == ["shall", "2"]
    assert not hunk.select(".col.old ins") and not hunk.select(".col.new del")
    head = hunk.select_one(".sig").get_text(" ", strip=True)
    assert "0.72 = modal 0.35 + number 0.25 + size 0.12" in " ".join(head.split())
    info = hunk.get_text(" ")
    assert "modal strengthened" in info and "AIA-55-1-c" in info and "confidence 0.80" in info
    flags = {dt.get_text(): [w.get_text() for w in dd.select(".word")]
             for dt, dd in zip(hunk.select(".flags dt"), hunk.select(".flags dd"), strict=True)}
    assert flags == {"modal": ["should", "shall"], "number": ["15", "2"]}
    # The renumbered section shows both breadcrumbs; its hunk does not repeat them.
    renum = soup.find(id="s-4")
    crumbs = [c.get_text() for c in renum.select("nav .crumbs")]
    assert len(crumbs) == 2 and "II.3. Systemic" in crumbs[0] and "II.2. Systemic" in crumbs[1]
    assert "From:" not in renum.select_one("article.hunk").get_text()
    # A paragraph moved in from another section says where it came from.
    path = ["Top", "Commitment II.1. Safety and security framework"]
    moved = Hunk("moved", ["Top", "Appendix 1"], path, "x", "x", [(0, "x")], classification="editorial")
    sec = SectionMatch(path[-1], path[-1], "modified", 0.9, path, path, 1, 1)
    page = render(Change([sec], [moved]), title="t", old_label="a", new_label="b")
    info = BeautifulSoup(page, "html.parser").select_one(".hunk-info").get_text()
    assert "From:" in info and "Top › Appendix 1" in info
    # Hunks sit under their own section.
    c1 = soup.find(id="s-2")
    assert len(c1.select("article.hunk")) == 2


def test_text_is_escaped() -> None:
    page = _page()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<urgent>" not in page and "&lt;urgent&gt;" in page
    assert "<b>Serious</b>" not in page
    soup = BeautifulSoup(page, "html.parser")
    # The only script is the page's own helper.
    scripts = soup.find_all("script")
    assert len(scripts) == 1 and "alert" not in scripts[0].get_text()
    ins = soup.select_one("section.change article.hunk .col.new ins")
    assert ins is not None
    assert any("<script>alert(1)</script>" in i.get_text() for i in soup.select(".col.new ins"))
    title = render(Change(), title="a <b>&</b>", old_label="<x>", new_label='"y"')
    assert "<b>&</b>" not in title and "&lt;b&gt;&amp;&lt;/b&gt;" in title
    assert "<x>" not in title


def test_long_equal_runs_are_collapsed() -> None:
    soup = BeautifulSoup(_page(), "html.parser")
    hunk = soup.select_one("article.hunk.cls-substantive")
    for side in ("old", "new"):
        cells = hunk.select(f".col.{side}")
        assert cells
        gaps = hunk.select(f".col.{side} .gap")
        assert len(gaps) == 1 and "unchanged characters" in gaps[0].get_text()
        text = "".join(c.get_text() for c in cells)
        # The words right before the edit are kept; the full run is not.
        assert "up to date and available to the AI Office. Signatories" in text
        assert len(text) < len(LONG_EQUAL)
    # Short equal runs stay whole.
    cos = soup.select_one("article.hunk.cls-cosmetic")
    assert not cos.select(".gap")
    assert cos.select_one(".col.old").get_text() == "risk-assessment"


def test_paragraphs_line_up_side_by_side() -> None:
    old = "First paragraph stays.\n\nSecond one should change.\n\nThird stays."
    new = "First paragraph stays.\n\nSecond one shall change.\n\nA new paragraph.\n\nThird stays."
    edits = [(0, "First paragraph stays.\n\nSecond one "), (-1, "should"), (1, "shall"),
             (0, " change.\n\n"), (1, "A new paragraph.\n\n"), (0, "Third stays.")]
    sec = SectionMatch("S", "S", "modified", 0.8, ["S"], ["S"], 1, 1)
    hunk = Hunk("modified", ["S"], ["S"], old, new, edits)
    soup = BeautifulSoup(render(Change([sec], [hunk]), title="t", old_label="a", new_label="b"),
                         "html.parser")
    olds = [c.get_text() for c in soup.select(".col.old")]
    news = [c.get_text() for c in soup.select(".col.new")]
    # One grid row per paragraph: the same passage sits in the same row on both sides, and
    # the added paragraph has a row of its own, empty on the old side.
    assert list(zip(olds, news, strict=True)) == [
        ("First paragraph stays.", "First paragraph stays."),
        ("Second one should change.", "Second one shall change."),
        ("", "A new paragraph."),
        ("Third stays.", "Third stays."),
    ]
    replaced = [(-1, "Old para one.\n\n"), (1, "New para one.\n\n"), (0, "Kept.")]
    hunk = Hunk("modified", ["S"], ["S"], "Old para one.\n\nKept.", "New para one.\n\nKept.", replaced)
    soup = BeautifulSoup(render(Change([sec], [hunk]), title="t", old_label="a", new_label="b"),
                         "html.parser")
    rows = list(zip([c.get_text() for c in soup.select(".col.old")],
                    [c.get_text() for c in soup.select(".col.new")], strict=True))
    assert rows == [("Old para one.", "New para one."), ("Kept.", "Kept.")]


def test_rows_sharing_a_path_get_the_hunk_of_their_kind() -> None:
    path = ["Top", "Commitment 3"]
    rows = [SectionMatch("Commitment 3", "Commitment 3", "merged", 0.9, path, path, 3, 3),
            SectionMatch("Commitment 3", "Commitment 3", "split", 0.9, path, path, 3, 3)]
    hunks = [Hunk("split", path, path, "a", "b", [(-1, "a"), (1, "b")]),
             Hunk("merged", path, path, "c", "d", [(-1, "c"), (1, "d")])]
    soup = BeautifulSoup(render(Change(rows, hunks), title="t", old_label="a", new_label="b"),
                         "html.parser")
    assert soup.find(id="s-1").select_one("ins").get_text() == "d"
    assert soup.find(id="s-2").select_one("ins").get_text() == "b"


def test_unchanged_sections_are_collapsed_but_linked() -> None:
    soup = BeautifulSoup(_page(), "html.parser")
    box = soup.select_one("details.unchanged")
    assert box is not None and "2 unchanged sections" in box.summary.get_text()
    assert box.find(id="s-3") is not None
    assert soup.select_one('table.sections a[href="#s-3"]') is not None


def test_empty_change_and_orphans() -> None:
    page = render(Change(), title="t", old_label="a", new_label="b")
    assert "No differences" in page
    orphan = Hunk("modified", ["Nowhere"], ["Nowhere"], "a", "b", [(-1, "a"), (1, "b")])
    soup = BeautifulSoup(render(Change(hunks=[orphan]), title="t", old_label="a", new_label="b"),
                         "html.parser")
    assert soup.find(id="s-0") is not None
    assert soup.select_one('a[href="#s-0"]') is not None
    # Missing edits fall back to a whole delete + insert.
    bare = Hunk("modified", [], [], "old words", "new words", [])
    soup = BeautifulSoup(render(Change(sections=[SectionMatch(None, None, "modified", 0.5, [], [], 0, 0)],
                                       hunks=[bare]), title="t", old_label="a", new_label="b"), "html.parser")
    assert soup.find(id="s-1").select_one("del").get_text() == "old words"


def _big_change(n_hunks: int = 2000) -> Change:
    sections, hunks = [], []
    for i in range(n_hunks // 4):
        head = f"Measure {i}. Title <{i}>"
        sections.append(SectionMatch(head, head, "modified", 0.9, ["Top", head], ["Top", head], i, i))
        for j in range(4):
            text = LONG_EQUAL + f"paragraph {j} "
            hunks.append(Hunk("modified", ["Top", head], ["Top", head], text + "should", text + "shall",
                              [(0, text), (-1, "should"), (1, "shall")], classification="substantive",
                              significance=0.5, significance_parts={"modal": 0.5},
                              reasons=["modal"], flags={"modal": ["should", "shall"]}))
    return Change(sections=sections, hunks=hunks)


def test_two_thousand_hunks_render_fast() -> None:
    change = _big_change()
    start = time.perf_counter()
    page = render(change, title="big", old_label="a", new_label="b")
    elapsed = time.perf_counter() - start
    assert page.count('<article class="hunk') == 2000
    assert elapsed < 1.0, elapsed


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_renders_in_headless_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent")
    html_file = tmp_path / "report.html"
    html_file.write_text(_page(), encoding="utf-8")
    png = tmp_path / "report.png"
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600",
        f"--screenshot={png}", html_file.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    assert png.exists(), proc.stderr.decode(errors="replace")[-2000:]
    assert png.stat().st_size > 20_000
    width, height = _png_size(png)
    assert width == 1280
    assert height > 0
    # Kept for a human to look at when asked (REGWATCH_SCREENSHOT=/tmp/regwatch-report.png).
    if keep := os.environ.get("REGWATCH_SCREENSHOT"):
        shutil.copyfile(png, keep)
