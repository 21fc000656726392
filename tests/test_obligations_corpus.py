"""Links of real hunks (Safety and Security, 2nd to 3rd draft and 3rd draft to final) to the
obligations an expert names for them (`tests/data/obligations`, see its README).

The floors sit just under what the mapping scores today (see `bench/accuracy.py`), so a change
that loses links, or invents them, fails here; they may only go up.
"""

from __future__ import annotations

import pytest
from test_alignment_corpus import accuracy  # the bench module, loaded once

from tracker.obligations.catalog import shipped_catalog

PRECISION_FLOOR = 0.74
RECALL_FLOOR = 0.82


def test_label_files_name_catalogued_obligations():
    catalog = shipped_catalog()
    files = accuracy.label_files()
    assert len(files) >= 2
    for path in files:
        spec = accuracy.load_labels(path)
        assert spec.name == path.stem and len(spec.labels) >= 40
        for label in spec.labels:
            unknown = [i for i in label.obligations if catalog.get(i) is None]
            assert not unknown, f"{path.name}: {label.text!r} names {unknown}"
            assert label.note, f"{path.name}: {label.text!r} has no note"
        empty = sum(not label.obligations for label in spec.labels)
        assert empty >= 5, "labels must include hunks that touch no obligation (precision)"


@pytest.mark.corpus
def test_mapping_precision_and_recall_on_the_labelled_hunks(corpus):
    reports = accuracy.obligations_benchmark(corpus)
    assert all(r.error is None for r in reports), [r.error for r in reports]
    for r in reports:
        unmatched = [j.explain() for j in r.judged if j.matched != 1]
        assert not unmatched, f"{r.name}: labels no longer name one hunk: {unmatched}"
    overall = accuracy.MappingReport("overall", [j for r in reports for j in r.judged])
    assert overall.precision >= PRECISION_FLOOR, accuracy.format_mapping("", reports, failures=True)
    assert overall.recall >= RECALL_FLOOR, accuracy.format_mapping("", reports, failures=True)
