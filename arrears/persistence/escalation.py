"""Escalation: policies and stages, collection cases with their history, holds, disputes,
payment plans, runs and the actions a run prepares."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from arrears.domain.escalation import Action

from .base import Base, TimestampMixin
from .enums import (
    ActionStatus,
    CaseStatus,
    DisputeCategory,
    DisputeOutcome,
    PlanStatus,
    RunStatus,
    db_enum,
)


class EscalationPolicy(TimestampMixin, Base):
    """A company's default policy (community_id NULL) or one community's override."""

    __tablename__ = "escalation_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    name: Mapped[str]
    updated_by: Mapped[str | None] = mapped_column(String(120))

    stages: Mapped[list[EscalationStage]] = relationship(
        back_populates="policy", order_by="EscalationStage.position", cascade="all, delete-orphan",
        lazy="selectin",
    )

    __table_args__ = (
        Index("uq_escalation_policy_default", "company_id", unique=True,
              sqlite_where=text("community_id IS NULL"), postgresql_where=text("community_id IS NULL")),
        Index("uq_escalation_policy_community", "company_id", "community_id", unique=True,
              sqlite_where=text("community_id IS NOT NULL"),
              postgresql_where=text("community_id IS NOT NULL")),
    )


class EscalationStage(Base):
    __tablename__ = "escalation_stage"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("escalation_policy.id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str]
    action: Mapped[Action] = mapped_column(db_enum(Action, "escalation_action_kind"))
    min_days_overdue: Mapped[int]
    min_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    min_periods: Mapped[int] = mapped_column(default=1)
    min_days_since_previous: Mapped[int] = mapped_column(default=0)
    channels: Mapped[list[Any]] = mapped_column(default=list)  # fallback order, e.g. ["email", "sms"]
    template: Mapped[str] = mapped_column(String(60), default="")
    needs_approval: Mapped[bool] = mapped_column(default=True)
    deadline_days: Mapped[int | None]

    policy: Mapped[EscalationPolicy] = relationship(back_populates="stages")

    __table_args__ = (
        UniqueConstraint("policy_id", "code"),
        UniqueConstraint("policy_id", "position"),
        CheckConstraint("min_amount >= 0", name="min_amount"),
        CheckConstraint("min_periods >= 0", name="min_periods"),
        CheckConstraint("min_days_since_previous >= 0", name="min_gap"),
        CheckConstraint("deadline_days IS NULL OR deadline_days > 0", name="deadline_days"),
    )


class CollectionCase(TimestampMixin, Base):
    """One per ownership (the owner or co-owners of one unit over one span), across all periods."""

    __tablename__ = "collection_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    ownership_id: Mapped[int] = mapped_column(ForeignKey("ownership.id"), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(db_enum(CaseStatus, "case_status"), default=CaseStatus.OPEN)
    cycle: Mapped[int] = mapped_column(default=1)
    stage_code: Mapped[str | None] = mapped_column(String(40))
    stage_entered_on: Mapped[dt.date | None]
    opened_on: Mapped[dt.date]
    closed_on: Mapped[dt.date | None]
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    next_action_on: Mapped[dt.date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    # caches written by each run, for lists and the work queue
    arrears: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    oldest_due: Mapped[dt.date | None]
    overdue_periods: Mapped[int] = mapped_column(default=0)
    evaluated_on: Mapped[dt.date | None]
    reason: Mapped[str | None] = mapped_column(String(40))
    demand_deadline: Mapped[dt.date | None]  # of the latest delivered demand (L2)

    stages: Mapped[list[CaseStage]] = relationship(order_by="CaseStage.id", lazy="selectin")

    __table_args__ = (
        Index("ix_collection_case_queue", "company_id", "status", "next_action_on"),
        CheckConstraint("cycle >= 1", name="cycle"),
    )


class CaseStage(Base):
    """Append-only stage history: a row per stage entered; `ended_on` is set when the next begins."""

    __tablename__ = "case_stage"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id"), index=True)
    cycle: Mapped[int]
    stage_code: Mapped[str] = mapped_column(String(40))
    action: Mapped[Action] = mapped_column(db_enum(Action, "escalation_action_kind"))
    started_on: Mapped[dt.date]
    ended_on: Mapped[dt.date | None]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_run.id"))
    skipped: Mapped[list[Any]] = mapped_column(default=list)


class CaseHold(TimestampMixin, Base):
    __tablename__ = "case_hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    released_on: Mapped[dt.date | None]
    released_by: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="range"),)


class Dispute(TimestampMixin, Base):
    __tablename__ = "dispute"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id"), index=True)
    category: Mapped[DisputeCategory] = mapped_column(db_enum(DisputeCategory, "dispute_category"))
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20), default="staff")
    opened_on: Mapped[dt.date]
    opened_by: Mapped[str] = mapped_column(String(120))
    resolved_on: Mapped[dt.date | None]
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    outcome: Mapped[DisputeOutcome | None] = mapped_column(db_enum(DisputeOutcome, "dispute_outcome"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    adjustment_ids: Mapped[list[Any]] = mapped_column(default=list)

    sessions: Mapped[list[MediationSession]] = relationship(order_by="MediationSession.held_on",
                                                            lazy="selectin")


class MediationSession(TimestampMixin, Base):
    __tablename__ = "mediation_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id"), index=True)
    held_on: Mapped[dt.date]
    mediator: Mapped[str]
    participants: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(120))


class PaymentPlan(TimestampMixin, Base):
    __tablename__ = "payment_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id"), index=True)
    agreed_on: Mapped[dt.date]
    grace_days: Mapped[int] = mapped_column(default=7)
    status: Mapped[PlanStatus] = mapped_column(db_enum(PlanStatus, "plan_status"), default=PlanStatus.ACTIVE)
    created_by: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    interruption_id: Mapped[int | None] = mapped_column(ForeignKey("interruption.id"))
    ended_on: Mapped[dt.date | None]

    instalments: Mapped[list[PlanInstalment]] = relationship(
        order_by="PlanInstalment.seq", cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (CheckConstraint("grace_days >= 0", name="grace_days"),)


class PlanInstalment(Base):
    __tablename__ = "plan_instalment"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plan.id", ondelete="CASCADE"))
    seq: Mapped[int]
    due_on: Mapped[dt.date]
    amount: Mapped[Decimal]

    __table_args__ = (UniqueConstraint("plan_id", "seq"), CheckConstraint("amount > 0", name="amount_positive"))


class EscalationRun(Base):
    """One evaluation of a company's cases as of a date; also the batch the accountant reviews."""

    __tablename__ = "escalation_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    as_of: Mapped[dt.date]
    trigger: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    dry_run: Mapped[bool] = mapped_column(default=False)
    status: Mapped[RunStatus] = mapped_column(db_enum(RunStatus, "run_status"), default=RunStatus.RUNNING)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[Any]] = mapped_column(default=list)


