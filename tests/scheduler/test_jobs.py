"""The nightly billing job: each company in its own transaction, a rerun posts nothing."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import func, select

from arrears.persistence.models import Charge
from arrears.scheduler import build_scheduler
from arrears.scheduler.jobs import nightly_billing
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
