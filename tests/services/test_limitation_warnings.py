"""Daily limitation warnings (L4, L5): one per charge and end date, removed when no longer needed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.limitation import DeliveryResult
from arrears.persistence.enums import InterruptionKind
from arrears.persistence.models import Charge, LimitationWarning, Unit
from arrears.services import billing
from arrears.services.escalation.warnings import refresh_warnings
from arrears.services.interruptions import record_interruption
from arrears.services.payments import PaymentInput, record_payment
from tests.factories import ACTOR, make_community, make_ownership, make_schedule, make_unit

# Monthly charges due on the 15th from January 2023. Without interruption the January charge's
# limitation counts from 2026-01-16 (L4: D+1 three years later), February's from 2026-02-16.
TODAY = dt.date(2025, 11, 1)  # the 90-day window reaches 2026-01-30


def _ledger(session: Session) -> tuple[Unit, int, list[Charge]]:
    community = make_community(session, late_fee_rate_per_day=None)
    make_schedule(session, community, rate=Decimal("2.00"), valid_from=dt.date(2023, 1, 1))
    unit = make_unit(session, community, area=Decimal("100.00"))
    owner_id = make_ownership(session, unit).parties[0].owner_id
    billing.run_billing(session, ACTOR, company_id=unit.company_id, through=dt.date(2023, 6, 1), today=TODAY)
    charges = list(session.scalars(select(Charge).where(Charge.unit_id == unit.id).order_by(Charge.due_date)))
    assert [c.due_date for c in charges[:2]] == [dt.date(2023, 1, 15), dt.date(2023, 2, 15)]
    return unit, owner_id, charges


def _warnings(session: Session, company_id: int) -> list[tuple[int, dt.date]]:
    rows = session.execute(
        select(LimitationWarning.charge_id, LimitationWarning.ends_on)
        .where(LimitationWarning.company_id == company_id).order_by(LimitationWarning.charge_id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_l4_a_charge_ending_within_90_days_gets_one_warning(session: Session) -> None:
    unit, _, charges = _ledger(session)
    counts = refresh_warnings(session, ACTOR, unit.company_id, today=TODAY)
    assert (counts.at_risk, counts.created, counts.removed) == (1, 1, 0)
    assert _warnings(session, unit.company_id) == [(charges[0].id, dt.date(2026, 1, 16))]
    # Re-running the daily job adds nothing.
    again = refresh_warnings(session, ACTOR, unit.company_id, today=TODAY + dt.timedelta(days=1))
    assert (again.at_risk, again.created, again.removed) == (1, 0, 0)
    assert _warnings(session, unit.company_id) == [(charges[0].id, dt.date(2026, 1, 16))]


def test_l4_the_window_moves_with_the_days(session: Session) -> None:
    unit, _, charges = _ledger(session)
    later = dt.date(2025, 11, 20)  # window reaches 2026-02-18: February's charge now too
    counts = refresh_warnings(session, ACTOR, unit.company_id, today=later)
    assert counts.created == 2
    assert [c for c, _ in _warnings(session, unit.company_id)] == [charges[0].id, charges[1].id]


def test_l5_an_interruption_moving_the_end_out_removes_the_warning(session: Session) -> None:
    unit, owner_id, charges = _ledger(session)
    refresh_warnings(session, ACTOR, unit.company_id, today=TODAY)
    record_interruption(
        session, ACTOR, unit.company_id, unit.id, kind=InterruptionKind.DEMAND_DELIVERED,
        occurred_on=dt.date(2025, 10, 20), proof_ref="EMS1234567890", charge_ids=[charges[0].id],
        today=TODAY, owner_id=owner_id, delivery=DeliveryResult.SIGNED_BY_OWNER,
    )
    counts = refresh_warnings(session, ACTOR, unit.company_id, today=TODAY)
    assert (counts.at_risk, counts.created, counts.removed) == (0, 0, 1)
    assert _warnings(session, unit.company_id) == []


def test_paid_charges_need_no_warning(session: Session) -> None:
    unit, owner_id, charges = _ledger(session)
    refresh_warnings(session, ACTOR, unit.company_id, today=TODAY)
    record_payment(session, ACTOR, unit.company_id,
                   PaymentInput(unit.id, owner_id, "R-1", TODAY, str(charges[0].amount),
                                designation=(charges[0].id,)), today=TODAY)
    assert charges[0].principal_outstanding == 0
    counts = refresh_warnings(session, ACTOR, unit.company_id, today=TODAY)
    assert (counts.at_risk, counts.removed) == (0, 1)


def test_time_barred_charges_are_not_warned_about(session: Session) -> None:
    unit, _, _ = _ledger(session)
    counts = refresh_warnings(session, ACTOR, unit.company_id, today=dt.date(2026, 12, 1))
    assert counts.at_risk == 0  # all six charges ran out by mid 2026 (statements mark them)
    assert _warnings(session, unit.company_id) == []


def test_other_companies_are_untouched(session: Session) -> None:
    unit, _, _ = _ledger(session)
    other, _, _ = _ledger(session)
    refresh_warnings(session, ACTOR, unit.company_id, today=TODAY)
    assert _warnings(session, other.company_id) == []
    assert len(_warnings(session, unit.company_id)) == 1
