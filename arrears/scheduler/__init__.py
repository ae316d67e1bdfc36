"""APScheduler wiring. Each job owns its transaction; jobs are safe to repeat."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from arrears.services.runtime import Runtime

from .jobs import nightly_billing

log = logging.getLogger(__name__)


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=runtime.settings.timezone)
    scheduler.add_job(
        nightly_billing, CronTrigger(hour=1, minute=30, timezone=runtime.settings.timezone),
        args=[runtime], id="nightly_billing", replace_existing=True, coalesce=True,
        max_instances=1, misfire_grace_time=6 * 3600,
    )
    return scheduler


def start_scheduler(runtime: Runtime) -> BackgroundScheduler:
    scheduler = build_scheduler(runtime)
    scheduler.start()
    log.info("scheduler started with jobs: %s", [job.id for job in scheduler.get_jobs()])
    return scheduler
