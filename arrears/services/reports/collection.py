"""The collection rate (收缴率) and the recovery of earlier arrears (清欠), per community.

Membership, precisely (one :class:`~arrears.domain.reporting.Window` = a period range and an
as-of date):

* **Billed**: fee charges (``kind = fee``; cost charges such as court costs are not billed fees)
  whose ``period_start`` lies in the window's period range, less the principal adjustments
  (approved reductions/waivers) on them that take effect (``effective_on``) on or before the
  as-of date. Whether the charge is due yet does not matter: the comparison with last year at the
  same point of the year makes a month's figure meaningful before its due date.
* **Collected**: principal allocations (the ledger's ``allocation`` rows, i.e. how each payment
  was applied to charges, L6) on those same charges whose ``applied_on`` is on or before the as-of
  date, whenever the money came (a prepayment applied when the charge was posted counts). The
  allocation date decides, not the payment's ``received_on``: credit applied later counts from the
  day it was applied. Late-fee allocations are not collection of billed fees and are left out.
* **Recovered (清欠)**: principal allocations with ``applied_on`` from the first day of the period
  range to the as-of date, on fee charges whose ``period_start`` is *before* the range: money of
  the window that paid earlier arrears. Allocations to charges of later periods count in neither.
* **Corrections**: like statements, the figures use the corrected ledger — reversed charges and
  voided allocations (of a reversed payment, or returned to credit when a charge was reversed)
  are left out whatever their date, and voided adjustments too. A figure for a past date is
  therefore restated by later corrections (books are closed per company, so closed months do not
  change).

Sums are taken by the database (one grouped query per measure for all windows at once, joined to
the unit for its community), never per unit in Python.

**Summaries**: once a company's summaries are built (:mod:`.summary`, nightly), billed and
applied amounts come from them for windows of whole months: the summed rows up to the build's id
watermarks, plus the charges and allocations posted since (ids above the watermarks), less what
reversals made since then voided — the same figures as from the ledger alone, at any time. The
principal adjustments are always summed live (few rows). Without a build (a new installation, the
tests) or for a window not made of whole months, everything is summed from the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from arrears.domain.allocation import Component
from arrears.domain.calendar import month_end
from arrears.domain.money import ZERO, to_fen
from arrears.domain.reporting import Window, collection_rate, rate_percent
from arrears.persistence.enums import FeeKind
from arrears.persistence.models import (
    Adjustment,
    Allocation,
    BilledSummary,
    Charge,
    CollectionSummary,
    CollectionSummaryDay,
    Reversal,
    SummaryBuild,
    Unit,
)

Sums = list[dict[int, Decimal]]


@dataclass(frozen=True)
class Collection:
    """The collection figures of one window (a community's, or the sum of several)."""

    billed: Decimal = ZERO
    collected: Decimal = ZERO
    recovered: Decimal = ZERO

    @property
    def rate(self) -> Decimal | None:
        """collected ÷ billed, exact; None with nothing billed (shown as "—")."""
        return collection_rate(self.collected, self.billed)

    @property
    def percent(self) -> Decimal | None:
        """The rate in percent, rounded half up to 0.1 — for display only."""
        return rate_percent(self.rate)

    def __add__(self, other: Collection) -> Collection:
        return Collection(self.billed + other.billed, self.collected + other.collected,
                          self.recovered + other.recovered)


def total(figures: dict[int, Collection]) -> Collection:
    """The company's figure: the communities' sums (a rate is never averaged)."""
    result = Collection()
    for value in figures.values():
        result = result + value
    return result


def by_community(session: Session, company_id: int, windows: Sequence[Window]) -> list[dict[int, Collection]]:
    """For each window, community id → its figures (communities with nothing are absent)."""
    if not windows:
        return []
    build = _build(session, company_id, windows)
    if build is None:
        billed = _billed(session, company_id, windows)
        collected, recovered = _applied(session, company_id, windows)
    else:
        billed = _billed_summarised(session, company_id, windows, build)
        collected, recovered = _applied_summarised(session, company_id, windows, build)
    adjusted = _adjusted(session, company_id, windows)
    result = []
    for n in range(len(windows)):
        communities = set(billed[n]) | set(collected[n]) | set(recovered[n])
        result.append({
            cid: Collection(billed=billed[n].get(cid, ZERO) - adjusted[n].get(cid, ZERO),
                            collected=collected[n].get(cid, ZERO), recovered=recovered[n].get(cid, ZERO))
            for cid in communities
        })
    return result


def fee_charges(company_id: int) -> list[Any]:
    """The charges whose amounts are billed fees: kind fee, not reversed."""
    return [Charge.company_id == company_id, Charge.kind == FeeKind.FEE, Charge.reversed_on.is_(None)]


def _in(window: Window) -> Any:
    return Charge.period_start.between(window.periods.start, window.periods.end)


def _span(windows: Sequence[Window]) -> tuple[dt.date, dt.date, dt.date]:
    """The earliest period start, the latest period end and the latest as-of date of all windows."""
    return (min(w.periods.start for w in windows), max(w.periods.end for w in windows),
            max(w.as_of for w in windows))


def _sums(rows: Any, count: int) -> Sums:
    """Rows of (community id, sum per window…) → one {community: amount} per window, to the fen."""
    result: Sums = [{} for _ in range(count)]
    for row in rows:
        for n in range(count):
            value = row[n + 1]
            if value is not None and Decimal(value) != 0:
                result[n][int(row[0])] = to_fen(Decimal(value))
    return result


def _billed(session: Session, company_id: int, windows: Sequence[Window], *only: Any) -> Sums:
    """Billed amounts from the ledger (``only``: further conditions, e.g. charges after a watermark)."""
    first, last, _ = _span(windows)
    columns = [func.sum(case((_in(w), Charge.amount))) for w in windows]
    rows = session.execute(
        select(Unit.community_id, *columns)
        .join(Unit, Unit.id == Charge.unit_id)
        .where(*fee_charges(company_id), Charge.period_start.between(first, last), *only)
        .group_by(Unit.community_id)
    )
    return _sums(rows, len(windows))


def _adjusted(session: Session, company_id: int, windows: Sequence[Window]) -> Sums:
    """Principal reductions on the windows' charges in effect by each as-of date."""
    first, last, as_of = _span(windows)
    columns = [func.sum(case((and_(_in(w), Adjustment.effective_on <= w.as_of), Adjustment.amount)))
               for w in windows]
    rows = session.execute(
        select(Unit.community_id, *columns)
        .select_from(Adjustment)
        .join(Charge, Charge.id == Adjustment.charge_id)
        .join(Unit, Unit.id == Charge.unit_id)
        .where(*fee_charges(company_id), Charge.period_start.between(first, last),
               Adjustment.component == Component.PRINCIPAL, Adjustment.voided_on.is_(None),
               Adjustment.effective_on <= as_of)
        .group_by(Unit.community_id)
    )
    return _sums(rows, len(windows))


def _applied(session: Session, company_id: int, windows: Sequence[Window], *only: Any,
             counted: bool = True) -> tuple[Sums, Sums]:
    """Collected (on the windows' charges) and recovered (on earlier charges) in one pass, from the
    ledger (``only``: further conditions, e.g. allocations after a watermark; ``counted`` False: also
    voided allocations and those on reversed charges)."""
    first, last, as_of = _span(windows)
    ledger = ([*fee_charges(company_id), Allocation.voided_on.is_(None)] if counted
              else [Charge.company_id == company_id, Charge.kind == FeeKind.FEE])
    collected = [func.sum(case((and_(_in(w), Allocation.applied_on <= w.as_of), Allocation.amount)))
                 for w in windows]
    recovered = [func.sum(case((and_(Charge.period_start < w.periods.start,
                                     Allocation.applied_on.between(w.periods.start, w.as_of)), Allocation.amount)))
                 for w in windows]
    rows = session.execute(
        select(Unit.community_id, *collected, *recovered)
        .select_from(Allocation)
        .join(Charge, Charge.id == Allocation.charge_id)
        .join(Unit, Unit.id == Charge.unit_id)
        .where(*ledger, Allocation.component == Component.PRINCIPAL, Allocation.applied_on <= as_of,
               or_(Charge.period_start.between(first, last), Allocation.applied_on >= first), *only)
        .group_by(Unit.community_id)
    ).all()
    count = len(windows)
    both = _sums(rows, 2 * count)
    return both[:count], both[count:]


# --- from the summaries ---------------------------------------------------------------------------


def _build(session: Session, company_id: int, windows: Sequence[Window]) -> SummaryBuild | None:
    """The company's summary build, if there is one and every window is made of whole months."""
    whole = all(w.periods.start.day == 1 and w.periods.end == month_end(w.periods.end.year, w.periods.end.month)
                for w in windows)
    return session.get(SummaryBuild, company_id) if whole else None


def _combine(count: int, *parts: tuple[int, Sums]) -> Sums:
    """Σ sign × part per window and community; zeros dropped like :func:`_sums` does."""
    result: Sums = [{} for _ in range(count)]
    for sign, part in parts:
        for n in range(count):
            for cid, amount in part[n].items():
                result[n][cid] = result[n].get(cid, ZERO) + sign * amount
    return [{cid: amount for cid, amount in r.items() if amount != 0} for r in result]


def _new_reversals(session: Session, company_id: int, entity: str, build: SummaryBuild) -> list[int]:
    """Ids of the charges or payments reversed since the build (usually none)."""
    return list(session.scalars(select(Reversal.entity_id).where(
        Reversal.company_id == company_id, Reversal.entity == entity, Reversal.id > build.reversal_mark)))


def _billed_summarised(session: Session, company_id: int, windows: Sequence[Window], build: SummaryBuild) -> Sums:
    """Summed charges + charges posted since the build − charges in the sums reversed since."""
    count = len(windows)
    columns = [func.sum(case((BilledSummary.charge_month.between(w.periods.start, w.periods.end),
                              BilledSummary.amount))) for w in windows]
    summed = _sums(session.execute(
        select(BilledSummary.community_id, *columns).where(BilledSummary.company_id == company_id)
        .group_by(BilledSummary.community_id)), count)
    posted = _billed(session, company_id, windows, Charge.id > build.charge_mark)
    reversed_charges = _new_reversals(session, company_id, "charge", build)
    if not reversed_charges:
        return _combine(count, (1, summed), (1, posted))
    first, last, _ = _span(windows)
    reversed_since = _sums(session.execute(
        select(Unit.community_id, *(func.sum(case((_in(w), Charge.amount))) for w in windows))
        .join(Unit, Unit.id == Charge.unit_id)
        .where(Charge.company_id == company_id, Charge.kind == FeeKind.FEE, Charge.id <= build.charge_mark,
               Charge.period_start.between(first, last), Charge.id.in_(reversed_charges))
        .group_by(Unit.community_id)), count)
    return _combine(count, (1, summed), (1, posted), (-1, reversed_since))


def _applied_summarised(session: Session, company_id: int, windows: Sequence[Window], build: SummaryBuild
                        ) -> tuple[Sums, Sums]:
    """Summed allocations (whole months before each as-of month, then days up to the as-of date)
    + allocations posted since the build − allocations in the sums voided since."""
    count = len(windows)
    months = _summary_months(session, company_id, windows)
    days = _summary_days(session, company_id, windows)
    posted = _applied(session, company_id, windows, Allocation.id > build.allocation_mark)
    payments = _new_reversals(session, company_id, "payment", build)
    charges = _new_reversals(session, company_id, "charge", build)
    voided: tuple[Sums, Sums] = ([{} for _ in windows], [{} for _ in windows])
    if payments or charges:
        voided = _applied(session, company_id, windows, *_voided_since(build, payments, charges), counted=False)
    both = [_combine(count, (1, months[k]), (1, days[k]), (1, posted[k]), (-1, voided[k])) for k in range(2)]
    return both[0], both[1]


def _month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _summary_months(session: Session, company_id: int, windows: Sequence[Window]) -> tuple[Sums, Sums]:
    """Whole applied months before each window's as-of month."""
    s = CollectionSummary
    collected = [func.sum(case((and_(s.charge_month.between(w.periods.start, w.periods.end),
                                     s.applied_month < _month_of(w.as_of)), s.principal))) for w in windows]
    recovered = [func.sum(case((and_(s.charge_month < w.periods.start, s.applied_month >= w.periods.start,
                                     s.applied_month < _month_of(w.as_of)), s.principal))) for w in windows]
    rows = session.execute(select(s.community_id, *collected, *recovered).where(s.company_id == company_id)
                           .group_by(s.community_id)).all()
    both = _sums(rows, 2 * len(windows))
    return both[:len(windows)], both[len(windows):]


def _summary_days(session: Session, company_id: int, windows: Sequence[Window]) -> tuple[Sums, Sums]:
    """Applied days from the first of each window's as-of month to the as-of date."""
    s = CollectionSummaryDay
    collected = [func.sum(case((and_(s.charge_month.between(w.periods.start, w.periods.end),
                                     s.applied_on.between(_month_of(w.as_of), w.as_of)), s.principal)))
                 for w in windows]
    recovered = [func.sum(case((and_(s.charge_month < w.periods.start,
                                     s.applied_on.between(max(w.periods.start, _month_of(w.as_of)), w.as_of)),
                                s.principal))) for w in windows]
    rows = session.execute(
        select(s.community_id, *collected, *recovered)
        .where(s.company_id == company_id, or_(*(s.applied_on.between(_month_of(w.as_of), w.as_of) for w in windows)))
        .group_by(s.community_id)).all()
    both = _sums(rows, 2 * len(windows))
    return both[:len(windows)], both[len(windows):]


def _voided_since(build: SummaryBuild, payments: list[int], charges: list[int]) -> list[Any]:
    """Allocations in the sums that a reversal made after the build voids now.

    Only the reversal of its payment or of its charge voids an allocation (and reverses the
    charge), so one was in the sums if neither reversal existed at the build, and is out of them
    now if one was made since."""
    old = exists().where(Reversal.id <= build.reversal_mark, or_(
        and_(Reversal.entity == "payment", Reversal.entity_id == Allocation.payment_id),
        and_(Reversal.entity == "charge", Reversal.entity_id == Allocation.charge_id)))
    return [Allocation.id <= build.allocation_mark,
            or_(Allocation.payment_id.in_(payments), Allocation.charge_id.in_(charges)),
            or_(Allocation.voided_on.is_not(None), Charge.reversed_on.is_not(None)), ~old]
