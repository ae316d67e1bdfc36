"""Read models for the escalation pages: work queue, case timeline, run history, letters, outbox.

Everything is scoped to one company; another company's rows are never returned (NotFound).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session

from arrears.domain.escalation import Channel
from arrears.persistence.enums import ActionStatus, CaseStatus, MessageStatus, PlanStatus
from arrears.persistence.models import (
    CaseHold,
    CaseStage,
    Charge,
    CollectionCase,
    Community,
    ContactStop,
    Delivery,
    Dispute,
    EscalationAction,
    EscalationRun,
    LetterBatch,
    Membership,
    MessageAction,
    OutboundMessage,
    Owner,
    OwnershipParty,
    Payment,
    PaymentPlan,
    StoredFile,
    Unit,
    User,
)
from arrears.services.tenancy import get_scoped

SENT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED)


# ---------------------------------------------------------------- work queue


@dataclass(frozen=True)
class QueueRow:
    case: CollectionCase
    unit: Unit
    community: Community
    owner: Owner
    responsible: User | None
    held: bool
    disputed: bool
    on_plan: bool

    @property
    def paused(self) -> bool:
        return self.held or self.disputed or self.on_plan


@dataclass(frozen=True)
class QueueFilter:
    community_id: int | None = None
    stage_code: str | None = None
    responsible_user_id: int | None = None  # 0 = nobody responsible yet
    paused: bool | None = None


def _held(today: dt.date):  # type: ignore[no-untyped-def]
    return exists().where(CaseHold.case_id == CollectionCase.id, CaseHold.released_on.is_(None),
                          CaseHold.starts_on <= today, CaseHold.ends_on >= today)


def _disputed():  # type: ignore[no-untyped-def]
    return exists().where(Dispute.case_id == CollectionCase.id, Dispute.resolved_on.is_(None))


def _on_plan():  # type: ignore[no-untyped-def]
    return exists().where(PaymentPlan.case_id == CollectionCase.id, PaymentPlan.status == PlanStatus.ACTIVE)


def work_queue(session: Session, company_id: int, today: dt.date, filters: QueueFilter, *,
               page: int = 1, per_page: int = 50) -> tuple[list[QueueRow], int]:
    """Open cases by next action date; cases without one need a person and come first."""
    held, disputed, on_plan = _held(today), _disputed(), _on_plan()
    conditions: list[Any] = [CollectionCase.company_id == company_id, CollectionCase.status == CaseStatus.OPEN]
    if filters.community_id:
        conditions.append(CollectionCase.community_id == filters.community_id)
    if filters.stage_code:
        conditions.append(CollectionCase.stage_code == filters.stage_code)
    if filters.responsible_user_id == 0:
        conditions.append(CollectionCase.responsible_user_id.is_(None))
    elif filters.responsible_user_id:
        conditions.append(CollectionCase.responsible_user_id == filters.responsible_user_id)
    if filters.paused is not None:
        is_paused = or_(held, disputed, on_plan)
        conditions.append(is_paused if filters.paused else ~is_paused)
    total = session.scalar(select(func.count()).select_from(CollectionCase).where(*conditions)) or 0
    rows = session.execute(
        select(CollectionCase, Unit, Community, Owner, User, held.label("held"),
               disputed.label("disputed"), on_plan.label("on_plan"))
        .join(Unit, Unit.id == CollectionCase.unit_id)
        .join(Community, Community.id == CollectionCase.community_id)
        .join(Owner, Owner.id == CollectionCase.owner_id)
        .outerjoin(User, User.id == CollectionCase.responsible_user_id)
        .where(*conditions)
        .order_by(case((CollectionCase.next_action_on.is_(None), 0), else_=1),
                  CollectionCase.next_action_on, CollectionCase.id)
        .limit(per_page).offset((max(page, 1) - 1) * per_page)
    ).all()
    return [QueueRow(c, u, cm, o, r, bool(h), bool(d), bool(p)) for c, u, cm, o, r, h, d, p in rows], total


def stage_codes(session: Session, company_id: int) -> list[str]:
    """Stage codes in use by open cases, for the queue's filter."""
    return list(session.scalars(
        select(CollectionCase.stage_code).distinct()
        .where(CollectionCase.company_id == company_id, CollectionCase.stage_code.is_not(None))
        .order_by(CollectionCase.stage_code)
    ))


def company_users(session: Session, company_id: int) -> list[User]:
    """Members of the company (the people a case can be assigned to)."""
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.company_id == company_id, User.is_active.is_(True))
        .order_by(User.display_name)
    ))


# ---------------------------------------------------------------- case page


@dataclass(frozen=True)
class TimelineEntry:
    on: dt.date
    kind: str  # charge, payment, stage, action, message, delivery, hold, dispute, mediation, plan, instalment
    title: str
    detail: str = ""
    amount: Decimal | None = None
    status: str = ""
    ref: Any = None  # the row, for links and forms


