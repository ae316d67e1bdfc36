"""Companies (the tenants), users, memberships, login throttling and the audit log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, TimestampMixin, utcnow
from .enums import Role, db_enum


class Company(TimestampMixin, Base):
    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    legal_representative: Mapped[str]
    address: Mapped[str] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(40))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Arrears at or below this amount are not pursued (and close collection cases).
    arrears_tolerance: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # Entries dated on or before this date are refused (closed books).
    books_closed_through: Mapped[dt.date | None]
    # Contact caps and quiet hours per owner across all their units (L17), in the company's zone.
    contact_cap_7_days: Mapped[int] = mapped_column(default=2, server_default="2")
    contact_cap_30_days: Mapped[int] = mapped_column(default=6, server_default="6")
    quiet_hours_end: Mapped[int] = mapped_column(default=8, server_default="8")  # first hour allowed
    quiet_hours_start: Mapped[int] = mapped_column(default=20, server_default="20")  # first hour barred
    # Contact shown on letters and the owner's page
    collections_contact: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint("arrears_tolerance >= 0", name="tolerance_not_negative"),
        CheckConstraint("contact_cap_7_days >= 0 AND contact_cap_30_days >= contact_cap_7_days",
                        name="contact_caps"),
        CheckConstraint("quiet_hours_end BETWEEN 0 AND 23 AND quiet_hours_start BETWEEN 1 AND 24 "
                        "AND quiet_hours_end < quiet_hours_start", name="quiet_hours"),
    )


class User(TimestampMixin, Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str]
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(16))

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="selectin")


class Membership(Base):
    """A user's role in one company; lawyers and group accountants serve several."""

    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(db_enum(Role, "role"))

    user: Mapped[User] = relationship(back_populates="memberships")
    company: Mapped[Company] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("user_id", "company_id"),)


class LoginAttempt(Base):
    """Failed and successful logins, used to throttle guessing across all web workers."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)


class AuditEntry(Base):
    """Append-only record of every state change that matters."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
