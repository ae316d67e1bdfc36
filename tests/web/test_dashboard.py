"""The start page (dashboard): collection rates, aging chart, case funnel, escalation run and
deadlines; numbers link to their lists; another company's data never shows.

The page works on the company's real business day, so `build_world` dates everything from it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from arrears.domain.escalation import Action
from arrears.domain.periods import DueRule
from arrears.domain.reporting import collection_rate, rate_percent
from arrears.persistence.base import utcnow
from arrears.persistence.enums import ActionStatus, CaseStatus, Role, RunStatus
from arrears.persistence.models import (
    Company,
    CollectionCase,
    EscalationAction,
    EscalationRun,
    Ownership,
)
from arrears.services import billing
from arrears.services.escalation.policy import ensure_policy
from arrears.services.payments import PaymentInput, record_payment
from tests.factories import ACTOR, make_community, make_ownership, make_schedule, make_unit
from tests.web.helpers import Tenant, login, make_tenant

D = Decimal
MONTHLY = D("200.00")


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


@dataclass
class World:
    tenant: Tenant
    community_id: int
    community_name: str
    run_id: int
    ytd_billed: Decimal
    ytd_collected: Decimal
    ytd_recovered: Decimal
    month_recovered: Decimal


def build_world(app: Flask, prefix: str, name: str) -> World:
    """A tenant (users per role) plus a community billed 200.00 a month from January last year
    through this month, due at month end; one payment today leaves the last two months unpaid."""
    tenant = make_tenant(app, prefix)
    day = today()
    months = 12 + day.month
    paid_months = months - 2
    with app.extensions["arrears"].transaction() as session:
        company = session.get(Company, tenant.company_id)
        community = make_community(session, company, name=name, late_fee_rate_per_day=None)
        make_schedule(session, community, rate=D("2.00"), due_rule=DueRule.PERIOD_END, due_day=None,
                      valid_from=dt.date(day.year - 1, 1, 1))
        unit = make_unit(session, community, area=D("100.00"))
        record = make_ownership(session, unit)
        billing.run_billing(session, ACTOR, company_id=tenant.company_id, through=day.replace(day=1), today=day)
        record_payment(session, ACTOR, tenant.company_id,
                       PaymentInput(unit.id, record.parties[0].owner_id, f"{prefix}-R1", day,
                                    MONTHLY * paid_months), today=day)
        ensure_policy(session, ACTOR, tenant.company_id)
        case = CollectionCase(company_id=tenant.company_id, community_id=community.id, unit_id=unit.id,
                              ownership_id=record.id, owner_id=record.parties[0].owner_id, status=CaseStatus.OPEN,
                              stage_code="reminder_2", opened_on=day, arrears=MONTHLY,
                              demand_deadline=day + dt.timedelta(days=5))
        session.add(case)
        run = EscalationRun(company_id=tenant.company_id, as_of=day, trigger="scheduler", actor="scheduler",
                            status=RunStatus.SUCCEEDED, started_at=utcnow(), finished_at=utcnow(),
                            counts={"evaluated": 41, "prepared": 3})
        session.add(run)
        session.flush()
        for n in range(3):
            session.add(EscalationAction(
                key=f"{prefix}:{case.id}:{n}", company_id=tenant.company_id, case_id=case.id, run_id=run.id,
                ownership_id=record.id, unit_id=unit.id, owner_id=case.owner_id, stage_code="reminder_2",
                action=Action.REMINDER, prepared_on=day, arrears=MONTHLY,
                status=ActionStatus.PREPARED if n < 2 else ActionStatus.APPROVED))
        community_id, run_id = community.id, run.id
    paid_this_year = max(paid_months - 12, 0)
    return World(tenant, community_id, name, run_id, ytd_billed=MONTHLY * day.month,
                 ytd_collected=MONTHLY * paid_this_year, ytd_recovered=MONTHLY * min(paid_months, 12),
                 month_recovered=MONTHLY * paid_months)


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _cell(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page, re.S)
    assert match, element_id
    return match.group(1).strip()


def test_dashboard_shows_rates_aging_funnel_run_and_deadlines(no_csrf: Flask, client: FlaskClient) -> None:
    world = build_world(no_csrf, "a", "金桂苑ABC")
    build_world(no_csrf, "b", "隔壁小区XYZ")  # another company
    login(client, world.tenant.usernames[Role.ACCOUNTANT])
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "金桂苑ABC" in page and "隔壁小区XYZ" not in page
    # collection rate of this community (the tenant's own community has charges only in 2026-01..03)
    percent = rate_percent(collection_rate(world.ytd_collected, world.ytd_billed))
    assert f'id="rate-{world.community_id}-ytd" data-rate="{percent}"' in page
    assert _cell(page, f"recovered-{world.community_id}-ytd") == _money(world.ytd_recovered)
    assert _cell(page, f"recovered-{world.community_id}-month") == _money(world.month_recovered)
    assert f'id="rate-{world.community_id}-month" data-rate="0.0"' in page  # this month's charge is unpaid
    # aging chart: server-side SVG with a title and a hidden data table; numbers link to lists
    assert 'id="aging-chart"' in page and 'role="img"' in page and '<title id="aging-chart-title">' in page
    chart = page.split('id="aging-chart"')[1].split("</figure>")[0]
    assert 'id="aging-chart-data"' in chart and "<script" not in chart
    assert f'/units/?community={world.community_id}&amp;arrears=1' in page
    # the funnel follows the policy's order and links each stage to the work queue
    funnel = page.split('id="stage-funnel"')[1].split("</figure>")[0]
    keys = re.findall(r'<g class="bar" data-key="([^"]*)"', funnel)
    assert keys[:4] == ["pre_due", "reminder_1", "reminder_2", "demand"]
    assert "/cases/?stage=reminder_2" in funnel
    # the last run and what awaits approval
    assert f"/runs/{world.run_id}" in page
    assert re.search(r'id="awaiting-approval"><strong>2</strong>', page)
    # deadlines
    assert _cell(page, "demand-count") == "1" and _cell(page, "limitation-count") == "0"


def test_dashboard_in_english_and_for_auditors(no_csrf: Flask, client: FlaskClient) -> None:
    world = build_world(no_csrf, "a", "金桂苑ABC")
    login(client, world.tenant.usernames[Role.AUDITOR])
    client.post("/language", data={"lang": "en", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "Collection rate" in page and "Arrears by age" in page and "actions await approval" in page


def test_empty_company_has_no_division_by_zero(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")  # billed only January–March 2026: nothing this month
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.scalar(select(Ownership.id).where(Ownership.unit_id == tenant.unit_id)) is not None
    login(client, tenant.usernames[Role.ACCOUNTANT])
    page = client.get("/").get_data(as_text=True)
    assert 'id="rate-company-month" data-rate="">—' in page


def test_lawyers_still_start_on_their_legal_cases(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    login(client, tenant.usernames[Role.LAWYER])
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/legal/mine")
