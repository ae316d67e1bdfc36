"""The work queue's query (filters, sorts, tiebreak, company isolation) and saved filters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.persistence.enums import CaseStatus, DisputeCategory
from arrears.persistence.models import (
    AuditEntry,
    CaseHold,
    CollectionCase,
    Community,
    Dispute,
    SavedFilter,
    Unit,
)
from arrears.services import saved_filters
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation import queries
from arrears.services.escalation.queries import QueueFilter
from tests.factories import ACTOR, make_community, make_company, make_owner, make_ownership, make_unit, make_user

TODAY = dt.date(2026, 11, 22)


def _case(session: Session, community: Community, *, code: str, arrears: str, oldest: dt.date | None,
          stage: str | None = "reminder_1", next_on: dt.date | None = None, owner_name: str | None = None,
          co_owner: str | None = None, status: CaseStatus = CaseStatus.OPEN) -> CollectionCase:
    unit = make_unit(session, community, code=code)
    owners = [make_owner(session, community.company_id, **({"name": owner_name} if owner_name else {}))]
    if co_owner:
        owners.append(make_owner(session, community.company_id, name=co_owner))
    ownership = make_ownership(session, unit, owners)
    case = CollectionCase(company_id=community.company_id, community_id=community.id, unit_id=unit.id,
                          ownership_id=ownership.id, owner_id=owners[0].id, status=status, stage_code=stage,
                          opened_on=dt.date(2026, 1, 1), arrears=Decimal(arrears), oldest_due=oldest,
                          next_action_on=next_on)
    session.add(case)
    session.flush()
    return case


def _ids(session: Session, company_id: int, **kw: object) -> list[int]:
    page = queries.work_queue(session, company_id, TODAY, QueueFilter(**kw), per_page=100)  # type: ignore[arg-type]
    return [row.case.id for row in page.rows]


@pytest.fixture
def world(session: Session):  # type: ignore[no-untyped-def]
    company = make_company(session)
    north = make_community(session, company, code="N")
    south = make_community(session, company, code="S")
    a = _case(session, north, code="1-1-101", arrears="100.00", oldest=TODAY - dt.timedelta(days=40),
              next_on=TODAY + dt.timedelta(days=3), owner_name="王大明", stage="reminder_1")
    b = _case(session, north, code="1-1-102", arrears="900.00", oldest=TODAY - dt.timedelta(days=400),
              next_on=None, owner_name="李小红", co_owner="赵六", stage="demand")
    c = _case(session, south, code="2-1-101", arrears="900.00", oldest=TODAY - dt.timedelta(days=200),
              next_on=TODAY + dt.timedelta(days=1), owner_name="Smith", stage="notice")
    closed = _case(session, south, code="2-1-102", arrears="50.00", oldest=TODAY, status=CaseStatus.CLOSED)
    session.add(CaseHold(case_id=a.id, reason="abroad", author="t", starts_on=TODAY, ends_on=TODAY + dt.timedelta(days=5)))
    session.add(Dispute(case_id=c.id, category=DisputeCategory.LEAK, description="x", opened_on=TODAY, opened_by="t"))
    other = make_community(session, make_company(session), code="X")
    foreign = _case(session, other, code="1-1-101", arrears="5000.00", oldest=TODAY - dt.timedelta(days=900),
                    owner_name="王大明")
    session.flush()
    return company, north, south, a, b, c, closed, foreign


def test_default_order_puts_cases_without_next_action_first_and_hides_closed_and_foreign(session: Session,
                                                                                         world) -> None:  # type: ignore[no-untyped-def]
    company, _n, _s, a, b, c, closed, foreign = world
    assert _ids(session, company.id) == [b.id, c.id, a.id]
    assert _ids(session, company.id, descending=True) == [a.id, c.id, b.id]
    page = queries.work_queue(session, company.id, TODAY, QueueFilter(), per_page=2, page=9)
    assert page.total == 3 and page.page == 2 and [r.case.id for r in page.rows] == [a.id]
    assert closed.id not in _ids(session, company.id) and foreign.id not in _ids(session, company.id)


def test_filters(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    company, north, _s, a, b, c, _closed, _foreign = world
    unit_b = session.get(Unit, b.unit_id)
    assert unit_b is not None
    assert _ids(session, company.id, community_id=north.id) == [b.id, a.id]
    assert _ids(session, company.id, community_id=north.id, building_id=unit_b.building_id) == [b.id]
    assert _ids(session, company.id, min_arrears=Decimal("900.00")) == [b.id, c.id]
    assert _ids(session, company.id, max_arrears=Decimal("899.99")) == [a.id]
    assert _ids(session, company.id, min_age_days=200) == [b.id, c.id]
    assert _ids(session, company.id, min_age_days=201) == [b.id]
    assert _ids(session, company.id, stage_code="notice") == [c.id]
    assert _ids(session, company.id, pause_kind="held") == [a.id]
    assert _ids(session, company.id, pause_kind="disputed") == [c.id]
    assert _ids(session, company.id, pause_kind="plan") == []
    assert _ids(session, company.id, paused=True) == [c.id, a.id]
    assert _ids(session, company.id, paused=False) == [b.id]
    assert _ids(session, company.id, responsible_user_id=0) == [b.id, c.id, a.id]
    # free text: unit code, owner and co-owner names, case-insensitive; LIKE wildcards are literal
    assert _ids(session, company.id, text="1-1-10") == [b.id, a.id]
    assert _ids(session, company.id, text="大明") == [a.id]
    assert _ids(session, company.id, text="赵六") == [b.id]
    assert _ids(session, company.id, text="smith") == [c.id]
    assert _ids(session, company.id, text="%") == []


def test_sorts_with_case_id_as_tiebreak(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    company, _n, _s, a, b, c, _closed, _foreign = world
    assert _ids(session, company.id, sort="amount") == [a.id, b.id, c.id]  # b and c tie: by id
    assert _ids(session, company.id, sort="amount", descending=True) == [b.id, c.id, a.id]
    assert _ids(session, company.id, sort="age") == [a.id, c.id, b.id]
    assert _ids(session, company.id, sort="age", descending=True) == [b.id, c.id, a.id]
    assert _ids(session, company.id, sort="unit") == [a.id, b.id, c.id]  # community N before S
    assert _ids(session, company.id, sort="unit", descending=True) == [c.id, b.id, a.id]
    # no policy: stage codes alphabetically (demand, notice, reminder_1)
    assert _ids(session, company.id, sort="stage") == [b.id, c.id, a.id]


def test_export_rows_and_matching_ids_follow_the_filter(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    company, _n, _s, a, b, c, _closed, _foreign = world
    rows = list(queries.export_rows(session, company.id, TODAY, QueueFilter(sort="amount", descending=True)))
    assert [r.case_id for r in rows] == [b.id, c.id, a.id]
    assert rows[0].owners == ("李小红", "赵六") and rows[0].arrears == Decimal("900.00")
    assert rows[2].held and rows[2].hold_reason == "abroad" and rows[1].disputed
    assert queries.matching_case_ids(session, company.id, TODAY, QueueFilter(min_arrears=Decimal("500"))) == [b.id, c.id]


def test_saved_filters_keep_known_parameters_and_are_per_user(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    company = world[0]
    me = make_user(session, company)
    you = make_user(session, company)
    keys = ("q", "community", "sort")
    saved = saved_filters.save_filter(session, ACTOR, company.id, me.id, "cases", name="  big  debts ",
                                      query="sort=amount&evil=1&page=3&q=&community=5", allowed=keys)
    assert saved.name == "big debts" and saved.query == "community=5&sort=amount"
    with pytest.raises(ServiceError, match="already have a filter"):
        saved_filters.save_filter(session, ACTOR, company.id, me.id, "cases", name="Big Debts", query="", allowed=keys)
    for bad in ("", "   ", "x" * 81):
        with pytest.raises(ServiceError):
            saved_filters.save_filter(session, ACTOR, company.id, me.id, "cases", name=bad, query="", allowed=keys)
    saved_filters.save_filter(session, ACTOR, company.id, you.id, "cases", name="big debts", query="", allowed=keys)
    assert [f.name for f in saved_filters.list_filters(session, company.id, me.id, "cases")] == ["big debts"]
    assert saved_filters.list_filters(session, company.id, me.id, "units") == []
    with pytest.raises(NotFound):
        saved_filters.delete_filter(session, ACTOR, company.id, you.id, saved.id)
    saved_filters.delete_filter(session, ACTOR, company.id, me.id, saved.id)
    assert session.get(SavedFilter, saved.id) is None
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "saved_filter")))
    assert actions == {"saved_filter.create", "saved_filter.delete"}
