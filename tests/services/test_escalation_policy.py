"""Escalation policies: the shipped default, community overrides, stage editing and validation."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.escalation import Action, Channel, default_policy_stages
from arrears.persistence.enums import CaseStatus
from arrears.persistence.models import AuditEntry, CollectionCase, EscalationPolicy, EscalationStage
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation.policy import (
    StageInput,
    create_override,
    delete_override,
    delete_stage,
    effective_policy,
    ensure_policy,
    move_stage,
    policy_warnings,
    save_stage,
    to_domain,
)
from tests.factories import ACTOR, make_community, make_company, make_ownership, make_unit

REMINDER = StageInput("reminder_3", "Third reminder", Action.REMINDER, 60, channels=(Channel.SMS,),
                      template="reminder")


def _codes(policy: EscalationPolicy) -> list[str]:
    return [s.code for s in sorted(policy.stages, key=lambda s: s.position)]


def _audits(session: Session, action: str) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0


def test_default_policy_is_created_once_from_the_shipped_stages(session: Session) -> None:
    company = make_company(session)
    policy = ensure_policy(session, ACTOR, company.id)
    assert ensure_policy(session, ACTOR, company.id) is policy
    assert policy.community_id is None
    assert _codes(policy) == [s.code for s in default_policy_stages()]
    assert [s.position for s in policy.stages] == list(range(len(policy.stages)))
    assert _audits(session, "escalation_policy.create") == 1


def test_l3_no_action_cuts_utilities_or_access() -> None:
    assert {a.value for a in Action} == {"pre_due_notice", "reminder", "demand", "notice_candidate",
                                         "mediation_referral", "legal_ready"}


def test_to_domain_uses_the_tolerance_and_the_community_deadline_for_a_demand_without_one(session: Session) -> None:
    company = make_company(session, arrears_tolerance=Decimal("5.00"))
    policy = ensure_policy(session, ACTOR, company.id)
    demand = next(s for s in policy.stages if s.action == Action.DEMAND)
    demand.deadline_days = None
    domain = to_domain(policy, company.arrears_tolerance, demand_deadline_days=30)
    assert domain.tolerance == Decimal("5.00")
    assert domain.stage("demand").deadline_days == 30  # type: ignore[union-attr]
    assert domain.pre_due is not None and domain.pre_due.min_days_overdue == -3
    demand.deadline_days = 10
    own = to_domain(policy, Decimal("0"), demand_deadline_days=30).stage("demand")
    assert own is not None and own.deadline_days == 10


def test_override_is_a_copy_the_community_then_follows(session: Session) -> None:
    community = make_community(session)
    company_id = community.company_id
    default = ensure_policy(session, ACTOR, company_id)
    assert effective_policy(session, company_id, community.id) is default
    override = create_override(session, ACTOR, company_id, community.id)
    assert _codes(override) == _codes(default) and override.id != default.id
    assert effective_policy(session, company_id, community.id) is override
    with pytest.raises(ServiceError, match="already has its own"):
        create_override(session, ACTOR, company_id, community.id)
    save_stage(session, ACTOR, company_id, override.id, REMINDER)
    assert "reminder_3" in _codes(override) and "reminder_3" not in _codes(default)
    delete_override(session, ACTOR, company_id, override.id)
    assert effective_policy(session, company_id, community.id) is default
    with pytest.raises(ServiceError, match="cannot be deleted"):
        delete_override(session, ACTOR, company_id, default.id)


def test_a_new_stage_takes_its_place_by_days_overdue_and_is_audited(session: Session) -> None:
    company = make_company(session)
    policy = ensure_policy(session, ACTOR, company.id)
    stage = save_stage(session, ACTOR, company.id, policy.id, REMINDER)
    assert _codes(policy) == ["pre_due", "reminder_1", "reminder_2", "reminder_3", "demand", "public_notice",
                              "mediation", "legal_ready"]
    assert stage.channels == ["sms"] and stage.min_days_overdue == 60
    edited = save_stage(session, ACTOR, company.id, policy.id, replace(REMINDER, min_amount=Decimal("100")),
                        stage_id=stage.id)
    assert edited is stage and stage.min_amount == Decimal("100.00")
    assert _audits(session, "escalation_stage.save") == 2
    move_stage(session, ACTOR, company.id, stage.id, -1)
    assert _codes(policy)[2:4] == ["reminder_3", "reminder_2"]
    assert policy_warnings(policy)  # reminder_2 (45 days) now follows reminder_3 (60 days)
    delete_stage(session, ACTOR, company.id, stage.id)
    assert "reminder_3" not in _codes(policy)
    assert [s.position for s in sorted(policy.stages, key=lambda s: s.position)] == list(range(7))
    assert _audits(session, "escalation_stage.delete") == 1


@pytest.mark.parametrize(("data", "message"), [
    (replace(REMINDER, code="reminder_1"), "used twice"),
    (replace(REMINDER, channels=(Channel.SMS, Channel.SMS)), "channel twice"),
    (replace(REMINDER, channels=()), "at least one channel"),
    (replace(REMINDER, channels=("fax",)), "unknown action or channel"),  # type: ignore[arg-type]
    (replace(REMINDER, action=Action.DEMAND, deadline_days=0), "at least one day"),
    (replace(REMINDER, deadline_days=10), "only a formal demand"),
    (replace(REMINDER, action=Action.PRE_DUE_NOTICE, min_days_overdue=-5), "at most one pre-due"),
    (replace(REMINDER, action=Action.PRE_DUE_NOTICE, min_days_overdue=0), "must be negative"),
    (replace(REMINDER, min_days_overdue=-1), "cannot be negative"),
    (replace(REMINDER, action=Action.LEGAL_READY, min_days_overdue=10), "after a formal demand"),
    (replace(REMINDER, code=""), "1 to 40 characters"),
])
def test_invalid_stages_are_refused_and_change_nothing(session: Session, data: StageInput, message: str) -> None:
    company = make_company(session)
    policy = ensure_policy(session, ACTOR, company.id)
    before = _codes(policy)
    with pytest.raises(ServiceError, match=message):
        save_stage(session, ACTOR, company.id, policy.id, data)
    assert _codes(policy) == before
    assert session.scalar(select(func.count()).select_from(EscalationStage)
                          .where(EscalationStage.policy_id == policy.id)) == len(before)


def test_l2_a_later_stage_cannot_move_above_the_demand_nor_the_demand_be_deleted(session: Session) -> None:
    company = make_company(session)
    policy = ensure_policy(session, ACTOR, company.id)
    by_code = {s.code: s for s in policy.stages}
    with pytest.raises(ServiceError, match="after a formal demand"):
        move_stage(session, ACTOR, company.id, by_code["public_notice"].id, -1)
    with pytest.raises(ServiceError, match="after a formal demand"):
        delete_stage(session, ACTOR, company.id, by_code["demand"].id)
    assert _codes(policy) == [s.code for s in default_policy_stages()]


def test_a_demand_without_its_own_deadline_is_allowed(session: Session) -> None:
    """No deadline on the stage: the community's `demand_deadline_days` applies (to_domain)."""
    company = make_company(session)
    policy = ensure_policy(session, ACTOR, company.id)
    demand = next(s for s in policy.stages if s.code == "demand")
    data = StageInput("demand", "Formal demand", Action.DEMAND, 75, channels=(Channel.LETTER,), deadline_days=None)
    save_stage(session, ACTOR, company.id, policy.id, data, stage_id=demand.id)
    assert demand.deadline_days is None