class EscalationAction(TimestampMixin, Base):
    """What a run prepared for one case and stage. `key` makes preparing it twice impossible.

    `charges` freezes the charges and amounts the action names: a sent demand is evidence and is
    never edited; its delivery interrupts limitation for exactly these charges (L5).
    """

    __tablename__ = "escalation_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("collection_case.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_run.id"), index=True)
    ownership_id: Mapped[int] = mapped_column(ForeignKey("ownership.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"), index=True)
    cycle: Mapped[int] = mapped_column(default=1)
    stage_code: Mapped[str] = mapped_column(String(40))
    action: Mapped[Action] = mapped_column(db_enum(Action, "escalation_action_kind"))
    prepared_on: Mapped[dt.date]
    status: Mapped[ActionStatus] = mapped_column(db_enum(ActionStatus, "action_status"),
                                                 default=ActionStatus.PREPARED)
    needs_approval: Mapped[bool] = mapped_column(default=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    arrears: Mapped[Decimal]
    channels: Mapped[list[Any]] = mapped_column(default=list)
    template: Mapped[str] = mapped_column(String(60), default="")
    charges: Mapped[list[Any]] = mapped_column(default=list)  # [{"id", "period", "due", "outstanding"}]
    deadline_days: Mapped[int | None]
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[dt.datetime | None]
    removed_reason: Mapped[str | None] = mapped_column(Text)
    delivered_on: Mapped[dt.date | None]
    deadline_on: Mapped[dt.date | None]

    __table_args__ = (Index("ix_escalation_action_status", "company_id", "status"),)


class LimitationWarning(Base):
    """A charge whose limitation period ends soon with no interruption in sight (L4), found daily."""

    __tablename__ = "limitation_warning"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    charge_id: Mapped[int] = mapped_column(ForeignKey("charge.id"))
    ends_on: Mapped[dt.date]
    found_on: Mapped[dt.date]

    __table_args__ = (UniqueConstraint("charge_id", "ends_on"),)
