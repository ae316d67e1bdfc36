"""The accountant's start page as one frozen read model: collection rates, aging, the case funnel,
the last escalation run and the deadlines coming up.

Every figure comes from a grouped query over the company (never a loop over units); lists of
deadlines are capped at :data:`LIST_LIMIT` rows with their full count beside them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.money import ZERO
from arrears.domain.reporting import AGING_BUCKETS, Window, last_year, month_window, year_to_date_window
from arrears.persistence.enums import ActionStatus, CaseStatus
from arrears.persistence.models import (
    Charge,
    CollectionCase,
    Community,
    EscalationAction,
    EscalationPolicy,
    EscalationRun,
    EscalationStage,
    LimitationWarning,
    Unit,
)
from arrears.services import portfolio
from arrears.services.escalation import queries
from arrears.services.legal.deadlines import Deadline, deadlines

from . import aging, collection
from .collection import Collection

LIST_LIMIT = 10
DEMAND_HORIZON = dt.timedelta(days=30)
LIMITATION_HORIZON = dt.timedelta(days=90)
COURT_HORIZON = dt.timedelta(days=30)


@dataclass(frozen=True)
class RateRow:
    """Collection this year to date and this month, each beside the same window last year;
    ``community`` None is the company's total."""

    community: Community | None
    ytd: Collection
    ytd_last_year: Collection
    month: Collection
    month_last_year: Collection


@dataclass(frozen=True)
class AgingRow:
    community: Community | None  # None: the company
    buckets: tuple[tuple[str, Decimal], ...]  # (bucket code, amount) in AGING_BUCKETS order

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.buckets), ZERO)


@dataclass(frozen=True)
class StageCount:
    code: str | None  # None: open cases not in any stage yet
    name: str
    count: int
    arrears: Decimal


@dataclass(frozen=True)
class RunSummary:
    last_run: queries.RunRow | None  # the latest run that changed something (not a dry run)
    awaiting_approval: int  # prepared actions of all runs still waiting for a decision
    approved_waiting: int  # approved, not yet queued for sending


@dataclass(frozen=True)
class DemandDeadline:
    case_id: int
    unit_id: int
    unit_code: str
    community: str
    deadline: dt.date
    arrears: Decimal


@dataclass(frozen=True)
class LimitationDeadline:
    charge_id: int
    unit_id: int
    unit_code: str
    community: str
    period_label: str
    ends_on: dt.date
    outstanding: Decimal


@dataclass(frozen=True)
class Dashboard:
    today: dt.date
    ytd: Window
    month: Window
    communities: tuple[portfolio.CommunityRow, ...]
    rates: tuple[RateRow, ...]  # the company first, then each community
    aging: tuple[AgingRow, ...]  # the company first, then each community with arrears
    stages: tuple[StageCount, ...]  # in the order of the company's policy
    runs: RunSummary
    demand_deadlines: tuple[DemandDeadline, ...]
    demand_deadline_count: int
    limitation_deadlines: tuple[LimitationDeadline, ...]
    limitation_deadline_count: int
    court_deadlines: tuple[Deadline, ...]

    @property
    def company_rate(self) -> RateRow:
        return self.rates[0]

    @property
    def company_aging(self) -> AgingRow:
        return self.aging[0]

    @property
    def open_cases(self) -> int:
        return sum(s.count for s in self.stages)


def build(session: Session, company_id: int, today: dt.date) -> Dashboard:
    """The dashboard of ``company_id`` as of ``today`` (the company's business day)."""
    communities = tuple(portfolio.communities(session, company_id, today))
    ytd, month = year_to_date_window(today), month_window(today)
    return Dashboard(
        today=today, ytd=ytd, month=month, communities=communities,
        rates=_rates(session, company_id, [row.community for row in communities], ytd, month),
        aging=_aging(session, company_id, [row.community for row in communities], today),
        stages=stage_funnel(session, company_id),
        runs=run_summary(session, company_id),
        demand_deadlines=tuple(demand_deadlines(session, company_id, today, limit=LIST_LIMIT)),
        demand_deadline_count=_count(session, _demand_query(company_id, today)),
        limitation_deadlines=tuple(limitation_deadlines(session, company_id, today, limit=LIST_LIMIT)),
        limitation_deadline_count=_count(session, _limitation_query(company_id, today)),
        court_deadlines=tuple(d for d in deadlines(session, company_id=company_id, today=today)
                              if d.due_on <= today + COURT_HORIZON),
    )


def _rates(session: Session, company_id: int, communities: list[Community], ytd: Window,
           month: Window) -> tuple[RateRow, ...]:
    figures = collection.by_community(session, company_id, [ytd, last_year(ytd), month, last_year(month)])
    rows = [RateRow(None, *(collection.total(f) for f in figures))]
    rows += [RateRow(c, *(f.get(c.id, Collection()) for f in figures)) for c in communities]
    return tuple(rows)


