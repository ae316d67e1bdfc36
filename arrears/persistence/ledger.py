"""The append-only ledger: fee items and schedules, charges, payments, allocations,
adjustments and reversals.

Posted entries are never edited or deleted. A few columns are caches of what the entries
imply (`principal_outstanding`, `late_fee_paid`, `unapplied`, `voided_on`); they are kept in
the same transaction as the entries that change them, so lists can find open charges without
aggregating the whole ledger, and a test checks they agree with the domain computation.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from arrears.domain.allocation import Component
from arrears.domain.periods import BillingCycle, DueRule

from .base import Base, Rate, TimestampMixin
from .enums import AdjustmentReason, ChargeSource, FeeBasis, FeeKind, InterruptionKind, UnitType, db_enum
from .property import Unit


class FeeItem(Base):
    __tablename__ = "fee_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str]
    kind: Mapped[FeeKind] = mapped_column(db_enum(FeeKind, "fee_kind"), default=FeeKind.FEE)

    __table_args__ = (UniqueConstraint("company_id", "code"),)


class FeeSchedule(TimestampMixin, Base):
    """The fee standard of a community for one fee item and unit type, valid over dates."""

    __tablename__ = "fee_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    fee_item_id: Mapped[int] = mapped_column(ForeignKey("fee_item.id"))
    unit_type: Mapped[UnitType] = mapped_column(db_enum(UnitType, "unit_type"))
    basis: Mapped[FeeBasis] = mapped_column(db_enum(FeeBasis, "fee_basis"), default=FeeBasis.PER_M2)
    rate: Mapped[Decimal] = mapped_column(Rate)  # CNY per m² per month, or per unit per month
    cycle: Mapped[BillingCycle] = mapped_column(db_enum(BillingCycle, "billing_cycle"))
    due_rule: Mapped[DueRule] = mapped_column(db_enum(DueRule, "due_rule"))
    due_day: Mapped[int | None]
    valid_from: Mapped[dt.date]
    valid_to: Mapped[dt.date | None]

    fee_item: Mapped[FeeItem] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("rate > 0", name="rate_positive"),
        CheckConstraint("due_day IS NULL OR due_day BETWEEN 1 AND 31", name="due_day"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="range"),
    )


class Charge(TimestampMixin, Base):
    """One fee item for one unit, one billing period and one ownership record."""

    __tablename__ = "charge"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    ownership_id: Mapped[int] = mapped_column(ForeignKey("ownership.id"), index=True)
    fee_item_id: Mapped[int] = mapped_column(ForeignKey("fee_item.id"))
    kind: Mapped[FeeKind] = mapped_column(db_enum(FeeKind, "fee_kind"), default=FeeKind.FEE)
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    period_label: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[dt.date]
    amount: Mapped[Decimal]
    source: Mapped[ChargeSource] = mapped_column(db_enum(ChargeSource, "charge_source"))
    repost_of_id: Mapped[int | None] = mapped_column(ForeignKey("charge.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(120))
    # Caches, maintained with the entries that change them:
    principal_outstanding: Mapped[Decimal]
    late_fee_paid: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    reversed_on: Mapped[dt.date | None]

    unit: Mapped[Unit] = relationship()
    fee_item: Mapped[FeeItem] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "principal_outstanding >= 0 AND principal_outstanding <= amount", name="outstanding_range"
        ),
        CheckConstraint("late_fee_paid >= 0", name="late_fee_paid"),
        CheckConstraint("period_end >= period_start", name="period"),
        Index(
            "uq_charge_posted",
            "unit_id",
            "fee_item_id",
            "period_start",
            "ownership_id",
            unique=True,
            sqlite_where=text("reversed_on IS NULL"),
            postgresql_where=text("reversed_on IS NULL"),
        ),
        Index(
            "ix_charge_open",
            "unit_id",
            "due_date",
            sqlite_where=text("principal_outstanding > 0 AND reversed_on IS NULL"),
            postgresql_where=text("principal_outstanding > 0 AND reversed_on IS NULL"),
        ),
        Index("ix_charge_company_due", "company_id", "due_date"),
    )


class Payment(TimestampMixin, Base):
    """Money received from a payer for a unit; credit stays with that payer on that unit."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("owner.id"), index=True)
    receipt_ref: Mapped[str] = mapped_column(String(80))
    received_on: Mapped[dt.date]
    amount: Mapped[Decimal]
    method: Mapped[str] = mapped_column(String(40), default="bank_transfer")
    designation: Mapped[list[Any]] = mapped_column(default=list)  # charge ids named by the payer
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(120))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    # Caches:
    unapplied: Mapped[Decimal]
    reversed_on: Mapped[dt.date | None]

    allocations: Mapped[list[Allocation]] = relationship(back_populates="payment", lazy="selectin")

    __table_args__ = (
        UniqueConstraint("company_id", "receipt_ref"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("unapplied >= 0 AND unapplied <= amount", name="unapplied_range"),
    )


class Allocation(TimestampMixin, Base):
    """Which charge, and which part of it, a payment paid, and from which date (L6)."""

    __tablename__ = "allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("charge.id"), index=True)
    component: Mapped[Component] = mapped_column(db_enum(Component, "component"))
    amount: Mapped[Decimal]
    applied_on: Mapped[dt.date]
    voided_on: Mapped[dt.date | None]  # cache: the payment's (or charge's) reversal date

    payment: Mapped[Payment] = relationship(back_populates="allocations")

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class Adjustment(TimestampMixin, Base):
    """An approved reduction or waiver of a charge's principal or late fee, with its reason."""

    __tablename__ = "adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("charge.id"), index=True)
    component: Mapped[Component] = mapped_column(db_enum(Component, "component"))
    amount: Mapped[Decimal]
    reason: Mapped[AdjustmentReason] = mapped_column(db_enum(AdjustmentReason, "adjustment_reason"))
    note: Mapped[str] = mapped_column(Text)
    effective_on: Mapped[dt.date]
    approved_by: Mapped[str] = mapped_column(String(120))
    voided_on: Mapped[dt.date | None]

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class Reversal(TimestampMixin, Base):
    """A correcting entry: voids a posted charge, payment or adjustment from a date."""

    __tablename__ = "reversal"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int]
    effective_on: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))

    __table_args__ = (
        UniqueConstraint("entity", "entity_id"),
        CheckConstraint("entity IN ('charge', 'payment', 'adjustment')", name="entity"),
    )


