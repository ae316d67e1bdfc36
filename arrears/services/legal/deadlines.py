"""The court periods of legal cases (L10, L14, L15, E7) and the figures after a title.

Periods follow CPL art. 85: the day of the event is not counted and a period whose last day is a
rest day ends on the next working day (the default mainland calendar). The pure rules are in
``arrears.domain.judgement``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain import judgement
from arrears.domain.calendar import HolidayCalendar, load_default_calendar
from arrears.domain.money import ZERO
from arrears.persistence.enums import FeeKind, LegalState
from arrears.persistence.legal import LegalCase
from arrears.persistence.models import Allocation, Charge, Payment

from ..errors import N_
from ..tenancy import get_scoped

OBJECTION_DAYS = 15  # L10: from service of the payment order
DECLINE_DAYS = 7  # L10: after an objection, the company may decline the lawsuit
CLOSED = frozenset({LegalState.PAID, LegalState.DELETED, LegalState.WITHDRAWN, LegalState.DISMISSED})
#: States in which the enforcement application deadline is still to be met.
BEFORE_ENFORCEMENT = frozenset({LegalState.TITLE_EFFECTIVE})

OBJECTION_PERIOD = "objection_period"
DECLINE_WINDOW = "decline_window"
PERFORMANCE = "performance"
ENFORCEMENT = "enforcement"
DELETION_WINDOW = "deletion_window"
TEXTS = {
    OBJECTION_PERIOD: N_("objection period of the payment order ends (15 days from service, L10)"),
    DECLINE_WINDOW: N_("last day to decline the lawsuit after the objection (7 days, L10)"),
    PERFORMANCE: N_("last day of the performance period (CPL art. 85)"),
    ENFORCEMENT: N_("last day to apply for enforcement (2 years, L14)"),
    DELETION_WINDOW: N_("the court deletes the listing within 3 working days (L15)"),
}


@dataclass(frozen=True)
class Deadline:
    legal_case_id: int
    kind: str
    due_on: dt.date
    overdue: bool
    text: str


@dataclass(frozen=True)
class LegalFigures:
    """A case's money after its title as of a date (for the enforcement documents, L14, E7)."""

    as_of: dt.date
    awarded_total: Decimal  # principal + late fee + costs of the title (0 before a title)
    recovered: Decimal  # received since filing on the claimed charges and cost charges
    unpaid: Decimal
    delay_interest: Decimal  # on the unpaid amount from the day after the performance period's last day
    performance_last_day: dt.date | None
    enforcement_deadline: dt.date | None


# --- the rules (arrears.domain.judgement) ------------------------------------------------------------


def calendar() -> HolidayCalendar:
    return load_default_calendar()


def last_day(deadline: dt.date, cal: HolidayCalendar | None = None) -> dt.date:
    """CPL art. 85: a period ending on a rest day ends on the next working day."""
    return judgement.last_day_of_period(deadline, cal or calendar())


def period_end(start: dt.date, days: int, cal: HolidayCalendar | None = None) -> dt.date:
    """A period of ``days`` days from the event on ``start`` (start not counted), moved past rest days."""
    return last_day(start + dt.timedelta(days=days), cal)


def enforcement_deadline(performance_last_day: dt.date, cal: HolidayCalendar | None = None) -> dt.date:
    """L14, E7: two years from the last day of the performance period, moved past rest days."""
    return judgement.enforcement_deadline(performance_last_day, cal or calendar())


def delay_interest(amount: Decimal, performance_last_day: dt.date, as_of: dt.date) -> Decimal:
    """L14, E7: 0.0175 % per day on the unpaid amount for each day after the last day, to the fen."""
    return judgement.delay_interest(amount, performance_last_day, as_of)


def deletion_window_end(paid_on: dt.date, cal: HolidayCalendar | None = None) -> dt.date:
    """L15: the court deletes a listing within 3 working days after full payment or the request."""
    return judgement.deletion_window_end(paid_on, cal or calendar())


def objection_end(case: LegalCase, cal: HolidayCalendar | None = None) -> dt.date | None:
    return period_end(case.order_served_on, OBJECTION_DAYS, cal) if case.order_served_on else None


def decline_end(case: LegalCase, cal: HolidayCalendar | None = None) -> dt.date | None:
    return period_end(case.objection_on, DECLINE_DAYS, cal) if case.objection_on else None


def performance_last_day(case: LegalCase, cal: HolidayCalendar | None = None) -> dt.date | None:
    return last_day(case.performance_deadline, cal) if case.performance_deadline else None


