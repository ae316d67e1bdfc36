"""Issue 5 "done means": the full lifecycle of a legal case from drafted to deleted, with the
documents of each step rendered to PDF and read back — the filing packet (parties, the claim in
figures and capitals), the enforcement application (delay interest, L14), the dishonest-list
application (L15) and the deletion request drafted on the day of full payment (3 working days, L15)
— the FILING interruption for exactly the claimed charges (L5), the LegalEvent timeline and its
audit entries."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.calendar import load_default_calendar
from arrears.domain.judgement import deletion_window_end
from arrears.persistence.enums import InterruptionKind, LegalRoute, LegalState
from arrears.persistence.models import AuditEntry, Interruption, StoredFile
from arrears.services.documents.packet import build_packet
from arrears.services.documents.registry import DocumentRequest, render
from arrears.services.legal import cases, deadlines
from arrears.services.legal.deadlines import DELETION_WINDOW
from arrears.services.payment_batch import PaymentInput
from arrears.services.payments import record_payment
from tests.documents.packet_world import COURT, TODAY, build_world
from tests.documents.test_legal_docs import (
    ENFORCEMENT_NUMBER,
    GROUND,
    assert_parties,
    both,
    pdf_text,
    render_text,
)
from tests.factories import ACTOR
from tests.services.test_legal_cases import CASE_NUMBER, PDF, lawyer_of

D = dt.date
FILED_ON = D(2026, 11, 26)
EFFECTIVE_ON = D(2026, 12, 3)
PERFORMANCE_DEADLINE = D(2026, 12, 13)  # a Sunday: the period's last day is Monday 2026-12-14
LAST_DAY = D(2026, 12, 14)
ENFORCED_ON = D(2026, 12, 21)  # 7 days after the last day
APPLIED_ON = D(2026, 12, 22)
LISTED_ON = D(2026, 12, 24)
PAID_ON = D(2026, 12, 25)  # a Friday: the court deletes by Mon, Tue, Wed → 2026-12-30
DELETED_ON = D(2026, 12, 29)
COSTS = Decimal("25.00")


def cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def stored_text(session: Session, file_id: int | None) -> str:
    stored = session.get(StoredFile, file_id)
    assert stored is not None and stored.content_type == "application/pdf"
    return pdf_text(stored.data)


def test_lifecycle_from_drafted_to_deleted_with_the_documents_read_back(session: Session) -> None:
    world = build_world(session)
    cid = world.company.id
    first_audit = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0

    # --- drafted: the claim; the lawyer sets the route -------------------------------------------------------
    lawyer = lawyer_of(session, world)
    legal = cases.open_legal_case(session, ACTOR, cid, world.case.id, today=TODAY, lawyer_user_id=lawyer.id)
    assert legal.state == LegalState.DRAFTED and legal.claimed_charge_ids == [c.id for c in world.charges]
    assert legal.claimed_principal == Decimal("2062.80") and legal.claimed_late_fee > 0
    # an undisputed fixed amount: a payment order is proposed (L10); the lawyer sues for a judgement instead
    assert legal.proposed_route == LegalRoute.PAYMENT_ORDER and legal.route is None
    route = LegalRoute.SMALL_CLAIMS
    cases.set_route(session, ACTOR, cid, legal.id, route=route, reason="the owner is expected to object",
                    today=TODAY)
    assert legal.route == route
    assert legal.events[-1].detail == {"route": "small_claims", "previous": None, "proposed": "payment_order"}

    # --- the filing packet, rendered and read back ----------------------------------------------------------
    claimed = legal.claimed_principal + legal.claimed_late_fee
    requests = build_packet(session, cid, world.case.id, route="small_claims", as_of=legal.claim_as_of,
                            claim_late_fees=legal.claim_late_fees, until_actual_payment=legal.until_actual_payment)
    texts: dict[str, str] = {}
    pdfs: dict[str, bytes] = {}
    for request in requests:
        built, pdf = render(session, request)
        assert pdf.startswith(b"%PDF-") and built.author == world.company.name
        meta = PdfReader(io.BytesIO(pdf)).metadata
        assert meta is not None and meta.author == world.company.name
        texts[request.kind], pdfs[request.kind] = pdf_text(pdf), pdf
    main = requests[0].kind
    assert main == "complaint" and "民事起诉状" in texts[main]
    assert_parties(texts[main])
    for amount in (legal.claimed_principal, legal.claimed_late_fee, claimed):  # the claim of the legal case
        for part in both(amount):
            assert part in texts[main], part
    for part in both(claimed):
        assert part in texts["calculation_sheet"], part

    # --- filed: the FILING interruption covers exactly the claimed charges (L5) -----------------------------
    cases.record_filing(session, ACTOR, cid, legal.id, court=COURT, case_number=CASE_NUMBER, filed_on=FILED_ON,
                        today=FILED_ON, document=(f"{main}.pdf", "application/pdf", pdfs[main]))
    assert legal.state == LegalState.FILED and (legal.court, legal.case_number) == (COURT, CASE_NUMBER)
    (filing,) = session.scalars(select(Interruption).where(Interruption.unit_id == world.unit.id,
                                                           Interruption.kind == InterruptionKind.FILING)).all()
    assert filing.occurred_on == FILED_ON and filing.proof_ref == f"{COURT} {CASE_NUMBER}"
    assert sorted(c.charge_id for c in filing.charges) == sorted(legal.claimed_charge_ids)
    filed_event = legal.events[-1]
    assert filed_event.detail["interruption_id"] == filing.id
    assert_parties(stored_text(session, filed_event.file_id))  # the filed complaint, read back from storage

    # --- the title: a judgement with its amounts and performance deadline -------------------------------------
    cases.record_title(session, ACTOR, cid, legal.id, kind="judgement", effective_on=EFFECTIVE_ON,
                       principal=legal.claimed_principal, late_fee=legal.claimed_late_fee, costs=COSTS,
                       performance_deadline=PERFORMANCE_DEADLINE, today=EFFECTIVE_ON, document=PDF)
    awarded = legal.claimed_principal + legal.claimed_late_fee + COSTS
    assert legal.state == LegalState.TITLE_EFFECTIVE and legal.awarded_costs == COSTS
    title_event = legal.events[-1]
    assert title_event.detail["performance_last_day"] == LAST_DAY.isoformat()
    due = {d.kind: d.due_on for d in deadlines.deadlines(session, company_id=cid, today=EFFECTIVE_ON)}
    assert due[deadlines.PERFORMANCE] == LAST_DAY

    # --- past the performance deadline: enforcement (L14) and its application -------------------------------
    figures = cases.case_figures(session, cid, legal.id, as_of=ENFORCED_ON)
    interest = (awarded * Decimal("0.000175") * 7).quantize(Decimal("0.01"))
    assert (figures.unpaid, figures.delay_interest, figures.performance_last_day) == (awarded, interest, LAST_DAY)
    cases.record_enforcement(session, ACTOR, cid, legal.id, court=COURT, case_number=ENFORCEMENT_NUMBER,
                             applied_on=ENFORCED_ON, today=ENFORCED_ON)
    assert legal.state == LegalState.ENFORCEMENT_APPLIED
    enforcement = render_text(session, world, legal, "enforcement_application", as_of=ENFORCED_ON.isoformat())
    assert "强制执行申请书" in enforcement
    assert_parties(enforcement)
    assert f"{COURT}{CASE_NUMBER}民事判决书" in enforcement and f"{cn(EFFECTIVE_ON)}发生法律效力" in enforcement
    for amount in (legal.claimed_principal, legal.claimed_late_fee, COSTS):
        assert f"{amount:,.2f}" in enforcement, amount
    for amount in (awarded, interest, awarded + interest):
        for part in both(amount):
            assert part in enforcement, part
    assert f"顺延至{cn(LAST_DAY)}" in enforcement and f"自{cn(LAST_DAY + dt.timedelta(days=1))}起" in enforcement
    assert f"暂计至{cn(ENFORCED_ON)}" in enforcement
    assert f"{cn(LAST_DAY)}{cn(ENFORCED_ON)}7{awarded:,.2f}{interest}" in enforcement  # the segment
    assert legal.events[-1].detail["delay_interest"] == str(interest)

    # --- the dishonest-debtor list (L15) ---------------------------------------------------------------------
    cases.record_dishonest_ground(session, ACTOR, cid, legal.id, text=GROUND, today=ENFORCED_ON)
    assert cases.dishonest_check(session, legal, APPLIED_ON)[0]
    dishonest = render_text(session, world, legal, "dishonest_list_application", as_of=APPLIED_ON.isoformat())
    assert "纳入失信被执行人名单申请书" in dishonest
    assert_parties(dishonest)
    assert ENFORCEMENT_NUMBER in dishonest and CASE_NUMBER in dishonest and GROUND in dishonest
    assert cn(ENFORCED_ON) in dishonest and "不属于未成年人" in dishonest
    for part in both(awarded):
        assert part in dishonest, part
    dishonest_pdf = render(session, DocumentRequest("dishonest_list_application", cid, legal.id,
                                                    {"as_of": APPLIED_ON.isoformat()}))[1]
    cases.apply_dishonest(session, ACTOR, cid, legal.id, on=APPLIED_ON, today=APPLIED_ON,
                          document=("dishonest.pdf", "application/pdf", dishonest_pdf))
    assert GROUND in stored_text(session, legal.events[-1].file_id)
    cases.record_listing(session, ACTOR, cid, legal.id, listed_on=LISTED_ON, today=LISTED_ON, document=PDF)
    assert legal.state == LegalState.LISTED

    # --- full payment: the deletion request is drafted the same day (L15) -----------------------------------
    assert cases.refresh_payments(session, ACTOR, cid, today=PAID_ON) == []
    record_payment(session, ACTOR, cid, PaymentInput(world.unit.id, world.owners[0].id, "R-2026-1225", PAID_ON,
                                                     awarded), today=PAID_ON)
    paid = cases.case_figures(session, cid, legal.id, as_of=PAID_ON)
    assert (paid.recovered, paid.unpaid) == (awarded, Decimal("0.00"))
    assert cases.refresh_payments(session, ACTOR, cid, today=PAID_ON) == [legal]
    window = deletion_window_end(PAID_ON, load_default_calendar())
    assert window == D(2026, 12, 30)
    assert legal.state == LegalState.DELETION_REQUESTED
    assert legal.paid_in_full_on == PAID_ON and legal.deletion_requested_on == PAID_ON
    requested = legal.events[-1]
    assert requested.kind == "deletion_requested" and requested.occurred_on == PAID_ON
    assert requested.detail == {"paid_in_full": True, "window_ends": window.isoformat()}
    due_now = [d for d in deadlines.deadlines(session, company_id=cid, today=PAID_ON) if d.legal_case_id == legal.id]
    assert [(d.kind, d.due_on, d.overdue) for d in due_now] == [(DELETION_WINDOW, window, False)]
    deletion = render_text(session, world, legal, "deletion_request")
    assert "删除失信信息申请书" in deletion
    assert_parties(deletion)
    assert ENFORCEMENT_NUMBER in deletion and COURT in deletion
    assert f"贵院于{cn(LISTED_ON)}将被执行人纳入失信被执行人名单" in deletion
    assert f"已于{cn(PAID_ON)}全部履行" in deletion
    assert "三个工作日内" in deletion and f"不迟于{cn(window)}" in deletion
    for part in both(awarded):
        assert part in deletion, part

    # --- deleted ----------------------------------------------------------------------------------------------
    cases.record_deletion(session, ACTOR, cid, legal.id, deleted_on=DELETED_ON, today=DELETED_ON, document=PDF)
    assert legal.state == LegalState.DELETED and legal.closed_on == DELETED_ON and legal.deleted_on == DELETED_ON
    assert deadlines.deadlines(session, company_id=cid, today=DELETED_ON) == []

    # --- the timeline and its audit trail ---------------------------------------------------------------------
    kinds = ["opened", "route_set", "filed", "title", "enforcement_applied", "dishonest_ground", "dishonest_applied",
             "listed", "paid_in_full", "deletion_requested", "deleted"]
    assert [e.kind for e in legal.events] == kinds
    assert [e.occurred_on for e in legal.events] == [
        TODAY, TODAY, FILED_ON, EFFECTIVE_ON, ENFORCED_ON, ENFORCED_ON, APPLIED_ON, LISTED_ON, PAID_ON, PAID_ON,
        DELETED_ON]
    assert all(e.recorded_by == ACTOR.name for e in legal.events)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.id > first_audit).order_by(AuditEntry.id)).all()
    legal_entries = [a for a in entries if a.entity == "legal_case"]
    assert [a.action for a in legal_entries] == [f"legal.{k}" for k in kinds]
    assert {a.entity_id for a in legal_entries} == {legal.id}
    assert [a.detail["event_id"] for a in legal_entries] == [e.id for e in legal.events]
    assert [a.detail["file_id"] for a in legal_entries] == [e.file_id for e in legal.events]
    assert legal_entries[-1].detail["state"] == LegalState.DELETED.value
    assert all(a.actor == ACTOR.name and a.company_id == cid for a in legal_entries)
    (recorded,) = [a for a in entries if a.action == "interruption.record"]
    assert recorded.entity_id == filing.id and recorded.detail["kind"] == str(InterruptionKind.FILING)
    assert recorded.detail["charges"] == sorted(legal.claimed_charge_ids)
    stored = {a.entity_id for a in entries if a.action == "file.store"}
    assert stored == {e.file_id for e in legal.events if e.file_id is not None} and len(stored) == 5