class Interruption(TimestampMixin, Base):
    """An event that restarts limitation for the charges it names (L5), with its proof."""

    __tablename__ = "interruption"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id"))
    kind: Mapped[InterruptionKind] = mapped_column(db_enum(InterruptionKind, "interruption_kind"))
    occurred_on: Mapped[dt.date]
    proof_ref: Mapped[str] = mapped_column(String(200))
    proof_note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40), default="manual")
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    created_by: Mapped[str | None] = mapped_column(String(120))

    charges: Mapped[list[InterruptionCharge]] = relationship(lazy="selectin", cascade="all")

    __table_args__ = (UniqueConstraint("unit_id", "kind", "occurred_on", "proof_ref"),)


class InterruptionCharge(Base):
    __tablename__ = "interruption_charge"

    interruption_id: Mapped[int] = mapped_column(
        ForeignKey("interruption.id", ondelete="CASCADE"), primary_key=True
    )
    charge_id: Mapped[int] = mapped_column(ForeignKey("charge.id"), primary_key=True, index=True)


class ImportBatch(TimestampMixin, Base):
    """One accepted import of a workbook; the file's hash makes a repeated import a no-op."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    filename: Mapped[str]
    sha256: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(String(120))


class BackgroundJob(TimestampMixin, Base):
    """Progress of long work (imports, billing runs) that a user may leave running."""

    __tablename__ = "background_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="running")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(String(120))
    finished_at: Mapped[dt.datetime | None]
