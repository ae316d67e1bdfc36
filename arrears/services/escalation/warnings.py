"""Daily limitation warnings (L4, L5): unpaid charges whose 3 years run out within 90 days.

The end of each charge's limitation comes from the statement engine (so recorded interruptions
and payments applied to the charge restart it exactly as statements show). One SQL query finds the
candidates: open charges (partial index on unpaid principal) due long enough ago that even without
any interruption their period could end inside the window — an interruption only ever moves the
end later. Only the units of those candidates are loaded and evaluated, a chunk at a time.

`limitation_warning` holds the current warnings: one row per (charge, end date). A rerun adds
nothing; a warning whose charge is paid, time-barred or whose end moved (a new interruption) is
removed, and the charge gets a new row if its new end is again inside the window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from arrears.domain.calendar import HolidayCalendar, add_years, load_default_calendar
from arrears.domain.limitation import LIMITATION_YEARS
from arrears.domain.statement import build_statement
from arrears.persistence.models import Charge, Community, LimitationWarning, Unit
from arrears.services import audit
from arrears.services.actor import Actor
from arrears.services.facts import load_unit_facts
from arrears.services.statements import terms_of

WINDOW = dt.timedelta(days=90)
CHUNK = 1000


@dataclass(frozen=True)
class WarningCounts:
    candidates: int  # open charges old enough to be looked at
    at_risk: int  # charges whose limitation ends inside the window (warnings now in place)
    created: int
    removed: int


@dataclass(frozen=True)
class AtRisk:
    charge_id: int
    unit_id: int
    ends_on: dt.date  # the unmoved end: warnings count from the earlier date (L4)


def refresh_warnings(
    session: Session,
    actor: Actor,
    company_id: int,
    *,
    today: dt.date,
    window: dt.timedelta = WINDOW,
    calendar: HolidayCalendar | None = None,
) -> WarningCounts:
    """Bring the company's limitation warnings up to date as of `today`; flushes, never commits."""
    candidates = _candidates(session, company_id, today + window)
    at_risk = list(_at_risk(session, candidates, today, window, calendar or load_default_calendar()))
    wanted = {(r.charge_id, r.ends_on) for r in at_risk}
    existing = session.execute(
        select(LimitationWarning.id, LimitationWarning.charge_id, LimitationWarning.ends_on)
        .where(LimitationWarning.company_id == company_id)
    ).all()
    have = {(row.charge_id, row.ends_on) for row in existing}
    stale = [row.id for row in existing if (row.charge_id, row.ends_on) not in wanted]
    for start in range(0, len(stale), CHUNK):
        session.execute(delete(LimitationWarning).where(LimitationWarning.id.in_(stale[start : start + CHUNK])))
    new = [
        {"company_id": company_id, "unit_id": r.unit_id, "charge_id": r.charge_id, "ends_on": r.ends_on,
         "found_on": today}
        for r in at_risk if (r.charge_id, r.ends_on) not in have
    ]
    for start in range(0, len(new), CHUNK):
        # Another process may have added the same warning meanwhile: the unique key decides.
        session.execute(_insert_ignoring_duplicates(session), new[start : start + CHUNK])
    counts = WarningCounts(len(candidates), len(at_risk), len(new), len(stale))
    if new or stale:
        audit.record(session, actor, "limitation_warning.refresh", "company", company_id,
                     company_id=company_id, today=today, created=counts.created, removed=counts.removed,
                     at_risk=counts.at_risk)
    session.flush()
    return counts


def _candidates(session: Session, company_id: int, horizon: dt.date) -> dict[int, list[int]]:
    """unit id -> ids of its open charges that could reach their limitation by `horizon`.

    Without interruptions a charge due on D ends on (D + 1) + 3 years, so D must be on or before
    `horizon` − 3 years; interruptions only move the end later, so nothing at risk is missed.
    """
    latest_due = add_years(horizon, -LIMITATION_YEARS)
    rows = session.execute(
        select(Charge.unit_id, Charge.id).where(
            Charge.company_id == company_id,
            Charge.principal_outstanding > 0,
            Charge.reversed_on.is_(None),
            Charge.due_date <= latest_due,
        )
    )
    result: dict[int, list[int]] = {}
    for unit_id, charge_id in rows:
        result.setdefault(unit_id, []).append(charge_id)
    return result


def _at_risk(
    session: Session,
    candidates: dict[int, list[int]],
    today: dt.date,
    window: dt.timedelta,
    calendar: HolidayCalendar,
) -> Iterable[AtRisk]:
    unit_ids = sorted(candidates)
    for start in range(0, len(unit_ids), CHUNK):
        ids = unit_ids[start : start + CHUNK]
        facts = load_unit_facts(session, ids)
        terms = _terms(session, ids)
        for unit_id in ids:
            wanted = set(candidates[unit_id])
            statement = build_statement(facts[unit_id].charges, as_of=today, terms=terms[unit_id],
                                        calendar=calendar)
            for line in statement.lines:
                if line.key not in wanted or line.outstanding <= 0 or line.time_barred:
                    continue
                if line.limitation.unmoved <= today + window:
                    yield AtRisk(charge_id=line.key, unit_id=unit_id, ends_on=line.limitation.unmoved)


def _terms(session: Session, unit_ids: Sequence[int]):  # type: ignore[no-untyped-def]
    rows = session.execute(
        select(Unit.id, Community).join(Community, Community.id == Unit.community_id).where(Unit.id.in_(unit_ids))
    )
    return {unit_id: terms_of(community) for unit_id, community in rows}


def _insert_ignoring_duplicates(session: Session):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(LimitationWarning).on_conflict_do_nothing(index_elements=["charge_id", "ends_on"])
