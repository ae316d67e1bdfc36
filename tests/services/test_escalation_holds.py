"""Holds (issue 3 §3) and case housekeeping (responsible person, next action, notes)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.persistence.enums import CaseStatus
from arrears.persistence.escalation import CaseHold
from arrears.persistence.models import AuditEntry, Company
from arrears.services.actor import Actor
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation.cases import UNSET, update_case
from arrears.services.escalation.holds import MAX_HOLD_DAYS, held_case_ids, place_hold, release_hold
from tests.factories import ACTOR, make_company, make_user
from tests.services.test_escalation_plans import TODAY, build_case

DAY = dt.timedelta(days=1)


def test_hold_pauses_the_case_from_today_through_its_end(session: Session) -> None:
    case, _ = build_case(session)
    hold = place_hold(session, Actor("Li Na"), case.company_id, case.id, reason=" owner in hospital ",
                      ends_on=TODAY + 10 * DAY, today=TODAY)
    assert (hold.reason, hold.author, hold.starts_on, hold.ends_on) == (
        "owner in hospital", "Li Na", TODAY, TODAY + 10 * DAY)
    assert held_case_ids(session, case.company_id, TODAY - DAY) == set()
    assert held_case_ids(session, case.company_id, TODAY) == {case.id}
    assert held_case_ids(session, case.company_id, TODAY + 10 * DAY) == {case.id}
    assert held_case_ids(session, case.company_id, TODAY + 11 * DAY) == set()
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "hold.place"))
    assert entry is not None and entry.entity_id == hold.id and entry.message == "owner in hospital"


def test_releasing_early_ends_the_pause_from_that_day(session: Session) -> None:
    case, _ = build_case(session)
    hold = place_hold(session, ACTOR, case.company_id, case.id, reason="talks", ends_on=TODAY + 30 * DAY,
                      today=TODAY)
    release_hold(session, Actor("Wang"), case.company_id, hold.id, today=TODAY + 5 * DAY)
    assert (hold.released_on, hold.released_by) == (TODAY + 5 * DAY, "Wang")
    assert held_case_ids(session, case.company_id, TODAY + 4 * DAY) == {case.id}  # history unchanged
    assert held_case_ids(session, case.company_id, TODAY + 5 * DAY) == set()
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "hold.release")) is not None
    with pytest.raises(ServiceError, match="already released"):
        release_hold(session, ACTOR, case.company_id, hold.id, today=TODAY + 6 * DAY)


@pytest.mark.parametrize(("reason", "ends_in", "message"), [
    ("", 5, "needs a reason"),
    ("   ", 5, "needs a reason"),
    ("x", -1, "cannot end before today"),
    ("x", MAX_HOLD_DAYS + 1, "at most 365 days"),
])
def test_bad_holds_are_refused(session: Session, reason: str, ends_in: int, message: str) -> None:
    case, _ = build_case(session)
    with pytest.raises(ServiceError, match=message):
        place_hold(session, ACTOR, case.company_id, case.id, reason=reason, ends_on=TODAY + ends_in * DAY,
                   today=TODAY)
    assert session.scalars(select(CaseHold)).all() == []


def test_edge_lengths_and_closed_case(session: Session) -> None:
    case, _ = build_case(session)
    place_hold(session, ACTOR, case.company_id, case.id, reason="one day", ends_on=TODAY, today=TODAY)
    place_hold(session, ACTOR, case.company_id, case.id, reason="a year", ends_on=TODAY + MAX_HOLD_DAYS * DAY,
               today=TODAY)
    case.status = CaseStatus.CLOSED
    with pytest.raises(ServiceError, match="closed"):
        place_hold(session, ACTOR, case.company_id, case.id, reason="x", ends_on=TODAY, today=TODAY)


def test_an_ended_hold_cannot_be_released(session: Session) -> None:
    case, _ = build_case(session)
    hold = place_hold(session, ACTOR, case.company_id, case.id, reason="x", ends_on=TODAY + DAY, today=TODAY)
    with pytest.raises(ServiceError, match="already ended"):
        release_hold(session, ACTOR, case.company_id, hold.id, today=TODAY + 2 * DAY)
    with pytest.raises(ServiceError, match="before it starts"):
        release_hold(session, ACTOR, case.company_id, hold.id, today=TODAY - DAY)
    assert hold.released_on is None


def test_holds_are_company_scoped(session: Session) -> None:
    case, _ = build_case(session)
    other, _ = build_case(session)
    hold = place_hold(session, ACTOR, case.company_id, case.id, reason="x", ends_on=TODAY, today=TODAY)
    with pytest.raises(NotFound):
        place_hold(session, ACTOR, other.company_id, case.id, reason="x", ends_on=TODAY, today=TODAY)
    with pytest.raises(NotFound):
        release_hold(session, ACTOR, other.company_id, hold.id, today=TODAY)
    with pytest.raises(NotFound):
        release_hold(session, ACTOR, case.company_id, 999_999, today=TODAY)
    assert held_case_ids(session, other.company_id, TODAY) == set()
    assert hold.released_on is None


# --- update_case ------------------------------------------------------------------------------

def test_update_case_assigns_plans_and_notes(session: Session) -> None:
    case, _ = build_case(session)
    company = session.get(Company, case.company_id)
    assert company is not None
    user = make_user(session, company)
    update_case(session, ACTOR, case.company_id, case.id, responsible_user_id=user.id,
                next_action_on=TODAY + DAY, notes="  call after 6pm ")
    assert (case.responsible_user_id, case.next_action_on, case.notes) == (user.id, TODAY + DAY, "call after 6pm")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "case.update"))
    assert entry is not None and entry.detail == {"responsible_user_id": user.id,
                                                  "next_action_on": (TODAY + DAY).isoformat(),
                                                  "notes": "call after 6pm"}
    # UNSET leaves a field alone; None clears it
    update_case(session, ACTOR, case.company_id, case.id, notes=None)
    assert (case.responsible_user_id, case.next_action_on, case.notes) == (user.id, TODAY + DAY, None)
    update_case(session, ACTOR, case.company_id, case.id, responsible_user_id=None, next_action_on=UNSET)
    assert case.responsible_user_id is None and case.next_action_on == TODAY + DAY


def test_update_case_without_change_writes_no_audit(session: Session) -> None:
    case, _ = build_case(session)
    update_case(session, ACTOR, case.company_id, case.id)
    update_case(session, ACTOR, case.company_id, case.id, notes=None)
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "case.update")) is None


def test_responsible_user_must_belong_to_the_company(session: Session) -> None:
    case, _ = build_case(session)
    outsider = make_user(session, make_company(session))
    with pytest.raises(ServiceError, match="not a member"):
        update_case(session, ACTOR, case.company_id, case.id, responsible_user_id=outsider.id, notes="x")
    assert case.responsible_user_id is None and case.notes is None
    with pytest.raises(ServiceError, match="not a date"):
        update_case(session, ACTOR, case.company_id, case.id, next_action_on="2026-01-01")  # type: ignore[arg-type]


def test_update_case_is_company_scoped(session: Session) -> None:
    case, _ = build_case(session)
    other, _ = build_case(session)
    with pytest.raises(NotFound):
        update_case(session, ACTOR, other.company_id, case.id, notes="x")
    assert case.notes is None
