"""Read models for the escalation pages: work queue, case timeline, run history, letters, outbox.

Everything is scoped to one company; another company's rows are never returned (NotFound).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, lazyload

from arrears.documents.xlsx import Column
from arrears.domain.escalation import Channel
from arrears.persistence.enums import ActionStatus, CaseStatus, MessageStatus, PlanStatus
from arrears.persistence.models import (
    Building,
    CaseHold,
    CaseStage,
    Charge,
    CollectionCase,
    Community,
    ContactStop,
    Delivery,
    Dispute,
    EscalationAction,
    EscalationPolicy,
    EscalationRun,
    EscalationStage,
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
from arrears.services.errors import N_
from arrears.services.tenancy import get_scoped

SENT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED)


# ---------------------------------------------------------------- work queue

#: Sort keys of the work queue; each sorts ascending or descending, ties broken by case id.
QUEUE_SORTS = ("next", "unit", "amount", "age", "stage")
#: Pause kinds of the queue's hold-state filter.
PAUSE_KINDS = ("held", "disputed", "plan")
EXPORT_CHUNK = 1000


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
    owners: tuple[str, ...] = ()  # every party of the ownership (co-owners are jointly liable)

    @property
    def paused(self) -> bool:
        return self.held or self.disputed or self.on_plan


@dataclass(frozen=True)
class QueueFilter:
    """What the accountant filters the open cases by; None (or empty) means "any"."""

    community_id: int | None = None
    stage_code: str | None = None
    responsible_user_id: int | None = None  # 0 = nobody responsible yet
    paused: bool | None = None
    building_id: int | None = None
    min_arrears: Decimal | None = None
    max_arrears: Decimal | None = None
    min_age_days: int | None = None  # days overdue of the oldest unpaid charge
    pause_kind: str | None = None  # one of PAUSE_KINDS
    text: str | None = None  # part of a unit code or an owner's name
    sort: str = "next"
    descending: bool = False


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int  # the page shown (a page past the end shows the last one)


@dataclass(frozen=True)
class ExportRow:
    """One open case as the export writes it: plain values, no ORM objects (streamed)."""

    case_id: int
    community: str
    building: str
    unit: str
    owners: tuple[str, ...]
    arrears: Decimal
    oldest_due: dt.date | None
    stage_code: str | None
    held: bool
    hold_reason: str | None
    disputed: bool
    on_plan: bool
    responsible: str | None
    next_action_on: dt.date | None


def _held(today: dt.date):  # type: ignore[no-untyped-def]
    return exists().where(CaseHold.case_id == CollectionCase.id, CaseHold.released_on.is_(None),
                          CaseHold.starts_on <= today, CaseHold.ends_on >= today)


def _disputed():  # type: ignore[no-untyped-def]
    return exists().where(Dispute.case_id == CollectionCase.id, Dispute.resolved_on.is_(None))


def _on_plan():  # type: ignore[no-untyped-def]
    return exists().where(PaymentPlan.case_id == CollectionCase.id, PaymentPlan.status == PlanStatus.ACTIVE)


def _held_ids(today: dt.date):  # type: ignore[no-untyped-def]
    return select(CaseHold.case_id).where(CaseHold.released_on.is_(None), CaseHold.starts_on <= today,
                                          CaseHold.ends_on >= today)


def _disputed_ids():  # type: ignore[no-untyped-def]
    return select(Dispute.case_id).where(Dispute.resolved_on.is_(None))


def _plan_ids():  # type: ignore[no-untyped-def]
    return select(PaymentPlan.case_id).where(PaymentPlan.status == PlanStatus.ACTIVE)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def queue_conditions(company_id: int, today: dt.date, filters: QueueFilter) -> list[Any]:
    """WHERE terms on collection_case alone (subqueries, no joins), so counting stays cheap."""
    conditions: list[Any] = [CollectionCase.company_id == company_id, CollectionCase.status == CaseStatus.OPEN]
    if filters.community_id:
        conditions.append(CollectionCase.community_id == filters.community_id)
    if filters.building_id:
        conditions.append(CollectionCase.unit_id.in_(
            select(Unit.id).where(Unit.company_id == company_id, Unit.building_id == filters.building_id)))
    if filters.stage_code:
        conditions.append(CollectionCase.stage_code == filters.stage_code)
    if filters.responsible_user_id == 0:
        conditions.append(CollectionCase.responsible_user_id.is_(None))
    elif filters.responsible_user_id:
        conditions.append(CollectionCase.responsible_user_id == filters.responsible_user_id)
    if filters.min_arrears is not None:
        conditions.append(CollectionCase.arrears >= filters.min_arrears)
    if filters.max_arrears is not None:
        conditions.append(CollectionCase.arrears <= filters.max_arrears)
    if filters.min_age_days is not None and filters.min_age_days > 0:
        conditions.append(CollectionCase.oldest_due <= today - dt.timedelta(days=filters.min_age_days))
    # As `id IN (…)` / `NOT IN`: PostgreSQL hashes each uncorrelated subquery once, where
    # NOT (EXISTS … OR EXISTS …) would run three subplans per case.
    pauses = {"held": _held_ids(today), "disputed": _disputed_ids(), "plan": _plan_ids()}
    if filters.paused is True:
        conditions.append(or_(*(CollectionCase.id.in_(ids) for ids in pauses.values())))
    elif filters.paused is False:
        conditions += [CollectionCase.id.not_in(ids) for ids in pauses.values()]
    if filters.pause_kind:
        conditions.append(CollectionCase.id.in_(pauses[filters.pause_kind]))
    if filters.text:
        # Two uncorrelated subqueries (units by code, ownerships by a party's name), each hashed once:
        # scanning the company's units and owners is cheaper than joining every open case to them.
        pattern = _like(filters.text)
        units = select(Unit.id).where(Unit.company_id == company_id, Unit.code.ilike(pattern, escape="\\"))
        ownerships = (select(OwnershipParty.ownership_id).join(Owner, Owner.id == OwnershipParty.owner_id)
                      .where(Owner.company_id == company_id, Owner.name.ilike(pattern, escape="\\")))
        conditions.append(or_(CollectionCase.unit_id.in_(units), CollectionCase.ownership_id.in_(ownerships)))
    return conditions


def _order(filters: QueueFilter, stage_rank: Sequence[str]) -> list[Any]:
    """ORDER BY for a sort key; NULLs placed portably (a CASE first), then the case id."""
    desc = filters.descending
    c = CollectionCase
    if filters.sort == "unit":
        keys: list[Any] = [Community.code, Unit.sort_key, Unit.code]
    elif filters.sort == "amount":
        keys = [c.arrears]
    elif filters.sort == "age":
        # older debt = more days overdue; a case without an unpaid due date counts as 0 days
        return [case((c.oldest_due.is_(None), 1 if desc else 0), else_=0 if desc else 1),
                c.oldest_due.asc() if desc else c.oldest_due.desc(), c.id]
    elif filters.sort == "stage":
        rank = case({code: n for n, code in enumerate(stage_rank)}, value=c.stage_code, else_=len(stage_rank)) \
            if stage_rank else c.stage_code
        keys = [rank, c.stage_code]
    else:  # next action: cases without a date need a person and come first
        return [case((c.next_action_on.is_(None), 1 if desc else 0), else_=0 if desc else 1),
                c.next_action_on.desc() if desc else c.next_action_on.asc(), c.id]
    return [*(k.desc() if desc else k.asc() for k in keys), c.id]


def work_queue(session: Session, company_id: int, today: dt.date, filters: QueueFilter, *,
               page: int = 1, per_page: int = 50) -> QueuePage:
    """One page of open cases, filtered and sorted in SQL; the count is a separate query on
    collection_case alone (no joins), the page query reads only `per_page` rows."""
    conditions = queue_conditions(company_id, today, filters)
    rank = stage_order(session, company_id) if filters.sort == "stage" else []
    # One query for the page's ids and the total (a window count), sorted on collection_case alone
    # (joined to unit/community only to sort by unit); then the rows for those ids, so the joins
    # and pause flags cost one page of rows, not all of them.
    ids_query = select(CollectionCase.id, func.count().over()).where(*conditions)
    if filters.sort == "unit":
        ids_query = (ids_query.join(Unit, Unit.id == CollectionCase.unit_id)
                     .join(Community, Community.id == CollectionCase.community_id))
    ids_query = ids_query.order_by(*_order(filters, rank))
    page = max(page, 1)
    found_ids = session.execute(ids_query.limit(per_page).offset((page - 1) * per_page)).all()
    if not found_ids and page > 1:  # past the end: show the last page
        total = session.scalar(select(func.count()).select_from(CollectionCase).where(*conditions)) or 0
        page = max(1, -(-total // per_page))
        found_ids = session.execute(ids_query.limit(per_page).offset((page - 1) * per_page)).all()
    if not found_ids:
        return QueuePage([], 0, 1)
    ids, total = [row[0] for row in found_ids], int(found_ids[0][1])
    held, disputed, on_plan = _held(today), _disputed(), _on_plan()
    found = {row[0].id: row for row in session.execute(
        select(CollectionCase, Unit, Community, Owner, User, held.label("held"),
               disputed.label("disputed"), on_plan.label("on_plan"))
        .join(Unit, Unit.id == CollectionCase.unit_id)
        .join(Community, Community.id == CollectionCase.community_id)
        .join(Owner, Owner.id == CollectionCase.owner_id)
        .outerjoin(User, User.id == CollectionCase.responsible_user_id)
        .where(CollectionCase.id.in_(ids))
        .options(lazyload(CollectionCase.stages), lazyload(Unit.community))
    )}
    rows = [found[i] for i in ids if i in found]
    names = _party_names(session, [r[0].ownership_id for r in rows])
    return QueuePage([QueueRow(c, u, cm, o, r, bool(h), bool(d), bool(p), names.get(c.ownership_id, (o.name,)))
                      for c, u, cm, o, r, h, d, p in rows], total, page)


def matching_case_ids(session: Session, company_id: int, today: dt.date, filters: QueueFilter) -> list[int]:
    """Every open case the filter matches, in the queue's order (bulk actions on "all matching")."""
    rank = stage_order(session, company_id) if filters.sort == "stage" else []
    query = select(CollectionCase.id).where(*queue_conditions(company_id, today, filters))
    if filters.sort == "unit":
        query = (query.join(Unit, Unit.id == CollectionCase.unit_id)
                 .join(Community, Community.id == CollectionCase.community_id))
    return list(session.scalars(query.order_by(*_order(filters, rank))))


