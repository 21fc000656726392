"""Is each source still tracked? Tracking failures and recoveries from the fetch log.

A source fails when `failure_threshold` fetches of its own URL in a row failed, or at once
when a selector stopped matching (the page was redesigned: waiting would only hide it).
Each transition queues one alert per operators' channel; staying failing queues nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from store.tracking import FailureRun, failure_run, save_tracking, tracking_state
from tracker.config import Config


def is_failing(run: FailureRun, threshold: int) -> bool:
    """Whether a run of failed fetches makes the source a tracking failure."""
    return run.failures >= threshold or (run.failures > 0 and run.selector_missed)


@dataclass
class HealthEvent:
    """A transition of one source: `tracking-failure` or `tracking-recovered`."""

    source: str
    event: str
    alerts: int  # alerts queued for it


def update_tracking(db: sqlite_utils.Database, config: Config, names: list[str] | None = None) -> list[HealthEvent]:
    """Recompute the tracking state of the configured sources (all, or those named) and
    queue the operators' alerts of their transitions."""
    threshold, operators = config.alerts.failure_threshold, config.alerts.operators
    events = []
    for src in config.sources:
        if names and src.name not in names:
            continue
        run = failure_run(db, src.name, src.url)
        if run is None:
            continue  # never fetched
        before = tracking_state(db, src.name)
        was_failing = before is not None and before["state"] == "failing" and before["url"] == src.url
        failing = is_failing(run, threshold)
        event, detail = None, None
        base = {"url": src.url, "document": src.document, "error": run.last_error, "error_kind": run.last_error_kind,
                "fetch_id": run.last_id}
        if failing and not was_failing:
            event = "tracking-failure"
            detail = {**base, "failures": run.failures, "since": run.first_started}
        elif was_failing and run.failures == 0:
            event = "tracking-recovered"
            detail = {**base, "failures": before["failures"], "failing_since": before["since"],
                      "since": run.first_started}
        elif was_failing and not failing:
            failing = True  # still failing (a retry below the threshold is not a recovery)
        queued = save_tracking(db, src.name, src.url, "failing" if failing else "ok", run, event, detail, operators)
        if event:
            events.append(HealthEvent(src.name, event, queued))
    return events
