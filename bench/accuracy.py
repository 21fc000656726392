"""Benchmark: how well regwatch aligns real versions of the GPAI Code of Practice.

Run: `python bench/accuracy.py [--corpus DIR] [--pair NAME ...] [--failures]`

The expectations live in `tests/data/alignment/<pair>.yaml`. They were written from the
documents themselves (the drafts' own "Summary of changes" notes, titles, LEGAL TEXT lines
and content), never from regwatch's output. Each file names an old and a new corpus file and
lists expected fates of sections, by number as printed:

    - {old: "Commitment II.12", new: "Commitment 9", status: [renumbered, modified], note: "..."}
    - {old: "Measure 5.6", new: null, status: [removed], note: "..."}
    - {old: null, new: "Measure II.8.6", status: [added], note: "..."}
    - {old: "Measure 6.4", new: [null, "Measure II.8.7"], status: [removed, moved], note: "..."}

`old`/`new` may be a list of acceptable partners (null = "no partner" is acceptable). The
section looked up is `old` when it is one number, otherwise `new`. An expectation holds when
every partner the engine gives that section is acceptable and at least one of its rows has an
acceptable partner and an acceptable status.

Printed per pair and overall:
  - expectations: how many were checked;
  - correct: partner and status both acceptable;
  - precision: of the partners the engine proposes for the expected sections, the share that
    are acceptable (a partner proposed where the section was added/removed counts as wrong);
  - recall: of the expectations that require a partner (no null among the acceptable ones),
    the share where the engine found an acceptable one.

The same evaluation is used by `tests/test_alignment_corpus.py`.

The second benchmark scores the links of hunks to obligations: `tests/data/obligations/<pair>.yaml`
labels real hunks of a pair with the obligations an expert names (a note per label). Both
sides are reduced to their most specific ids (a link to Article 55(1)(c) implies 55(1)), then
  - precision: of the links regwatch makes on the labelled hunks, the share the expert made;
  - recall: of the expert's links, the share regwatch makes.
`tests/test_obligations_corpus.py` uses the same evaluation.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
ALIGNMENT_DATA = ROOT / "tests" / "data" / "alignment"

STATUSES = frozenset(
    {"unchanged", "modified", "moved", "renumbered", "split", "merged", "added", "removed"}
)


# --- expectations -------------------------------------------------------------------------


def norm_number(number: str | None) -> str | None:
    """Comparable form of a section number: case, inner whitespace and trailing dots ignored."""
    if number is None:
        return None
    return " ".join(number.split()).rstrip(".:").casefold()


def _choices(value: Any) -> tuple[str | None, ...]:
    """Acceptable partners from a yaml value: a number, null, or a list of them."""
    values = value if isinstance(value, list) else [value]
    return tuple(None if v is None else str(v) for v in values)


@dataclass(frozen=True)
class Expectation:
    """One expected fate of a section between two versions."""

    old: tuple[str | None, ...]  # acceptable old sections (None = no old section)
    new: tuple[str | None, ...]
    status: frozenset[str]
    note: str = ""

    @property
    def key_side(self) -> str:
        """"old" when the expectation is about one old section, else "new"."""
        return "old" if len(self.old) == 1 and self.old[0] is not None else "new"

    @property
    def key(self) -> str:
        """The number of the section looked up."""
        side = self.old if self.key_side == "old" else self.new
        assert side[0] is not None
        return side[0]

    @property
    def partners(self) -> tuple[str | None, ...]:
        """Acceptable partners of the looked-up section."""
        return self.new if self.key_side == "old" else self.old

    @property
    def needs_partner(self) -> bool:
        """True when the section must be matched (no null among the acceptable partners)."""
        return None not in self.partners

    def describe(self) -> str:
        """Short human form: 'Measure 4.5 -> Measure II.6.3 [moved|renumbered]'."""

        def side(values: tuple[str | None, ...]) -> str:
            shown = ["-" if v is None else v for v in values]
            return shown[0] if len(shown) == 1 else "{" + ", ".join(shown) + "}"

        return f"{side(self.old)} -> {side(self.new)} [{'|'.join(sorted(self.status))}]"


@dataclass
class PairSpec:
    """One yaml file: a pair of corpus files and the expectations between them."""

    name: str
    old_file: str
    new_file: str
    expect: list[Expectation]
    source: Path | None = None


def load_pair(path: Path) -> PairSpec:
    """Read and validate one `tests/data/alignment/*.yaml` file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    expect: list[Expectation] = []
    for i, raw in enumerate(data["expect"]):
        exp = Expectation(
            old=_choices(raw.get("old")),
            new=_choices(raw.get("new")),
            status=frozenset(raw["status"]),
            note=str(raw.get("note", "")),
        )
        unknown = exp.status - STATUSES
        if unknown:
            raise ValueError(f"{path.name} entry {i}: unknown status {sorted(unknown)}")
        if exp.key_side == "new" and (len(exp.new) != 1 or exp.new[0] is None):
            raise ValueError(f"{path.name} entry {i}: needs one old or one new section number")
        expect.append(exp)
    return PairSpec(data["pair"], data["old"]["file"], data["new"]["file"], expect, path)


