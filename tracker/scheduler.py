"""`regwatch run`: crawl each schedule's sources when due, process, dispatch, until a signal.

Sources sharing a schedule are crawled together in one crawl process (one Scrapy run keeps
per-host politeness across them, and one process per source would cost a start-up each);
each schedule is one APScheduler job, so a source is never crawled twice at once
(`max_instances=1`), late runs collapse into one (`coalesce`), and processing and dispatch,
which write the database, run one job at a time under a lock.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from notifications.dispatch import DispatchReport, dispatch
from store.db import open_db
from store.lock import DaemonLock
from store.queries import last_fetches
from tracker.config import Config, parse_schedule
from tracker.pipeline import crawl, process

log = logging.getLogger("regwatch.run")

DISPATCH_EVERY = 60  # seconds: retries and digests go out on time even between crawls
MAX_INTERVAL_JITTER = 300  # seconds
ONCE = "due now"  # the job of `run --once`: the due sources of every schedule


@dataclass
class Job:
    """The sources crawled together on one schedule."""

    schedule: str
    sources: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The APScheduler job id."""
        return f"crawl[{self.schedule}]"


def jobs_of(config: Config) -> list[Job]:
    """One job per distinct schedule of the enabled sources, in config order."""
    jobs: dict[str, Job] = {}
    for s in config.sources:
        if s.enabled:
            schedule = config.schedule_of(s)
            jobs.setdefault(schedule, Job(schedule)).sources.append(s.name)
    return list(jobs.values())


def trigger_of(schedule: str, jitter: bool = True) -> BaseTrigger:
    """The APScheduler trigger of a schedule ("every 6h" or 5-field cron, in UTC), with jitter:
    10% of an interval (at most 5 minutes), 60 s for cron, so many daemons (or sources) do
    not all hit a site at the same second."""
    spec = parse_schedule(schedule)
    if spec["trigger"] == "interval":
        seconds = spec["seconds"]
        spread = int(min(seconds * 0.1, MAX_INTERVAL_JITTER)) if jitter else 0
        return IntervalTrigger(seconds=seconds, timezone=UTC, jitter=spread or None)
    return CronTrigger(**spec["fields"], timezone=UTC, jitter=60 if jitter else None)


def period_of(schedule: str, now: datetime | None = None) -> float:
    """Seconds between two runs of a schedule (for a cron, between its next two fire times)."""
    spec = parse_schedule(schedule)
    if spec["trigger"] == "interval":
        return float(spec["seconds"])
    trig = trigger_of(schedule, jitter=False)
    now = now or datetime.now(UTC)
    first = trig.get_next_fire_time(None, now)
    second = trig.get_next_fire_time(first, first + timedelta(seconds=1))
    return (second - first).total_seconds()


def misfire_grace(schedule: str) -> int:
    """How late a run may start and still run: half the period, between 1 minute and 6 hours
    (an hourly crawl missed by 40 minutes waits for the next one; a daily crawl missed by
    the machine sleeping 3 hours still runs)."""
    return int(min(max(period_of(schedule) / 2, 60), 6 * 3600))


def is_due(schedule: str, last_run: datetime | None, now: datetime) -> bool:
    """Whether a schedule last run at `last_run` should run at `now` (`--once`, and the
    first run of the daemon). A little early counts, so cron jitter does not skip a run."""
    if last_run is None:
        return True
    tolerance = timedelta(seconds=min(60, period_of(schedule) * 0.05))
    trig = trigger_of(schedule, jitter=False)
    if isinstance(trig, IntervalTrigger):
        return last_run + trig.interval <= now + tolerance
    nxt = trig.get_next_fire_time(None, last_run + timedelta(seconds=1))
    return nxt is not None and nxt <= now + tolerance


def last_runs(config: Config) -> dict[str, datetime]:
    """When each source's own URL was last fetched."""
    if not config.database_path.exists():
        return {}
    db = open_db(config.database_path, readonly=True)
    try:
        return {name: datetime.fromisoformat(f["started_at"]) for name, f in last_fetches(db).items()}
    finally:
        db.close()


def due_sources(config: Config, now: datetime | None = None) -> list[str]:
    """The enabled sources whose schedule is due (never fetched ones included)."""
    now = now or datetime.now(UTC)
    runs = last_runs(config)
    return [name for job in jobs_of(config) for name in job.sources if is_due(job.schedule, runs.get(name), now)]


