"""Scheduled jobs: each company in its own transaction, reruns change nothing, leases, misfires."""

from __future__ import annotations

import datetime as dt
import threading
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import func, select

from arrears.persistence.base import utcnow
from arrears.persistence.models import Charge
from arrears.scheduler import JOBS, build_scheduler, run_scheduler
from arrears.scheduler.jobs import (
    dispatch_outbox,
    limitation_warnings,
    nightly_billing,
    nightly_escalation,
    legal_payments,
    notice_takedowns,
    poll_delivery,
)
from arrears.scheduler.process import JobSpec, LeasedJob, catch_up_time, previous_fire_time
from arrears.services import leases
from tests.factories import make_community, make_ownership, make_schedule, make_unit


def test_nightly_billing_is_idempotent(app: Flask) -> None:
    runtime = app.extensions["arrears"]
    with runtime.transaction() as session:
        community = make_community(session)
        make_schedule(session, community, valid_from=dt.date(2026, 1, 1))
        make_ownership(session, make_unit(session, community))
    first = nightly_billing(runtime)
    second = nightly_billing(runtime)
    assert list(first.values())[0] >= 11  # every month of 2026 up to the current one
    assert list(second.values()) == [0]
    with runtime.transaction() as session:
        assert session.scalar(select(func.count(Charge.id))) == list(first.values())[0]


def test_scheduler_has_the_nightly_job_in_the_business_time_zone(app: Flask) -> None:
    scheduler = build_scheduler(app.extensions["arrears"])
    job = scheduler.get_job("nightly_billing")
    assert job is not None
    assert str(job.trigger.timezone) == "Asia/Shanghai"


# --- the scheduler process (issue 3, scope 5) -------------------------------------------------

EXPECTED_JOBS = {"nightly_billing", "nightly_escalation", "limitation_warnings", "notice_takedowns", "legal_payments",
                 "dispatch_outbox", "poll_delivery", "collection_summary"}


def test_every_job_is_coalesced_single_instance_with_a_grace_of_hours(app: Flask) -> None:
    scheduler = build_scheduler(app.extensions["arrears"])
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == EXPECTED_JOBS
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time >= 3600  # APScheduler's default would be 1 second
        assert str(job.trigger.timezone) == "Asia/Shanghai"
    assert isinstance(jobs["dispatch_outbox"].trigger, IntervalTrigger)
    assert jobs["dispatch_outbox"].trigger.interval == dt.timedelta(minutes=5)
    assert jobs["poll_delivery"].trigger.interval == dt.timedelta(minutes=15)
    # Escalation runs after billing (01:30), warnings in the morning.
    for job_id, hour, minute in [("nightly_billing", 1, 30), ("nightly_escalation", 2, 0), ("limitation_warnings", 6, 0)]:
        fields = {f.name: str(f) for f in jobs[job_id].trigger.fields}
        assert (fields["hour"], fields["minute"]) == (str(hour), str(minute))


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _spec(calls: list[str], job_id: str = "test_job", fail: bool = False) -> JobSpec:
    def work(runtime: object) -> str:
        calls.append(job_id)
        if fail:
            raise RuntimeError("boom")
        return "done"

    return JobSpec(job_id, work, lambda tz: CronTrigger(hour=2, timezone=tz), misfire_grace=12 * 3600)


def test_a_leased_job_runs_once_while_another_process_holds_the_lease(app: Flask) -> None:
    runtime = app.extensions["arrears"]
    calls: list[str] = []
    spec = _spec(calls)
    with runtime.transaction() as session:
        assert leases.acquire(session, spec.id, "other-process", now=utcnow(), ttl=dt.timedelta(minutes=5))
    assert LeasedJob(spec, runtime, "me")() is None
    assert calls == []
    with runtime.transaction() as session:
        leases.release(session, spec.id, "other-process", now=utcnow())
    assert LeasedJob(spec, runtime, "me")() == "done"
    assert calls == ["test_job"]
    with runtime.transaction() as session:
        detail = leases.last_detail(session, spec.id)
        assert detail["ok"] is True and detail["holder"] == "me"
        assert leases.holder_of(session, spec.id, now=utcnow()) is None  # released


