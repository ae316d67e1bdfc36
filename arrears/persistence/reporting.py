"""Report summaries: the ledger's collection sums pre-grouped per community and month.

Rebuilt from the ledger (nightly, or ``arrears rebuild-reports``) by
:mod:`arrears.services.reports.summary`; never edited by hand. A :class:`SummaryBuild` row per
company records up to which ledger rows (id watermarks) the sums go: the reports add the rows
posted since, and take out what reversals since then voided, live — so the figures never depend
on how recent the summary is, only the work does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class CollectionSummary(Base):
    """Principal applied (not voided) to the fee charges of one period month, per applied month."""

    __tablename__ = "collection_summary"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    charge_month: Mapped[dt.date]  # first day of the month of the charge's period_start
    applied_month: Mapped[dt.date]  # first day of the month of the allocation's applied_on
    principal: Mapped[Decimal]

    __table_args__ = (UniqueConstraint("company_id", "community_id", "charge_month", "applied_month",
                                       name="uq_collection_summary_key"),)


class CollectionSummaryDay(Base):
    """The same sums per applied day: only read for the part of a month up to an as-of date."""

    __tablename__ = "collection_summary_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    charge_month: Mapped[dt.date]
    applied_on: Mapped[dt.date]
    principal: Mapped[Decimal]

    __table_args__ = (
        UniqueConstraint("company_id", "community_id", "charge_month", "applied_on",
                         name="uq_collection_summary_day_key"),
        Index("ix_collection_summary_day_company_applied", "company_id", "applied_on"),
    )


class BilledSummary(Base):
    """The amounts of the (not reversed) fee charges of one period month."""

    __tablename__ = "billed_summary"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    charge_month: Mapped[dt.date]
    amount: Mapped[Decimal]

    __table_args__ = (UniqueConstraint("company_id", "community_id", "charge_month", name="uq_billed_summary_key"),)


class SummaryBuild(Base):
    """When a company's summaries were built and the last charge, allocation and reversal ids in them."""

    __tablename__ = "summary_build"

    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)
    charge_mark: Mapped[int]
    allocation_mark: Mapped[int]
    reversal_mark: Mapped[int]
    rebuilt_at: Mapped[dt.datetime]