@dataclass
class CaseDetail:
    case: CollectionCase
    unit: Unit
    community: Community
    owner: Owner
    co_owners: list[Owner]
    responsible: User | None
    holds: list[CaseHold]
    disputes: list[Dispute]
    plans: list[PaymentPlan]
    actions: list[EscalationAction]
    messages: list[OutboundMessage]
    open_charges: list[Charge]
    timeline: list[TimelineEntry] = field(default_factory=list)

    @property
    def active_holds(self) -> list[CaseHold]:
        return [h for h in self.holds if h.released_on is None]

    @property
    def open_disputes(self) -> list[Dispute]:
        return [d for d in self.disputes if d.resolved_on is None]

    @property
    def active_plans(self) -> list[PaymentPlan]:
        return [p for p in self.plans if p.status == PlanStatus.ACTIVE]


def case_detail(session: Session, company_id: int, case_id: int) -> CaseDetail:
    """The case with everything that happened to it, merged into one dated timeline."""
    case_ = get_scoped(session, CollectionCase, case_id, company_id)
    unit = session.get(Unit, case_.unit_id)
    owner = session.get(Owner, case_.owner_id)
    assert unit is not None and owner is not None
    parties = session.scalars(
        select(Owner).join(OwnershipParty, OwnershipParty.owner_id == Owner.id)
        .where(OwnershipParty.ownership_id == case_.ownership_id).order_by(OwnershipParty.position)
    ).all()
    holds = _by_case(session, CaseHold, case_.id, CaseHold.starts_on)
    disputes = _by_case(session, Dispute, case_.id, Dispute.opened_on)
    plans = _by_case(session, PaymentPlan, case_.id, PaymentPlan.agreed_on)
    actions = _by_case(session, EscalationAction, case_.id, EscalationAction.prepared_on)
    messages = _messages_of(session, [a.id for a in actions])
    charges = session.scalars(
        select(Charge).where(Charge.ownership_id == case_.ownership_id, Charge.reversed_on.is_(None))
        .order_by(Charge.due_date, Charge.id)
    ).all()
    payments = session.scalars(
        select(Payment).where(Payment.unit_id == case_.unit_id,
                              Payment.payer_id.in_([p.id for p in parties] or [owner.id]))
        .order_by(Payment.received_on)
    ).all()
    deliveries = session.scalars(
        select(Delivery).where(Delivery.message_id.in_([m.id for m in messages] or [0]))
    ).all()
    detail = CaseDetail(
        case=case_, unit=unit, community=unit.community, owner=owner, co_owners=list(parties),
        responsible=session.get(User, case_.responsible_user_id) if case_.responsible_user_id else None,
        holds=holds, disputes=disputes, plans=plans, actions=actions, messages=messages,
        open_charges=[c for c in charges if c.principal_outstanding > 0],
    )
    detail.timeline = _timeline(charges, payments, case_.stages, actions, messages, deliveries,
                                holds, disputes, plans)
    return detail


def _by_case(session: Session, model: Any, case_id: int, order: Any) -> list[Any]:
    return list(session.scalars(select(model).where(model.case_id == case_id).order_by(order, model.id)))


def _messages_of(session: Session, action_ids: Sequence[int]) -> list[OutboundMessage]:
    if not action_ids:
        return []
    return list(session.scalars(
        select(OutboundMessage).where(OutboundMessage.id.in_(
            select(MessageAction.message_id).where(MessageAction.action_id.in_(action_ids))
        )).order_by(OutboundMessage.id)
    ))