def test_a_failing_job_is_logged_and_releases_its_lease(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    runtime = app.extensions["arrears"]
    spec = _spec([], fail=True)
    assert LeasedJob(spec, runtime, "me")() is None
    assert "job test_job failed" in caplog.text
    with runtime.transaction() as session:
        assert leases.last_detail(session, spec.id)["ok"] is False
        assert leases.acquire(session, spec.id, "someone-else", now=utcnow(), ttl=dt.timedelta(minutes=5))


def test_a_nightly_job_missed_while_no_scheduler_ran_runs_once_on_start(app: Flask) -> None:
    runtime = app.extensions["arrears"]
    spec = _spec([])
    now = dt.datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI)  # the 02:00 run was missed
    built = build_scheduler(runtime, now=now, specs=(spec,)).get_job(spec.id)
    assert built.next_run_time == now  # caught up once (coalesced: one run, not one per miss)
    # It ran at 02:00 (noted on the lease): no catch-up, next run tomorrow at 02:00.
    ran = dt.datetime(2026, 11, 29, 2, 0, 5, tzinfo=SHANGHAI)
    with runtime.transaction() as session:
        assert leases.acquire(session, spec.id, "x", now=ran, ttl=dt.timedelta(minutes=5))
        leases.release(session, spec.id, "x", now=ran, detail={"started_at": ran.isoformat()})
    built = build_scheduler(runtime, now=now, specs=(spec,)).get_job(spec.id)
    assert built.next_run_time == dt.datetime(2026, 11, 30, 2, 0, tzinfo=SHANGHAI)
    # Missed longer ago than the grace time: wait for the next regular run.
    late = dt.datetime(2026, 11, 30, 23, 0, tzinfo=SHANGHAI)
    assert catch_up_time(runtime, spec, spec.trigger("Asia/Shanghai"), late) is None


def test_interval_jobs_run_on_start() -> None:
    now = dt.datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI)
    spec = next(s for s in JOBS if s.id == "dispatch_outbox")
    assert catch_up_time(None, spec, spec.trigger("Asia/Shanghai"), now) == now  # type: ignore[arg-type]


def test_previous_fire_time_of_a_daily_trigger() -> None:
    trigger = CronTrigger(hour=2, timezone="Asia/Shanghai")
    assert previous_fire_time(trigger, dt.datetime(2026, 11, 29, 1, 0, tzinfo=SHANGHAI)) == dt.datetime(
        2026, 11, 28, 2, 0, tzinfo=SHANGHAI)
    assert previous_fire_time(trigger, dt.datetime(2026, 11, 29, 2, 0, tzinfo=SHANGHAI)) == dt.datetime(
        2026, 11, 29, 2, 0, tzinfo=SHANGHAI)


def test_run_scheduler_stops_when_asked(app: Flask) -> None:
    runtime = app.extensions["arrears"]
    stop = threading.Event()
    stop.set()
    run_scheduler(runtime, stop=stop)  # returns (after shutting the scheduler down) instead of blocking


def test_limitation_warnings_job_isolates_each_company(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = app.extensions["arrears"]
    with runtime.transaction() as session:
        first, second = make_community(session).company_id, make_community(session).company_id
    from arrears.services.escalation import warnings

    real = warnings.refresh_warnings

    def flaky(session, actor, company_id, **kw):  # type: ignore[no-untyped-def]
        if company_id == first:
            raise RuntimeError("this company's data is broken")
        return real(session, actor, company_id, **kw)

    monkeypatch.setattr(warnings, "refresh_warnings", flaky)
    done = limitation_warnings(runtime, today=dt.date(2026, 11, 29))
    assert list(done) == [second]


def test_two_scheduler_processes_run_a_job_once(app: Flask) -> None:
    """Two processes fire the same job at the same moment: the lease lets one of them run it."""
    runtime = app.extensions["arrears"]
    inside, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow(_runtime: object) -> str:
        calls.append(threading.current_thread().name)
        inside.set()
        release.wait(30)
        return "done"

    spec = JobSpec("slow_job", slow, lambda tz: CronTrigger(hour=2, timezone=tz), misfire_grace=3600)
    results: dict[str, object] = {}
    first = threading.Thread(target=lambda: results.update(a=LeasedJob(spec, runtime, "process-a")()), name="a")
    first.start()
    assert inside.wait(30)
    results["b"] = LeasedJob(spec, runtime, "process-b")()  # fires while "a" is running: skipped
    release.set()
    first.join(30)
    assert results == {"a": "done", "b": None}
    assert calls == ["a"]


def _arrears_ledger(runtime, units: int = 2) -> int:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from arrears.services import billing
    from tests.factories import ACTOR

    with runtime.transaction() as session:
        community = make_community(session, late_fee_rate_per_day=None)
        make_schedule(session, community, rate=Decimal("3.00"), valid_from=dt.date(2026, 1, 1))
        for _ in range(units):
            make_ownership(session, make_unit(session, community, area=Decimal("100.00")))
        billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 5, 1),
                            today=dt.date(2026, 6, 1))
        return community.company_id