@dataclass
class Daemon:
    """The running daemon's state: its config, the lock that serialises database writes,
    and the event that stops it."""

    config: Config
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    failures: int = 0

    def crawl_job(self, job: Job, names: list[str] | None = None) -> None:
        """Crawl the job's sources (or `names`), process what came in, and dispatch."""
        names = names or job.sources
        t0 = time.monotonic()
        log.info("crawl %s: %d source(s): %s", job.schedule, len(names), ", ".join(names))
        try:
            summary = crawl(self.config, names, lock=self.write_lock)
        except Exception as exc:  # a failed run is logged and retried at the next one, never fatal
            self.failures += 1
            log.error("crawl %s failed after %.1f s: %s: %s", job.schedule, time.monotonic() - t0,
                      type(exc).__name__, exc)
            return
        self.failures += len(summary.failed)
        took = time.monotonic() - t0
        if job.schedule != ONCE and took > period_of(job.schedule):
            log.warning("crawl %s took %.0f s, longer than its schedule: runs due meanwhile were skipped",
                        job.schedule, took)
        outcomes: dict[str, int] = {}
        for f in summary.fetches:
            outcomes[f["outcome"]] = outcomes.get(f["outcome"], 0) + 1
        log.info("crawl %s done in %.1f s: %d fetched (%s), %d change(s) stored%s", job.schedule,
                 time.monotonic() - t0, len(summary.fetches),
                 ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "none",
                 len(summary.changes), _describe_changes(self.config, summary.changes))
        for f in summary.failed:
            log.warning("fetch failed: %s %s: %s", f["source"], f["url"], f["error"])
        for t in summary.tracking:
            log.warning("%s: %s (%d operators' alert(s) queued)", t["source"], t["event"], t["alerts"])
        self.dispatch_job()

    def dispatch_job(self) -> DispatchReport | None:
        """Send the due alerts of the outbox."""
        if not self.config.channels:
            return None
        with self.write_lock:
            db = open_db(self.config.database_path)
            try:
                report = dispatch(db, self.config.channels, self.config.alerts,
                                  subscriptions=self.config.subscriptions)
            except Exception as exc:  # the outbox keeps every alert; the next dispatch retries
                log.error("dispatch failed: %s: %s", type(exc).__name__, exc)
                return None
            finally:
                db.close()
        if report.sent or report.failed or report.dead or report.released:
            log.info("alerts: %d sent in %d message(s), %d failed (will retry), %d dead, %d released",
                     len(report.sent), report.messages, len(report.failed), len(report.dead), report.released)
        for alert_id, error in report.errors.items():
            log.warning("alert %d: %s", alert_id, error)
        self.failures += len(report.failed) + len(report.dead)
        return report

    def recover(self) -> None:
        """Finish what an interrupted run left: changes of stored versions, tracking, alerts."""
        with self.write_lock:
            summary = process(self.config)
        if summary.changes:
            log.info("recovered: %d change(s) of versions stored before an interruption%s",
                     len(summary.changes), _describe_changes(self.config, summary.changes))
        self.dispatch_job()


def _describe_changes(config: Config, change_ids: list[int]) -> str:
    if not change_ids:
        return ""
    db = open_db(config.database_path, readonly=True)
    try:
        marks = ", ".join("?" for _ in change_ids)
        rows = db.execute(f"SELECT document, substantive, hunks FROM changes WHERE id IN ({marks})",
                          change_ids).fetchall()
    finally:
        db.close()
    return ": " + "; ".join(f"{doc} ({sub} substantive of {n})" for doc, sub, n in rows)


def run_once(config: Config) -> Daemon:
    """Run every due source once (together), process and dispatch; for cron users."""
    with DaemonLock(config.database_path):
        daemon = Daemon(config)
        daemon.recover()
        due = due_sources(config)
        if due:
            daemon.crawl_job(Job(ONCE, due))
        else:
            log.info("no source is due")
        return daemon


def run_forever(config: Config, *, max_workers: int = 4,
                install_signals: bool = True, on_started: Callable[[Daemon], Any] | None = None) -> Daemon:
    """Run the scheduler until SIGTERM or SIGINT (or `Daemon.stop`); the running steps finish
    and commit before it returns."""
    lock = DaemonLock(config.database_path).acquire()
    daemon = Daemon(config)
    if install_signals:
        def on_signal(signum: int, _frame: Any) -> None:
            if daemon.stop.is_set():
                raise KeyboardInterrupt  # a second signal: stop now (every write is a transaction)
            log.info("%s: finishing the current step, then exiting", signal.Signals(signum).name)
            daemon.stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    sched = BackgroundScheduler(timezone=UTC, executors={"default": ThreadPoolExecutor(max_workers)},
                                job_defaults={"coalesce": True, "max_instances": 1})
    try:
        daemon.recover()
        now = datetime.now(UTC)
        due_now = set(due_sources(config, now))
        for job in jobs_of(config):
            due = bool(due_now.intersection(job.sources))
            kwargs = {"next_run_time": now} if due else {}
            sched.add_job(daemon.crawl_job, trigger_of(job.schedule), args=[job], id=job.id, name=job.id,
                          misfire_grace_time=misfire_grace(job.schedule), **kwargs)
            log.info("scheduled %s (%d source(s))%s", job.schedule, len(job.sources), ", due now" if due else "")
        sched.add_job(daemon.dispatch_job, IntervalTrigger(seconds=DISPATCH_EVERY, timezone=UTC), id="dispatch",
                      name="dispatch", misfire_grace_time=DISPATCH_EVERY)
        sched.start()
        if on_started:
            on_started(daemon)
        while not daemon.stop.wait(1):
            pass
    finally:
        if sched.running:
            sched.shutdown(wait=True)  # running jobs finish (and commit) first
        lock.release()
        log.info("stopped")
    return daemon