def _timeline(charges: Sequence[Charge], payments: Sequence[Payment], stages: Sequence[CaseStage],
              actions: Sequence[EscalationAction], messages: Sequence[OutboundMessage],
              deliveries: Sequence[Delivery], holds: Sequence[CaseHold], disputes: Sequence[Dispute],
              plans: Sequence[PaymentPlan]) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    entries += [TimelineEntry(c.due_date, "charge", c.period_label, c.fee_item.name, c.amount,
                              "open" if c.principal_outstanding > 0 else "paid", c) for c in charges]
    entries += [TimelineEntry(p.received_on, "payment", p.receipt_ref, p.method, p.amount,
                              "reversed" if p.reversed_on else "posted", p) for p in payments]
    entries += [TimelineEntry(s.started_on, "stage", s.stage_code, ", ".join(map(str, s.skipped or ())),
                              None, s.ended_on.isoformat() if s.ended_on else "", s) for s in stages]
    entries += [TimelineEntry(a.prepared_on, "action", a.stage_code, a.reason, a.arrears, a.status.value, a)
                for a in actions]
    entries += [TimelineEntry(_day(m.sent_at or m.created_at), "message", m.channel.value, m.subject, None,
                              m.status.value, m) for m in messages]
    entries += [TimelineEntry(d.occurred_on, "delivery", d.result.value, d.tracking_number or "", None,
                              d.signed_by or "", d) for d in deliveries]
    for hold in holds:
        entries.append(TimelineEntry(hold.starts_on, "hold", hold.reason, hold.author, None,
                                     hold.ends_on.isoformat(), hold))
    for dispute in disputes:
        entries.append(TimelineEntry(dispute.opened_on, "dispute", dispute.category.value, dispute.description,
                                     None, dispute.outcome.value if dispute.outcome else "open", dispute))
        entries += [TimelineEntry(s.held_on, "mediation", s.mediator, s.summary, None, "", s)
                    for s in dispute.sessions]
        if dispute.resolved_on:
            entries.append(TimelineEntry(dispute.resolved_on, "resolution", dispute.outcome.value if dispute.outcome
                                         else "", dispute.resolution_note or "", None, "", dispute))
    for plan in plans:
        entries.append(TimelineEntry(plan.agreed_on, "plan", str(len(plan.instalments)), plan.note or "",
                                     sum((i.amount for i in plan.instalments), Decimal("0.00")),
                                     plan.status.value, plan))
        entries += [TimelineEntry(i.due_on, "instalment", str(i.seq), "", i.amount, plan.status.value, i)
                    for i in plan.instalments]
    order = {kind: n for n, kind in enumerate(
        ["charge", "payment", "plan", "instalment", "dispute", "mediation", "resolution", "hold",
         "stage", "action", "message", "delivery"])}
    entries.sort(key=lambda e: (e.on, order.get(e.kind, 99)))
    return entries


def _day(value: dt.datetime | None) -> dt.date:
    return value.date() if value else dt.date.min


# ---------------------------------------------------------------- run history


@dataclass(frozen=True)
class RunRow:
    run: EscalationRun
    counts: dict[str, int]
    prepared_open: int  # still waiting for a decision

    def count(self, key: str) -> int:
        return int(self.counts.get(key, 0) or 0)


RUN_COUNT_KEYS = ("evaluated", "opened", "reopened", "advanced", "closed", "prepared", "sent", "failed")


def run_history(session: Session, company_id: int, *, page: int = 1,
                per_page: int = 30) -> tuple[list[RunRow], int]:
    """Runs, newest first; `sent`/`failed` come from the messages carrying each run's actions."""
    total = session.scalar(select(func.count()).select_from(EscalationRun)
                           .where(EscalationRun.company_id == company_id)) or 0
    runs = session.scalars(
        select(EscalationRun).where(EscalationRun.company_id == company_id)
        .order_by(EscalationRun.started_at.desc(), EscalationRun.id.desc())
        .limit(per_page).offset((max(page, 1) - 1) * per_page)
    ).all()
    sent, failed, waiting = _message_counts(session, [r.id for r in runs])
    rows = []
    for run in runs:
        counts = {k: int(v) for k, v in (run.counts or {}).items() if isinstance(v, int)}
        counts["sent"], counts["failed"] = sent.get(run.id, 0), failed.get(run.id, 0)
        rows.append(RunRow(run, counts, waiting.get(run.id, 0)))
    return rows, total


def run_counts(session: Session, company_id: int, run: EscalationRun) -> RunRow:
    sent, failed, waiting = _message_counts(session, [run.id])
    counts = {k: int(v) for k, v in (run.counts or {}).items() if isinstance(v, int)}
    counts["sent"], counts["failed"] = sent.get(run.id, 0), failed.get(run.id, 0)
    return RunRow(run, counts, waiting.get(run.id, 0))


def _message_counts(session: Session, run_ids: Sequence[int]) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    if not run_ids:
        return {}, {}, {}
    by_status = session.execute(
        select(EscalationAction.run_id, OutboundMessage.status, func.count(func.distinct(OutboundMessage.id)))
        .join(MessageAction, MessageAction.action_id == EscalationAction.id)
        .join(OutboundMessage, OutboundMessage.id == MessageAction.message_id)
        .where(EscalationAction.run_id.in_(run_ids))
        .group_by(EscalationAction.run_id, OutboundMessage.status)
    ).all()
    sent: dict[int, int] = {}
    failed: dict[int, int] = {}
    for run_id, status, count in by_status:
        if status in SENT_STATUSES:
            sent[run_id] = sent.get(run_id, 0) + int(count)
        elif status == MessageStatus.FAILED:
            failed[run_id] = failed.get(run_id, 0) + int(count)
    waiting = session.execute(
        select(EscalationAction.run_id, func.count())
        .where(EscalationAction.run_id.in_(run_ids), EscalationAction.status == ActionStatus.PREPARED)
        .group_by(EscalationAction.run_id)
    ).all()
    return sent, failed, {int(run_id): int(count) for run_id, count in waiting}