def export_rows(session: Session, company_id: int, today: dt.date, filters: QueueFilter) -> Iterator[ExportRow]:
    """Every matching case in the queue's order, streamed in chunks (plain columns, no entities)."""
    rank = stage_order(session, company_id) if filters.sort == "stage" else []
    hold_reason = (select(CaseHold.reason).where(
        CaseHold.case_id == CollectionCase.id, CaseHold.released_on.is_(None), CaseHold.starts_on <= today,
        CaseHold.ends_on >= today).order_by(CaseHold.ends_on.desc(), CaseHold.id.desc()).limit(1)
        .correlate(CollectionCase).scalar_subquery())
    query = (
        select(CollectionCase.id, Community.name, Building.code, Building.name, Unit.code,
               CollectionCase.ownership_id, Owner.name, CollectionCase.arrears, CollectionCase.oldest_due,
               CollectionCase.stage_code, hold_reason, _disputed(), _on_plan(), User.display_name,
               CollectionCase.next_action_on)
        .join(Unit, Unit.id == CollectionCase.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Community, Community.id == CollectionCase.community_id)
        .join(Owner, Owner.id == CollectionCase.owner_id)
        .outerjoin(User, User.id == CollectionCase.responsible_user_id)
        .where(*queue_conditions(company_id, today, filters))
        .order_by(*_order(filters, rank))
    )
    result = session.execute(query.execution_options(yield_per=EXPORT_CHUNK))
    for chunk in result.partitions():
        names = _party_names(session, [row[5] for row in chunk])
        for (case_id, community, b_code, b_name, unit, ownership_id, owner, arrears, oldest, stage, reason,
             disputed, on_plan, responsible, next_on) in chunk:
            yield ExportRow(case_id, community, b_name or b_code, unit, names.get(ownership_id, (owner,)), arrears,
                            oldest, stage, reason is not None, reason, bool(disputed), bool(on_plan), responsible,
                            next_on)


