"""Payment plans: instalments agreed with the owner; a kept plan pauses the case (issue 3 §3).

Agreeing to a plan is the owner's acknowledgement of the debt (L5): it is recorded as a
limitation interruption for the case's overdue charges open on the agreement day. A plan is
judged from dated payments (arrears.domain.plans.judge): a missed instalment after the grace days
breaks it for good, and escalation resumes from the stage the case kept.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.money import MoneyError, parse_money
from arrears.domain.plans import Instalment, PlanState, ScheduleProblem, judge, schedule_problems, total
from arrears.persistence.enums import CaseStatus, InterruptionKind, PlanStatus
from arrears.persistence.escalation import CollectionCase, PaymentPlan, PlanInstalment
from arrears.persistence.models import Charge, OwnershipParty, Payment

from .. import audit
from ..actor import Actor
from ..errors import N_, ServiceError, invalid_amount
from ..interruptions import record_interruption
from .cases import get_case, get_case_child

_PROBLEMS = {
    ScheduleProblem.NO_INSTALMENTS: N_("a payment plan needs at least one instalment"),
    ScheduleProblem.NON_POSITIVE_AMOUNT: N_("every instalment must be greater than zero"),
    ScheduleProblem.DATES_NOT_INCREASING: N_("instalment dates must be strictly increasing"),
    ScheduleProblem.BEFORE_AGREEMENT: N_("the first instalment cannot fall before the agreement date"),
    ScheduleProblem.NEGATIVE_GRACE: N_("grace days cannot be negative"),
    ScheduleProblem.EXCEEDS_BALANCE: N_("the instalments total %(total)s, more than the open balance %(balance)s"),
}
_STATUS = {PlanState.BROKEN: PlanStatus.BROKEN, PlanState.COMPLETED: PlanStatus.COMPLETED,
           PlanState.KEPT: PlanStatus.ACTIVE}


def create_plan(
    session: Session, actor: Actor, company_id: int, case_id: int, *, agreed_on: dt.date,
    instalments: Sequence[tuple[dt.date, Decimal | str]], grace_days: int, note: str | None, today: dt.date,
) -> PaymentPlan:
    """Record an agreed plan and the acknowledgement it is (L5). One active plan per case."""
    case = get_case(session, company_id, case_id, lock=True)
    if case.status != CaseStatus.OPEN:
        raise ServiceError(N_("case %(id)s is closed; a plan needs an open case"), id=case.id)
    if agreed_on > today:
        raise ServiceError(N_("a plan cannot be agreed in the future"))
    active = _active_plan(session, case.id)
    if active is not None:
        raise ServiceError(N_("case %(case)s already has an active payment plan (%(id)s)"), case=case.id, id=active.id)
    schedule = [Instalment(on, _money(amount)) for on, amount in instalments]
    charges = _open_charges(session, case)
    overdue = [c for c in charges if c.due_date < agreed_on]
    if not overdue:
        raise ServiceError(N_("the case has no overdue charges on %(date)s to schedule"), date=agreed_on.isoformat())
    _check_schedule(agreed_on, schedule, grace_days, sum((c.principal_outstanding for c in charges), Decimal("0.00")))
    plan = PaymentPlan(case_id=case.id, agreed_on=agreed_on, grace_days=grace_days, status=PlanStatus.ACTIVE,
                       created_by=actor.name, note=(note or "").strip() or None)
    plan.instalments = [PlanInstalment(seq=n, due_on=i.due_on, amount=i.amount) for n, i in enumerate(schedule, 1)]
    session.add(plan)
    session.flush()
    event, _ = record_interruption(
        session, actor, company_id, case.unit_id, kind=InterruptionKind.PAYMENT_PLAN, occurred_on=agreed_on,
        proof_ref=f"plan:{plan.id}", charge_ids=[c.id for c in overdue], today=today, owner_id=case.owner_id,
        proof_note=plan.note, source="plan",
    )
    plan.interruption_id = event.id
    session.flush()
    audit.record(session, actor, "plan.create", "payment_plan", plan.id, company_id=company_id, case_id=case.id,
                 agreed_on=agreed_on, grace_days=grace_days, instalments=len(schedule),
                 total=total(schedule), interruption_id=event.id)
    return plan


def cancel_plan(session: Session, actor: Actor, company_id: int, plan_id: int, *, reason: str,
                today: dt.date) -> PaymentPlan:
    """Cancel an active plan (the reason is kept in the audit log); the case is no longer paused."""
    plan, case = get_case_child(session, PaymentPlan, plan_id, company_id)
    if plan.status != PlanStatus.ACTIVE:
        raise ServiceError(N_("payment plan %(id)s is %(status)s, not active"), id=plan.id, status=str(plan.status))
    if not (reason or "").strip():
        raise ServiceError(N_("cancelling a plan needs a reason"))
    if today < plan.agreed_on:
        raise ServiceError(N_("a plan cannot end before it was agreed"))
    plan.status = PlanStatus.CANCELLED
    plan.ended_on = today
    session.flush()
    audit.record(session, actor, "plan.cancel", "payment_plan", plan.id, company_id=company_id,
                 message=reason.strip(), case_id=case.id)
    return plan


def refresh_plans(session: Session, actor: Actor, company_id: int, as_of: dt.date) -> dict[int, PlanStatus]:
    """Judge every active plan of the company as of `as_of`; mark broken/completed ones (audited).

    Returns case_id -> status after evaluation (ACTIVE = kept). Plans agreed after `as_of` are
    not judged yet. Two queries whatever the number of plans.
    """
    plans = list(session.scalars(
        select(PaymentPlan).join(CollectionCase, CollectionCase.id == PaymentPlan.case_id)
        .where(CollectionCase.company_id == company_id, PaymentPlan.status == PlanStatus.ACTIVE,
               PaymentPlan.agreed_on <= as_of)
        .order_by(PaymentPlan.id)
    ))
    payments = _counted_payments(session, company_id, as_of)
    result: dict[int, PlanStatus] = {}
    for plan in plans:
        schedule = [Instalment(i.due_on, i.amount) for i in plan.instalments]
        verdict = judge(plan.agreed_on, schedule, plan.grace_days, payments.get(plan.id, []), as_of)
        status = _STATUS[verdict.state]
        if status != PlanStatus.ACTIVE:
            plan.status, plan.ended_on = status, verdict.ended_on
            audit.record(session, actor, f"plan.{status.value}", "payment_plan", plan.id, company_id=company_id,
                         case_id=plan.case_id, as_of=as_of, ended_on=verdict.ended_on, paid=verdict.paid,
                         due=verdict.due)
        result[plan.case_id] = status
    session.flush()
    return result


def kept_plan_case_ids(session: Session, company_id: int, as_of: dt.date) -> set[int]:
    """Cases paused by an active plan that is still kept as of `as_of` (refreshes plans first)."""
    statuses = refresh_plans(session, Actor.system("payment plans"), company_id, as_of)
    return {case_id for case_id, status in statuses.items() if status == PlanStatus.ACTIVE}


def _counted_payments(session: Session, company_id: int, as_of: dt.date) -> dict[int, list[tuple[dt.date, Decimal]]]:
    """Per active plan: unreversed payments on the case's unit by a party of the case's ownership,
    received from the agreement day through as_of."""
    rows = session.execute(
        select(PaymentPlan.id, Payment.received_on, Payment.amount)
        .join(CollectionCase, CollectionCase.id == PaymentPlan.case_id)
        .join(OwnershipParty, OwnershipParty.ownership_id == CollectionCase.ownership_id)
        .join(Payment, (Payment.unit_id == CollectionCase.unit_id) & (Payment.payer_id == OwnershipParty.owner_id))
        .where(
            CollectionCase.company_id == company_id,
            PaymentPlan.status == PlanStatus.ACTIVE,
            Payment.company_id == company_id,
            Payment.reversed_on.is_(None),
            Payment.received_on >= PaymentPlan.agreed_on,
            Payment.received_on <= as_of,
        )
    )
    result: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for plan_id, received_on, amount in rows:
        result[plan_id].append((received_on, amount))
    return result


def _check_schedule(agreed_on: dt.date, schedule: list[Instalment], grace_days: int, balance: Decimal) -> None:
    problems = schedule_problems(agreed_on, schedule, grace_days, balance)
    if not problems:
        return
    if problems[0] == ScheduleProblem.EXCEEDS_BALANCE:
        raise ServiceError(_PROBLEMS[problems[0]], total=total(schedule), balance=balance)
    raise ServiceError(_PROBLEMS[problems[0]])


def _open_charges(session: Session, case: CollectionCase) -> list[Charge]:
    """The case's charges with principal still open, due or not (the balance a plan may cover)."""
    return list(session.scalars(
        select(Charge).where(
            Charge.company_id == case.company_id,
            Charge.unit_id == case.unit_id,
            Charge.ownership_id == case.ownership_id,
            Charge.principal_outstanding > 0,
            Charge.reversed_on.is_(None),
        ).order_by(Charge.due_date, Charge.id)
    ))


def _active_plan(session: Session, case_id: int) -> PaymentPlan | None:
    return session.scalar(select(PaymentPlan).where(PaymentPlan.case_id == case_id,
                                                    PaymentPlan.status == PlanStatus.ACTIVE))


def _money(value: Decimal | str) -> Decimal:
    try:
        return parse_money(value)
    except MoneyError as exc:
        raise invalid_amount(value) from exc
