"""Long work (billing runs, imports) in a background thread, with progress the user can watch.

The work runs in its own transaction; progress is kept in this process and, on PostgreSQL, also
written in separate short transactions so other web workers see it (SQLite allows one writer at
a time, and the work itself holds that lock). A job that fails is marked failed with its message
and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from arrears.persistence.models import BackgroundJob

from .runtime import Runtime

log = logging.getLogger(__name__)
_PROGRESS: dict[int, tuple[int, int]] = {}
Work = Callable[[Session, Callable[[int, int], None]], dict[str, Any]]


def start_job(runtime: Runtime, company_id: int, kind: str, actor_name: str, work: Work, *, wait: bool = False) -> int:
    with runtime.transaction() as session:
        job = BackgroundJob(company_id=company_id, kind=kind, created_by=actor_name)
        session.add(job)
        session.flush()
        job_id = job.id
    thread = threading.Thread(target=_run, args=(runtime, job_id, work), name=f"job-{job_id}", daemon=True)
    thread.start()
    if wait:
        thread.join()
    return job_id


def _run(runtime: Runtime, job_id: int, work: Work) -> None:
    def progress(done: int, total: int) -> None:
        _PROGRESS[job_id] = (done, total)
        if runtime.engine.dialect.name == "sqlite":
            return
        with runtime.transaction() as session:
            job = session.get(BackgroundJob, job_id)
            if job is not None:
                job.done, job.total = done, total

    try:
        with runtime.transaction() as session:
            result = work(session, progress)
        _finish(runtime, job_id, "done", None, result)
    except Exception as exc:  # noqa: BLE001 - reported to the user, logged for operators
        log.exception("job %s failed", job_id)
        _finish(runtime, job_id, "failed", str(exc), {})


def live_progress(job_id: int) -> tuple[int, int] | None:
    """Progress reported by a job running in this process, if any."""
    return _PROGRESS.get(job_id)


def _finish(runtime: Runtime, job_id: int, status: str, message: str | None, result: dict[str, Any]) -> None:
    with runtime.transaction() as session:
        job = session.get(BackgroundJob, job_id)
        if job is not None:
            job.status, job.message, job.result = status, message, result
            job.finished_at = dt.datetime.now(dt.timezone.utc)
            job.done, job.total = _PROGRESS.pop(job_id, (job.done, job.total))
