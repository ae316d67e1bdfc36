"""The outbox, delivery records with proof, the stop list, printed-letter batches, stored files
and the scheduler's job leases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from arrears.domain.escalation import Channel
from arrears.domain.limitation import DeliveryResult

from .base import Base, TimestampMixin
from .enums import MessageStatus, db_enum


class OutboundMessage(TimestampMixin, Base):
    """One message to one owner on one channel; its id is the gateway's idempotency key.

    One owner's actions (across all their units) go out bundled in one message (L17).
    """

    __tablename__ = "outbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"))
    channel: Mapped[Channel] = mapped_column(db_enum(Channel, "channel"))
    address: Mapped[str] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(16), default="zh_CN")
    subject: Mapped[str] = mapped_column(default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(db_enum(MessageStatus, "message_status"),
                                                  default=MessageStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[dt.datetime | None]  # deferred by caps, quiet hours or a retry back-off
    claimed_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    sent_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    gateway_ref: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    fallback_of_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_message.id"))
    letter_batch_id: Mapped[int | None] = mapped_column(ForeignKey("letter_batch.id"), index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolution: Mapped[str | None] = mapped_column(Text)

    actions: Mapped[list[MessageAction]] = relationship(lazy="selectin", cascade="all")

    __table_args__ = (
        Index("ix_outbound_message_status", "status", "not_before"),
        Index("ix_outbound_message_owner_sent", "owner_id", "sent_at"),
    )


class MessageAction(Base):
    """Which prepared actions a message carries (several cases of one owner in one message)."""

    __tablename__ = "message_action"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbound_message.id", ondelete="CASCADE"), primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("escalation_action.id"), primary_key=True, index=True)


class Delivery(TimestampMixin, Base):
    """The result of a message: a gateway receipt, an SMTP acceptance or a postal result with proof."""

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbound_message.id"), index=True)
    result: Mapped[DeliveryResult] = mapped_column(db_enum(DeliveryResult, "delivery_result"))
    occurred_on: Mapped[dt.date]
    tracking_number: Mapped[str | None] = mapped_column(String(80))
    signed_by: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    proof_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    source: Mapped[str] = mapped_column(String(20), default="manual")  # manual, gateway, smtp
    recorded_by: Mapped[str] = mapped_column(String(120))

    __table_args__ = (UniqueConstraint("message_id", "result", "occurred_on"),)


class ContactStop(TimestampMixin, Base):
    """An owner who must not be contacted (on one channel, or on any when channel is NULL)."""

    __tablename__ = "contact_stop"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"), index=True)
    channel: Mapped[Channel | None] = mapped_column(db_enum(Channel, "channel"))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    lifted_on: Mapped[dt.date | None]
    lifted_by: Mapped[str | None] = mapped_column(String(120))


class LetterBatch(TimestampMixin, Base):
    """Printed letters of one dispatch: one PDF for the printer and a CSV for the post office."""

    __tablename__ = "letter_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(120))
    letter_count: Mapped[int]
    pdf_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    csv_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))


class StoredFile(TimestampMixin, Base):
    """Bytes kept in the database, so evidence commits or rolls back with the record it proves."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    filename: Mapped[str]
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(120))


class SchedulerLease(Base):
    """A named lease that lets one scheduler process run a job while others skip it."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[dt.datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