def _party_names(session: Session, ownership_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The owners' names of each ownership, in party order."""
    names: dict[int, list[str]] = {}
    if ownership_ids:
        for ownership_id, name in session.execute(
            select(OwnershipParty.ownership_id, Owner.name).join(Owner, Owner.id == OwnershipParty.owner_id)
            .where(OwnershipParty.ownership_id.in_(sorted(set(ownership_ids))))
            .order_by(OwnershipParty.ownership_id, OwnershipParty.position)
        ):
            names.setdefault(ownership_id, []).append(name)
    return {key: tuple(value) for key, value in names.items()}


def stage_order(session: Session, company_id: int) -> list[str]:
    """The company's stage codes in escalation order (default policy first, by position), then any
    other code still carried by a case, alphabetically: the queue's stage sort and filter list."""
    ordered: list[str] = []
    for code in session.scalars(
        select(EscalationStage.code).join(EscalationPolicy, EscalationPolicy.id == EscalationStage.policy_id)
        .where(EscalationPolicy.company_id == company_id)
        .order_by(EscalationPolicy.community_id.is_not(None), EscalationPolicy.id, EscalationStage.position)
    ):
        if code not in ordered:
            ordered.append(code)
    return ordered + [code for code in stage_codes(session, company_id) if code not in ordered]


def community_buildings(session: Session, company_id: int, community_id: int) -> list[Building]:
    """The buildings of one of the company's communities (the queue's building filter)."""
    return list(session.scalars(
        select(Building).join(Community, Community.id == Building.community_id)
        .where(Community.company_id == company_id, Building.community_id == community_id)
        .order_by(Building.code)
    ))


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


def letters_awaiting_result(session: Session, company_id: int, *, limit: int | None = 200) -> list[LetterRow]:
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


# ---------------------------------------------------------------- Excel exports of these lists
# Headers are msgids (the web translates them); ``label`` names stored codes in the user's language.

ExportLabel = Callable[[str, object], str]

RUN_EXPORT_COLUMNS = (
    Column(N_("Run"), 8), Column(N_("As of"), 12), Column(N_("Started (UTC)"), 17), Column(N_("Trigger"), 12),
    Column(N_("Started by"), 16), Column(N_("Dry run"), 8), Column(N_("Status"), 12),
    Column(N_("evaluated"), 10), Column(N_("opened"), 10), Column(N_("reopened"), 10), Column(N_("advanced"), 10),
    Column(N_("closed"), 10), Column(N_("prepared"), 10), Column(N_("sent"), 10), Column(N_("failed"), 10),
    Column(N_("Waiting for review"), 12), Column(N_("Errors"), 40),
)
EXPORT_CHUNK = 500


def run_export(session: Session, company_id: int, label: ExportLabel) -> Iterator[tuple[Any, ...]]:
    """Every run of the company (the run history without paging), in RUN_EXPORT_COLUMNS order."""
    result = session.scalars(
        select(EscalationRun).where(EscalationRun.company_id == company_id)
        .order_by(EscalationRun.started_at.desc(), EscalationRun.id.desc())
    )
    while runs := result.fetchmany(EXPORT_CHUNK):
        sent, failed, waiting = _message_counts(session, [r.id for r in runs])
        for run in runs:
            counts = {k: int(v) for k, v in (run.counts or {}).items() if isinstance(v, int)}
            counts["sent"], counts["failed"] = sent.get(run.id, 0), failed.get(run.id, 0)
            yield (run.id, run.as_of, run.started_at, run.trigger, run.actor, run.dry_run,
                   label("run_status", run.status), *(counts.get(key, 0) for key in RUN_COUNT_KEYS),
                   waiting.get(run.id, 0), "; ".join(str(e) for e in run.errors or []))


LETTER_EXPORT_COLUMNS = (
    Column(N_("Message"), 9), Column(N_("Letter batch"), 9), Column(N_("Owner"), 20), Column(N_("Address"), 40),
    Column(N_("Channel"), 12), Column(N_("Status"), 10), Column(N_("Sent (UTC)"), 17),
    Column(N_("Delivery result"), 28), Column(N_("Date of the result"), 12), Column(N_("Tracking number"), 18),
    Column(N_("Signed by"), 14),
)


def letter_export(session: Session, company_id: int, label: ExportLabel, *,
                  batch_id: int | None = None) -> Iterator[tuple[Any, ...]]:
    """The letters of a batch, or (no batch) every letter still awaiting a delivery result; one row
    per letter with its latest recorded result."""
    if batch_id is None:
        rows = letters_awaiting_result(session, company_id, limit=None)
    else:
        rows = batch_letters(session, company_id, batch_id)[1]
    for row in rows:
        message, last = row.message, (row.deliveries[-1] if row.deliveries else None)
        yield (message.id, message.letter_batch_id, row.owner.name, message.address,
               label("channel", message.channel), label("message_status", message.status), message.sent_at,
               label("delivery_result", last.result) if last else "", last.occurred_on if last else None,
               (last.tracking_number or "") if last else "", (last.signed_by or "") if last else "")


__all__ += ["LETTER_EXPORT_COLUMNS", "RUN_EXPORT_COLUMNS", "letter_export", "run_export"]
__all__ += ["ExportRow", "PAUSE_KINDS", "QUEUE_SORTS", "QueuePage", "community_buildings", "export_rows",
            "matching_case_ids", "queue_conditions", "stage_order"]
