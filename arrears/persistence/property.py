"""Communities (with their service contract), buildings, units, owners and ownership over time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from arrears.domain.allocation import AllocationPolicy
from arrears.domain.unitcode import natural_key

from .base import Base, Rate, TimestampMixin
from .enums import OwnerKind, UnitType, db_enum


class Community(TimestampMixin, Base):
    """An estate served under one service contract (LEGAL L1, L2, L6, L7, L10–L12)."""

    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str]
    province: Mapped[str] = mapped_column(String(40))
    city: Mapped[str] = mapped_column(String(60))
    district: Mapped[str | None] = mapped_column(String(60))
    address: Mapped[str] = mapped_column(String(500))
    competent_court: Mapped[str | None]
    arbitration_commission: Mapped[str | None]
    # Service contract (or the developer's preliminary contract, art. 939).
    contract_name: Mapped[str]
    contract_number: Mapped[str | None] = mapped_column(String(80))
    contract_signed_on: Mapped[dt.date | None]
    contract_start: Mapped[dt.date | None]
    contract_end: Mapped[dt.date | None]
    fee_clause: Mapped[str | None] = mapped_column(Text)
    late_fee_rate_per_day: Mapped[Decimal | None] = mapped_column(Rate)
    late_fee_cap_ratio: Mapped[Decimal | None] = mapped_column(Rate, default=Decimal("1"))
    allocation_policy: Mapped[AllocationPolicy] = mapped_column(
        db_enum(AllocationPolicy, "allocation_policy"),
        default=AllocationPolicy.PRINCIPAL_FIRST,
    )
    demand_deadline_days: Mapped[int] = mapped_column(default=15)
    # Vacancy discount (L1): charge this share of the standard after N months of vacancy.
    vacancy_discount_ratio: Mapped[Decimal | None] = mapped_column(Rate)
    vacancy_discount_after_months: Mapped[int | None]
    vacancy_discount_basis: Mapped[str | None] = mapped_column(Text)
    developer_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id"))
    # Public arrears notice (L16): the local regulation the notice cites and how long it is posted.
    notice_legal_basis: Mapped[str | None] = mapped_column(Text)
    notice_posting_days: Mapped[int] = mapped_column(default=15, server_default="15")

    buildings: Mapped[list[Building]] = relationship(back_populates="community")

    __table_args__ = (
        UniqueConstraint("company_id", "code"),
        CheckConstraint("late_fee_rate_per_day IS NULL OR late_fee_rate_per_day >= 0", name="rate"),
        CheckConstraint("late_fee_cap_ratio IS NULL OR late_fee_cap_ratio >= 0", name="cap"),
        CheckConstraint("demand_deadline_days BETWEEN 1 AND 365", name="deadline_days"),
    )


class Building(Base):
    __tablename__ = "building"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str | None]

    community: Mapped[Community] = relationship(back_populates="buildings")

    __table_args__ = (UniqueConstraint("community_id", "code"),)


def _sort_key_default(context: Any) -> str | None:
    """Column default for Core inserts (imports, bulk loads) that give only the code."""
    code = context.get_current_parameters().get("code")
    return natural_key(code) if code is not None else None


class Unit(TimestampMixin, Base):
    """A billable property; `code` reads building-entrance-room, e.g. 1-2-301."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    # natural_key(code), so lists order 1-2-301 before 1-10-101; filled on every insert (ORM or Core)
    sort_key: Mapped[str | None] = mapped_column(String(400), default=_sort_key_default)  # a 40-character code: <= 380
    area: Mapped[Decimal] = mapped_column()
    unit_type: Mapped[UnitType] = mapped_column(db_enum(UnitType, "unit_type"), default=UnitType.RESIDENTIAL)
    delivered_on: Mapped[dt.date | None]

    community: Mapped[Community] = relationship(lazy="joined")
    building: Mapped[Building] = relationship()

    __table_args__ = (
        UniqueConstraint("community_id", "code"),
        CheckConstraint("area > 0", name="area_positive"),
        # Search anywhere in a code (ILIKE '%…%') through a trigram index on PostgreSQL (pg_trgm);
        # SQLite builds a plain index from the same definition.
        Index("ix_unit_code_trgm", "code", postgresql_using="gin", postgresql_ops={"code": "gin_trgm_ops"}),
        Index("ix_unit_community_sort", "community_id", "sort_key", "id"),
    )

    @validates("code")
    def _keep_sort_key(self, _key: str, code: str) -> str:
        self.sort_key = natural_key(code)
        return code


class Owner(TimestampMixin, Base):
    """A natural person or organisation that owns (or as developer, owes for) units."""

    __tablename__ = "owner"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    kind: Mapped[OwnerKind] = mapped_column(db_enum(OwnerKind, "owner_kind"))
    name: Mapped[str]
    id_type: Mapped[str] = mapped_column(String(32))
    id_number: Mapped[str] = mapped_column(String(40))
    nationality: Mapped[str | None] = mapped_column(String(40))
    birth_date: Mapped[dt.date | None]
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None]
    service_address: Mapped[str | None] = mapped_column(String(500))
    # The owner gave the service address in writing (contract or confirmation) — L5 delivery.
    service_address_confirmed: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(String(16), default="zh_CN")
    is_developer: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        UniqueConstraint("company_id", "id_type", "id_number"),
        Index("ix_owner_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),
    )


class Ownership(TimestampMixin, Base):
    """Who owes a unit's fees over an inclusive date range; records of one unit never overlap."""

    __tablename__ = "ownership"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    valid_from: Mapped[dt.date]
    valid_to: Mapped[dt.date | None]
    note: Mapped[str | None]

    parties: Mapped[list[OwnershipParty]] = relationship(
        back_populates="ownership", lazy="selectin", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_ownership_unit_from", "unit_id", "valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="range"),
    )

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class OwnershipParty(Base):
    """One co-owner on an ownership record; co-owners are jointly liable (L1)."""

    __tablename__ = "ownership_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    ownership_id: Mapped[int] = mapped_column(ForeignKey("ownership.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    ownership: Mapped[Ownership] = relationship(back_populates="parties")
    owner: Mapped[Owner] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("ownership_id", "owner_id"),)
