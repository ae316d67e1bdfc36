"""Posting many payments at once (imports, demo data): the same rules as one by one (L6), with
the ledger of the paid units loaded once and every write done in bulk.

Each unit's payments are applied in date order against an in-memory copy of its ledger, so a
later payment sees what an earlier one paid. Receipts already recorded with the same content are
skipped (a repeated import is a no-op); the same receipt with other content is an error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.allocation import AllocationPolicy, Component, OpenCharge, allocate
from arrears.domain.calendar import HolidayCalendar, add_years, load_default_calendar
from arrears.domain.latefees import LateFeeTerms
from arrears.domain.money import MoneyError, parse_money
from arrears.domain.limitation import LIMITATION_YEARS
from arrears.domain.statement import Application, ChargeFacts, build_statement, charge_late_fee
from arrears.persistence.bulk import insert_rows, update_by_id
from arrears.persistence.models import (
    Allocation,
    AuditEntry,
    Charge,
    Company,
    Ownership,
    OwnershipParty,
    Payment,
    Unit,
)

from .actor import Actor
from .errors import N_, ServiceError, invalid_amount
from .facts import load_unit_facts
from .statements import terms_of
from .tenancy import check_books_open, get_company

CHUNK = 1000
ZERO = Decimal("0.00")


class PaymentRowError(ServiceError):
    """A payment of the batch cannot be posted; `index` is its position in the input."""

    def __init__(self, index: int, message: str, **params: object) -> None:
        super().__init__(message, **params)
        self.index = index


@dataclass(frozen=True)
class PaymentInput:
    unit_id: int
    payer_id: int
    receipt_ref: str
    received_on: dt.date
    amount: Decimal | str
    method: str = "bank_transfer"
    designation: tuple[int, ...] = ()
    note: str | None = None


@dataclass
class BatchResult:
    created: int = 0
    unchanged: int = 0
    payment_ids: dict[str, int] = field(default_factory=dict)  # receipt -> id, new and existing


@dataclass
class _UnitLedger:
    """One unit's charges while the batch is applied: facts for the engine, caches to write back."""

    facts: dict[int, ChargeFacts]
    ownership_of: dict[int, int]
    outstanding: dict[int, Decimal]
    late_fee_paid: dict[int, Decimal]
    is_cost: dict[int, bool]
    terms: LateFeeTerms
    policy: AllocationPolicy
    touched: set[int] = field(default_factory=set)
    # Late fee still owed on charges whose principal is paid: it no longer accrues, so it is
    # computed once and then only reduced by payments of it.
    settled_fee: dict[int, Decimal] = field(default_factory=dict)


