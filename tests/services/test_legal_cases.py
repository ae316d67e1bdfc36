"""Legal cases from opening to deletion (issue 5 §1, §3, §4, §7): preconditions (L2), the filing's
interruption for exactly the claimed charges (L5), mediation, the payment order and its objection
(L10), titles, enforcement within 2 years (L14), the dishonest-debtor list never for minors and the
deletion request on full payment (L15)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain import judgement
from arrears.domain.calendar import load_default_calendar
from arrears.persistence.enums import (
    DisputeCategory,
    InterruptionKind,
    LegalRoute,
    LegalState,
    Role,
)
from arrears.persistence.legal import LegalCase
from arrears.persistence.models import AuditEntry, Interruption, StoredFile
from arrears.services.errors import ServiceError
from arrears.services.escalation.disputes import open_dispute
from arrears.services.legal import cases
from arrears.services.legal.deadlines import DELETION_WINDOW, deadlines
from arrears.services.payment_batch import PaymentInput
from arrears.services.payments import record_payment
from tests.documents.packet_world import COURT, DEADLINE_ON, TODAY, World, build_world
from tests.factories import ACTOR, USCCS, make_user

PDF = ("judgement.pdf", "application/pdf", b"%PDF-1.4 court document")
MINOR_IDS = ("110105201501010017", "110105201206010022")  # born 2015-01-01 and 2012-06-01
CASE_NUMBER = "（2026）苏0106民初1234号"
D = dt.date
FILED_ON = D(2026, 11, 26)
EFFECTIVE_ON = D(2027, 2, 1)
PERFORMANCE_DEADLINE = D(2027, 2, 11)


def lawyer_of(session: Session, world: World):  # type: ignore[no-untyped-def]
    return make_user(session, world.company, Role.LAWYER)


def opened(session: Session, world: World, **kw: object) -> LegalCase:
    lawyer = lawyer_of(session, world)
    return cases.open_legal_case(session, ACTOR, world.company.id, world.case.id, today=TODAY,
                                 lawyer_user_id=lawyer.id, **kw)  # type: ignore[arg-type]


def filed(session: Session, world: World, route: LegalRoute = LegalRoute.SIMPLIFIED,
          on: dt.date = FILED_ON) -> LegalCase:
    legal = opened(session, world)
    cases.set_route(session, ACTOR, world.company.id, legal.id, route=route, reason="lawyer's choice", today=on)
    return cases.record_filing(session, ACTOR, world.company.id, legal.id, court=COURT, case_number=CASE_NUMBER,
                               filed_on=on, today=on, document=PDF)


def titled(session: Session, world: World, *, effective: dt.date = EFFECTIVE_ON,
           deadline: dt.date = PERFORMANCE_DEADLINE, principal: str = "2062.80") -> LegalCase:
    legal = filed(session, world)
    return cases.record_title(session, ACTOR, world.company.id, legal.id, kind="judgement", effective_on=effective,
                              principal=principal, performance_deadline=deadline, today=effective, document=PDF)


# --- opening ------------------------------------------------------------------------------------------------


def test_open_computes_the_claim_assigns_the_lawyer_and_records_the_event(session: Session) -> None:
    world = build_world(session)
    legal = opened(session, world)
    assert legal.state == LegalState.DRAFTED and legal.closed_on is None
    assert legal.claimed_charge_ids == [c.id for c in world.charges]
    assert legal.claimed_principal == Decimal("2062.80")
    assert legal.claimed_late_fee > 0 and legal.claim_as_of == TODAY
    assert legal.lawyer_user_id is not None
    assert [e.kind for e in legal.events] == ["opened"]
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "legal.opened",
                                                   AuditEntry.entity_id == legal.id)) is not None
    # the route proposal (L10–L12) when the routing service is there; else None with a note
    if legal.proposed_route is None:
        assert legal.events[0].detail["route_note"]
    else:
        assert legal.route_reasons


def test_no_late_fee_when_not_claimed(session: Session) -> None:
    world = build_world(session)
    legal = opened(session, world, claim_late_fees=False)
    assert legal.claimed_late_fee == Decimal("0.00") and not legal.claim_late_fees


def test_preconditions_refuse_and_change_nothing(session: Session) -> None:
    no_demand = build_world(session, demand=False)
    with pytest.raises(ServiceError, match="no delivered demand"):
        cases.open_legal_case(session, ACTOR, no_demand.company.id, no_demand.case.id, today=TODAY)
    world = build_world(session, uscc=USCCS[1])
    with pytest.raises(ServiceError, match="has not passed"):
        cases.open_legal_case(session, ACTOR, world.company.id, world.case.id, today=DEADLINE_ON)
    accountant = make_user(session, world.company, Role.ACCOUNTANT)
    with pytest.raises(ServiceError, match="not a lawyer"):
        cases.open_legal_case(session, ACTOR, world.company.id, world.case.id, today=TODAY,
                              lawyer_user_id=accountant.id)
    assert session.scalar(select(LegalCase).where(LegalCase.company_id.in_(
        [no_demand.company.id, world.company.id]))) is None
    legal = opened(session, world)
    with pytest.raises(ServiceError, match="already has an open legal case"):
        opened(session, world)
    cases.withdraw(session, ACTOR, world.company.id, legal.id, on=TODAY, reason="owner promised to pay",
                   today=TODAY)
    assert legal.state == LegalState.WITHDRAWN and legal.closed_on == TODAY
    again = opened(session, world)  # a closed case makes room for a new one
    assert again.id != legal.id


def test_open_many_creates_and_skips_with_reasons(session: Session) -> None:
    ready = build_world(session)
    lawyer = lawyer_of(session, ready)
    not_ready = build_world(session, demand=False, uscc=USCCS[1])
    result = cases.open_many(session, ACTOR, ready.company.id, [ready.case.id, ready.case.id, not_ready.case.id],
                             today=TODAY, lawyer_user_id=lawyer.id)
    assert [c.collection_case_id for c in result.created] == [ready.case.id]
    assert result.created[0].lawyer_user_id == lawyer.id
    assert [case_id for case_id, _ in result.skipped] == [not_ready.case.id]
    assert "not found" in result.skipped[0][1]  # another company's case
    again = cases.open_many(session, ACTOR, ready.company.id, [ready.case.id], today=TODAY, lawyer_user_id=lawyer.id)
    assert not again.created and "already has an open legal case" in again.skipped[0][1]


# --- route and filing ---------------------------------------------------------------------------------------


def test_filing_interrupts_limitation_for_exactly_the_claimed_charges(session: Session) -> None:
    from tests.services.test_legal_claims import old_charge

    world = build_world(session)
    barred = old_charge(session, world)
    legal = filed(session, world)
    assert legal.state == LegalState.FILED and legal.filed_on == D(2026, 11, 26)
    assert (legal.court, legal.case_number) == (COURT, CASE_NUMBER)
    event = session.scalar(select(Interruption).where(Interruption.unit_id == world.unit.id,
                                                      Interruption.kind == InterruptionKind.FILING))
    assert event is not None and event.occurred_on == D(2026, 11, 26)
    assert sorted(c.charge_id for c in event.charges) == sorted(c.id for c in world.charges)
    assert barred.id not in {c.charge_id for c in event.charges}
    filing = legal.events[-1]
    assert filing.kind == "filed" and filing.file_id is not None
    stored = session.get(StoredFile, filing.file_id)
    assert stored is not None and stored.data.startswith(b"%PDF")
    with pytest.raises(ServiceError, match="is filed"):
        cases.record_filing(session, ACTOR, world.company.id, legal.id, court=COURT, case_number="x",
                            filed_on=D(2026, 11, 26), today=D(2026, 11, 26))


def test_filing_needs_a_confirmed_route(session: Session) -> None:
    world = build_world(session)
    legal = opened(session, world)
    with pytest.raises(ServiceError, match="confirm the route"):
        cases.record_filing(session, ACTOR, world.company.id, legal.id, court=COURT, case_number=CASE_NUMBER,
                            filed_on=TODAY, today=TODAY)


def test_route_rules(session: Session) -> None:
    world = build_world(session)
    legal = opened(session, world)
    with pytest.raises(ServiceError, match="arbitration"):
        cases.set_route(session, ACTOR, world.company.id, legal.id, route="arbitration", reason="x", today=TODAY)
    open_dispute(session, ACTOR, world.company.id, world.case.id, category=DisputeCategory.LEAK,
                 description="leak in the bathroom", today=TODAY)
    with pytest.raises(ServiceError, match="payment order is not available"):
        cases.set_route(session, ACTOR, world.company.id, legal.id, route="payment_order", reason="x", today=TODAY)
    other = build_world(session, commission="南京仲裁委员会", uscc=USCCS[1])
    legal2 = opened(session, other)
    with pytest.raises(ServiceError, match="arbitration commission"):
        cases.set_route(session, ACTOR, other.company.id, legal2.id, route="simplified", reason="x", today=TODAY)
    cases.set_route(session, ACTOR, other.company.id, legal2.id, route="arbitration", reason="clause", today=TODAY)
    assert legal2.route == LegalRoute.ARBITRATION


# --- the whole lifecycle ------------------------------------------------------------------------------------


def test_lifecycle_from_drafted_to_deleted(session: Session) -> None:
    world = build_world(session)
    cid = world.company.id
    legal = filed(session, world)
    cases.record_mediation(session, ACTOR, cid, legal.id, stage="in_suit", outcome="started", on=D(2026, 12, 1),
                           today=D(2026, 12, 1), mediator="特邀调解员")
    assert legal.state == LegalState.MEDIATION
    cases.record_mediation(session, ACTOR, cid, legal.id, stage="in_suit", outcome="failed", on=D(2026, 12, 20),
                           today=D(2026, 12, 20))
    assert legal.state == LegalState.FILED
    cases.record_title(session, ACTOR, cid, legal.id, kind="judgement", effective_on=D(2027, 2, 1),
                       principal="2062.80", performance_deadline=D(2027, 2, 11), today=D(2027, 2, 1), document=PDF)
    assert legal.state == LegalState.TITLE_EFFECTIVE and legal.awarded_principal == Decimal("2062.80")
    with pytest.raises(ServiceError, match="only after it"):
        cases.record_enforcement(session, ACTOR, cid, legal.id, court=COURT, case_number="（2027）苏0106执100号",
                                 applied_on=D(2027, 2, 11), today=D(2027, 2, 11))
    cases.record_enforcement(session, ACTOR, cid, legal.id, court=COURT, case_number="（2027）苏0106执100号",
                             applied_on=D(2027, 2, 20), today=D(2027, 2, 20))
    assert legal.state == LegalState.ENFORCEMENT_APPLIED and legal.enforcement_applied_on == D(2027, 2, 20)
    with pytest.raises(ServiceError, match="no ground recorded"):
        cases.apply_dishonest(session, ACTOR, cid, legal.id, on=D(2027, 3, 1), today=D(2027, 3, 1))
    cases.record_dishonest_ground(session, ACTOR, cid, legal.id, text="owns the unit and rents it out",
                                  today=D(2027, 3, 1))
    assert legal.dishonest_ground_by == ACTOR.name
    assert cases.dishonest_check(session, legal, D(2027, 3, 1))[0]
    cases.apply_dishonest(session, ACTOR, cid, legal.id, on=D(2027, 3, 1), today=D(2027, 3, 1), document=PDF)
    cases.record_listing(session, ACTOR, cid, legal.id, listed_on=D(2027, 3, 20), today=D(2027, 3, 20))
    assert legal.state == LegalState.LISTED

    paid_on = D(2027, 4, 1)
    assert cases.refresh_payments(session, ACTOR, cid, today=paid_on) == []  # nothing paid yet
    record_payment(session, ACTOR, cid, PaymentInput(world.unit.id, world.owners[0].id, "R-2027-0401", paid_on,
                                                     Decimal("2062.80")), today=paid_on)
    figures = cases.case_figures(session, cid, legal.id, as_of=paid_on)
    assert figures.recovered == Decimal("2062.80") and figures.unpaid == Decimal("0.00")
    assert cases.refresh_payments(session, ACTOR, cid, today=paid_on) == [legal]
    assert legal.state == LegalState.DELETION_REQUESTED
    assert legal.paid_in_full_on == paid_on and legal.deletion_requested_on == paid_on  # the same day
    window = judgement.deletion_window_end(paid_on, load_default_calendar())
    assert legal.events[-1].kind == "deletion_requested" and legal.events[-1].detail["window_ends"] == \
        window.isoformat()
    due = [d for d in deadlines(session, company_id=cid, today=paid_on) if d.legal_case_id == legal.id]
    assert [(d.kind, d.due_on, d.overdue) for d in due] == [(DELETION_WINDOW, window, False)]
    cases.record_deletion(session, ACTOR, cid, legal.id, deleted_on=D(2027, 4, 6), today=D(2027, 4, 6))
    assert legal.state == LegalState.DELETED and legal.closed_on == D(2027, 4, 6)
    kinds = [e.kind for e in legal.events]
    assert kinds == ["opened", "route_set", "filed", "mediation_started", "mediation_failed", "title",
                     "enforcement_applied", "dishonest_ground", "dishonest_applied", "listed", "paid_in_full",
                     "deletion_requested", "deleted"]
    with pytest.raises(ServiceError, match="cannot withdraw"):
        cases.withdraw(session, ACTOR, cid, legal.id, on=D(2027, 4, 7), reason="x", today=D(2027, 4, 7))


def test_full_payment_without_listing_closes_as_paid(session: Session) -> None:
    world = build_world(session)
    legal = titled(session, world)
    record_payment(session, ACTOR, world.company.id, PaymentInput(world.unit.id, world.owners[0].id, "R-1",
                                                                  D(2027, 2, 5), Decimal("2062.80")), today=D(2027, 2, 5))
    cases.refresh_payments(session, ACTOR, world.company.id, today=D(2027, 2, 6))
    assert legal.state == LegalState.PAID and legal.closed_on == D(2027, 2, 6)


def test_settled_mediation_gives_a_mediation_document(session: Session) -> None:
    world = build_world(session)
    legal = filed(session, world)
    with pytest.raises(ServiceError, match="terms"):
        cases.record_mediation(session, ACTOR, world.company.id, legal.id, stage="in_suit", outcome="settled",
                               on=D(2026, 12, 10), today=D(2026, 12, 10))
    cases.record_mediation(session, ACTOR, world.company.id, legal.id, stage="in_suit", outcome="settled",
                           on=D(2026, 12, 10), today=D(2026, 12, 10), terms="pays 2 000.00 by 2027-01-10",
                           principal="2000.00", performance_deadline=D(2027, 1, 10), document=PDF)
    assert legal.state == LegalState.TITLE_EFFECTIVE and legal.title_kind == "mediation_document"
    assert legal.awarded_principal == Decimal("2000.00")
    assert [e.kind for e in legal.events][-2:] == ["mediation_settled", "title"]


def test_pre_suit_mediation_interrupts_limitation(session: Session) -> None:
    world = build_world(session)
    legal = opened(session, world)
    cases.record_mediation(session, ACTOR, world.company.id, legal.id, stage="pre_suit", outcome="started",
                           on=TODAY, today=TODAY, mediator="街道人民调解委员会")
    event = session.scalar(select(Interruption).where(Interruption.kind == InterruptionKind.MEDIATION_REQUEST,
                                                      Interruption.unit_id == world.unit.id))
    assert event is not None and sorted(c.charge_id for c in event.charges) == sorted(legal.claimed_charge_ids)
    cases.record_mediation(session, ACTOR, world.company.id, legal.id, stage="pre_suit", outcome="failed",
                           on=TODAY, today=TODAY)
    assert legal.state == LegalState.DRAFTED


# --- payment order (L10) ------------------------------------------------------------------------------------


def test_objection_converts_to_a_lawsuit_unless_declined_within_7_days(session: Session) -> None:
    world = build_world(session)
    cid = world.company.id
    legal = filed(session, world, route=LegalRoute.PAYMENT_ORDER)
    cases.record_payment_order(session, ACTOR, cid, legal.id, issued_on=D(2026, 12, 1), today=D(2026, 12, 1))
    with pytest.raises(ServiceError, match="service of the payment order"):
        cases.record_objection(session, ACTOR, cid, legal.id, objection_on=D(2026, 12, 2), today=D(2026, 12, 2))
    cases.record_payment_order(session, ACTOR, cid, legal.id, issued_on=D(2026, 12, 1), served_on=D(2026, 12, 3),
                               today=D(2026, 12, 3))
    assert legal.state == LegalState.PAYMENT_ORDER_ISSUED and legal.order_served_on == D(2026, 12, 3)
    (due,) = [d for d in deadlines(session, company_id=cid, today=D(2026, 12, 3))]
    assert (due.kind, due.due_on) == ("objection_period", D(2026, 12, 18))  # 15 days from service (Friday)
    cases.record_objection(session, ACTOR, cid, legal.id, objection_on=D(2026, 12, 10), today=D(2026, 12, 10))
    assert legal.state == LegalState.OBJECTION_RAISED
    (due,) = deadlines(session, company_id=cid, today=D(2026, 12, 18))
    assert (due.kind, due.due_on, due.overdue) == ("decline_window", D(2026, 12, 17), True)
    with pytest.raises(ServiceError, match="7-day window"):
        cases.decline_conversion(session, ACTOR, cid, legal.id, on=D(2026, 12, 18), today=D(2026, 12, 18))
    cases.convert_to_lawsuit(session, ACTOR, cid, legal.id, on=D(2026, 12, 18), today=D(2026, 12, 18),
                             case_number="（2026）苏0106民初9999号")
    assert legal.state == LegalState.FILED and legal.route == LegalRoute.SIMPLIFIED
    assert legal.case_number == "（2026）苏0106民初9999号"


def test_declined_within_7_days_closes_the_case(session: Session) -> None:
    world = build_world(session)
    cid = world.company.id
    legal = filed(session, world, route=LegalRoute.PAYMENT_ORDER)
    cases.record_payment_order(session, ACTOR, cid, legal.id, issued_on=D(2026, 12, 1), served_on=D(2026, 12, 3),
                               today=D(2026, 12, 3))
    with pytest.raises(ServiceError, match="objection period ended"):
        cases.record_objection(session, ACTOR, cid, legal.id, objection_on=D(2026, 12, 21), today=D(2026, 12, 21))
    cases.record_objection(session, ACTOR, cid, legal.id, objection_on=D(2026, 12, 10), today=D(2026, 12, 10))
    cases.decline_conversion(session, ACTOR, cid, legal.id, on=D(2026, 12, 15), today=D(2026, 12, 15))
    assert legal.state == LegalState.WITHDRAWN and legal.closed_on == D(2026, 12, 15)


def test_unopposed_payment_order_becomes_the_title(session: Session) -> None:
    world = build_world(session)
    cid = world.company.id
    legal = filed(session, world, route=LegalRoute.PAYMENT_ORDER)
    cases.record_payment_order(session, ACTOR, cid, legal.id, issued_on=D(2026, 12, 1), served_on=D(2026, 12, 3),
                               today=D(2026, 12, 3))
    with pytest.raises(ServiceError, match="objection period"):
        cases.record_title(session, ACTOR, cid, legal.id, kind="payment_order", effective_on=D(2026, 12, 18),
                           principal="2062.80", performance_deadline=D(2026, 12, 18), today=D(2026, 12, 18))
    with pytest.raises(ServiceError, match="not a title of the payment_order route"):
        cases.record_title(session, ACTOR, cid, legal.id, kind="judgement", effective_on=D(2026, 12, 19),
                           principal="2062.80", performance_deadline=D(2026, 12, 19), today=D(2026, 12, 19))
    cases.record_title(session, ACTOR, cid, legal.id, kind="payment_order", effective_on=D(2026, 12, 19),
                       principal="2062.80", late_fee="10.00", performance_deadline=D(2026, 12, 19),
                       today=D(2026, 12, 19))
    assert legal.state == LegalState.TITLE_EFFECTIVE and legal.title_kind == "payment_order"


# --- enforcement and the dishonest-debtor list (L14, L15) ---------------------------------------------------


def test_enforcement_refused_after_the_two_year_deadline(session: Session) -> None:
    world = build_world(session)
    legal = titled(session, world, effective=D(2026, 12, 1), deadline=D(2026, 12, 11))
    late = D(2028, 12, 12)  # 2 years from Friday 2026-12-11 end on Monday 2028-12-11
    with pytest.raises(ServiceError, match="2028-12-11"):
        cases.record_enforcement(session, ACTOR, world.company.id, legal.id, court=COURT, case_number="执1",
                                 applied_on=late, today=late)
    assert legal.state == LegalState.TITLE_EFFECTIVE
    cases.record_enforcement(session, ACTOR, world.company.id, legal.id, court=COURT, case_number="执1",
                             applied_on=D(2028, 12, 11), today=late)
    assert legal.state == LegalState.ENFORCEMENT_APPLIED


def test_a_minor_is_never_a_dishonest_candidate(session: Session) -> None:
    world = build_world(session)
    for owner, number in zip(world.owners, MINOR_IDS, strict=True):
        owner.id_number, owner.birth_date = number, None
    session.flush()
    legal = titled(session, world)
    cid = world.company.id
    cases.record_enforcement(session, ACTOR, cid, legal.id, court=COURT, case_number="执2", applied_on=D(2027, 2, 20),
                             today=D(2027, 2, 20))
    cases.record_dishonest_ground(session, ACTOR, cid, legal.id, text="owns the unit", today=D(2027, 3, 1))
    ok, reasons = cases.dishonest_check(session, legal, D(2027, 3, 1))
    assert not ok and judgement.MINOR in reasons
    with pytest.raises(ServiceError, match="minor"):
        cases.apply_dishonest(session, ACTOR, cid, legal.id, on=D(2027, 3, 1), today=D(2027, 3, 1))
    assert legal.state == LegalState.ENFORCEMENT_APPLIED and legal.dishonest_applied_on is None


def test_case_figures_delay_interest_e7(session: Session) -> None:
    """E7: 12 345.60 unpaid, performance period ending Sunday 2026-05-31 → last day 2026-06-01;
    as of 2026-06-30: 29 days → 62.65; enforcement by 2028-06-01."""
    world = build_world(session)
    legal = opened(session, world)
    legal.title_kind, legal.title_effective_on = "judgement", D(2026, 5, 15)
    legal.awarded_principal, legal.awarded_late_fee, legal.awarded_costs = Decimal("12345.60"), None, None
    legal.performance_deadline = D(2026, 5, 31)
    session.flush()
    figures = cases.case_figures(session, world.company.id, legal.id, as_of=D(2026, 6, 30))
    assert figures.awarded_total == Decimal("12345.60") and figures.unpaid == Decimal("12345.60")
    assert figures.performance_last_day == D(2026, 6, 1)
    assert figures.delay_interest == Decimal("62.65")
    assert figures.enforcement_deadline == D(2028, 6, 1)


def test_the_packet_claims_exactly_the_legal_cases_charges(session: Session) -> None:
    """L4: a time-barred charge the lawyer did not include stays out of the packet's claim."""
    from arrears.services.documents.packet_data import filing_data
    from tests.services.test_legal_claims import old_charge

    world = build_world(session)
    barred = old_charge(session, world)
    before = filing_data(session, world.company.id, world.case.id, route="lawsuit", as_of=TODAY,
                         claim_late_fees=False, until_actual_payment=False)
    opened(session, world)
    after = filing_data(session, world.company.id, world.case.id, route="lawsuit", as_of=TODAY,
                        claim_late_fees=False, until_actual_payment=False)
    assert after.principal == before.principal - barred.amount
    assert after.time_barred_total == 0 and before.time_barred_total == barred.amount