def test_nightly_escalation_runs_every_company_once_per_night(app: Flask) -> None:
    from arrears.persistence.enums import RunStatus
    from arrears.persistence.models import EscalationAction, EscalationRun

    runtime = app.extensions["arrears"]
    first, second = _arrears_ledger(runtime), _arrears_ledger(runtime, units=3)
    done = nightly_escalation(runtime, as_of=dt.date(2026, 6, 1))
    assert {cid: r.counts["opened"] for cid, r in done.items()} == {first: 2, second: 3}
    again = nightly_escalation(runtime, as_of=dt.date(2026, 6, 1))
    assert all(r.counts["prepared"] == 0 for r in again.values())
    with runtime.transaction() as session:
        runs = session.scalars(select(EscalationRun)).all()
        assert len(runs) == 4 and {(r.trigger, r.status) for r in runs} == {("scheduler", RunStatus.SUCCEEDED)}
        keys = session.scalars(select(EscalationAction.key)).all()
        assert len(keys) == len(set(keys)) > 0


def test_dispatch_job_queues_approved_actions_and_sends_through_the_gateways(app: Flask) -> None:
    from arrears.persistence.models import EscalationRun, OutboundMessage
    from arrears.services.escalation.gateways import Gateways
    from arrears.services.escalation.review import approve_run
    from tests.factories import ACTOR

    runtime = app.extensions["arrears"]
    company_id = _arrears_ledger(runtime)
    nightly_escalation(runtime, as_of=dt.date(2026, 6, 1))
    with runtime.transaction() as session:
        approve_run(session, ACTOR, company_id, session.scalars(select(EscalationRun.id)).one())
    summary = dispatch_outbox(runtime, Gateways(), worker="test")  # no gateway: printed letters
    assert summary["recovered"] == 0 and summary["queued"] == {company_id: 2}
    assert dispatch_outbox(runtime, Gateways(), worker="test")["queued"] == {company_id: 0}
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 2
    assert poll_delivery(runtime, Gateways()) == 0  # nothing to poll without an SMS gateway


def test_notice_takedown_job_checks_every_company(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """L16: the job asks each company's approved notices whether a listed unit has paid since."""
    runtime = app.extensions["arrears"]
    with runtime.transaction() as session:
        first, second = make_community(session).company_id, make_community(session).company_id
    from arrears.services.documents import notices

    seen: list[tuple[int, dt.date]] = []

    def fake(session, company_id, *, today, actor=None):  # type: ignore[no-untyped-def]
        seen.append((company_id, today))
        return [SimpleNamespace(id=7)] if company_id == second else []

    monkeypatch.setattr(notices, "mark_takedowns", fake)
    assert notice_takedowns(runtime, today=dt.date(2026, 11, 29)) == {first: 0, second: 1}
    assert seen == [(first, dt.date(2026, 11, 29)), (second, dt.date(2026, 11, 29))]


def test_legal_payment_job_checks_every_company(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """L15: full payment is noticed by the hourly job, which closes or requests deletion."""
    runtime = app.extensions["arrears"]
    with runtime.transaction() as session:
        first, second = make_community(session).company_id, make_community(session).company_id
    from arrears.services.legal import events

    def fake(session, actor, company_id, *, today):  # type: ignore[no-untyped-def]
        return [SimpleNamespace(id=3)] if company_id == first else []

    monkeypatch.setattr(events, "refresh_payments", fake)
    assert legal_payments(runtime, today=dt.date(2026, 11, 29)) == {first: 1, second: 0}
