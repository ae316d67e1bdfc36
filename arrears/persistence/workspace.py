"""The accountants' workspace and the owners' self-service: saved filters, owner links, owner requests."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TimestampMixin
from .enums import DisputeCategory, db_enum


class SavedFilter(TimestampMixin, Base):
    """A user's named filter on one list page; ``query`` is the page's query string, re-validated on use."""

    __tablename__ = "saved_filter"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    list_name: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(2000))

    __table_args__ = (
        UniqueConstraint("company_id", "user_id", "list_name", "name"),
        Index("ix_saved_filter_user_list", "user_id", "list_name"),
    )


class OwnerLink(TimestampMixin, Base):
    """A self-service link for one owner and one unit.

    The URL carries a token signed with the app's secret over (``id``, ``nonce``) and the expiry is
    checked from this row, so a link is refused once ``revoked_at`` is set or ``expires_at`` passed
    even if the signature is good. ``failed_checks`` counts wrong "last four digits" answers since the
    last success; ``locked_until`` stops guessing across all web workers.
    """

    __tablename__ = "owner_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(120))
    failed_checks: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    last_opened_at: Mapped[dt.datetime | None]
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_message.id"))
    created_by: Mapped[str] = mapped_column(String(120))

    __table_args__ = (
        Index("ix_owner_link_owner_unit", "owner_id", "unit_id"),
        CheckConstraint("failed_checks >= 0", name="failed_checks_non_negative"),
    )


class OwnerRequestKind(StrEnum):
    DISPUTE = "dispute"
    PLAN = "plan"


class OwnerRequestStatus(StrEnum):
    """What became of an owner's request.

    ``submitted``: waiting for staff; nothing pauses yet. A dispute becomes ``accepted`` when staff
    triage it into a case dispute (which then caps escalation). A plan becomes ``offered`` when staff
    accept it with a schedule, ``confirmed`` when the owner confirms that schedule (only then is a
    payment plan created), or ``rejected``/``withdrawn``/``expired``.
    """

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    OFFERED = "offered"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class OwnerRequest(TimestampMixin, Base):
    """A dispute report or a payment-plan proposal made by an owner through their link."""

    __tablename__ = "owner_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("owner_link.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("collection_case.id"), index=True)
    kind: Mapped[OwnerRequestKind] = mapped_column(db_enum(OwnerRequestKind, "owner_request_kind"))
    status: Mapped[OwnerRequestStatus] = mapped_column(
        db_enum(OwnerRequestStatus, "owner_request_status"), default=OwnerRequestStatus.SUBMITTED)
    category: Mapped[DisputeCategory | None] = mapped_column(
        db_enum(DisputeCategory, "owner_request_category"))
    text: Mapped[str | None] = mapped_column(Text)
    photo_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    instalments: Mapped[int | None]
    # The schedule staff offer, as [["YYYY-MM-DD", "123.45"], ...]; binds nobody until confirmed.
    offer: Mapped[list[Any] | None]
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("dispute.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("payment_plan.id"))
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decision_note: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[dt.datetime | None]
    remote_addr: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("instalments IS NULL OR instalments BETWEEN 2 AND 36", name="instalments_range"),
        Index("ix_owner_request_company_status", "company_id", "status"),
    )