def load_pairs(directory: Path = ALIGNMENT_DATA, names: Iterable[str] | None = None) -> list[PairSpec]:
    """All expectation files in `directory` (or only those named), sorted by name."""
    pairs = [load_pair(p) for p in sorted(directory.glob("*.yaml"))]
    if names is not None:
        wanted = set(names)
        pairs = [p for p in pairs if p.name in wanted]
    return pairs


# --- running the engine -------------------------------------------------------------------


@lru_cache(maxsize=16)
def corpus_text(path: Path) -> str:
    """A corpus file's normalised text, extracted exactly as the crawler does."""
    from crawler.extract import extract, sniff

    body = path.read_bytes()
    ctype = sniff(body, None)
    doc, _ = extract(body, ctype)
    return doc.to_text()


def section_number(heading: str | None) -> str | None:
    """The normalised number of a printed heading; unnumbered headings keep their text, marked."""
    if heading is None:
        return None
    from store.numbering import split_heading

    number, _title = split_heading(heading)
    if number is None:
        return "(unnumbered) " + " ".join(heading.split()).casefold()
    return norm_number(number)


@dataclass
class Row:
    """One alignment row reduced to what the evaluation needs."""

    old: str | None  # normalised numbers
    new: str | None
    status: str
    similarity: float
    old_heading: str | None
    new_heading: str | None


def align_rows(old_text: str, new_text: str) -> list[Row]:
    """Run regwatch's diff engine and keep the section alignment."""
    from tracker.diff import diff_texts

    change = diff_texts(old_text, new_text)
    return [
        Row(section_number(s.old), section_number(s.new), s.status, s.similarity, s.old, s.new)
        for s in change.sections
    ]


# --- evaluation ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the engine did with one expected section."""

    expectation: Expectation
    rows: list[Row]  # the rows in which the looked-up section appears
    correct: bool
    proposed: bool  # the engine gave the section at least one partner
    proposal_right: bool  # ... and every partner it gave is acceptable
    found: bool  # the engine gave an acceptable (non-null) partner

    def explain(self) -> str:
        """One line: expected vs got."""
        exp = self.expectation
        if not self.rows:
            got = f"no section numbered {exp.key!r} on the {exp.key_side} side"
        else:
            other = "new_heading" if exp.key_side == "old" else "old_heading"
            got = "; ".join(
                f"{getattr(r, other) or '-'} [{r.status} {r.similarity:.2f}]" for r in self.rows
            )
        return f"{exp.describe()}  got: {got}"


def evaluate(exp: Expectation, rows: Sequence[Row]) -> Outcome:
    """Judge the engine's rows against one expectation."""
    key = norm_number(exp.key)
    if exp.key_side == "old":
        hits = [r for r in rows if r.old == key]
        partner_of: Callable[[Row], str | None] = lambda r: r.new  # noqa: E731
    else:
        hits = [r for r in rows if r.new == key]
        partner_of = lambda r: r.old  # noqa: E731
    acceptable = {norm_number(p) for p in exp.partners}
    good = [r for r in hits if partner_of(r) in acceptable]
    partners = [partner_of(r) for r in hits]
    proposed = [p for p in partners if p is not None]
    correct = bool(hits) and len(good) == len(hits) and any(r.status in exp.status for r in good)
    return Outcome(
        expectation=exp,
        rows=hits,
        correct=correct,
        proposed=bool(proposed),
        proposal_right=bool(proposed) and all(p in acceptable for p in proposed),
        found=any(p in acceptable for p in proposed),
    )


