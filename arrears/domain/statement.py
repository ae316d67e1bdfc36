"""The statement engine: everything a unit's statement shows as of a date (LEGAL definitions).

Inputs are the charges with their applications (payment allocations and adjustments, including
voided ones) and interruptions; the engine reconstructs the state as of any date, so the same
ledger gives the same statement for the same date (L16 "accuracy is the defence").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .allocation import AllocationPolicy, Component
from .calendar import HolidayCalendar
from .latefees import NO_LATE_FEE, LateFee, LateFeeTerms, PrincipalReduction, late_fee_due
from .limitation import LimitationEnd, is_time_barred, limitation_end
from .money import ZERO

PAYMENT = "payment"
ADJUSTMENT = "adjustment"
CREDIT = "credit"
AGING_BUCKETS = ("0-30", "31-90", "91-180", "181-365", "365+")


@dataclass(frozen=True)
class Application:
    """A payment allocation or an adjustment applied to one component of a charge.

    ``source``: "payment", "adjustment" or "credit" (prepaid balance applied). A voided
    application (reversing entry) stops counting from ``voided_on``.
    """

    on: date
    component: Component
    amount: Decimal
    source: str
    ref: str
    voided_on: date | None = None

    def counts_on(self, day: date) -> bool:
        return self.on <= day and (self.voided_on is None or self.voided_on > day)

    @property
    def reduces_principal(self) -> bool:
        return self.component is not Component.LATE_FEE


@dataclass(frozen=True)
class ChargeFacts:
    """One charge as the ledger knows it. ``interruptions``: delivered demands, acknowledgements
    and filings naming this charge (L5); payments applied to it are added by the engine."""

    key: int
    label: str
    fee_item: str
    period_start: date
    period_end: date
    due_date: date
    amount: Decimal
    is_cost: bool = False
    applications: tuple[Application, ...] = ()
    interruptions: tuple[date, ...] = ()


@dataclass(frozen=True)
class StatementLine:
    key: int
    label: str
    fee_item: str
    period_start: date
    period_end: date
    due_date: date
    amount: Decimal
    paid: Decimal
    adjusted: Decimal
    outstanding: Decimal
    days_overdue: int
    overdue: bool
    late_fee: LateFee
    limitation: LimitationEnd
    time_barred: bool
    applications: tuple[Application, ...]


@dataclass(frozen=True)
class Statement:
    as_of: date
    lines: tuple[StatementLine, ...]
    total_amount: Decimal
    total_paid: Decimal
    total_adjusted: Decimal
    total_outstanding: Decimal
    overdue_outstanding: Decimal
    upcoming_outstanding: Decimal
    late_fee_outstanding: Decimal
    credit: Decimal
    arrears: Decimal
    aging: dict[str, Decimal]
    time_barred_outstanding: Decimal
    policy: AllocationPolicy


def aging_bucket(days: int) -> str:
    """Aging bucket of an overdue charge by days from its due date to the as-of date."""
    if days < 0:
        raise ValueError(f"days must not be negative: {days}")
    if days <= 30:
        return "0-30"
    if days <= 90:
        return "31-90"
    if days <= 180:
        return "91-180"
    if days <= 365:
        return "181-365"
    return "365+"


def build_statement(
    charges: Sequence[ChargeFacts],
    *,
    as_of: date,
    terms: LateFeeTerms,
    calendar: HolidayCalendar,
    credit: Decimal = ZERO,
    policy: AllocationPolicy = AllocationPolicy.PRINCIPAL_FIRST,
) -> Statement:
    """A unit's statement as of ``as_of`` (LEGAL definitions, L4–L7).

    The caller passes the charges billed by that date and the unapplied ``credit`` on it.
    Overdue = due before ``as_of`` with principal unpaid; a charge due on or after ``as_of`` is
    upcoming. Arrears = overdue principal − credit, floored at 0; late fees are shown beside
    arrears, never inside it. Time-barred charges stay in, flagged (L4). ``policy`` is recorded
    for printing (L6); the applications already reflect it.
    """
    if credit < 0:
        raise ValueError(f"credit must not be negative: {credit}")
    lines = tuple(
        sorted(
            (_line(c, as_of, terms, calendar) for c in charges),
            key=lambda line: (line.due_date, line.label),
        )
    )
    overdue = _total(line.outstanding for line in lines if line.overdue)
    return Statement(
        as_of=as_of,
        lines=lines,
        total_amount=_total(line.amount for line in lines),
        total_paid=_total(line.paid for line in lines),
        total_adjusted=_total(line.adjusted for line in lines),
        total_outstanding=_total(line.outstanding for line in lines),
        overdue_outstanding=overdue,
        upcoming_outstanding=_total(x.outstanding for x in lines if x.due_date >= as_of),
        late_fee_outstanding=_total(line.late_fee.outstanding for line in lines),
        credit=credit,
        arrears=max(overdue - credit, ZERO),
        aging=_aging(lines),
        time_barred_outstanding=_total(x.outstanding for x in lines if x.time_barred),
        policy=policy,
    )


def _line(
    charge: ChargeFacts, as_of: date, terms: LateFeeTerms, calendar: HolidayCalendar
) -> StatementLine:
    apps = tuple(a for a in charge.applications if a.counts_on(as_of))
    principal_apps = [a for a in apps if a.reduces_principal]
    adjusted = _total(a.amount for a in principal_apps if a.source == ADJUSTMENT)
    paid = _total(a.amount for a in principal_apps if a.source != ADJUSTMENT)
    outstanding = max(charge.amount - paid - adjusted, ZERO)
    overdue = charge.due_date < as_of and outstanding > 0
    limitation = limitation_end(charge.due_date, _interruptions(charge, apps, as_of), calendar)
    return StatementLine(
        key=charge.key,
        label=charge.label,
        fee_item=charge.fee_item,
        period_start=charge.period_start,
        period_end=charge.period_end,
        due_date=charge.due_date,
        amount=charge.amount,
        paid=paid,
        adjusted=adjusted,
        outstanding=outstanding,
        days_overdue=(as_of - charge.due_date).days if overdue else 0,
        overdue=overdue,
        late_fee=_late_fee(charge, apps, principal_apps, as_of, terms),
        limitation=limitation,
        time_barred=outstanding > 0 and is_time_barred(limitation, as_of),
        applications=apps,
    )


def charge_late_fee(charge: ChargeFacts, as_of: date, terms: LateFeeTerms) -> LateFee:
    """The late fee of one charge as of a date (L7), without the rest of its statement line
    (payment posting needs only this, for many charges at a time)."""
    apps = tuple(a for a in charge.applications if a.counts_on(as_of))
    return _late_fee(charge, apps, [a for a in apps if a.reduces_principal], as_of, terms)


def _late_fee(
    charge: ChargeFacts,
    apps: tuple[Application, ...],
    principal_apps: list[Application],
    as_of: date,
    terms: LateFeeTerms,
) -> LateFee:
    """L7: payments and adjustments of principal alike stop accrual on the part they cover;
    late-fee payments count as paid (and toward the cap); late-fee adjustments are waivers that
    lower only the outstanding fee. Costs (court/legal) accrue no late fee."""
    if charge.is_cost:
        return NO_LATE_FEE
    fee_apps = [a for a in apps if a.component is Component.LATE_FEE]
    return late_fee_due(
        charge.amount,
        charge.due_date,
        [PrincipalReduction(a.on, a.amount) for a in principal_apps],
        as_of,
        terms,
        paid=_total(a.amount for a in fee_apps if a.source != ADJUSTMENT),
        waived=_total(a.amount for a in fee_apps if a.source == ADJUSTMENT),
    )


def _interruptions(charge: ChargeFacts, apps: tuple[Application, ...], as_of: date) -> list[date]:
    """Recorded interruptions up to ``as_of``, plus each payment applied to the charge: a part
    payment is an acknowledgement of the debt (L5). Applying prepaid credit is not."""
    recorded = [d for d in charge.interruptions if d <= as_of]
    return recorded + [a.on for a in apps if a.source == PAYMENT]


def _aging(lines: Sequence[StatementLine]) -> dict[str, Decimal]:
    aging = {bucket: ZERO for bucket in AGING_BUCKETS}
    for line in lines:
        if line.overdue:
            aging[aging_bucket(line.days_overdue)] += line.outstanding
    return aging


def _total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)
