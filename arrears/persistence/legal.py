"""Legal cases: the road from a legal-ready collection case to a title, enforcement and the
dishonest-debtor list (L10–L15), with an append-only timeline of events and court documents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin
from .enums import LegalRoute, LegalState, db_enum


class LegalCase(TimestampMixin, Base):
    """One per collection case and filing; amounts are those claimed and those awarded."""

    __tablename__ = "legal_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    collection_case_id: Mapped[int] = mapped_column(ForeignKey("collection_case.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    ownership_id: Mapped[int] = mapped_column(ForeignKey("ownership.id"))
    state: Mapped[LegalState] = mapped_column(db_enum(LegalState, "legal_state"), default=LegalState.DRAFTED)
    proposed_route: Mapped[LegalRoute | None] = mapped_column(db_enum(LegalRoute, "proposed_route"))
    route_reasons: Mapped[list[Any]] = mapped_column(default=list)
    route: Mapped[LegalRoute | None] = mapped_column(db_enum(LegalRoute, "legal_route"))
    lawyer_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    opened_on: Mapped[dt.date]
    opened_by: Mapped[str] = mapped_column(String(120))
    # the claim
    claim_as_of: Mapped[dt.date]
    claimed_charge_ids: Mapped[list[Any]] = mapped_column(default=list)
    include_time_barred: Mapped[bool] = mapped_column(default=False)
    claim_late_fees: Mapped[bool] = mapped_column(default=True)
    until_actual_payment: Mapped[bool] = mapped_column(default=True)
    late_fee_basis: Mapped[str] = mapped_column(String(20), default="contract")  # contract | lpr_x1_3 (L7)
    claimed_principal: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    claimed_late_fee: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # filing
    court: Mapped[str | None]
    case_number: Mapped[str | None] = mapped_column(String(80))
    filed_on: Mapped[dt.date | None]
    # payment order
    order_issued_on: Mapped[dt.date | None]
    order_served_on: Mapped[dt.date | None]
    objection_on: Mapped[dt.date | None]
    # title (judgement, mediation document, unopposed payment order, award)
    title_kind: Mapped[str | None] = mapped_column(String(40))
    title_effective_on: Mapped[dt.date | None]
    awarded_principal: Mapped[Decimal | None]
    awarded_late_fee: Mapped[Decimal | None]
    awarded_costs: Mapped[Decimal | None]
    performance_deadline: Mapped[dt.date | None]
    # enforcement and the dishonest-debtor list
    enforcement_court: Mapped[str | None]
    enforcement_case_number: Mapped[str | None] = mapped_column(String(80))
    enforcement_applied_on: Mapped[dt.date | None]
    dishonest_ground: Mapped[str | None] = mapped_column(Text)
    dishonest_ground_by: Mapped[str | None] = mapped_column(String(120))
    dishonest_applied_on: Mapped[dt.date | None]
    listed_on: Mapped[dt.date | None]
    paid_in_full_on: Mapped[dt.date | None]
    deletion_requested_on: Mapped[dt.date | None]
    deleted_on: Mapped[dt.date | None]
    closed_on: Mapped[dt.date | None]
    notes: Mapped[str | None] = mapped_column(Text)

    events: Mapped[list[LegalEvent]] = relationship(order_by="LegalEvent.id", lazy="selectin")

    __table_args__ = (
        Index("ix_legal_case_company_state", "company_id", "state"),
        Index("uq_legal_case_active", "collection_case_id", unique=True,
              sqlite_where=text("closed_on IS NULL"), postgresql_where=text("closed_on IS NULL")),
        CheckConstraint("claimed_principal >= 0 AND claimed_late_fee >= 0", name="claim"),
    )


class LegalEvent(TimestampMixin, Base):
    """Append-only timeline: each step with its date, who recorded it, and the court's document."""

    __tablename__ = "legal_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_case_id: Mapped[int] = mapped_column(ForeignKey("legal_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_on: Mapped[dt.date]
    recorded_by: Mapped[str] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))


class SmallClaimsCeiling(TimestampMixin, Base):
    """A province's small-claims ceiling as published (L11): data with a source and a date.

    Rows are never edited: a correction is a new row that names the one it replaces (history)."""

    __tablename__ = "small_claims_ceiling"

    id: Mapped[int] = mapped_column(primary_key=True)
    province: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal]
    wage_figure: Mapped[Decimal]
    effective_from: Mapped[dt.date]
    basis: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    checked_on: Mapped[dt.date]
    created_by: Mapped[str] = mapped_column(String(120))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("small_claims_ceiling.id"))
    retired: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        CheckConstraint("amount > 0 AND wage_figure > 0", name="positive"),
        UniqueConstraint("province", "effective_from", "replaces_id"),
    )
