"""What a process that may die leaves in the database: job leases and escalation run attempts.

**Leases** — so that with several scheduler processes a job runs once.

A lease is a row of `scheduler_lease` (name, holder, expires_at). Taking it is one statement that
only succeeds when nobody holds it: an INSERT that does nothing on conflict, or an UPDATE guarded
by ``expires_at < now OR holder = me``. Both databases serialise the two writers on the row, so
exactly one wins (PostgreSQL re-checks the guard on the committed row; SQLite has one writer).

Why a table and not ``pg_try_advisory_lock``: it works the same on SQLite, it does not tie the
lock to one pooled connection for the length of a job, a holder that dies simply lets its lease
expire, and the row records when each job last finished (used to catch up missed runs on start).
Clocks of the scheduler hosts must roughly agree (the expiry is compared with the caller's now).

**Run attempts** — an escalation run of a company is one transaction (`sweep.run_escalation`),
so a process killed mid-way leaves nothing of it, and the restart does all the work (the action
keys make it exactly once). For the run history to show the dead attempt, the entry point
(`arrears escalate`, the nightly job) first commits an attempt row (an `escalation_run` in state
'running'), then runs the sweep and, in the sweep's own transaction, deletes the attempt (the
sweep's run row is the record of the work). A 'running' attempt found by the next run therefore
belongs to a process that died: it is marked failed ("abandoned"). On PostgreSQL a run in
progress holds the sweep's advisory lock on the company, and its attempt is left alone.

Each function flushes only; the caller commits (a lease or attempt must be committed to be seen).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from arrears.persistence.base import utcnow
from arrears.persistence.enums import RunStatus
from arrears.persistence.models import EscalationRun, SchedulerLease

from . import audit
from .actor import Actor
from .runtime import Runtime

#: The error an abandoned attempt is marked with (kept in `escalation_run.errors`).
ABANDONED = "abandoned: the process stopped before the run committed (killed or crashed); nothing of it was kept"


def acquire(session: Session, name: str, holder: str, *, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """Take the lease `name` for `ttl` if it is free, expired, or already ours; True if taken."""
    expires_at = now + ttl
    taken = _changed(session, (SchedulerLease.expires_at < now) | (SchedulerLease.holder == holder),
                     name=name, holder=holder, expires_at=expires_at)
    if taken:
        return True
    values = {"name": name, "holder": holder, "expires_at": expires_at, "detail": {}}
    return session.scalar(_insert_if_absent(session, values).returning(SchedulerLease.name)) is not None


def renew(session: Session, name: str, holder: str, *, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """Extend our lease (heartbeat of a long job); False if it expired and someone else took it."""
    return _changed(session, SchedulerLease.holder == holder, name=name, expires_at=now + ttl)


def release(
    session: Session, name: str, holder: str, *, now: dt.datetime, detail: dict[str, Any] | None = None
) -> bool:
    """Give the lease back at once (expires now) and note what happened in `detail`."""
    values: dict[str, Any] = {"expires_at": now}
    if detail is not None:
        values["detail"] = detail
    return _changed(session, SchedulerLease.holder == holder, name=name, **values)


def holder_of(session: Session, name: str, *, now: dt.datetime) -> str | None:
    """Who holds the lease now (None when free or expired)."""
    row = session.execute(
        select(SchedulerLease.holder, SchedulerLease.expires_at).where(SchedulerLease.name == name)
    ).first()
    if row is None or row.expires_at <= now:
        return None
    return row.holder


def last_detail(session: Session, name: str) -> dict[str, Any]:
    """What the last holder noted on release (e.g. {"finished_at": iso}); {} if never run."""
    detail = session.scalar(select(SchedulerLease.detail).where(SchedulerLease.name == name))
    return dict(detail or {})


def forget(session: Session, name: str) -> None:
    """Drop a lease row (tests and manual repair)."""
    session.execute(delete(SchedulerLease).where(SchedulerLease.name == name))


def _changed(session: Session, guard: Any, *, name: str, **values: Any) -> bool:
    """UPDATE the lease row when `guard` holds; True if a row changed (RETURNING, not rowcount,
    which the ORM session does not report reliably for every driver)."""
    statement = (
        update(SchedulerLease)
        .where(SchedulerLease.name == name, guard)
        .values(**values)
        .returning(SchedulerLease.name)
        .execution_options(synchronize_session=False)
    )
    return session.scalar(statement) is not None


def _insert_if_absent(session: Session, values: dict[str, Any]) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(SchedulerLease).values(**values).on_conflict_do_nothing(index_elements=["name"])
    if dialect == "sqlite":
        return sqlite.insert(SchedulerLease).values(**values).on_conflict_do_nothing(index_elements=["name"])
    raise NotImplementedError(f"leases are not implemented for {dialect}")


# --- escalation run attempts ------------------------------------------------------------------


def escalate_company(runtime: Runtime, actor: Actor, company_id: int, *, as_of: dt.date | None, dry_run: bool,
                     trigger: str) -> Any:
    """One company's escalation run as `arrears escalate` and the nightly job do it: abandoned
    attempts marked failed, an attempt committed, then the sweep in its own transaction (a dry
    run is rolled back: it writes nothing). Returns the sweep's RunResult; raises its error after
    recording it on the attempt."""
    from .escalation.sweep import run_escalation
    from .tenancy import get_company
    from .timezone import company_today

    attempt = None
    with runtime.transaction() as session:
        day = as_of or company_today(get_company(session, company_id))
        if not dry_run:
            fail_abandoned(session, actor, company_id, now=utcnow())
            attempt = begin_attempt(session, actor, company_id, as_of=day, trigger=trigger, now=utcnow())
    try:
        with runtime.transaction() as session:
            result = run_escalation(session, actor, company_id, as_of=day, dry_run=dry_run, trigger=trigger)
            if attempt is not None:
                end_attempt(session, attempt)
            if dry_run:
                session.rollback()
        return result
    except Exception as exc:
        if attempt is not None:
            with runtime.transaction() as session:
                fail_attempt(session, actor, attempt, error=f"{type(exc).__name__}: {exc}", now=utcnow())
        raise


def begin_attempt(session: Session, actor: Actor, company_id: int, *, as_of: dt.date, trigger: str,
                  now: dt.datetime) -> int:
    """Note that a run starts (commit it before the run's own transaction)."""
    attempt = EscalationRun(company_id=company_id, as_of=as_of, trigger=trigger, actor=actor.name, dry_run=False,
                            status=RunStatus.RUNNING, started_at=now, counts={}, errors=[])
    session.add(attempt)
    session.flush()
    return attempt.id


def end_attempt(session: Session, attempt_id: int) -> None:
    """The run committed (call inside its transaction): the sweep's own run row is the record."""
    # By id alone: a concurrent process may have marked it abandoned meanwhile; the run succeeded.
    session.execute(delete(EscalationRun).where(EscalationRun.id == attempt_id))


def fail_attempt(session: Session, actor: Actor, attempt_id: int, *, error: str, now: dt.datetime) -> None:
    """The run raised: keep the attempt in the history as failed, with the error."""
    _fail(session, actor, [attempt_id], error=error, now=now)


def fail_abandoned(session: Session, actor: Actor, company_id: int, *, now: dt.datetime) -> int:
    """Mark the company's attempts left 'running' by dead processes as failed; returns how many."""
    if session.get_bind().dialect.name == "postgresql" and not _no_run_in_progress(session, company_id):
        return 0
    ids = list(session.scalars(select(EscalationRun.id).where(
        EscalationRun.company_id == company_id, EscalationRun.status == RunStatus.RUNNING,
        EscalationRun.dry_run.is_(False), EscalationRun.started_at < now)))
    _fail(session, actor, ids, error=ABANDONED, now=now)
    return len(ids)


def _fail(session: Session, actor: Actor, ids: list[int], *, error: str, now: dt.datetime) -> None:
    for run in session.scalars(select(EscalationRun).where(EscalationRun.id.in_(ids))):
        run.status, run.finished_at, run.errors = RunStatus.FAILED, now, [*run.errors, error]
        audit.record(session, actor, "escalation.run.failed", "escalation_run", run.id, company_id=run.company_id,
                     as_of=run.as_of, trigger=run.trigger, error=error)
    session.flush()


def _no_run_in_progress(session: Session, company_id: int) -> bool:
    """PostgreSQL: a run in progress holds the sweep's transaction lock on the company."""
    from .escalation.sweep import LOCK_CLASS

    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:c, :k)"),
                               {"c": LOCK_CLASS, "k": company_id}))
