"""The scheduler process (`flask --app wsgi arrears scheduler`): APScheduler 3, jobs defined in code.

APScheduler 3 cannot share a job store between processes, so every process builds the same jobs
from `JOBS` in memory and the business state stays in our tables. Several processes may run (on
PostgreSQL): each job first takes a database lease named after it (`arrears.services.leases`), so
one process runs it and the others skip that firing; a heartbeat keeps the lease while the job
runs, and a process that dies lets it expire. The unique keys in the tables remain the real
guarantee against doing anything twice.

Misfires: each job has coalesce=True, max_instances=1 and a misfire grace of hours (APScheduler's
default is one second). Jobs are not persisted, so a firing missed while no scheduler was running
is found from the lease row (when the job last started): if it is within the grace time, the job
runs once on start.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from arrears.persistence.base import utcnow
from arrears.services import leases
from arrears.services.runtime import Runtime

from . import jobs

log = logging.getLogger(__name__)
HOUR = 3600


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[Runtime], Any]
    trigger: Callable[[str], BaseTrigger]  # time zone -> trigger
    misfire_grace: int  # seconds
    lease_ttl: dt.timedelta = dt.timedelta(minutes=5)  # renewed every third of it while running


def _daily(hour: int, minute: int = 0) -> Callable[[str], BaseTrigger]:
    return lambda tz: CronTrigger(hour=hour, minute=minute, timezone=tz)


def _every(minutes: int) -> Callable[[str], BaseTrigger]:
    return lambda tz: IntervalTrigger(minutes=minutes, timezone=tz)


JOBS: tuple[JobSpec, ...] = (
    JobSpec("nightly_billing", jobs.nightly_billing, _daily(1, 30), misfire_grace=12 * HOUR),
    # After billing, so tonight's charges are in (the two never overlap on one process: SQLite
    # runs one job at a time; on PostgreSQL they are independent transactions).
    JobSpec("nightly_escalation", jobs.nightly_escalation, _daily(2, 0), misfire_grace=12 * HOUR),
    # After billing too; it only makes the reports faster (their figures never depend on it).
    JobSpec("collection_summary", jobs.collection_summary, _daily(1, 50), misfire_grace=12 * HOUR),
    JobSpec("limitation_warnings", jobs.limitation_warnings, _daily(6, 0), misfire_grace=12 * HOUR),
    JobSpec("notice_takedowns", jobs.notice_takedowns, _every(30), misfire_grace=1 * HOUR),
    JobSpec("legal_payments", jobs.legal_payments, _every(60), misfire_grace=1 * HOUR),
    JobSpec("dispatch_outbox", jobs.dispatch_outbox, _every(5), misfire_grace=1 * HOUR),
    JobSpec("poll_delivery", jobs.poll_delivery, _every(15), misfire_grace=1 * HOUR),
)


def process_holder() -> str:
    """A name for this process in the lease table: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeasedJob:
    """Run a job only while holding its lease; note when it started and finished on release."""

    def __init__(self, spec: JobSpec, runtime: Runtime, holder: str) -> None:
        self.spec, self.runtime, self.holder = spec, runtime, holder

    def __call__(self) -> Any:
        started = utcnow()
        with self.runtime.transaction() as session:
            taken = leases.acquire(session, self.spec.id, self.holder, now=started, ttl=self.spec.lease_ttl)
        if not taken:
            log.info("job %s skipped: another scheduler process holds its lease", self.spec.id)
            return None
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(stop,), name=f"lease-{self.spec.id}", daemon=True)
        beat.start()
        ok, result = False, None
        try:
            log.info("job %s started", self.spec.id)
            result = self.spec.func(self.runtime)
            ok = True
            return result
        except Exception:
            log.exception("job %s failed", self.spec.id)
            return None
        finally:
            stop.set()
            beat.join()
            self._release(started, ok)

    def _heartbeat(self, stop: threading.Event) -> None:
        interval = self.spec.lease_ttl.total_seconds() / 3
        while not stop.wait(interval):
            try:
                with self.runtime.transaction() as session:
                    if not leases.renew(session, self.spec.id, self.holder, now=utcnow(), ttl=self.spec.lease_ttl):
                        log.warning("job %s lost its lease; the unique keys still prevent duplicates", self.spec.id)
            except Exception:  # a failed heartbeat must not kill the job
                log.exception("lease heartbeat of job %s failed", self.spec.id)

    def _release(self, started: dt.datetime, ok: bool) -> None:
        detail = {"holder": self.holder, "started_at": started.isoformat(),
                  "finished_at": utcnow().isoformat(), "ok": ok}
        try:
            with self.runtime.transaction() as session:
                leases.release(session, self.spec.id, self.holder, now=utcnow(), detail=detail)
        except Exception:  # the lease then simply expires
            log.exception("could not release the lease of job %s", self.spec.id)
        log.info("job %s finished (%s)", self.spec.id, "ok" if ok else "failed")