def test_a_stage_with_open_cases_cannot_be_renamed_or_deleted(session: Session) -> None:
    community = make_community(session)
    unit = make_unit(session, community)
    record = make_ownership(session, unit)
    policy = ensure_policy(session, ACTOR, community.company_id)
    session.add(CollectionCase(company_id=community.company_id, community_id=community.id, unit_id=unit.id,
                               ownership_id=record.id, owner_id=record.parties[0].owner_id,
                               status=CaseStatus.OPEN, stage_code="reminder_2", opened_on=dt.date(2026, 3, 1)))
    session.flush()
    stage = next(s for s in policy.stages if s.code == "reminder_2")
    with pytest.raises(ServiceError, match="1 open cases"):
        delete_stage(session, ACTOR, community.company_id, stage.id)
    with pytest.raises(ServiceError, match="1 open cases"):
        save_stage(session, ACTOR, community.company_id, policy.id, replace(REMINDER, code="r2"), stage_id=stage.id)


def test_another_companys_policy_and_stages_are_not_found(session: Session) -> None:
    mine, theirs = make_company(session), make_company(session)
    policy = ensure_policy(session, ACTOR, theirs.id)
    with pytest.raises(NotFound):
        save_stage(session, ACTOR, mine.id, policy.id, REMINDER)
    with pytest.raises(NotFound):
        delete_stage(session, ACTOR, mine.id, policy.stages[0].id)
    with pytest.raises(NotFound):
        move_stage(session, ACTOR, mine.id, policy.stages[0].id, 1)
    with pytest.raises(NotFound):
        effective_policy(session, mine.id, 0)
    other_community = make_community(session, theirs)
    with pytest.raises(NotFound):
        create_override(session, ACTOR, mine.id, other_community.id)