@dataclass
class PairReport:
    """Outcomes of one pair (or of one group of checks in a later benchmark)."""

    name: str
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None  # set when the pair could not be run (missing file, ...)

    @property
    def expectations(self) -> int:
        """Number of expectations checked."""
        return len(self.outcomes)

    @property
    def correct(self) -> int:
        """Expectations with an acceptable partner and status."""
        return sum(o.correct for o in self.outcomes)

    @property
    def proposals(self) -> int:
        """Expected sections to which the engine gave a partner."""
        return sum(o.proposed for o in self.outcomes)

    @property
    def right_proposals(self) -> int:
        """... of which every partner was acceptable."""
        return sum(o.proposal_right for o in self.outcomes)

    @property
    def needed(self) -> int:
        """Expectations that require a partner."""
        return sum(o.expectation.needs_partner for o in self.outcomes)

    @property
    def found(self) -> int:
        """... of which the engine found an acceptable one."""
        return sum(o.found for o in self.outcomes if o.expectation.needs_partner)

    @property
    def precision(self) -> float | None:
        """Right proposals / proposals (None when nothing was proposed)."""
        return self.right_proposals / self.proposals if self.proposals else None

    @property
    def recall(self) -> float | None:
        """Found partners / required partners (None when none is required)."""
        return self.found / self.needed if self.needed else None

    def failures(self) -> list[Outcome]:
        """The expectations that do not hold."""
        return [o for o in self.outcomes if not o.correct]


def run_pair(spec: PairSpec, corpus: Path) -> PairReport:
    """Extract both files of a pair, align them and judge every expectation."""
    old_path, new_path = corpus / spec.old_file, corpus / spec.new_file
    for p in (old_path, new_path):
        if not p.is_file():
            return PairReport(spec.name, error=f"missing corpus file {p}")
    rows = align_rows(corpus_text(old_path), corpus_text(new_path))
    return PairReport(spec.name, [evaluate(e, rows) for e in spec.expect])


def combine(name: str, reports: Iterable[PairReport]) -> PairReport:
    """All outcomes of several reports as one."""
    return PairReport(name, [o for r in reports for o in r.outcomes])


# --- benchmarks ---------------------------------------------------------------------------


def alignment_benchmark(corpus: Path, names: Iterable[str] | None = None) -> list[PairReport]:
    """Section alignment of Code versions against `tests/data/alignment/*.yaml`."""
    return [run_pair(spec, corpus) for spec in load_pairs(names=names)]


# --- obligations mapping -------------------------------------------------------------------

OBLIGATION_DATA = ROOT / "tests" / "data" / "obligations"


@dataclass(frozen=True)
class Label:
    """One labelled hunk: where to find it and the obligations an expert names for it."""

    path: str  # a substring of a heading of the hunk's new path (old path when new is empty)
    text: str  # a verbatim substring of its new text (old text when new is empty)
    obligations: frozenset[str]
    note: str = ""

    def matches(self, hunk: Any) -> bool:
        """True when `hunk` is the one this label names."""
        path = hunk.new_path or hunk.old_path
        in_path = any(self.path.casefold() in h.casefold() for h in path)
        return in_path and (self.text in hunk.new_text or self.text in hunk.old_text)


@dataclass
class LabelSpec:
    """A pair of corpus files and its labelled hunks."""

    name: str
    old_file: str
    new_file: str
    labels: list[Label]


def load_labels(path: Path) -> LabelSpec:
    """Read one `tests/data/obligations/<pair>.yaml` file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    labels = [
        Label(item["hunk"]["path"], item["hunk"]["text"], frozenset(item.get("obligations") or []),
              item.get("note", ""))
        for item in data["labels"]
    ]
    return LabelSpec(data["pair"], data["old"]["file"], data["new"]["file"], labels)


def label_files(names: Iterable[str] | None = None) -> list[Path]:
    """The labelled pairs (all, or those named)."""
    files = sorted(OBLIGATION_DATA.glob("*.yaml"))
    return [f for f in files if not names or f.stem in set(names)]


@dataclass
class Judged:
    """A label, the hunks it matched and the obligations regwatch linked to the hunk."""

    label: Label
    matched: int
    predicted: frozenset[str]
    gold: frozenset[str]

    @property
    def right(self) -> frozenset[str]:
        """Predicted and named by the expert."""
        return self.predicted & self.gold

    def explain(self) -> str:
        """One line for a failing label."""
        if self.matched != 1:
            return f"{self.label.path!r} / {self.label.text[:50]!r}: matches {self.matched} hunks"
        extra, missed = sorted(self.predicted - self.gold), sorted(self.gold - self.predicted)
        return f"{self.label.path!r} / {self.label.text[:50]!r}: extra {extra}, missed {missed}"


@dataclass
class MappingReport:
    """Precision and recall of the links of one pair's labelled hunks."""

    name: str
    judged: list[Judged] = field(default_factory=list)
    error: str | None = None

    @property
    def predicted(self) -> int:
        """Links regwatch made on the labelled hunks."""
        return sum(len(j.predicted) for j in self.judged)

    @property
    def gold(self) -> int:
        """Links the expert made."""
        return sum(len(j.gold) for j in self.judged)

    @property
    def right(self) -> int:
        """Links both made."""
        return sum(len(j.right) for j in self.judged)

    @property
    def precision(self) -> float | None:
        """Right links / regwatch's links."""
        return self.right / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        """Right links / the expert's links."""
        return self.right / self.gold if self.gold else None

    def failures(self) -> list[Judged]:
        """Labels whose links differ from regwatch's (or that match no single hunk)."""
        return [j for j in self.judged if j.matched != 1 or j.predicted != j.gold]