def build_scheduler(
    runtime: Runtime,
    *,
    scheduler_class: type[BaseScheduler] = BackgroundScheduler,
    holder: str | None = None,
    now: dt.datetime | None = None,
    specs: tuple[JobSpec, ...] = JOBS,
) -> BaseScheduler:
    """A scheduler with every job, leased, in the settings' time zone (not started)."""
    tz = runtime.settings.timezone
    workers = 1 if runtime.engine.dialect.name == "sqlite" else 4  # SQLite has one writer anyway
    scheduler = scheduler_class(timezone=tz, executors={"default": ThreadPoolExecutor(workers)})
    holder = holder or process_holder()
    now = now or utcnow()
    for spec in specs:
        trigger = spec.trigger(tz)
        scheduler.add_job(
            LeasedJob(spec, runtime, holder), trigger, id=spec.id, name=spec.id, replace_existing=True,
            coalesce=True, max_instances=1, misfire_grace_time=spec.misfire_grace,
            next_run_time=catch_up_time(runtime, spec, trigger, now) or trigger.get_next_fire_time(None, now),
        )
    return scheduler


def catch_up_time(runtime: Runtime, spec: JobSpec, trigger: BaseTrigger, now: dt.datetime) -> dt.datetime | None:
    """`now` if the job missed a firing while no scheduler ran (within its grace), else None.

    Interval jobs (outbox, polling) always run once on start; a daily job runs if its latest
    scheduled time is less than its grace ago and it has not started since.
    """
    if isinstance(trigger, IntervalTrigger):
        return now
    previous = previous_fire_time(trigger, now)
    if previous is None or (now - previous).total_seconds() > spec.misfire_grace:
        return None
    with runtime.transaction() as session:
        detail = leases.last_detail(session, spec.id)
    started = detail.get("started_at")
    if started and dt.datetime.fromisoformat(started) >= previous:
        return None
    log.info("job %s missed its run at %s: running it once now", spec.id, previous)
    return now


def previous_fire_time(trigger: BaseTrigger, now: dt.datetime) -> dt.datetime | None:
    """The latest firing of a (daily) trigger at or before `now`."""
    fire = trigger.get_next_fire_time(None, now - dt.timedelta(days=2))
    previous = None
    while fire is not None and fire <= now:
        previous = fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return previous


def run_scheduler(runtime: Runtime, *, stop: threading.Event | None = None) -> None:
    """Run the jobs in the foreground until SIGTERM/SIGINT (or `stop` is set), then wait for a
    running job to finish — though each job's work is safe to kill at any point."""
    stop = stop or threading.Event()
    scheduler = build_scheduler(runtime)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s received: stopping the scheduler", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, on_signal)
    scheduler.start()
    log.info("scheduler started (%s) with jobs: %s", runtime.settings.timezone,
             ", ".join(f"{job.id} next {job.next_run_time}" for job in scheduler.get_jobs()))
    try:
        while not stop.wait(1.0):  # wake up now and then so signals are handled promptly
            pass
    finally:
        scheduler.shutdown(wait=True)
        log.info("scheduler stopped")
