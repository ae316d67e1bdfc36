"""Late fees (违约金) per charge (L7, E2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .money import ZERO, to_fen


@dataclass(frozen=True)
class LateFeeTerms:
    """The contract's late-fee clause (L7).

    ``rate_per_day`` None means no clause, hence no fee. ``cap_ratio``: the total late fee of a
    charge (paid plus unpaid) never exceeds ``cap_ratio × charge amount``; None means no cap.
    """

    rate_per_day: Decimal | None
    cap_ratio: Decimal | None = Decimal("1")


@dataclass(frozen=True)
class PrincipalReduction:
    """A payment or adjustment that reduced the charge's principal on a date."""

    on: date
    amount: Decimal


@dataclass(frozen=True)
class LateFee:
    """A charge's late fee as of a date: ``accrued`` is rounded to the fen and capped.

    ``outstanding`` = accrued − paid − waived, never negative. ``days``: days on which the fee
    accrued (principal outstanding after the due date).
    """

    accrued: Decimal
    paid: Decimal
    outstanding: Decimal
    capped: bool
    days: int
    waived: Decimal = ZERO


NO_LATE_FEE = LateFee(accrued=ZERO, paid=ZERO, outstanding=ZERO, capped=False, days=0)


@dataclass(frozen=True)
class LateFeeLine:
    """One line of the calculation sheet (L7 "shown line by line").

    As written in E2 ("2026-01-15 → 2026-02-14: 30 days"): ``start`` is the day accrual runs
    from, not itself counted (the due date or a payment date), ``end`` the last day counted,
    ``days = end − start``. ``fee`` is exact (unrounded): the total is rounded once.
    """

    start: date
    end: date
    days: int
    principal: Decimal
    fee: Decimal


def late_fee_lines(
    amount: Decimal,
    due_date: date,
    reductions: Sequence[PrincipalReduction],
    as_of: date,
    terms: LateFeeTerms,
) -> list[LateFeeLine]:
    """The accrual split into segments of constant principal (L7, E2).

    The fee accrues for each day after ``due_date`` up to and including ``as_of`` on the
    principal outstanding that day; a reduction on day P still accrues on P and stops the reduced
    part from P + 1. Reductions after ``as_of`` are ignored; days with no principal are left out.
    """
    if terms.rate_per_day is None or as_of <= due_date:
        return []
    rate = terms.rate_per_day
    lines: list[LateFeeLine] = []
    start, principal = due_date, amount - _reduced_by(reductions, due_date)
    for cut in [*_cut_days(reductions, due_date, as_of), as_of]:
        if principal > 0 and cut > start:
            days = (cut - start).days
            lines.append(LateFeeLine(start, cut, days, principal, rate * principal * days))
        start, principal = cut, amount - _reduced_by(reductions, cut)
    return lines


def _cut_days(reductions: Sequence[PrincipalReduction], due_date: date, as_of: date) -> list[date]:
    return sorted({r.on for r in reductions if due_date < r.on < as_of})


def _reduced_by(reductions: Sequence[PrincipalReduction], day: date) -> Decimal:
    """Total reduction made on or before ``day``."""
    return sum((r.amount for r in reductions if r.on <= day), ZERO)


def accrued_late_fee(
    amount: Decimal,
    due_date: date,
    reductions: Sequence[PrincipalReduction],
    as_of: date,
    terms: LateFeeTerms,
) -> Decimal:
    """Exact, unrounded, uncapped late fee accrued up to ``as_of`` (L7; E2: 17.5815)."""
    lines = late_fee_lines(amount, due_date, reductions, as_of, terms)
    return sum((line.fee for line in lines), Decimal(0))


def late_fee_due(
    amount: Decimal,
    due_date: date,
    reductions: Sequence[PrincipalReduction],
    as_of: date,
    terms: LateFeeTerms,
    paid: Decimal = ZERO,
    waived: Decimal = ZERO,
) -> LateFee:
    """The late fee of one charge as of a date, rounded once and capped (L7, E2).

    The cap bounds the total fee, so a fee already paid counts toward it. ``waived`` is the late
    fee reduced by approved adjustments; like ``paid`` it lowers only what is outstanding.
    """
    lines = late_fee_lines(amount, due_date, reductions, as_of, terms)
    accrued = to_fen(sum((line.fee for line in lines), Decimal(0)))
    cap = None if terms.cap_ratio is None else to_fen(terms.cap_ratio * amount)
    capped = cap is not None and accrued > cap
    if cap is not None and capped:
        accrued = cap
    outstanding = max(accrued - paid - waived, ZERO)
    days = sum(line.days for line in lines)
    return LateFee(accrued, paid, outstanding, capped, days, waived)
