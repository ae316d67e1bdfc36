"""Generated documents that are records in their own right: the public arrears notice (L16)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TimestampMixin
from .enums import db_enum


class NoticeStatus(StrEnum):
    """A notice is a draft until a manager approves it; only an approved notice is printed.

    ``superseded``: a corrected notice replaced it; ``withdrawn``: discarded (a draft) or withdrawn
    (an approved one) by a person. Take-down is recorded in its own columns beside the status.
    """

    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class PublicNotice(TimestampMixin, Base):
    """A community's public arrears notice as of a date (L16), frozen when generated.

    ``entries`` and ``header`` are exactly what the notice prints (room, periods, amount — never a
    name, ID number, phone number or bank detail); ``content_hash`` is the sha256 of their
    canonical JSON and identifies the notice on the public verification page (QR code).
    """

    __tablename__ = "public_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    reference: Mapped[str] = mapped_column(String(60))
    as_of: Mapped[dt.date]
    status: Mapped[NoticeStatus] = mapped_column(db_enum(NoticeStatus, "notice_status"),
                                                 default=NoticeStatus.DRAFT)
    header: Mapped[dict[str, Any]] = mapped_column(default=dict)
    entries: Mapped[list[Any]] = mapped_column(default=list)  # [{"building", "unit", "periods", "amount", ...}]
    unit_count: Mapped[int] = mapped_column(default=0)
    total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # Staff-only: units left out and why ({"disputed": ["1-1-101"], ...}); never printed.
    excluded: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    generated_on: Mapped[dt.date]
    generated_by: Mapped[str] = mapped_column(String(120))
    approved_by: Mapped[str | None] = mapped_column(String(120))
    approved_at: Mapped[dt.datetime | None]
    posting_from: Mapped[dt.date | None]
    posting_until: Mapped[dt.date | None]  # inclusive
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("public_notice.id"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("public_notice.id"))
    # A listed unit paid (or the notice was superseded/withdrawn): the printed copy must come down.
    takedown_marked_on: Mapped[dt.date | None]
    takedown_marked_by: Mapped[str | None] = mapped_column(String(120))
    takedown_units: Mapped[list[Any]] = mapped_column(default=list)  # unit codes that paid
    takedown_reason: Mapped[str | None] = mapped_column(Text)
    # A person confirms the printed copy was removed from the notice board.
    taken_down_on: Mapped[dt.date | None]
    taken_down_by: Mapped[str | None] = mapped_column(String(120))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("company_id", "reference"),
        Index("ix_public_notice_community_status", "community_id", "status"),
        CheckConstraint("unit_count >= 0", name="unit_count"),
        CheckConstraint("posting_until IS NULL OR posting_until >= posting_from", name="posting_range"),
    )
