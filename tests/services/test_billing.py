"""Billing run through the database (E1, E9, L1): amounts, due dates, idempotency, splits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.periods import BillingCycle
from arrears.persistence.models import Charge, Ownership
from arrears.services import billing, ownership
from tests.factories import ACTOR, make_community, make_owner, make_ownership, make_schedule, make_unit

TODAY = dt.date(2026, 11, 22)


def _charges(session: Session, unit_id: int) -> list[Charge]:
    return list(session.scalars(
        select(Charge).where(Charge.unit_id == unit_id, Charge.reversed_on.is_(None))
        .order_by(Charge.period_start, Charge.id)
    ))


def test_e1_quarterly_charge_amount_and_due_date(session: Session) -> None:
    """E1: 89.50 m² × 2.20 × 3 months = 590.70, due 2026-01-15."""
    community = make_community(session)
    make_schedule(session, community, cycle=BillingCycle.QUARTERLY, rate=Decimal("2.20"), due_day=15)
    unit = make_unit(session, community, area=Decimal("89.50"))
    make_ownership(session, unit)
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 1, 1), today=TODAY)
    [charge] = _charges(session, unit.id)
    assert (charge.amount, charge.due_date, charge.period_label) == (Decimal("590.70"), dt.date(2026, 1, 15), "2026Q1")
    assert charge.principal_outstanding == Decimal("590.70")


def test_billing_twice_adds_nothing(session: Session) -> None:
    community = make_community(session)
    make_schedule(session, community)
    units = [make_unit(session, community) for _ in range(3)]
    for unit in units:
        make_ownership(session, unit)
    first = billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 6, 1), today=TODAY)
    again = billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 6, 1), today=TODAY)
    rescan = billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 6, 1),
                                 today=TODAY, rescan=True)
    assert first.created == 18
    assert again.created == 0 and rescan.created == 0
    assert session.scalar(select(func.count(Charge.id)).where(Charge.unit_id.in_([u.id for u in units]))) == 18


def test_billing_resumes_with_next_month(session: Session) -> None:
    community = make_community(session)
    make_schedule(session, community)
    unit = make_unit(session, community)
    make_ownership(session, unit)
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 3, 1), today=TODAY)
    result = billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 4, 1), today=TODAY)
    assert result.created == 1
    assert [c.period_label for c in _charges(session, unit.id)] == ["2026-01", "2026-02", "2026-03", "2026-04"]


def test_e9_ownership_change_inside_a_period_reposts_split_charges(session: Session) -> None:
    """E9: March 2026 (196.90) split 10/31 and 21/31 when the new owner starts on 2026-03-11."""
    community = make_community(session)
    make_schedule(session, community, rate=Decimal("2.20"))
    unit = make_unit(session, community, area=Decimal("89.50"))
    old = make_ownership(session, unit)
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 4, 1), today=TODAY)
    buyer = make_owner(session, unit.company_id)
    new = ownership.transfer(session, ACTOR, unit.company_id, unit.id, [buyer.id], from_date=dt.date(2026, 3, 11), today=TODAY)
    march = [c for c in _charges(session, unit.id) if c.period_label == "2026-03"]
    assert sorted((c.ownership_id, c.amount) for c in march) == sorted(
        [(old.id, Decimal("63.52")), (new.id, Decimal("133.38"))]
    )
    april = [c for c in _charges(session, unit.id) if c.period_label == "2026-04"]
    assert [(c.ownership_id, c.amount) for c in april] == [(new.id, Decimal("196.90"))]
    reversed_count = session.scalar(
        select(func.count(Charge.id)).where(Charge.unit_id == unit.id, Charge.reversed_on.is_not(None))
    )
    assert reversed_count == 2  # March and April of the old owner, kept as reversed entries


def test_developer_owes_before_delivery(session: Session) -> None:
    """L1: before the unit's delivery date the developer is the debtor."""
    community = make_community(session)
    developer = make_owner(session, community.company_id, kind="organisation", name="某某置业有限公司", is_developer=True)
    community.developer_id = developer.id
    make_schedule(session, community)
    unit = make_unit(session, community, delivered_on=dt.date(2026, 3, 1))
    buyer = make_owner(session, unit.company_id)
    make_ownership(session, unit, [buyer], valid_from=dt.date(2026, 3, 1))
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 4, 1), today=TODAY)
    debtors = {}
    for charge in _charges(session, unit.id):
        record = session.get(Ownership, charge.ownership_id)
        assert record is not None
        debtors[charge.period_label] = [p.owner_id for p in record.parties]
    assert debtors == {"2026-01": [developer.id], "2026-02": [developer.id],
                       "2026-03": [buyer.id], "2026-04": [buyer.id]}


def test_days_without_an_owner_are_reported_not_billed(session: Session) -> None:
    community = make_community(session)
    make_schedule(session, community)
    unit = make_unit(session, community)
    make_ownership(session, unit, valid_from=dt.date(2026, 2, 1))
    result = billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 2, 1), today=TODAY)
    assert result.created == 1
    assert any("2026-01" in w and "no ownership" in w for w in result.warnings)