def _aging(session: Session, company_id: int, communities: list[Community], today: dt.date
           ) -> tuple[AgingRow, ...]:
    amounts = aging.by_bucket(session, company_id, today)
    company = tuple((b.code, sum((amounts[c].get(b.code, ZERO) for c in amounts), ZERO)) for b in AGING_BUCKETS)
    rows = [AgingRow(None, company)]
    rows += [AgingRow(c, tuple((b.code, amounts[c.id].get(b.code, ZERO)) for b in AGING_BUCKETS))
             for c in communities if c.id in amounts]
    return tuple(rows)


def stage_funnel(session: Session, company_id: int) -> tuple[StageCount, ...]:
    """Open cases per stage, in the order of the company's default policy; stages only found in a
    community's override follow in their own order, then codes no policy has any more."""
    counts = {code: (int(n), amount or ZERO) for code, n, amount in session.execute(
        select(CollectionCase.stage_code, func.count(), func.sum(CollectionCase.arrears))
        .where(CollectionCase.company_id == company_id, CollectionCase.status == CaseStatus.OPEN)
        .group_by(CollectionCase.stage_code))}
    stages = session.execute(
        select(EscalationStage.code, EscalationStage.name)
        .join(EscalationPolicy, EscalationPolicy.id == EscalationStage.policy_id)
        .where(EscalationPolicy.company_id == company_id)
        .order_by(EscalationPolicy.community_id.is_not(None), EscalationPolicy.community_id,
                  EscalationStage.position)
    ).all()
    result: list[StageCount] = []
    seen: set[str | None] = set()
    for code, name in [*stages, *((c, c) for c in sorted(k for k in counts if k is not None))]:
        if code in seen:
            continue
        seen.add(code)
        n, amount = counts.get(code, (0, ZERO))
        result.append(StageCount(code, name, n, amount))
    if None in counts:
        result.insert(0, StageCount(None, "", counts[None][0], counts[None][1]))
    return tuple(result)


def run_summary(session: Session, company_id: int) -> RunSummary:
    run = session.scalar(
        select(EscalationRun).where(EscalationRun.company_id == company_id, EscalationRun.dry_run.is_(False))
        .order_by(EscalationRun.started_at.desc(), EscalationRun.id.desc()).limit(1))
    waiting = session.scalar(
        select(func.count()).select_from(EscalationAction)
        .where(EscalationAction.company_id == company_id, EscalationAction.status == ActionStatus.PREPARED)) or 0
    return RunSummary(queries.run_counts(session, company_id, run) if run else None, int(waiting),
                      queries.approved_waiting(session, company_id))


def _demand_query(company_id: int, today: dt.date):  # type: ignore[no-untyped-def]
    return (
        select(CollectionCase.id, Unit.id, Unit.code, Community.name, CollectionCase.demand_deadline,
               CollectionCase.arrears)
        .join(Unit, Unit.id == CollectionCase.unit_id)
        .join(Community, Community.id == CollectionCase.community_id)
        .where(CollectionCase.company_id == company_id, CollectionCase.status == CaseStatus.OPEN,
               CollectionCase.demand_deadline.between(today, today + DEMAND_HORIZON))
    )


def demand_deadlines(session: Session, company_id: int, today: dt.date, *,
                     limit: int | None = None) -> list[DemandDeadline]:
    """Open cases whose delivered demand's deadline (L2) ends today or within 30 days, soonest first."""
    query = _demand_query(company_id, today).order_by(CollectionCase.demand_deadline, CollectionCase.id)
    if limit is not None:
        query = query.limit(limit)
    return [DemandDeadline(*row) for row in session.execute(query)]


def _limitation_query(company_id: int, today: dt.date):  # type: ignore[no-untyped-def]
    return (
        select(LimitationWarning.charge_id, Unit.id, Unit.code, Community.name, Charge.period_label,
               LimitationWarning.ends_on, Charge.principal_outstanding)
        .join(Charge, Charge.id == LimitationWarning.charge_id)
        .join(Unit, Unit.id == LimitationWarning.unit_id)
        .join(Community, Community.id == Unit.community_id)
        .where(LimitationWarning.company_id == company_id, LimitationWarning.ends_on <= today + LIMITATION_HORIZON,
               Charge.principal_outstanding > 0, Charge.reversed_on.is_(None))
    )


def limitation_deadlines(session: Session, company_id: int, today: dt.date, *,
                         limit: int | None = None) -> list[LimitationDeadline]:
    """Unpaid charges whose limitation ends within 90 days (the nightly warnings, L4), soonest first."""
    query = _limitation_query(company_id, today).order_by(LimitationWarning.ends_on, LimitationWarning.charge_id)
    if limit is not None:
        query = query.limit(limit)
    return [LimitationDeadline(*row) for row in session.execute(query)]


def _count(session: Session, query) -> int:  # type: ignore[no-untyped-def]
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
