"""The demo data set (services/demo.py): plausible, valid, and consistent with the ledger engine."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.identity import IdType, birth_date_from_id, normalize_id
from arrears.persistence.enums import OwnerKind
from arrears.persistence.models import (
    Allocation,
    Charge,
    Community,
    Company,
    FeeItem,
    Interruption,
    Membership,
    Owner,
    Ownership,
    OwnershipParty,
    Payment,
    Reversal,
    Unit,
    User,
)
from arrears.services.demo import DEMO_LOGINS, load_demo
from arrears.services.statements import unit_statement

TODAY = dt.date(2026, 11, 22)
ZERO = Decimal("0.00")


@pytest.fixture
def demo(session: Session) -> Company:
    load_demo(session, seed=7, today=TODAY, scale=0.03)
    company = session.scalar(select(Company))
    assert company is not None
    return company


def test_demo_is_plausible_and_valid(session: Session, demo: Company) -> None:
    _users_and_company(session, demo)
    _counts_are_plausible(session)
    _owner_identity_numbers_are_valid(session)
    _transfer_split_a_charge_by_days(session)
    _developer_owes_periods_before_delivery(session)


def _users_and_company(session: Session, demo: Company) -> None:
    assert normalize_id(IdType.USCC, demo.uscc) == demo.uscc
    roles = dict(session.execute(select(User.username, Membership.role).join(Membership.user)).all())
    assert roles == {username: role for username, _, role in DEMO_LOGINS}
    assert all(len(password) >= 10 for _, password, _ in DEMO_LOGINS)


def _counts_are_plausible(session: Session) -> None:
    communities = session.scalars(select(Community)).all()
    assert {c.province for c in communities} == {"江苏", "浙江"}
    assert {c.allocation_policy for c in communities} == {"principal_first", "statutory"}
    assert sum(c.arbitration_commission is not None for c in communities) == 1
    for community in communities:
        developer = session.get(Owner, community.developer_id)
        assert developer is not None and developer.is_developer and developer.kind == OwnerKind.ORGANISATION
    units = session.scalar(select(func.count(Unit.id))) or 0
    charges = session.scalar(select(func.count(Charge.id)).where(Charge.reversed_on.is_(None))) or 0
    payments = session.scalar(select(func.count(Payment.id))) or 0
    assert 40 <= units <= 80
    assert charges >= units * 8
    assert units * 3 <= payments <= charges * 2
    assert session.scalar(select(func.count(Interruption.id))) >= 1


def _owner_identity_numbers_are_valid(session: Session) -> None:
    owners = session.scalars(select(Owner)).all()
    assert len({(o.id_type, o.id_number) for o in owners}) == len(owners)
    for owner in owners:
        id_type = IdType(owner.id_type)
        assert normalize_id(id_type, owner.id_number) == owner.id_number
        if id_type is IdType.RESIDENT_ID:
            assert birth_date_from_id(id_type, owner.id_number) == owner.birth_date
            assert owner.phone and owner.phone[0] == "1" and owner.phone[1] in "3456789" and len(owner.phone) == 11
    co_owned = session.execute(
        select(OwnershipParty.ownership_id).group_by(OwnershipParty.ownership_id).having(func.count() > 1)
    ).all()
    assert co_owned, "some units are owned by spouses together"


def _transfer_split_a_charge_by_days(session: Session) -> None:
    assert session.scalar(select(func.count(Reversal.id)).where(Reversal.entity == "charge")) >= 1
    split = session.execute(
        select(Charge.unit_id, Charge.fee_item_id, Charge.period_start)
        .where(Charge.reversed_on.is_(None))
        .group_by(Charge.unit_id, Charge.fee_item_id, Charge.period_start)
        .having(func.count(func.distinct(Charge.ownership_id)) > 1)
    ).all()
    assert split


def _developer_owes_periods_before_delivery(session: Session) -> None:
    """L1: periods before a unit's delivery are billed to the developer."""
    owed = session.scalar(
        select(func.count(Charge.id))
        .join(OwnershipParty, OwnershipParty.ownership_id == Charge.ownership_id)
        .join(Owner, Owner.id == OwnershipParty.owner_id)
        .join(Ownership, Ownership.id == Charge.ownership_id)
        .where(Owner.is_developer.is_(True), Ownership.valid_to.is_not(None), Charge.principal_outstanding > 0)
    )
    assert owed