def enforcement_deadline_of(case: LegalCase, cal: HolidayCalendar | None = None) -> dt.date | None:
    last = performance_last_day(case, cal)
    return enforcement_deadline(last, cal) if last else None


# --- the deadline list ----------------------------------------------------------------------------------


def deadlines(
    session: Session, *, company_id: int | None = None, lawyer_user_id: int | None = None, today: dt.date
) -> list[Deadline]:
    """The open periods of a company's legal cases, or of one lawyer's assigned cases (only those in
    companies where the user is a LAWYER member), sorted by date; ``overdue`` once today is past it."""
    if company_id is None and lawyer_user_id is None:
        raise ValueError("deadlines() needs company_id or lawyer_user_id")
    query = select(LegalCase).where(LegalCase.closed_on.is_(None))
    if company_id is not None:
        query = query.where(LegalCase.company_id == company_id)
    if lawyer_user_id is not None:
        from .lawyers import lawyer_company_ids

        query = query.where(LegalCase.lawyer_user_id == lawyer_user_id,
                            LegalCase.company_id.in_(lawyer_company_ids(session, lawyer_user_id) or [-1]))
    result = [d for case in session.scalars(query.order_by(LegalCase.id)) for d in case_deadlines(case, today)]
    return sorted(result, key=lambda d: (d.due_on, d.legal_case_id, d.kind))


def case_deadlines(case: LegalCase, today: dt.date) -> list[Deadline]:
    cal = calendar()
    found: list[tuple[str, dt.date | None]] = []
    if case.state == LegalState.PAYMENT_ORDER_ISSUED:
        found.append((OBJECTION_PERIOD, objection_end(case, cal)))
    if case.state == LegalState.OBJECTION_RAISED:
        found.append((DECLINE_WINDOW, decline_end(case, cal)))
    if case.state in BEFORE_ENFORCEMENT:
        found.append((PERFORMANCE, performance_last_day(case, cal)))
        found.append((ENFORCEMENT, enforcement_deadline_of(case, cal)))
    if case.state == LegalState.DELETION_REQUESTED:
        start = case.paid_in_full_on or case.deletion_requested_on
        found.append((DELETION_WINDOW, deletion_window_end(start, cal) if start else None))
    return [Deadline(case.id, kind, due, today > due, TEXTS[kind]) for kind, due in found if due is not None]


# --- money after the title ------------------------------------------------------------------------------


def awarded_total(case: LegalCase) -> Decimal:
    return sum((v for v in (case.awarded_principal, case.awarded_late_fee, case.awarded_costs) if v is not None),
               ZERO)


def recovered(session: Session, case: LegalCase, as_of: dt.date) -> Decimal:
    """Payments received from the filing (the opening before a filing) to ``as_of`` and applied, as
    usual, to the claimed charges or to cost charges of the same ownership (not voided by then)."""
    start = case.filed_on or case.opened_on
    charge_ids = set(_ids(case.claimed_charge_ids))
    charge_ids |= set(session.scalars(select(Charge.id).where(
        Charge.unit_id == case.unit_id, Charge.ownership_id == case.ownership_id, Charge.kind == FeeKind.COST)))
    if not charge_ids:
        return ZERO
    rows = session.execute(
        select(Allocation.amount, Allocation.voided_on)
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Allocation.charge_id.in_(charge_ids), Payment.received_on >= start, Payment.received_on <= as_of))
    return sum((amount for amount, voided in rows if voided is None or voided > as_of), ZERO)


def figures(session: Session, case: LegalCase, as_of: dt.date) -> LegalFigures:
    cal = calendar()
    total = awarded_total(case)
    got = recovered(session, case, as_of)
    unpaid = max(total - got, ZERO)
    last = performance_last_day(case, cal)
    interest = delay_interest(unpaid, last, as_of) if last is not None and unpaid > 0 else ZERO
    return LegalFigures(as_of=as_of, awarded_total=total, recovered=got, unpaid=unpaid, delay_interest=interest,
                        performance_last_day=last, enforcement_deadline=enforcement_deadline(last, cal) if last else None)


def case_figures(session: Session, company_id: int, legal_case_id: int, *, as_of: dt.date) -> LegalFigures:
    """Awarded, recovered and unpaid amounts with the delay interest (L14, E7) of one legal case."""
    return figures(session, get_scoped(session, LegalCase, legal_case_id, company_id), as_of)


def _ids(values: Iterable[object]) -> list[int]:
    return [int(v) for v in values]  # type: ignore[call-overload]
