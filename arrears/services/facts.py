"""Load the ledger of units as the domain's plain facts, a few queries per chunk of units.

Reversed charges, payments and adjustments are left out: statements show the corrected ledger,
and the reversals themselves stay visible in the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.allocation import Component
from arrears.domain.statement import Application, ChargeFacts
from arrears.persistence.enums import FeeKind
from arrears.persistence.models import (
    Adjustment,
    Allocation,
    Charge,
    FeeItem,
    Interruption,
    InterruptionCharge,
    Payment,
)


@dataclass(frozen=True)
class UnitFacts:
    charges: list[ChargeFacts]
    ownership_of: dict[int, int]  # charge id -> ownership id
    payments: list[tuple[int, dt.date, Decimal, list[tuple[dt.date, Decimal]]]]  # payer, date, amount, applications


def load_unit_facts(session: Session, unit_ids: Sequence[int]) -> dict[int, UnitFacts]:
    # Plain columns, not ORM entities: this runs for every unit of a company at city scale.
    charges = session.execute(
        select(
            Charge.id, Charge.unit_id, Charge.ownership_id, Charge.period_label, Charge.period_start,
            Charge.period_end, Charge.due_date, Charge.amount, Charge.kind, FeeItem.name.label("fee_item"),
        )
        .join(FeeItem, FeeItem.id == Charge.fee_item_id)
        .where(Charge.unit_id.in_(unit_ids), Charge.reversed_on.is_(None))
        .order_by(Charge.due_date, Charge.id)
    ).all()
    # The related rows are found through their charge's unit: `IN` lists stay as short as the
    # chunk of units (a list of every charge id would pass the driver's parameter limit).
    applications = _applications(session, unit_ids)
    interruptions = _interruptions(session, unit_ids)
    by_unit: dict[int, list[ChargeFacts]] = defaultdict(list)
    ownership_of: dict[int, dict[int, int]] = defaultdict(dict)
    for charge in charges:
        by_unit[charge.unit_id].append(
            ChargeFacts(
                key=charge.id,
                label=charge.period_label,
                fee_item=charge.fee_item,
                period_start=charge.period_start,
                period_end=charge.period_end,
                due_date=charge.due_date,
                amount=charge.amount,
                is_cost=charge.kind == FeeKind.COST,
                applications=tuple(applications.get(charge.id, ())),
                interruptions=tuple(interruptions.get(charge.id, ())),
            )
        )
        ownership_of[charge.unit_id][charge.id] = charge.ownership_id
    payments = _payments(session, unit_ids)
    return {
        unit_id: UnitFacts(by_unit.get(unit_id, []), ownership_of.get(unit_id, {}), payments.get(unit_id, []))
        for unit_id in unit_ids
    }


def credit_as_of(facts: UnitFacts, as_of: dt.date, payer_ids: set[int] | None = None) -> Decimal:
    """Money received by `as_of` and not applied by then (the credit balance)."""
    total = Decimal("0.00")
    for payer_id, received_on, amount, applied in facts.payments:
        if received_on > as_of or (payer_ids is not None and payer_id not in payer_ids):
            continue
        total += amount - sum((a for on, a in applied if on <= as_of), Decimal("0.00"))
    return total


def _live_charges(unit_ids: Sequence[int]):  # type: ignore[no-untyped-def]
    return select(Charge.id).where(Charge.unit_id.in_(unit_ids), Charge.reversed_on.is_(None))


def _applications(session: Session, unit_ids: Sequence[int]) -> dict[int, list[Application]]:
    result: dict[int, list[Application]] = defaultdict(list)
    allocations = session.execute(
        select(Allocation.charge_id, Allocation.applied_on, Allocation.component, Allocation.amount,
               Payment.receipt_ref, Payment.received_on)
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Payment.unit_id.in_(unit_ids), Allocation.voided_on.is_(None))
        .order_by(Allocation.applied_on, Allocation.id)
    )
    for allocation in allocations:
        receipt_ref, received_on = allocation.receipt_ref, allocation.received_on
        # Money applied on the day it was paid is a payment (an acknowledgement, L5); money
        # applied later from a credit balance is not.
        source = "payment" if allocation.applied_on == received_on else "credit"
        result[allocation.charge_id].append(
            Application(
                on=allocation.applied_on,
                component=Component(allocation.component),
                amount=allocation.amount,
                source=source,
                ref=receipt_ref,
            )
        )
    adjustments = session.execute(
        select(Adjustment.charge_id, Adjustment.effective_on, Adjustment.component, Adjustment.amount,
               Adjustment.reason).where(Adjustment.charge_id.in_(_live_charges(unit_ids)),
                                        Adjustment.voided_on.is_(None))
    )
    for adjustment in adjustments:
        result[adjustment.charge_id].append(
            Application(
                on=adjustment.effective_on,
                component=Component(adjustment.component),
                amount=adjustment.amount,
                source="adjustment",
                ref=str(adjustment.reason),
            )
        )
    return result


def _interruptions(session: Session, unit_ids: Sequence[int]) -> dict[int, list[dt.date]]:
    result: dict[int, list[dt.date]] = defaultdict(list)
    rows = session.execute(
        select(InterruptionCharge.charge_id, Interruption.occurred_on)
        .join(Interruption, Interruption.id == InterruptionCharge.interruption_id)
        .where(Interruption.unit_id.in_(unit_ids))
    )
    for charge_id, occurred_on in rows:
        result[charge_id].append(occurred_on)
    return result


def _payments(
    session: Session, unit_ids: Sequence[int]
) -> dict[int, list[tuple[int, dt.date, Decimal, list[tuple[dt.date, Decimal]]]]]:
    rows = session.execute(
        select(Payment.id, Payment.unit_id, Payment.payer_id, Payment.received_on, Payment.amount).where(
            Payment.unit_id.in_(unit_ids), Payment.reversed_on.is_(None)
        )
    ).all()
    applied: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    if rows:
        for payment_id, on, amount in session.execute(
            select(Allocation.payment_id, Allocation.applied_on, Allocation.amount)
            .join(Payment, Payment.id == Allocation.payment_id)
            .where(Payment.unit_id.in_(unit_ids), Payment.reversed_on.is_(None), Allocation.voided_on.is_(None))
        ):
            applied[payment_id].append((on, amount))
    result: dict[int, list[tuple[int, dt.date, Decimal, list[tuple[dt.date, Decimal]]]]] = defaultdict(list)
    for row in rows:
        result[row.unit_id].append((row.payer_id, row.received_on, row.amount, applied.get(row.id, [])))
    return result