def most_specific(ids: Iterable[str]) -> frozenset[str]:
    """`ids` without any that is an ancestor of another (a link to 55(1)(c) implies 55(1))."""
    from tracker.obligations.catalog import shipped_catalog

    catalog = shipped_catalog()
    ids = set(ids)
    implied = {a for i in ids for a in catalog.ancestors(i)}
    return frozenset(ids - implied)


def run_labels(spec: LabelSpec, corpus: Path) -> MappingReport:
    """Diff a labelled pair and judge regwatch's links on every labelled hunk."""
    from tracker.diff import diff_texts

    old_path, new_path = corpus / spec.old_file, corpus / spec.new_file
    for p in (old_path, new_path):
        if not p.is_file():
            return MappingReport(spec.name, error=f"missing corpus file {p}")
    change = diff_texts(corpus_text(old_path), corpus_text(new_path))
    report = MappingReport(spec.name)
    for label in spec.labels:
        hits = [h for h in change.hunks if label.matches(h)]
        predicted = most_specific(link["id"] for link in hits[0].obligations) if len(hits) == 1 else frozenset()
        report.judged.append(Judged(label, len(hits), predicted, most_specific(label.obligations)))
    return report


def obligations_benchmark(corpus: Path, names: Iterable[str] | None = None) -> list[MappingReport]:
    """Links of real hunks to obligations against `tests/data/obligations/*.yaml`."""
    return [run_labels(load_labels(f), corpus) for f in label_files(names)]


def format_mapping(heading: str, reports: Sequence[MappingReport], *, failures: bool = False) -> str:
    """The printed table of the mapping benchmark (and, if asked, each differing label)."""
    lines = [heading]
    ok = [r for r in reports if r.error is None]
    overall = MappingReport("overall", [j for r in ok for j in r.judged])
    width = max([len(r.name) for r in reports] + [len("overall")]) + 2
    for r in [*reports, overall]:
        if r.error:
            lines.append(f"  {r.name:<{width}} skipped: {r.error}")
            continue
        lines.append(
            f"  {r.name:<{width}} {len(r.judged):3d} labelled hunks  {r.right:3d}/{r.predicted:<3d} links right"
            f"  precision {_fmt(r.precision)}  recall {_fmt(r.recall)}"
        )
    if failures:
        for r in ok:
            for j in r.failures():
                lines.append(f"    DIFF {r.name}: {j.explain()}")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return " n/a" if value is None else f"{value:.2f}"


def format_report(heading: str, reports: Sequence[PairReport], *, failures: bool = False) -> str:
    """The printed table for one benchmark (and, if asked, each failing expectation)."""
    lines = [heading]
    width = max([len(r.name) for r in reports] + [len("overall")]) + 2
    for r in [*reports, combine("overall", (r for r in reports if r.error is None))]:
        if r.error:
            lines.append(f"  {r.name:<{width}} skipped: {r.error}")
            continue
        lines.append(
            f"  {r.name:<{width}} {r.expectations:3d} expectations  {r.correct:3d} correct"
            f"  precision {_fmt(r.precision)}  recall {_fmt(r.recall)}"
        )
    if failures:
        for r in reports:
            for o in r.failures():
                lines.append(f"    FAIL {r.name}: {o.explain()}")
    return "\n".join(lines)


# (heading printed above the table, benchmark function, formatter)
BENCHMARKS: list[tuple[str, Callable[..., list], Callable[..., str]]] = [
    ("alignment accuracy (expectations written from the documents' own notes)", alignment_benchmark,
     format_report),
    ("obligations mapping accuracy (hunks labelled as an expert would, tests/data/obligations)",
     obligations_benchmark, format_mapping),
]


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus directory")
    parser.add_argument("--pair", action="append", help="only this pair (repeatable)")
    parser.add_argument("--failures", action="store_true", help="list failing expectations")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    for heading, bench, fmt in BENCHMARKS:
        reports = bench(args.corpus, args.pair)
        if reports:
            print(fmt(heading, reports, failures=args.failures))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