def approved_waiting(session: Session, company_id: int) -> int:
    """Approved actions not yet turned into messages (what 'queue for sending' would pick up)."""
    return session.scalar(
        select(func.count()).select_from(EscalationAction)
        .where(EscalationAction.company_id == company_id, EscalationAction.status == ActionStatus.APPROVED)
    ) or 0


# ---------------------------------------------------------------- letters, outbox, stop list


@dataclass(frozen=True)
class LetterRow:
    message: OutboundMessage
    owner: Owner
    deliveries: list[Delivery]


def letter_batches(session: Session, company_id: int, *, limit: int = 50) -> list[LetterBatch]:
    return list(session.scalars(
        select(LetterBatch).where(LetterBatch.company_id == company_id)
        .order_by(LetterBatch.created_at.desc(), LetterBatch.id.desc()).limit(limit)
    ))


def letters_waiting_for_batch(session: Session, company_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.company_id == company_id, OutboundMessage.channel.in_([Channel.LETTER, Channel.HAND]),
            OutboundMessage.letter_batch_id.is_(None), OutboundMessage.status == MessageStatus.QUEUED,
        )
    ) or 0


def batch_letters(session: Session, company_id: int, batch_id: int) -> tuple[LetterBatch, list[LetterRow]]:
    batch = get_scoped(session, LetterBatch, batch_id, company_id)
    messages = session.scalars(
        select(OutboundMessage).where(OutboundMessage.letter_batch_id == batch.id,
                                      OutboundMessage.company_id == company_id)
        .order_by(OutboundMessage.id)
    ).all()
    return batch, _letter_rows(session, messages)


def letters_awaiting_result(session: Session, company_id: int, *, limit: int = 200) -> list[LetterRow]:
    """Letters handed to the post (or hand delivery) with no delivery result recorded yet."""
    no_result = ~exists().where(Delivery.message_id == OutboundMessage.id)
    messages = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.company_id == company_id,
            OutboundMessage.channel.in_([Channel.LETTER, Channel.HAND]),
            OutboundMessage.status == MessageStatus.SENT, no_result,
        ).order_by(OutboundMessage.id).limit(limit)
    ).all()
    return _letter_rows(session, messages)


def _letter_rows(session: Session, messages: Sequence[OutboundMessage]) -> list[LetterRow]:
    ids = [m.id for m in messages]
    deliveries: dict[int, list[Delivery]] = {}
    if ids:
        for d in session.scalars(select(Delivery).where(Delivery.message_id.in_(ids)).order_by(Delivery.id)):
            deliveries.setdefault(d.message_id, []).append(d)
    owners = _owners(session, {m.owner_id for m in messages})
    return [LetterRow(m, owners[m.owner_id], deliveries.get(m.id, [])) for m in messages]


def message_row(session: Session, company_id: int, message_id: int) -> LetterRow:
    message = get_scoped(session, OutboundMessage, message_id, company_id)
    return _letter_rows(session, [message])[0]


def unknown_messages(session: Session, company_id: int) -> list[LetterRow]:
    """Messages whose send outcome is unknown (a crash between gateway and commit): a person decides."""
    messages = session.scalars(
        select(OutboundMessage).where(OutboundMessage.company_id == company_id,
                                      OutboundMessage.status == MessageStatus.UNKNOWN)
        .order_by(OutboundMessage.id)
    ).all()
    return _letter_rows(session, messages)


@dataclass(frozen=True)
class StopRow:
    stop: ContactStop
    owner: Owner


def stop_list(session: Session, company_id: int) -> list[StopRow]:
    rows = session.execute(
        select(ContactStop, Owner).join(Owner, Owner.id == ContactStop.owner_id)
        .where(ContactStop.company_id == company_id, ContactStop.lifted_on.is_(None))
        .order_by(Owner.name, ContactStop.id)
    ).all()
    return [StopRow(stop, owner) for stop, owner in rows]


def stored_file(session: Session, company_id: int, file_id: int) -> StoredFile:
    return get_scoped(session, StoredFile, file_id, company_id)


def _owners(session: Session, ids: set[int]) -> dict[int, Owner]:
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(select(Owner).where(Owner.id.in_(ids)))}


def owner_in_company(session: Session, company_id: int, owner_id: int) -> Owner:
    return get_scoped(session, Owner, owner_id, company_id)


__all__ = [
    "CaseDetail", "LetterRow", "QueueFilter", "QueueRow", "RUN_COUNT_KEYS", "RunRow", "StopRow",
    "TimelineEntry", "approved_waiting", "batch_letters", "case_detail", "company_users", "letter_batches",
    "letters_awaiting_result", "letters_waiting_for_batch", "message_row", "owner_in_company", "run_counts",
    "run_history", "stage_codes", "stop_list", "stored_file", "unknown_messages", "work_queue",
]
