"""Filing packet service (issue 4 §4): which documents a route gets, the refusals (L2, L10, L12),
and the figures agreeing with the statement service to the fen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from arrears.domain.courtfees import Procedure, court_fee
from arrears.persistence.enums import DisputeCategory
from arrears.persistence.models import Community, Dispute
from arrears.services.documents.packet import build_packet
from arrears.services.documents.packet_data import Route, filing_data
from arrears.services.documents.registry import DocumentRequest, build
from arrears.services.errors import ServiceError
from arrears.services.statements import unit_statement
from tests.documents.packet_world import AS_OF, DEADLINE_ON, TRACKING, build_world
from tests.factories import RESIDENT_IDS, USCCS

D = Decimal
ATTACHMENTS = ["calculation_sheet", "evidence_list", "power_of_attorney", "legal_rep_certificate",
               "court_fee_estimate"]


def _packet(session: Session, world, route: str, as_of: dt.date = AS_OF, **kw: bool):  # type: ignore[no-untyped-def]
    return build_packet(session, world.company.id, world.case.id, route=route, as_of=as_of,
                        claim_late_fees=kw.get("claim_late_fees", True),
                        until_actual_payment=kw.get("until_actual_payment", False))


@pytest.mark.parametrize(("route", "main"), [
    ("payment_order", "payment_order_application"), ("small_claims", "complaint"), ("lawsuit", "complaint"),
])
def test_documents_of_each_court_route(session: Session, route: str, main: str) -> None:
    world = build_world(session)
    requests = _packet(session, world, route)
    assert [r.kind for r in requests] == [main, *ATTACHMENTS]
    assert {r.subject_id for r in requests} == {world.case.id}
    assert requests[0].options["route"] == route and requests[0].options["as_of"] == "2026-11-22"
    built = build(session, requests[0])
    assert built.filename == f"case-{world.case.id}-01-{main}.pdf" and built.context["company_name"] == world.company.name


def test_documents_of_the_arbitration_route(session: Session) -> None:
    world = build_world(session, commission="南京仲裁委员会")
    assert [r.kind for r in _packet(session, world, "arbitration")] == ["arbitration_application", *ATTACHMENTS]


def test_l12_arbitration_needs_a_commission(session: Session) -> None:
    world = build_world(session)
    with pytest.raises(ServiceError, match="arbitration commission"):
        _packet(session, world, "arbitration")


def test_l12_a_commission_in_the_contract_excludes_the_courts(session: Session) -> None:
    world = build_world(session, commission="南京仲裁委员会")
    for route in ("lawsuit", "small_claims", "payment_order"):
        with pytest.raises(ServiceError, match="not with a court"):
            _packet(session, world, route)


def test_unknown_route_is_refused(session: Session) -> None:
    world = build_world(session)
    with pytest.raises(ServiceError, match="unknown filing route"):
        _packet(session, world, "mediation")


def test_l10_payment_order_refused_once_disputed(session: Session) -> None:
    world = build_world(session)
    session.add(Dispute(case_id=world.case.id, category=DisputeCategory.SERVICE_QUALITY, description="漏水",
                        opened_on=dt.date(2026, 5, 1), opened_by="tester", resolved_on=dt.date(2026, 6, 1),
                        resolved_by="tester"))
    session.flush()
    with pytest.raises(ServiceError, match="disputed"):
        _packet(session, world, "payment_order")
    requests = _packet(session, world, "lawsuit")  # a lawsuit stays possible
    evidence = filing_data(session, world.company.id, world.case.id, route="lawsuit", as_of=AS_OF,
                           claim_late_fees=True, until_actual_payment=False).evidence
    assert requests and any("物业服务记录" in e.name for e in evidence)  # service records (quality disputed)


def test_l2_refused_without_a_delivered_demand(session: Session) -> None:
    world = build_world(session, demand=False)
    with pytest.raises(ServiceError, match="no delivered demand"):
        _packet(session, world, "lawsuit")


def test_l2_refused_before_the_deadline_has_passed(session: Session) -> None:
    world = build_world(session)
    for as_of in (DEADLINE_ON, DEADLINE_ON - dt.timedelta(days=3)):  # the deadline day itself still runs
        with pytest.raises(ServiceError, match="has not passed"):
            _packet(session, world, "lawsuit", as_of=as_of)
    assert _packet(session, world, "lawsuit", as_of=DEADLINE_ON + dt.timedelta(days=1))


def test_l2_a_demand_delivered_after_the_as_of_date_does_not_count(session: Session) -> None:
    world = build_world(session, delivered_on=dt.date(2026, 11, 24), deadline_on=dt.date(2026, 12, 9))
    world.case.demand_deadline = None
    session.flush()
    with pytest.raises(ServiceError, match="no delivered demand"):
        _packet(session, world, "lawsuit")


def test_figures_agree_with_the_statement_service(session: Session) -> None:
    world = build_world(session)
    filing = filing_data(session, world.company.id, world.case.id, route=Route.SMALL_CLAIMS, as_of=AS_OF,
                         claim_late_fees=True, until_actual_payment=True)
    statement = unit_statement(session, world.company.id, world.unit.id, AS_OF).by_debtor[world.case.ownership_id]
    assert filing.principal == statement.arrears == D("2062.80")
    assert filing.late_fee == statement.late_fee_outstanding == D("164.59")
    assert filing.total == D("2227.39")
    assert [line.late_fee for line in filing.lines] == [D("49.70"), D("65.27"), D("38.40"), D("11.22")]
    assert [line.late_fee_days for line in filing.lines] == [311, 221, 130, 38]
    assert filing.lines[0].outstanding == D("290.70") and filing.lines[0].paid == D("300.00")
    assert [s.fee_text for s in filing.lines[0].segments] == ["8.8605", "40.84335"]
    assert filing.court_fee is not None and filing.court_fee == court_fee(D("2227.39"), Procedure.SMALL_CLAIMS)
    assert filing.until_actual_payment and filing.claim_late_fees
    assert [d.id_number for d in filing.defendants] == [RESIDENT_IDS[1], RESIDENT_IDS[0]]  # in full (L18)
    assert [d.name for d in filing.defendants] == ["李明", "赵丽"]
    [demand] = filing.demands
    assert (demand.delivered_on, demand.deadline_on) == (dt.date(2026, 10, 25), DEADLINE_ON)
    assert TRACKING in demand.proof_ref and demand.amount == D("2062.80")
    assert all(line.demanded for line in filing.lines) and filing.undemanded_periods == ()


def test_late_fees_only_with_a_clause_and_when_claimed(session: Session) -> None:
    world = build_world(session, late_fee_rate=None)
    filing = filing_data(session, world.company.id, world.case.id, route="payment_order", as_of=AS_OF,
                         claim_late_fees=True, until_actual_payment=True)
    assert (filing.claim_late_fees, filing.late_fee, filing.until_actual_payment) == (False, D("0.00"), False)
    assert filing.total == D("2062.80")
    assert filing.court_fee is not None and filing.court_fee.fee == D("16.67")  # a third of 50.00 (L9)


def test_not_claimed_and_payment_order_never_until_actual_payment(session: Session) -> None:
    world = build_world(session)
    off = filing_data(session, world.company.id, world.case.id, route="lawsuit", as_of=AS_OF,
                      claim_late_fees=False, until_actual_payment=True)
    assert (off.late_fee, off.total, off.until_actual_payment) == (D("0.00"), D("2062.80"), False)
    order = filing_data(session, world.company.id, world.case.id, route="payment_order", as_of=AS_OF,
                        claim_late_fees=True, until_actual_payment=True)
    assert order.late_fee == D("164.59") and not order.until_actual_payment  # a fixed amount (L10)


def test_builders_refuse_a_main_document_of_another_route(session: Session) -> None:
    world = build_world(session)
    request = DocumentRequest("complaint", world.company.id, world.case.id,
                              {"route": "payment_order", "as_of": "2026-11-22"})
    with pytest.raises(ServiceError, match="not a document"):
        build(session, request)


def test_another_company_cannot_build_the_packet(session: Session) -> None:
    world = build_world(session)
    other = build_world(session, uscc=USCCS[1])
    with pytest.raises(ServiceError):
        build_packet(session, other.company.id, world.case.id, route="lawsuit", as_of=AS_OF,
                     claim_late_fees=True, until_actual_payment=False)


def test_charges_not_in_a_demand_are_flagged(session: Session) -> None:
    world = build_world(session)
    assert world.demand is not None
    world.demand.charges = world.demand.charges[:3]  # the demand listed Q1–Q3 only
    session.flush()
    filing = filing_data(session, world.company.id, world.case.id, route="lawsuit", as_of=AS_OF,
                         claim_late_fees=True, until_actual_payment=False)
    assert [line.demanded for line in filing.lines] == [True, True, True, False]
    assert filing.undemanded_periods == ("2026年10月至12月",)
    assert isinstance(session.get(Community, world.community.id), Community)


def test_demand_proof_from_the_delivery_record(session: Session) -> None:
    """A demand delivered through the outbox: its tracking number and message id are the proof (L5)."""
    from tests.services.test_delivery import _record, build_demand

    demand = build_demand(session)
    _record(session, demand)  # EMS, signed by the owner on 2026-11-12; deadline 2026-11-27
    with pytest.raises(ServiceError, match="has not passed"):
        build_packet(session, demand.company.id, demand.case.id, route="lawsuit", as_of=dt.date(2026, 11, 27),
                     claim_late_fees=False, until_actual_payment=False)
    filing = filing_data(session, demand.company.id, demand.case.id, route="lawsuit", as_of=dt.date(2026, 11, 28),
                         claim_late_fees=True, until_actual_payment=False)
    [record] = filing.demands
    assert record.tracking_number == "EA123456789CN" and record.signed_by == demand.owner.name
    assert "EMS运单号EA123456789CN" in record.proof_ref and f"发送记录编号{demand.message.id}" in record.proof_ref
    assert record.channel_text == "EMS邮寄" and record.result_text == "业主本人签收"
    assert record.amount == D("600.00") and record.periods_text == "2026年1月至2026年3月（共3期）"
    assert not filing.claim_late_fees and filing.late_fee == D("0.00")  # no clause in that community
    assert filing.undemanded_periods == ("2026年4月",)  # billed after the demand: flagged (L2)
    assert filing.principal == D("800.00")
