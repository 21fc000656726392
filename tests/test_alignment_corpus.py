"""Section alignment of real Code of Practice versions against expectations written from the
documents themselves (`tests/data/alignment/*.yaml`; see `bench/accuracy.py` for the format).

Each pair is aligned once; every failing expectation of a pair is reported in one message.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tracker.diff import diff_texts  # noqa: F401  (fail with ImportError until the engine exists)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "alignment"


def _load_accuracy() -> ModuleType:
    """Import `bench/accuracy.py` (bench is a folder of scripts, not a package)."""
    name = "regwatch_bench_accuracy"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "accuracy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


accuracy = _load_accuracy()
PAIRS = sorted(p.stem for p in DATA.glob("*.yaml"))


def test_expectation_files_are_valid() -> None:
    """Every yaml file parses, names its pair after itself and uses the engine's statuses."""
    assert PAIRS, "no expectation files"
    for path in sorted(DATA.glob("*.yaml")):
        spec = accuracy.load_pair(path)
        assert spec.name == path.stem
        assert spec.expect
        keys = [(e.key_side, accuracy.norm_number(e.key)) for e in spec.expect]
        assert len(keys) == len(set(keys)), f"{path.name}: a section is expected twice"


KNOWN_FAILURES = DATA / "known-failures.txt"


def outcome_id(pair: str, outcome) -> str:
    """A stable name for an expectation: "<pair>: <side> <number>"."""
    exp = outcome.expectation
    return f"{pair}: {exp.key_side} {exp.key}"


def known_failures() -> set[str]:
    """Expectations the engine does not meet yet (a ratchet: the list may only shrink)."""
    lines = KNOWN_FAILURES.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


@pytest.mark.corpus
@pytest.mark.parametrize("pair", PAIRS)
def test_alignment_matches_documents(corpus: Path, pair: str) -> None:
    """regwatch pairs each expected section with an acceptable partner and status.

    Expectations listed in known-failures.txt are today's gaps: any other failure is a
    regression, and a listed one that now passes must be removed from the list.
    """
    spec = accuracy.load_pair(DATA / f"{pair}.yaml")
    report = accuracy.run_pair(spec, corpus)
    if report.error:
        pytest.skip(report.error)
    known = {k for k in known_failures() if k.startswith(f"{pair}: ")}
    failing = {outcome_id(pair, o): o for o in report.failures()}
    new = [o for k, o in failing.items() if k not in known]
    fixed = sorted(known - set(failing))
    message = "\n".join(
        [f"{len(new)} new failures of {report.expectations} expectations in {pair}:"]
        + [f"  {o.explain()}" for o in new]
        + ([f"now passing, remove from {KNOWN_FAILURES.name}:"] + [f"  {k}" for k in fixed] if fixed else [])
    )
    assert not new and not fixed, message