def test_caches_agree_with_the_statement_engine(session: Session, demo: Company) -> None:
    """Cached principal_outstanding and unapplied equal what the domain statement computes."""
    unapplied: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for unit_id, value in session.execute(select(Payment.unit_id, Payment.unapplied)):
        unapplied[unit_id] += value
    cached = dict(session.execute(select(Charge.id, Charge.principal_outstanding).where(Charge.reversed_on.is_(None))).all())
    in_arrears = with_credit = time_barred = 0
    for unit_id in session.scalars(select(Unit.id).order_by(Unit.id)):
        result = unit_statement(session, demo.id, unit_id, TODAY)
        statement = result.statement
        for line in statement.lines:
            assert line.outstanding == cached.pop(line.key), f"charge {line.key}"
        assert statement.credit == unapplied[unit_id]
        in_arrears += statement.arrears > 0
        with_credit += statement.credit > 0
        time_barred += statement.time_barred_outstanding > 0
    assert not cached, "every charge is on a statement"
    assert in_arrears >= 3
    assert with_credit >= 1
    assert time_barred >= 1


def test_bulk_payment_path_matches_record_payment(session: Session) -> None:
    """Posting the demo's payments in one batch (`record_payments`) gives the same allocations as
    `record_payment` one by one."""
    nested = session.begin_nested()
    load_demo(session, seed=11, today=TODAY, scale=0.02, via_service=True)
    by_service = _ledger_signature(session)
    nested.rollback()
    load_demo(session, seed=11, today=TODAY, scale=0.02)
    assert _ledger_signature(session) == by_service
    assert len(by_service[0]) > 100


def _ledger_signature(session: Session) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Allocations and charge caches, by natural keys (ids differ between the two loads)."""
    charge_key = (Community.code, Unit.code, FeeItem.code, Charge.period_start, Ownership.valid_from)
    base = (
        select(Charge)
        .join(Unit, Unit.id == Charge.unit_id)
        .join(Community, Community.id == Unit.community_id)
        .join(FeeItem, FeeItem.id == Charge.fee_item_id)
        .join(Ownership, Ownership.id == Charge.ownership_id)
    )
    allocations = session.execute(
        base.with_only_columns(Payment.receipt_ref, *charge_key, Allocation.component, Allocation.amount,
                               Allocation.applied_on)
        .join(Allocation, Allocation.charge_id == Charge.id)
        .join(Payment, Payment.id == Allocation.payment_id)
        .order_by(Payment.receipt_ref, *charge_key, Allocation.component)
    ).all()
    caches = session.execute(
        base.with_only_columns(*charge_key, Charge.principal_outstanding, Charge.late_fee_paid, Charge.reversed_on)
        .order_by(*charge_key, Charge.reversed_on)
    ).all()
    return [tuple(r) for r in allocations], [tuple(r) for r in caches]


def test_demo_demands_went_through_the_engine_so_some_cases_are_legal_ready(session: Session, demo: Company) -> None:
    """L2/L5: demands the demo served 60 days ago were delivered and their deadlines have passed, so
    today's run moved those cases on, and a legal case can be opened for a legal-ready one."""
    from arrears.persistence.models import CollectionCase, Delivery, Interruption
    from arrears.persistence.enums import InterruptionKind
    from arrears.services.legal.claims import check_ready

    deliveries = session.scalars(select(Delivery)).all()
    assert deliveries and all(d.occurred_on == TODAY - dt.timedelta(days=57) for d in deliveries)
    ready = session.scalars(select(CollectionCase).where(CollectionCase.company_id == demo.id,
                                                         CollectionCase.stage_code == "legal_ready")).all()
    assert ready, "the demo should show legal-ready cases"
    for case in ready:
        check_ready(session, case, TODAY)  # raises if L2 is not met
    demanded = session.scalar(select(func.count()).select_from(Interruption).where(
        Interruption.company_id == demo.id, Interruption.kind == InterruptionKind.DEMAND_DELIVERED,
        Interruption.occurred_on == TODAY - dt.timedelta(days=57)))
    assert demanded >= len(deliveries)  # each delivered demand interrupts limitation (L5)
