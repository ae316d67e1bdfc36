"""The deadline list of legal cases (L10, L14, L15, E7): objection period, decline window,
performance deadline, enforcement application deadline and the deletion window."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from arrears.domain.calendar import load_default_calendar
from arrears.persistence.enums import LegalRoute
from arrears.services.legal import cases
from arrears.services.legal import deadlines as dl
from tests.documents.packet_world import build_world
from tests.factories import ACTOR, USCCS
from tests.services.test_legal_cases import filed, titled

D = dt.date


def test_e7_periods() -> None:
    cal = load_default_calendar()
    assert dl.last_day(D(2026, 5, 31), cal) == D(2026, 6, 1)  # Sunday → Monday (CPL art. 85)
    assert dl.enforcement_deadline(D(2026, 6, 1), cal) == D(2028, 6, 1)
    assert dl.period_end(D(2026, 12, 3), dl.OBJECTION_DAYS, cal) == D(2026, 12, 18)


def test_performance_and_enforcement_deadlines_after_a_title(session: Session) -> None:
    world = build_world(session)
    legal = titled(session, world, effective=D(2027, 2, 1), deadline=D(2027, 2, 13))  # a Saturday
    found = {d.kind: d for d in dl.deadlines(session, company_id=world.company.id, today=D(2027, 2, 14))}
    assert set(found) == {dl.PERFORMANCE, dl.ENFORCEMENT}
    performance = found[dl.PERFORMANCE]
    assert performance.legal_case_id == legal.id
    assert performance.due_on == D(2027, 2, 15) and not performance.overdue  # moved past the weekend
    assert found[dl.ENFORCEMENT].due_on == dl.enforcement_deadline(D(2027, 2, 15))
    assert found[dl.ENFORCEMENT].due_on.year == 2029 and found[dl.ENFORCEMENT].text
    later = {d.kind: d for d in dl.deadlines(session, company_id=world.company.id, today=D(2027, 2, 16))}
    assert later[dl.PERFORMANCE].overdue and not later[dl.ENFORCEMENT].overdue
    # once enforcement is applied for, neither is pending
    cases.record_enforcement(session, ACTOR, world.company.id, legal.id, court="法院", case_number="执3",
                             applied_on=D(2027, 2, 16), today=D(2027, 2, 16))
    assert dl.deadlines(session, company_id=world.company.id, today=D(2027, 2, 16)) == []


def test_payment_order_deadlines_and_lawyer_filter(session: Session) -> None:
    world = build_world(session)
    legal = filed(session, world, route=LegalRoute.PAYMENT_ORDER)
    cases.record_payment_order(session, ACTOR, world.company.id, legal.id, issued_on=D(2026, 12, 1),
                               served_on=D(2026, 12, 3), today=D(2026, 12, 3))
    (mine,) = dl.deadlines(session, lawyer_user_id=legal.lawyer_user_id, today=D(2026, 12, 19))
    assert (mine.kind, mine.due_on, mine.overdue) == (dl.OBJECTION_PERIOD, D(2026, 12, 18), True)
    other = build_world(session, uscc=USCCS[1])
    filed(session, other, route=LegalRoute.PAYMENT_ORDER)
    assert dl.deadlines(session, company_id=other.company.id, today=D(2026, 12, 19)) == []  # not yet issued
    assert [d.legal_case_id for d in dl.deadlines(session, lawyer_user_id=legal.lawyer_user_id,
                                                   today=D(2026, 12, 19))] == [legal.id]


def test_closed_cases_have_no_deadlines(session: Session) -> None:
    world = build_world(session)
    legal = titled(session, world)
    cases.withdraw(session, ACTOR, world.company.id, legal.id, on=D(2027, 2, 2), reason="settled out of court",
                   today=D(2027, 2, 2))
    assert dl.deadlines(session, company_id=world.company.id, today=D(2027, 2, 2)) == []
