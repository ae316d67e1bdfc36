"""Rebuilding the collection summaries (:mod:`arrears.persistence.reporting`) from the ledger.

The collection figures (:mod:`.collection`) sum ~2 million allocation rows at 100,000 units;
the summaries hold the same sums grouped per community, charge month and applied month (and day),
so a report reads a few thousand rows. ``rebuild`` replaces a company's summaries in one
``INSERT … SELECT … GROUP BY`` per table, with the rules of :mod:`.collection` (fee charges not
reversed, principal allocations not voided), and records the highest charge, allocation and
reversal ids it saw. The reports add what was posted after those ids and take out what the
reversals after them voided, so the figures are the ledger's at any time; a rebuild only keeps
that live part small. It runs nightly (the scheduler's ``collection_summary`` job) and on demand
(``flask --app wsgi arrears rebuild-reports``).

On PostgreSQL the rebuild takes SHARE locks on ``charge``, ``allocation`` and ``reversal`` for
its transaction: it waits for the writers in flight (whose rows would otherwise carry ids below the
watermarks without being in the sums) and holds new writers back for the few seconds it takes.
On SQLite its first statement (a delete) takes the database's single write lock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, delete, func, insert, literal, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from arrears.domain.allocation import Component
from arrears.persistence.base import utcnow
from arrears.persistence.models import (
    Allocation,
    BilledSummary,
    Charge,
    CollectionSummary,
    CollectionSummaryDay,
    Reversal,
    SummaryBuild,
    Unit,
)

from .collection import fee_charges

LOCK_TIMEOUT = "120s"  # a writer holding charge/allocation longer than this fails the rebuild (retried next night)


class month_start(FunctionElement[dt.date]):  # noqa: N801 - an SQL function
    """The first day of a date's month, in SQL (PostgreSQL and SQLite)."""

    type = Date()
    inherit_cache = True


@compiles(month_start, "postgresql")
def _month_start_pg(element: month_start, compiler: Any, **kw: Any) -> str:
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element: month_start, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


@dataclass(frozen=True)
class Rebuilt:
    company_id: int
    days: int  # rows of collection_summary_day
    months: int  # rows of collection_summary
    billed: int  # rows of billed_summary
    rebuilt_at: dt.datetime


def latest(session: Session, company_id: int) -> SummaryBuild | None:
    """The company's current summaries' build (None: never built, every figure is computed live)."""
    return session.get(SummaryBuild, company_id)


def rebuild(session: Session, company_id: int, *, now: dt.datetime | None = None) -> Rebuilt:
    """Replace the company's summaries with the ledger's current sums (idempotent)."""
    now = now or utcnow()
    for model in (CollectionSummaryDay, CollectionSummary, BilledSummary, SummaryBuild):
        session.execute(delete(model).where(model.company_id == company_id))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        session.execute(text("LOCK TABLE charge, allocation, reversal IN SHARE MODE"))
    marks = {name: int(session.scalar(select(func.coalesce(func.max(column), 0))) or 0)
             for name, column in (("charge_mark", Charge.id), ("allocation_mark", Allocation.id),
                                  ("reversal_mark", Reversal.id))}
    fee = fee_charges(company_id)
    charge_month = month_start(Charge.period_start)
    session.execute(insert(CollectionSummaryDay).from_select(
        ["company_id", "community_id", "charge_month", "applied_on", "principal"],
        select(literal(company_id), Unit.community_id, charge_month, Allocation.applied_on, func.sum(Allocation.amount))
        .select_from(Allocation)
        .join(Charge, Charge.id == Allocation.charge_id)
        .join(Unit, Unit.id == Charge.unit_id)
        .where(*fee, Allocation.component == Component.PRINCIPAL, Allocation.voided_on.is_(None),
               Allocation.id <= marks["allocation_mark"])
        .group_by(Unit.community_id, charge_month, Allocation.applied_on)
    ))
    applied_month = month_start(CollectionSummaryDay.applied_on)
    session.execute(insert(CollectionSummary).from_select(
        ["company_id", "community_id", "charge_month", "applied_month", "principal"],
        select(CollectionSummaryDay.company_id, CollectionSummaryDay.community_id, CollectionSummaryDay.charge_month,
               applied_month, func.sum(CollectionSummaryDay.principal))
        .where(CollectionSummaryDay.company_id == company_id)
        .group_by(CollectionSummaryDay.company_id, CollectionSummaryDay.community_id,
                  CollectionSummaryDay.charge_month, applied_month)
    ))
    session.execute(insert(BilledSummary).from_select(
        ["company_id", "community_id", "charge_month", "amount"],
        select(literal(company_id), Unit.community_id, charge_month, func.sum(Charge.amount))
        .join(Unit, Unit.id == Charge.unit_id)
        .where(*fee, Charge.id <= marks["charge_mark"])
        .group_by(Unit.community_id, charge_month)
    ))
    session.add(SummaryBuild(company_id=company_id, rebuilt_at=now, **marks))
    session.flush()
    days, months, billed = (int(session.scalar(select(func.count()).select_from(model)
                                               .where(model.company_id == company_id)) or 0)
                            for model in (CollectionSummaryDay, CollectionSummary, BilledSummary))
    return Rebuilt(company_id, days, months, billed, now)
