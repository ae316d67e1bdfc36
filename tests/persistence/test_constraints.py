"""The database itself guards the money invariants and the uniqueness of posted charges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arrears.persistence.enums import ChargeSource
from arrears.persistence.models import AuditEntry, Charge
from tests.factories import make_community, make_fee_item, make_ownership, make_unit


def _charge_row(unit, ownership, fee_item, **overrides):  # type: ignore[no-untyped-def]
    row = dict(
        company_id=unit.company_id, unit_id=unit.id, ownership_id=ownership.id, fee_item_id=fee_item.id,
        period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 1, 31), period_label="2026-01",
        due_date=dt.date(2026, 1, 15), amount=Decimal("100.00"), principal_outstanding=Decimal("100.00"),
        late_fee_paid=Decimal("0.00"), source=ChargeSource.MANUAL, created_at=dt.datetime.now(dt.timezone.utc),
    )
    row.update(overrides)
    return row


@pytest.fixture
def ctx(session: Session):  # type: ignore[no-untyped-def]
    community = make_community(session)
    unit = make_unit(session, community)
    from arrears.persistence.models import Company

    company = session.get(Company, community.company_id)
    return unit, make_ownership(session, unit), make_fee_item(session, company)


@pytest.mark.parametrize("overrides", [
    {"amount": Decimal("0.00"), "principal_outstanding": Decimal("0.00")},
    {"principal_outstanding": Decimal("-0.01")},
    {"principal_outstanding": Decimal("100.01")},
    {"late_fee_paid": Decimal("-1.00")},
    {"period_end": dt.date(2025, 12, 31)},
])
def test_check_constraints_reject_impossible_money(session: Session, ctx, overrides) -> None:  # type: ignore[no-untyped-def]
    unit, ownership, fee_item = ctx
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(Charge), [_charge_row(unit, ownership, fee_item, **overrides)])


def test_a_posted_charge_is_unique_per_unit_item_period_and_ownership(session: Session, ctx) -> None:  # type: ignore[no-untyped-def]
    unit, ownership, fee_item = ctx
    session.execute(insert(Charge), [_charge_row(unit, ownership, fee_item)])
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(Charge), [_charge_row(unit, ownership, fee_item)])
    # a reversed charge does not block its repost
    session.execute(insert(Charge), [_charge_row(unit, ownership, fee_item, reversed_on=dt.date(2026, 2, 1))])


def test_timestamps_are_stored_in_utc_and_come_back_aware(session: Session) -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    entry = AuditEntry(actor="t", action="x", entity="y", entity_id=None, detail={},
                       at=dt.datetime(2026, 11, 22, 9, 0, tzinfo=shanghai))
    session.add(entry)
    session.flush()
    session.expire_all()
    stored = session.scalar(select(AuditEntry).where(AuditEntry.id == entry.id))
    assert stored is not None
    assert stored.at == dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.timezone.utc)
    assert stored.at.utcoffset() == dt.timedelta(0)


def test_naive_timestamps_are_refused(session: Session) -> None:
    session.add(AuditEntry(actor="t", action="x", entity="y", entity_id=None, detail={},
                           at=dt.datetime(2026, 11, 22, 9, 0)))
    with pytest.raises(Exception, match="naive"):
        session.flush()
    session.rollback()