def record_payments(
    session: Session,
    actor: Actor,
    company_id: int,
    inputs: Sequence[PaymentInput],
    *,
    today: dt.date,
    import_batch_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    company = get_company(session, company_id)
    result = BatchResult()
    rows = _validate(session, company, inputs, today, result)
    if not rows:
        return result
    session.flush()
    ledgers = _load_ledgers(session, company_id, {data.unit_id for _, data, _ in rows})
    parties = _payer_ownerships(session, {data.unit_id for _, data, _ in rows})
    calendar = load_default_calendar()
    planned: list[tuple[int, PaymentInput, Decimal, list[tuple[int, Component, Decimal, dt.date]], Decimal]] = []
    ordered = sorted(rows, key=lambda r: (r[1].received_on, r[0]))
    for done, (index, data, amount) in enumerate(ordered, start=1):
        ledger = ledgers.get(data.unit_id)
        if ledger is None:
            raise PaymentRowError(index, N_("unit %(id)s does not exist"), id=data.unit_id)
        owned = parties.get(data.unit_id, {}).get(data.payer_id)
        if not owned:
            raise PaymentRowError(index, N_("the payer is not an owner (or former owner) of this unit"))
        designation = _designation(index, ledger, data.designation)
        allocations, credit = _apply(ledger, owned, amount, data, designation, calendar)
        planned.append((index, data, amount, allocations, credit))
        if progress and (done % 1000 == 0 or done == len(ordered)):
            progress(done, len(ordered))
    _write(session, actor, company_id, planned, ledgers, import_batch_id, result)
    return result


def _validate(
    session: Session, company: Company, inputs: Sequence[PaymentInput], today: dt.date, result: BatchResult
) -> list[tuple[int, PaymentInput, Decimal]]:
    """Parse amounts, refuse future and closed-book dates, skip receipts already recorded."""
    parsed: dict[str, tuple[int, PaymentInput, Decimal]] = {}
    for index, data in enumerate(inputs):
        ref = data.receipt_ref.strip()
        if not ref:
            raise PaymentRowError(index, N_("a receipt reference is required"))
        try:
            amount = parse_money(data.amount)
        except MoneyError as exc:
            error = invalid_amount(data.amount)
            raise PaymentRowError(index, error.message, **error.params) from exc
        if amount <= 0:
            raise PaymentRowError(index, N_("the amount must be greater than zero"))
        data = dataclasses.replace(data, receipt_ref=ref)
        if ref in parsed:
            if _content(parsed[ref][1], parsed[ref][2]) != _content(data, amount):
                raise PaymentRowError(index, N_("receipt %(ref)s appears twice with different content"), ref=ref)
            continue
        parsed[ref] = (index, data, amount)
    existing = _existing_receipts(session, company.id, list(parsed))
    rows = []
    for ref, (index, data, amount) in parsed.items():
        if ref in existing:
            payment_id, content = existing[ref]
            if content != _content(data, amount):
                raise PaymentRowError(index, N_("receipt %(ref)s is already recorded with different content"), ref=ref)
            result.unchanged += 1
            result.payment_ids[ref] = payment_id
            continue
        if data.received_on > today:
            raise PaymentRowError(index, N_("a payment cannot be dated in the future"))
        try:
            check_books_open(company, data.received_on)
        except ServiceError as exc:
            raise PaymentRowError(index, exc.message, **exc.params) from exc
        rows.append((index, data, amount))
    return rows


def _content(data: PaymentInput, amount: Decimal) -> tuple[int, int, dt.date, Decimal]:
    return (data.unit_id, data.payer_id, data.received_on, amount)


def _existing_receipts(
    session: Session, company_id: int, refs: list[str]
) -> dict[str, tuple[int, tuple[int, int, dt.date, Decimal]]]:
    found = {}
    for start in range(0, len(refs), CHUNK):
        query = select(Payment.id, Payment.receipt_ref, Payment.unit_id, Payment.payer_id,
                       Payment.received_on, Payment.amount).where(
            Payment.company_id == company_id, Payment.receipt_ref.in_(refs[start : start + CHUNK])
        )
        for pid, ref, unit_id, payer_id, received_on, amount in session.execute(query):
            found[ref] = (pid, (unit_id, payer_id, received_on, amount))
    return found


def _load_ledgers(session: Session, company_id: int, unit_ids: set[int]) -> dict[int, _UnitLedger]:
    ledgers: dict[int, _UnitLedger] = {}
    ids = sorted(unit_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        units = session.scalars(select(Unit).where(Unit.id.in_(chunk), Unit.company_id == company_id)).all()
        facts = load_unit_facts(session, [u.id for u in units])
        caches = session.execute(
            select(Charge.id, Charge.unit_id, Charge.principal_outstanding, Charge.late_fee_paid).where(
                Charge.unit_id.in_(chunk), Charge.reversed_on.is_(None)
            )
        ).all()
        by_unit: dict[int, list[tuple[int, Decimal, Decimal]]] = defaultdict(list)
        for charge_id, unit_id, outstanding, fee_paid in caches:
            by_unit[unit_id].append((charge_id, outstanding, fee_paid))
        for unit in units:
            unit_facts = facts[unit.id]
            ledgers[unit.id] = _UnitLedger(
                facts={f.key: f for f in unit_facts.charges},
                ownership_of=dict(unit_facts.ownership_of),
                outstanding={cid: o for cid, o, _ in by_unit[unit.id]},
                late_fee_paid={cid: p for cid, _, p in by_unit[unit.id]},
                is_cost={f.key: f.is_cost for f in unit_facts.charges},
                terms=terms_of(unit.community),
                policy=AllocationPolicy(unit.community.allocation_policy),
            )
    return ledgers


def _payer_ownerships(session: Session, unit_ids: set[int]) -> dict[int, dict[int, set[int]]]:
    """unit -> payer -> the ownership records the payer is a party of."""
    result: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    ids = sorted(unit_ids)
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(Ownership.unit_id, OwnershipParty.owner_id, Ownership.id)
            .join(OwnershipParty, OwnershipParty.ownership_id == Ownership.id)
            .where(Ownership.unit_id.in_(ids[start : start + CHUNK]))
        )
        for unit_id, owner_id, ownership_id in rows:
            result[unit_id][owner_id].add(ownership_id)
    return result


def _designation(index: int, ledger: _UnitLedger, charge_ids: tuple[int, ...]) -> list[int]:
    missing = [c for c in charge_ids if c not in ledger.facts]
    if missing:
        raise PaymentRowError(index, N_("designated charges %(ids)s are not open charges of this unit"),
                              ids=", ".join(map(str, missing)))
    return list(charge_ids)


def _apply(
    ledger: _UnitLedger,
    owned: set[int],
    amount: Decimal,
    data: PaymentInput,
    designation: list[int],
    calendar: HolidayCalendar,
    paid_on: dt.date | None = None,
) -> tuple[list[tuple[int, Component, Decimal, dt.date]], Decimal]:
    """Allocate one payment against the unit's in-memory ledger and record the result in it.

    `data.received_on` is the allocation date; for credit applied later (`paid_on` = when the
    money came), a charge counts as paid from its due date if the money was there by then.
    """
    on = data.received_on
    mine = [key for key, ownership in ledger.ownership_of.items() if ownership in owned]
    candidates = [key for key in mine if ledger.outstanding[key] > 0 or _may_owe_late_fee(ledger, key, on)]
    barred = _time_barred(ledger, [k for k in candidates if _may_be_time_barred(ledger.facts[k].due_date, on)],
                          on, calendar)
    open_charges = []
    for key in sorted(candidates, key=lambda k: (ledger.facts[k].due_date, k)):
        late_fee = _late_fee_owed(ledger, key, on)
        if ledger.outstanding[key] <= 0 and late_fee <= 0:
            continue
        open_charges.append(OpenCharge(key=key, due_date=ledger.facts[key].due_date,
                                       principal=ledger.outstanding[key], late_fee=late_fee,
                                       is_cost=ledger.is_cost[key], time_barred=key in barred))
    if not open_charges:
        return [], amount
    result = allocate(amount, open_charges, on=on, policy=ledger.policy,
                      designated=[k for k in designation if k in {c.key for c in open_charges}])
    posted = []
    for allocation in result.allocations:
        applied_on = on if paid_on is None else max(paid_on, min(ledger.facts[allocation.key].due_date, on))
        source = "payment" if paid_on is None or applied_on == paid_on else "credit"
        _book(ledger, allocation.key, allocation.component, allocation.amount, applied_on, data.receipt_ref, source)
        posted.append((allocation.key, allocation.component, allocation.amount, applied_on))
    return posted, result.credit


def _late_fee_owed(ledger: _UnitLedger, key: int, on: dt.date) -> Decimal:
    if ledger.terms.rate_per_day is None or ledger.is_cost[key]:
        return ZERO
    if ledger.outstanding[key] > 0:
        return charge_late_fee(ledger.facts[key], on, ledger.terms).outstanding
    if key not in ledger.settled_fee:
        ledger.settled_fee[key] = charge_late_fee(ledger.facts[key], on, ledger.terms).outstanding
    return ledger.settled_fee[key]


def _may_be_time_barred(due_date: dt.date, on: dt.date) -> bool:
    """Interruptions only lengthen limitation, so a charge younger than the base period is safe
    without computing it (L4)."""
    return add_years(due_date + dt.timedelta(days=1), LIMITATION_YEARS) < on


def _time_barred(ledger: _UnitLedger, keys: list[int], on: dt.date, calendar: HolidayCalendar) -> set[int]:
    if not keys:
        return set()
    lines = build_statement([ledger.facts[k] for k in keys], as_of=on, terms=ledger.terms,
                            calendar=calendar, policy=ledger.policy).lines
    return {line.key for line in lines if line.time_barred}


def _may_owe_late_fee(ledger: _UnitLedger, key: int, on: dt.date) -> bool:
    """A fully paid charge can still owe its late fee (principal_first pays fees last)."""
    if ledger.terms.rate_per_day is None or ledger.is_cost[key]:
        return False
    if key in ledger.settled_fee:
        return ledger.settled_fee[key] > 0
    facts = ledger.facts[key]
    return facts.due_date < on and any(a.on > facts.due_date for a in facts.applications if a.reduces_principal)


def _book(
    ledger: _UnitLedger, key: int, component: Component, amount: Decimal, on: dt.date, ref: str,
    source: str = "payment",
) -> None:
    facts = ledger.facts[key]
    application = Application(on=on, component=component, amount=amount, source=source, ref=ref)
    ledger.facts[key] = dataclasses.replace(facts, applications=facts.applications + (application,))
    if component == Component.LATE_FEE:
        ledger.late_fee_paid[key] += amount
        if key in ledger.settled_fee:
            ledger.settled_fee[key] -= amount
    else:
        ledger.outstanding[key] -= amount
    ledger.touched.add(key)


def _write(
    session: Session,
    actor: Actor,
    company_id: int,
    planned: list[tuple[int, PaymentInput, Decimal, list[tuple[int, Component, Decimal, dt.date]], Decimal]],
    ledgers: dict[int, _UnitLedger],
    import_batch_id: int | None,
    result: BatchResult,
) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    payment_rows = [
        {
            "company_id": company_id, "unit_id": data.unit_id, "payer_id": data.payer_id,
            "receipt_ref": data.receipt_ref, "received_on": data.received_on, "amount": amount,
            "method": data.method, "designation": list(data.designation), "note": data.note,
            "created_by": actor.name, "import_batch_id": import_batch_id, "unapplied": credit,
            "created_at": now,
        }
        for _, data, amount, _, credit in planned
    ]
    # COPY (or a plain executemany) and one lookup of the new ids by receipt is much faster
    # than INSERT … RETURNING over many rows.
    insert_rows(session, Payment.__table__, payment_rows)
    by_ref = _existing_receipts(session, company_id, [row["receipt_ref"] for row in payment_rows])
    ids = [by_ref[row["receipt_ref"]][0] for row in payment_rows]
    allocation_rows, audit_rows = [], []
    for payment_id, (_, data, amount, allocations, credit) in zip(ids, planned):
        result.payment_ids[data.receipt_ref] = payment_id
        allocation_rows += _allocation_rows(payment_id, allocations, now)
        audit_rows.append({
            "company_id": company_id, "user_id": actor.user_id, "actor": actor.name, "action": "payment.record",
            "entity": "payment", "entity_id": payment_id, "at": now, "message": None,
            "detail": {"unit_id": data.unit_id, "amount": str(amount), "receipt_ref": data.receipt_ref,
                       "credit": str(credit)},
        })
    insert_rows(session, Allocation.__table__, allocation_rows)
    insert_rows(session, AuditEntry.__table__, audit_rows)
    _write_caches(session, ledgers, [])
    result.created += len(ids)


def apply_credits(session: Session, company_id: int, unit_ids: set[int], *, today: dt.date) -> int:
    """Let credit balances on these units pay their open charges, oldest money first (used after
    billing posts new charges); returns the number of allocations made."""
    payments = session.execute(
        select(Payment.id, Payment.unit_id, Payment.payer_id, Payment.received_on, Payment.unapplied,
               Payment.receipt_ref)
        .where(Payment.unit_id.in_(sorted(unit_ids)), Payment.unapplied > 0, Payment.reversed_on.is_(None))
        .order_by(Payment.received_on, Payment.id)
    ).all() if unit_ids else []
    if not payments:
        return 0
    units = {p.unit_id for p in payments}
    ledgers = _load_ledgers(session, company_id, units)
    parties = _payer_ownerships(session, units)
    calendar = load_default_calendar()
    now = dt.datetime.now(dt.timezone.utc)
    allocation_rows, payment_rows = [], []
    for payment in payments:
        owned = parties.get(payment.unit_id, {}).get(payment.payer_id)
        if not owned or payment.unit_id not in ledgers:
            continue
        on = max(today, payment.received_on)
        data = PaymentInput(payment.unit_id, payment.payer_id, payment.receipt_ref, on, payment.unapplied)
        posted, left = _apply(ledgers[payment.unit_id], owned, payment.unapplied, data, [], calendar,
                              paid_on=payment.received_on)
        if not posted:
            continue
        allocation_rows += _allocation_rows(payment.id, posted, now)
        payment_rows.append({"id": payment.id, "unapplied": left})
    insert_rows(session, Allocation.__table__, allocation_rows)
    _write_caches(session, ledgers, payment_rows)
    return len(allocation_rows)


def _allocation_rows(
    payment_id: int, posted: list[tuple[int, Component, Decimal, dt.date]], now: dt.datetime
) -> list[dict[str, object]]:
    return [
        {"payment_id": payment_id, "charge_id": key, "component": component, "amount": value,
         "applied_on": applied_on, "created_at": now}
        for key, component, value, applied_on in posted
    ]


def _write_caches(session: Session, ledgers: dict[int, _UnitLedger], payment_rows: list[dict[str, object]]) -> None:
    """Write back the cached balances the batch changed; objects loaded before must not show
    stale values."""
    charge_rows = [
        {"id": key, "principal_outstanding": ledger.outstanding[key], "late_fee_paid": ledger.late_fee_paid[key]}
        for ledger in ledgers.values()
        for key in ledger.touched
    ]
    update_by_id(session, Charge.__table__, charge_rows)
    update_by_id(session, Payment.__table__, payment_rows)
    charge_ids = {row["id"] for row in charge_rows}
    payment_ids = {row["id"] for row in payment_rows}
    for obj in list(session.identity_map.values()):
        if (isinstance(obj, Charge) and obj.id in charge_ids) or (isinstance(obj, Payment) and obj.id in payment_ids):
            session.expire(obj)
