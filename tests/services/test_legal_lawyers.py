"""A lawyer sees only the legal cases assigned to them, across the companies that instruct them
(issue 5 §5); managers get the summary: cases by state, amounts, days from filing to title."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from arrears.persistence.enums import LegalState, Role
from arrears.persistence.models import Membership
from arrears.services.errors import ServiceError
from arrears.services.legal import cases, lawyers, summary
from arrears.services.payment_batch import PaymentInput
from arrears.services.payments import record_payment
from tests.documents.packet_world import TODAY, build_world
from tests.factories import ACTOR, USCCS, make_company, make_user
from tests.services.test_legal_cases import filed, titled

D = dt.date


def test_lawyer_sees_only_assigned_cases_across_companies(session: Session) -> None:
    first = build_world(session)
    second = build_world(session, uscc=USCCS[1])
    third = build_world(session, uscc="91440300MA5F0000XX")
    lawyer = make_user(session, first.company, Role.LAWYER)
    session.add(Membership(user_id=lawyer.id, company_id=second.company.id, role=Role.LAWYER))
    session.add(Membership(user_id=lawyer.id, company_id=third.company.id, role=Role.ACCOUNTANT))
    session.flush()
    colleague = make_user(session, first.company, Role.LAWYER)

    mine_1 = cases.open_legal_case(session, ACTOR, first.company.id, first.case.id, today=TODAY,
                                   lawyer_user_id=lawyer.id)
    mine_2 = cases.open_legal_case(session, ACTOR, second.company.id, second.case.id, today=TODAY,
                                   lawyer_user_id=lawyer.id)
    with pytest.raises(ServiceError, match="not a lawyer"):  # an accountant there, not a lawyer
        cases.open_legal_case(session, ACTOR, third.company.id, third.case.id, today=TODAY,
                              lawyer_user_id=lawyer.id)
    foreign = cases.open_legal_case(session, ACTOR, third.company.id, third.case.id, today=TODAY)
    foreign.lawyer_user_id = lawyer.id  # assigned behind the service's back: still never shown
    session.flush()

    assert [c.id for c in lawyers.lawyer_cases(session, lawyer.id)] == [mine_1.id, mine_2.id]
    assert lawyers.can_see(session, lawyer.id, mine_2) and not lawyers.can_see(session, lawyer.id, foreign)
    assert lawyers.lawyer_cases(session, colleague.id) == []
    cases.assign_lawyer(session, ACTOR, first.company.id, mine_1.id, lawyer_user_id=colleague.id, today=TODAY)
    assert [c.id for c in lawyers.lawyer_cases(session, lawyer.id)] == [mine_2.id]
    assert [c.id for c in lawyers.lawyer_cases(session, colleague.id)] == [mine_1.id]
    assert mine_1.events[-1].kind == "lawyer_assigned"
    outsider = make_user(session, make_company(session), Role.LAWYER)
    with pytest.raises(ServiceError, match="not a lawyer of this company"):
        cases.assign_lawyer(session, ACTOR, first.company.id, mine_1.id, lawyer_user_id=outsider.id, today=TODAY)


def test_summary_figures(session: Session) -> None:
    world = build_world(session)
    empty = summary.summary(session, world.company.id)
    assert empty.total == 0 and empty.avg_days_filing_to_title is None
    legal = titled(session, world, effective=D(2027, 2, 1), deadline=D(2027, 2, 11))  # filed 2026-11-26
    record_payment(session, ACTOR, world.company.id,
                   PaymentInput(world.unit.id, world.owners[0].id, "R-S1", D(2027, 2, 5), Decimal("1000.00")),
                   today=D(2027, 2, 5))
    other = build_world(session, uscc=USCCS[1])
    second = filed(session, other)
    figures = summary.summary(session, world.company.id)
    assert figures.total == 1 and figures.open == 1
    assert figures.by_state[LegalState.TITLE_EFFECTIVE.value] == 1 and figures.by_state["drafted"] == 0
    assert figures.claimed == legal.claimed_principal + legal.claimed_late_fee
    assert figures.awarded == Decimal("2062.80")
    assert figures.recovered == Decimal("1000.00")
    assert figures.avg_days_filing_to_title == Decimal("67.0")  # 2026-11-26 → 2027-02-01
    assert summary.summary(session, world.company.id, as_of=D(2027, 2, 4)).recovered == Decimal("0.00")
    assert summary.summary(session, other.company.id).by_state["filed"] == 1
    assert second.state == LegalState.FILED
