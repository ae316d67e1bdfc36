"""The billing run: post every charge due up to a month, idempotently (E1, E9, L1).

Charges are keyed by unit, fee item, period start and ownership record; a key that is already
posted is skipped, so a repeated run adds nothing. By default a unit resumes after the latest
period already billed for each fee item (cheap at city scale); `rescan=True` re-examines every
period since the schedule started (after gaps in ownership data have been filled).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from arrears.domain.periods import (
    BillingCycle,
    DueRule,
    Period,
    due_date,
    period_amount,
    periods_through,
    split_by_days,
)
from arrears.persistence.enums import ChargeSource, FeeBasis
from arrears.persistence.models import (
    Charge,
    Community,
    FeeSchedule,
    Ownership,
    OwnershipParty,
    Unit,
)

from . import audit, payment_batch
from .actor import Actor
from .errors import N_, NotFound

Progress = Callable[[int, int], None]
CHUNK = 2000


@dataclass
class BillingResult:
    units: int = 0
    created: int = 0
    amount: Decimal = Decimal("0.00")
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlannedCharge:
    unit_id: int
    ownership_id: int
    fee_item_id: int
    period: Period
    due: dt.date
    amount: Decimal


def run_billing(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    through: dt.date,
    today: dt.date,
    community_code: str | None = None,
    rescan: bool = False,
    progress: Progress | None = None,
) -> BillingResult:
    """Bill every unit of the company (or one community) through `through`'s month."""
    communities = _communities(session, company_id, community_code)
    schedules = _schedules(session, [c.id for c in communities])
    unit_ids = list(
        session.scalars(
            select(Unit.id).where(Unit.community_id.in_([c.id for c in communities])).order_by(Unit.id)
        )
    )
    result = BillingResult(units=len(unit_ids))
    for start in range(0, len(unit_ids), CHUNK):
        chunk = unit_ids[start : start + CHUNK]
        _bill_units(session, chunk, schedules, through, today, rescan, result)
        if progress:
            progress(min(start + CHUNK, len(unit_ids)), len(unit_ids))
    if progress and not unit_ids:
        progress(0, 0)
    audit.record(
        session, actor, "billing.run", "company", company_id, company_id=company_id,
        through=through.isoformat(), community=community_code, created=result.created,
        amount=str(result.amount), warnings=len(result.warnings),
    )
    return result


def bill_unit_periods(
    session: Session, unit: Unit, periods_from: dt.date, through: dt.date, today: dt.date
) -> BillingResult:
    """Re-bill one unit from a date (after an ownership change reversed its charges)."""
    schedules = _schedules(session, [unit.community_id])
    result = BillingResult(units=1)
    _bill_units(session, [unit.id], schedules, through, today, True, result, not_before=periods_from)
    return result


def _communities(session: Session, company_id: int, code: str | None) -> list[Community]:
    query = select(Community).where(Community.company_id == company_id)
    if code:
        query = query.where(Community.code == code)
    communities = list(session.scalars(query))
    if code and not communities:
        raise NotFound(N_("community %(code)s not found"), code=code)
    return communities


def _schedules(session: Session, community_ids: Sequence[int]) -> dict[int, list[FeeSchedule]]:
    by_community: dict[int, list[FeeSchedule]] = defaultdict(list)
    query = select(FeeSchedule).where(FeeSchedule.community_id.in_(community_ids))
    for schedule in session.scalars(query.order_by(FeeSchedule.valid_from)):
        by_community[schedule.community_id].append(schedule)
    return by_community


def _bill_units(
    session: Session,
    unit_ids: Sequence[int],
    schedules: dict[int, list[FeeSchedule]],
    through: dt.date,
    today: dt.date,
    rescan: bool,
    result: BillingResult,
    not_before: dt.date | None = None,
) -> None:
    units = session.scalars(select(Unit).where(Unit.id.in_(unit_ids))).all()
    ownerships = _ownerships(session, unit_ids)
    existing, latest = _existing_keys(session, unit_ids, rescan or not_before is not None)
    rows: list[dict[str, object]] = []
    for unit in units:
        for schedule in schedules.get(unit.community_id, []):
            if schedule.unit_type != unit.unit_type:
                continue
            resume_after = None if rescan else latest.get((unit.id, schedule.fee_item_id))
            for planned in _plan_unit(session, unit, schedule, ownerships, through, resume_after, not_before, result):
                key = (planned.unit_id, planned.fee_item_id, planned.period.start, planned.ownership_id)
                if key in existing:
                    continue
                existing.add(key)
                rows.append(_row(unit, planned))
    if not rows:
        return
    session.execute(insert(Charge), rows)
    result.created += len(rows)
    result.amount += sum((r["amount"] for r in rows), Decimal("0.00"))  # type: ignore[misc]
    _apply_credit(session, int(rows[0]["company_id"]), {int(r["unit_id"]) for r in rows}, today)  # type: ignore[call-overload]


def _row(unit: Unit, planned: PlannedCharge) -> dict[str, object]:
    return {
        "company_id": unit.company_id,
        "unit_id": unit.id,
        "ownership_id": planned.ownership_id,
        "fee_item_id": planned.fee_item_id,
        "period_start": planned.period.start,
        "period_end": planned.period.end,
        "period_label": planned.period.label,
        "due_date": planned.due,
        "amount": planned.amount,
        "principal_outstanding": planned.amount,
        "late_fee_paid": Decimal("0.00"),
        "source": ChargeSource.BILLING,
        "created_at": dt.datetime.now(dt.timezone.utc),
    }


