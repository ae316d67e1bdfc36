"""Statements of account as of any date, per unit and per debtor, from the domain engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.allocation import AllocationPolicy
from arrears.domain.calendar import HolidayCalendar, load_default_calendar
from arrears.domain.latefees import LateFeeTerms
from arrears.domain.statement import Statement, build_statement
from arrears.persistence.models import Charge, Community, Ownership, Unit

from .facts import UnitFacts, credit_as_of, load_unit_facts
from .tenancy import get_scoped


@dataclass(frozen=True)
class Debtor:
    ownership_id: int
    names: tuple[str, ...]
    owner_ids: tuple[int, ...]
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True)
class UnitStatement:
    unit: Unit
    as_of: dt.date
    statement: Statement
    debtors: dict[int, Debtor]
    ownership_of: dict[int, int]  # charge id -> ownership id
    by_debtor: dict[int, Statement]


def terms_of(community: Community) -> LateFeeTerms:
    return LateFeeTerms(rate_per_day=community.late_fee_rate_per_day, cap_ratio=community.late_fee_cap_ratio)


def unit_statement(
    session: Session,
    company_id: int,
    unit_id: int,
    as_of: dt.date,
    calendar: HolidayCalendar | None = None,
) -> UnitStatement:
    unit = get_scoped(session, Unit, unit_id, company_id)
    facts = load_unit_facts(session, [unit.id])[unit.id]
    debtors = _debtors(session, unit.id)
    return _unit_statement(unit, facts, debtors, as_of, calendar or load_default_calendar())


def _unit_statement(
    unit: Unit, facts: UnitFacts, debtors: dict[int, Debtor], as_of: dt.date, calendar: HolidayCalendar
) -> UnitStatement:
    community = unit.community
    terms, policy = terms_of(community), AllocationPolicy(community.allocation_policy)
    whole = build_statement(
        facts.charges, as_of=as_of, terms=terms, calendar=calendar,
        credit=credit_as_of(facts, as_of), policy=policy,
    )
    by_debtor: dict[int, Statement] = {}
    owing = {o for o in facts.ownership_of.values() if o in debtors}
    if len(owing) == 1 and len(facts.ownership_of) == len(facts.charges):
        (ownership_id,) = owing
        if credit_as_of(facts, as_of, set(debtors[ownership_id].owner_ids)) == whole.credit:
            by_debtor[ownership_id] = whole  # one debtor owes everything: the same statement
            return UnitStatement(unit, as_of, whole, debtors, facts.ownership_of, by_debtor)
    for ownership_id in owing:
        debtor = debtors[ownership_id]
        charges = [c for c in facts.charges if facts.ownership_of.get(c.key) == ownership_id]
        by_debtor[ownership_id] = build_statement(
            charges, as_of=as_of, terms=terms, calendar=calendar,
            credit=credit_as_of(facts, as_of, set(debtor.owner_ids)), policy=policy,
        )
    return UnitStatement(unit, as_of, whole, debtors, facts.ownership_of, by_debtor)


def company_statements(
    session: Session, company_id: int, as_of: dt.date, *, chunk: int = 2000
) -> Iterator[UnitStatement]:
    """Every unit's statement, loading the ledger a chunk of units at a time (set-based)."""
    calendar = load_default_calendar()
    unit_ids = list(session.scalars(select(Unit.id).where(Unit.company_id == company_id).order_by(Unit.id)))
    for start in range(0, len(unit_ids), chunk):
        ids = unit_ids[start : start + chunk]
        units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids)))}
        facts = load_unit_facts(session, ids)
        debtors = _debtors_many(session, ids)
        for unit_id in ids:
            yield _unit_statement(units[unit_id], facts[unit_id], debtors.get(unit_id, {}), as_of, calendar)


def open_arrears(session: Session, company_id: int, as_of: dt.date) -> dict[tuple[int, int], Decimal]:
    """Fast path for lists: overdue unpaid principal per (unit, ownership) from the cached
    outstanding amounts and the partial index on open charges (valid for as_of ≥ the latest entry)."""
    rows = session.execute(
        select(Charge.unit_id, Charge.ownership_id, func.sum(Charge.principal_outstanding))
        .where(
            Charge.company_id == company_id,
            Charge.principal_outstanding > 0,
            Charge.reversed_on.is_(None),
            Charge.due_date < as_of,
        )
        .group_by(Charge.unit_id, Charge.ownership_id)
    )
    return {(unit_id, ownership_id): total for unit_id, ownership_id, total in rows}


def _debtors(session: Session, unit_id: int) -> dict[int, Debtor]:
    return _debtors_many(session, [unit_id]).get(unit_id, {})


def _debtors_many(session: Session, unit_ids: Sequence[int]) -> dict[int, dict[int, Debtor]]:
    result: dict[int, dict[int, Debtor]] = {}
    records = session.scalars(
        select(Ownership).where(Ownership.unit_id.in_(unit_ids)).order_by(Ownership.valid_from)
    )
    for record in records:
        parties = sorted(record.parties, key=lambda p: p.position)
        result.setdefault(record.unit_id, {})[record.id] = Debtor(
            ownership_id=record.id,
            names=tuple(p.owner.name for p in parties),
            owner_ids=tuple(p.owner_id for p in parties),
            valid_from=record.valid_from,
            valid_to=record.valid_to,
        )
    return result
