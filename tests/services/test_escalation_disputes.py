"""Disputes (issue 3 §3; L10 later): open, mediation sessions, resolution with credit entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.allocation import Component
from arrears.persistence.enums import AdjustmentReason, DisputeCategory, DisputeOutcome
from arrears.persistence.escalation import Dispute, MediationSession
from arrears.persistence.models import Adjustment, AuditEntry
from arrears.services.actor import Actor
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation.disputes import (
    add_mediation_session,
    disputed_case_ids,
    ever_disputed,
    open_dispute,
    resolve_dispute,
)
from arrears.services.tenancy import close_books
from tests.factories import ACTOR
from tests.services.test_escalation_plans import TODAY, build_case

D = Decimal
DAY = dt.timedelta(days=1)


def _open(session: Session, case, **kw: object) -> Dispute:  # type: ignore[no-untyped-def]
    args: dict[str, object] = {"category": DisputeCategory.LEAK, "description": "water from the roof",
                               "today": TODAY}
    args.update(kw)
    return open_dispute(session, ACTOR, case.company_id, case.id, **args)  # type: ignore[arg-type]


def test_open_dispute_pauses_and_is_remembered(session: Session) -> None:
    case, _ = build_case(session)
    assert not ever_disputed(session, case.id)
    dispute = _open(session, case, category="vacancy", source="owner")
    assert (dispute.category, dispute.source, dispute.opened_on, dispute.opened_by) == (
        DisputeCategory.VACANCY, "owner", TODAY, ACTOR.name)
    assert disputed_case_ids(session, case.company_id) == {case.id}
    assert ever_disputed(session, case.id)
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "dispute.open",
                                                   AuditEntry.entity_id == dispute.id)) is not None


@pytest.mark.parametrize(("kw", "message"), [
    ({"category": "noise"}, "unknown dispute category"),
    ({"description": "  "}, "needs a description"),
    ({"source": "neighbour"}, "unknown dispute source"),
])
def test_bad_disputes_are_refused(session: Session, kw: dict[str, object], message: str) -> None:
    case, _ = build_case(session)
    with pytest.raises(ServiceError, match=message):
        _open(session, case, **kw)
    assert session.scalars(select(Dispute)).all() == []


def test_only_one_open_dispute_per_case(session: Session) -> None:
    case, _ = build_case(session)
    first = _open(session, case)
    with pytest.raises(ServiceError, match=f"already has an open dispute \\({first.id}\\)"):
        _open(session, case, category=DisputeCategory.OTHER)
    resolve_dispute(session, ACTOR, case.company_id, first.id, outcome=DisputeOutcome.UPHELD,
                    note="roof repaired, fee stands", today=TODAY)
    second = _open(session, case, category=DisputeCategory.OTHER)
    assert disputed_case_ids(session, case.company_id) == {case.id}
    assert second.id != first.id


def test_mediation_sessions_are_recorded(session: Session) -> None:
    case, _ = build_case(session)
    dispute = _open(session, case)
    later = add_mediation_session(session, Actor("Zhao"), case.company_id, dispute.id, held_on=TODAY,
                                  mediator="People's mediation committee", participants="owner; manager",
                                  summary="agreed to inspect the roof", today=TODAY)
    earlier = add_mediation_session(session, ACTOR, case.company_id, dispute.id, held_on=TODAY - DAY,
                                    mediator="Street office", participants="owner", summary="first talk",
                                    today=TODAY)
    assert later.recorded_by == "Zhao"
    assert [s.id for s in dispute.sessions] == [earlier.id, later.id]  # by date held
    for kw, message in [({"held_on": TODAY + DAY}, "in the future"), ({"mediator": " "}, "mediator"),
                        ({"participants": ""}, "participants"), ({"summary": ""}, "summary")]:
        args: dict[str, object] = {"held_on": TODAY, "mediator": "m", "participants": "p", "summary": "s"}
        args.update(kw)
        with pytest.raises(ServiceError, match=message):
            add_mediation_session(session, ACTOR, case.company_id, dispute.id, today=TODAY, **args)  # type: ignore[arg-type]
    assert len(session.scalars(select(MediationSession)).all()) == 2
    resolve_dispute(session, ACTOR, case.company_id, dispute.id, outcome="withdrawn", note="owner withdrew",
                    today=TODAY)
    with pytest.raises(ServiceError, match="is resolved"):
        add_mediation_session(session, ACTOR, case.company_id, dispute.id, held_on=TODAY, mediator="m",
                              participants="p", summary="s", today=TODAY)


def test_withdrawn_dispute_unpauses_but_is_still_remembered(session: Session) -> None:
    case, _ = build_case(session)
    dispute = _open(session, case)
    resolve_dispute(session, Actor("Qian"), case.company_id, dispute.id, outcome=DisputeOutcome.WITHDRAWN,
                    note=" owner withdrew ", today=TODAY + DAY)
    assert (dispute.outcome, dispute.resolved_on, dispute.resolved_by, dispute.resolution_note) == (
        DisputeOutcome.WITHDRAWN, TODAY + DAY, "Qian", "owner withdrew")
    assert disputed_case_ids(session, case.company_id) == set()
    assert ever_disputed(session, case.id)  # L10: the payment-order route stays blocked
    with pytest.raises(ServiceError, match="already resolved"):
        resolve_dispute(session, ACTOR, case.company_id, dispute.id, outcome="upheld", note="x", today=TODAY)


def test_fee_adjusted_posts_dispute_credits(session: Session) -> None:
    case, (jan, feb, *_rest) = build_case(session)
    dispute = _open(session, case)
    resolve_dispute(session, ACTOR, case.company_id, dispute.id, outcome=DisputeOutcome.FEE_ADJUSTED,
                    note="leak: 30 % off two months", today=TODAY,
                    credits=[(jan.id, D("60.00")), (feb.id, D("60.00"))])
    adjustments = session.scalars(select(Adjustment).order_by(Adjustment.id)).all()
    assert dispute.adjustment_ids == [a.id for a in adjustments]
    assert [(a.charge_id, a.amount, a.reason, a.component) for a in adjustments] == [
        (jan.id, D("60.00"), AdjustmentReason.DISPUTE_CREDIT, Component.PRINCIPAL),
        (feb.id, D("60.00"), AdjustmentReason.DISPUTE_CREDIT, Component.PRINCIPAL)]
    assert (jan.principal_outstanding, feb.principal_outstanding) == (D("140.00"), D("140.00"))
    assert all(f"dispute {dispute.id}" in a.note for a in adjustments)
    assert dispute.outcome == DisputeOutcome.FEE_ADJUSTED


@pytest.mark.parametrize(("outcome", "credits", "message"), [
    (DisputeOutcome.FEE_ADJUSTED, [], "needs at least one credit"),
    (DisputeOutcome.UPHELD, [(0, D("1.00"))], "only posted when the fee is adjusted"),
    (DisputeOutcome.FEE_ADJUSTED, [(0, D("1.00")), (0, D("2.00"))], "only once"),
    (DisputeOutcome.FEE_ADJUSTED, [(0, D("1.00")), (1, D("200.01"))], "exceeds the outstanding principal"),
    (DisputeOutcome.FEE_ADJUSTED, [(0, D("1.00")), (1, D("-1.00"))], "greater than zero"),
    (DisputeOutcome.FEE_ADJUSTED, [(0, D("1.00")), (1, "1.001")], "more than 2 decimal places"),
    ("dismissed", [], "unknown dispute outcome"),
])
def test_bad_resolutions_change_nothing(session: Session, outcome: object, credits: list[tuple[int, object]],
                                        message: str) -> None:
    """All credits or none: a bad second credit rolls the first back."""
    case, charges = build_case(session)
    dispute = _open(session, case)
    real = [(charges[index].id, amount) for index, amount in credits]
    with pytest.raises(ServiceError, match=message):
        resolve_dispute(session, ACTOR, case.company_id, dispute.id, outcome=outcome,  # type: ignore[arg-type]
                        note="n", today=TODAY, credits=real)  # type: ignore[arg-type]
    session.flush()
    assert session.scalars(select(Adjustment)).all() == []
    assert [c.principal_outstanding for c in charges[:2]] == [D("200.00"), D("200.00")]
    assert dispute.resolved_on is None and dispute.adjustment_ids == []
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "adjustment.add")) is None


def test_credits_only_on_the_case_own_charges(session: Session) -> None:
    case, _ = build_case(session)
    other, other_charges = build_case(session)
    dispute = _open(session, case)
    with pytest.raises(ServiceError, match="not a charge of this case"):
        resolve_dispute(session, ACTOR, case.company_id, dispute.id, outcome=DisputeOutcome.FEE_ADJUSTED,
                        note="n", today=TODAY, credits=[(other_charges[0].id, D("1.00"))])
    assert other_charges[0].principal_outstanding == D("200.00")


def test_credit_in_closed_books_is_refused(session: Session) -> None:
    case, (jan, *_rest) = build_case(session)
    dispute = _open(session, case)
    close_books(session, ACTOR, case.company_id, through=TODAY)
    with pytest.raises(ServiceError, match="books are closed"):
        resolve_dispute(session, ACTOR, case.company_id, dispute.id, outcome=DisputeOutcome.FEE_ADJUSTED,
                        note="n", today=TODAY, credits=[(jan.id, D("1.00"))])
    assert dispute.resolved_on is None


def test_resolution_needs_a_note_and_a_sane_date(session: Session) -> None:
    case, _ = build_case(session)
    dispute = _open(session, case)
    with pytest.raises(ServiceError, match="needs a note"):
        resolve_dispute(session, ACTOR, case.company_id, dispute.id, outcome="upheld", note=" ", today=TODAY)
    with pytest.raises(ServiceError, match="before it was opened"):
        resolve_dispute(session, ACTOR, case.company_id, dispute.id, outcome="upheld", note="n",
                        today=TODAY - DAY)


def test_disputes_are_company_scoped(session: Session) -> None:
    case, _ = build_case(session)
    other, _ = build_case(session)
    dispute = _open(session, case)
    with pytest.raises(NotFound):
        open_dispute(session, ACTOR, other.company_id, case.id, category="leak", description="x", today=TODAY)
    with pytest.raises(NotFound):
        add_mediation_session(session, ACTOR, other.company_id, dispute.id, held_on=TODAY, mediator="m",
                              participants="p", summary="s", today=TODAY)
    with pytest.raises(NotFound):
        resolve_dispute(session, ACTOR, other.company_id, dispute.id, outcome="upheld", note="n", today=TODAY)
    assert disputed_case_ids(session, other.company_id) == set()
    assert not ever_disputed(session, other.id)