def _plan_unit(
    session: Session,
    unit: Unit,
    schedule: FeeSchedule,
    ownerships: dict[int, list[Ownership]],
    through: dt.date,
    resume_after: dt.date | None,
    not_before: dt.date | None,
    result: BillingResult,
) -> Iterable[PlannedCharge]:
    quantity = unit.area if schedule.basis == FeeBasis.PER_M2 else Decimal(1)
    for period, due in _schedule_periods(schedule.cycle, schedule.valid_from, schedule.valid_to,
                                         schedule.due_rule, schedule.due_day, through):
        if resume_after is not None and period.start <= resume_after:
            continue
        if not_before is not None and period.end < not_before:
            continue
        amount = period_amount(quantity, schedule.rate, period.months)
        records = _covering(session, unit, ownerships, period)
        parts = [(max(o.valid_from, period.start), min(o.valid_to or period.end, period.end)) for o in records]
        covered = sum((end - start).days + 1 for start, end in parts)
        if covered < period.days:
            result.warnings.append(
                f"unit {unit.community.code}/{unit.code}: {period.days - covered} day(s) of {period.label} "
                "have no ownership record and were not billed"
            )
        if not parts:
            continue
        amounts = [amount] if covered == period.days and len(parts) == 1 else split_by_days(amount, period, parts)
        for record, part_amount in zip(records, amounts):
            if part_amount > 0:
                yield PlannedCharge(unit.id, record.id, schedule.fee_item_id, period, due, part_amount)


@lru_cache(maxsize=256)
def _schedule_periods(
    cycle: BillingCycle, valid_from: dt.date, valid_to: dt.date | None, rule: DueRule, day: int | None,
    through: dt.date,
) -> tuple[tuple[Period, dt.date], ...]:
    """A schedule's periods and due dates through a month: the same for every unit, so once."""
    periods = periods_through(cycle, valid_from, through)
    return tuple((p, due_date(p, rule, day)) for p in periods if valid_to is None or p.start <= valid_to)


def _covering(
    session: Session, unit: Unit, ownerships: dict[int, list[Ownership]], period: Period
) -> list[Ownership]:
    """Ownership records overlapping the period; before delivery the developer owes (L1)."""
    records = ownerships.get(unit.id, [])
    if unit.delivered_on is not None and period.start < unit.delivered_on:
        developer = _developer_ownership(session, unit, records, period.start)
        if developer is not None and developer not in records:
            records.insert(0, developer)
            records.sort(key=lambda o: o.valid_from)
    return [
        o for o in records if o.valid_from <= period.end and (o.valid_to is None or o.valid_to >= period.start)
    ]


def _developer_ownership(
    session: Session, unit: Unit, records: list[Ownership], needed_from: dt.date
) -> Ownership | None:
    developer_id = unit.community.developer_id
    if developer_id is None or unit.delivered_on is None:
        return None
    before_delivery = unit.delivered_on - dt.timedelta(days=1)
    for record in records:
        if record.valid_to == before_delivery and any(p.owner_id == developer_id for p in record.parties):
            return record
    first_owned = min((o.valid_from for o in records), default=unit.delivered_on)
    end = min(before_delivery, first_owned - dt.timedelta(days=1))
    if end < needed_from:
        return None
    record = Ownership(unit_id=unit.id, valid_from=needed_from, valid_to=end, note="developer before delivery (L1)")
    record.parties.append(OwnershipParty(owner_id=developer_id))
    session.add(record)
    session.flush()
    return record


def _ownerships(session: Session, unit_ids: Sequence[int]) -> dict[int, list[Ownership]]:
    by_unit: dict[int, list[Ownership]] = defaultdict(list)
    query = select(Ownership).where(Ownership.unit_id.in_(unit_ids)).order_by(Ownership.valid_from)
    for record in session.scalars(query):
        by_unit[record.unit_id].append(record)
    return by_unit


def _existing_keys(
    session: Session, unit_ids: Sequence[int], all_periods: bool
) -> tuple[set[tuple[int, int, dt.date, int]], dict[tuple[int, int], dt.date]]:
    """Posted charge keys of the units, and the latest billed period per unit and fee item.

    When resuming after the latest period, only keys from the earliest such period on matter.
    """
    latest: dict[tuple[int, int], dt.date] = {}
    query = (
        select(Charge.unit_id, Charge.fee_item_id, func.max(Charge.period_start))
        .where(Charge.unit_id.in_(unit_ids), Charge.reversed_on.is_(None))
        .group_by(Charge.unit_id, Charge.fee_item_id)
    )
    for unit_id, fee_item_id, last in session.execute(query):
        latest[(unit_id, fee_item_id)] = last
    keys_query = select(Charge.unit_id, Charge.fee_item_id, Charge.period_start, Charge.ownership_id).where(
        Charge.unit_id.in_(unit_ids), Charge.reversed_on.is_(None)
    )
    if latest and not all_periods:
        keys_query = keys_query.where(Charge.period_start >= min(latest.values()))
    existing = {tuple(row) for row in session.execute(keys_query)}
    return existing, latest  # type: ignore[return-value]


def _apply_credit(session: Session, company_id: int, unit_ids: set[int], today: dt.date) -> None:
    payment_batch.apply_credits(session, company_id, unit_ids, today=today)
