"""Escalation policies: the company default, per-community overrides, and their stages.

A company starts with `domain.default_policy_stages()`; a community may get its own copy to edit.
Every change is validated against the whole resulting stage list (so a bad edit changes nothing)
and audited. L3: the action enum has no utility or access action, and none can be configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.escalation import Action, Channel, Policy, StageRule, default_policy_stages
from arrears.persistence.enums import CaseStatus
from arrears.persistence.models import CollectionCase, Community, EscalationPolicy, EscalationStage

from .. import audit
from ..actor import Actor
from ..errors import N_, NotFound, ServiceError
from ..tenancy import get_scoped

#: Actions that must follow a formal demand (L2: nothing beyond the demand before it is delivered).
AFTER_DEMAND = frozenset({Action.NOTICE_CANDIDATE, Action.MEDIATION_REFERRAL, Action.LEGAL_READY})
#: Actions that send a message, so they need at least one channel.
MESSAGING = frozenset({Action.PRE_DUE_NOTICE, Action.REMINDER, Action.DEMAND})


@dataclass(frozen=True)
class StageInput:
    code: str
    name: str
    action: Action
    min_days_overdue: int
    min_amount: Decimal = Decimal("0.00")
    min_periods: int = 1
    min_days_since_previous: int = 0
    channels: tuple[Channel, ...] = ()
    template: str = ""
    needs_approval: bool = True
    deadline_days: int | None = None


# --- reading ----------------------------------------------------------------------------------


def default_policy(session: Session, company_id: int) -> EscalationPolicy | None:
    return session.scalar(select(EscalationPolicy).where(
        EscalationPolicy.company_id == company_id, EscalationPolicy.community_id.is_(None)))


def ensure_policy(session: Session, actor: Actor, company_id: int) -> EscalationPolicy:
    """The company's default policy, created from the shipped default the first time."""
    existing = default_policy(session, company_id)
    if existing is not None:
        return existing
    policy = EscalationPolicy(company_id=company_id, community_id=None, name="Default policy",
                              updated_by=actor.name)
    for position, rule in enumerate(default_policy_stages()):
        policy.stages.append(_stage_from_rule(position, rule))
    session.add(policy)
    session.flush()
    audit.record(session, actor, "escalation_policy.create", "escalation_policy", policy.id,
                 company_id=company_id, stages=[s.code for s in policy.stages])
    return policy


def effective_policy(session: Session, company_id: int, community_id: int) -> EscalationPolicy:
    """The community's override if it has one, else the company default."""
    override = session.scalar(select(EscalationPolicy).where(
        EscalationPolicy.company_id == company_id, EscalationPolicy.community_id == community_id))
    policy = override or default_policy(session, company_id)
    if policy is None:
        raise NotFound(N_("company %(id)s has no escalation policy yet"), id=company_id)
    return policy


def to_domain(policy: EscalationPolicy, tolerance: Decimal, *,
              demand_deadline_days: int | None = None) -> Policy:
    """The pure policy the engine decides with. A demand stage without its own deadline takes
    the community's `demand_deadline_days` (the reasonable period of L2)."""
    rules = []
    for stage in sorted(policy.stages, key=lambda s: s.position):
        rule = _rule(stage)
        if rule.action == Action.DEMAND and rule.deadline_days is None and demand_deadline_days:
            rule = replace(rule, deadline_days=demand_deadline_days)
        rules.append(rule)
    return Policy(stages=tuple(rules), tolerance=tolerance)


def policy_warnings(policy: EscalationPolicy) -> list[str]:
    """Advice that does not block saving: later stages normally need more days overdue."""
    warnings = []
    stages = sorted(policy.stages, key=lambda s: s.position)
    for before, after in zip(stages, stages[1:]):
        if after.min_days_overdue < before.min_days_overdue:
            warnings.append(f"{after.code} triggers earlier ({after.min_days_overdue} days) "
                            f"than {before.code} ({before.min_days_overdue} days) before it")
    return warnings


# --- editing ----------------------------------------------------------------------------------


def save_stage(session: Session, actor: Actor, company_id: int, policy_id: int, data: StageInput,
               stage_id: int | None = None) -> EscalationStage:
    """Create a stage (placed by its days overdue; reorder with `move_stage`) or edit one."""
    policy = get_scoped(session, EscalationPolicy, policy_id, company_id)
    data = _clean(data)
    stages = _ordered(policy)
    if stage_id is None:
        stage = EscalationStage(policy_id=policy.id)
        index = sum(1 for s in stages if s.min_days_overdue <= data.min_days_overdue)
        planned = [_as_input(s) for s in stages]
        planned.insert(index, data)
    else:
        stage = _stage_of(policy, stage_id)
        index = stages.index(stage)
        if data.code != stage.code:
            _refuse_if_in_use(session, policy, stage.code)
        planned = [data if s is stage else _as_input(s) for s in stages]
    validate_stages(planned)
    before = _snapshot(stage) if stage_id is not None else None
    _fill(stage, data)
    if stage_id is None:
        stages.insert(index, stage)
        policy.stages.append(stage)
    _renumber(session, stages)
    _touch(policy, actor)
    audit.record(session, actor, "escalation_stage.save", "escalation_stage", stage.id, company_id=company_id,
                 policy_id=policy.id, before=before, after=_snapshot(stage))
    return stage


def delete_stage(session: Session, actor: Actor, company_id: int, stage_id: int) -> None:
    stage = _scoped_stage(session, company_id, stage_id)
    policy = stage.policy
    remaining = [s for s in _ordered(policy) if s is not stage]
    validate_stages([_as_input(s) for s in remaining])
    _refuse_if_in_use(session, policy, stage.code)
    snapshot = _snapshot(stage)
    policy.stages.remove(stage)
    session.delete(stage)
    session.flush()
    _renumber(session, remaining)
    _touch(policy, actor)
    audit.record(session, actor, "escalation_stage.delete", "escalation_stage", stage_id, company_id=company_id,
                 policy_id=policy.id, before=snapshot)


def move_stage(session: Session, actor: Actor, company_id: int, stage_id: int, direction: int) -> None:
    """Move a stage one place up (direction < 0) or down (> 0); no-op at either end."""
    stage = _scoped_stage(session, company_id, stage_id)
    stages = _ordered(stage.policy)
    index = stages.index(stage)
    target = index + (1 if direction > 0 else -1)
    if direction == 0 or not 0 <= target < len(stages):
        return
    stages[index], stages[target] = stages[target], stages[index]
    validate_stages([_as_input(s) for s in stages])
    _renumber(session, stages)
    _touch(stage.policy, actor)
    audit.record(session, actor, "escalation_stage.move", "escalation_stage", stage.id, company_id=company_id,
                 policy_id=stage.policy_id, order=[s.code for s in stages])


def create_override(session: Session, actor: Actor, company_id: int, community_id: int) -> EscalationPolicy:
    """A community's own policy, starting as a copy of the company default."""
    community = get_scoped(session, Community, community_id, company_id)
    exists = session.scalar(select(EscalationPolicy.id).where(
        EscalationPolicy.company_id == company_id, EscalationPolicy.community_id == community.id))
    if exists is not None:
        raise ServiceError(N_("community %(name)s already has its own escalation policy"), name=community.name)
    default = ensure_policy(session, actor, company_id)
    policy = EscalationPolicy(company_id=company_id, community_id=community.id,
                              name=f"{community.name}", updated_by=actor.name)
    for stage in _ordered(default):
        policy.stages.append(_stage_from_rule(stage.position, _rule(stage)))
    session.add(policy)
    session.flush()
    audit.record(session, actor, "escalation_policy.override", "escalation_policy", policy.id,
                 company_id=company_id, community_id=community.id, copied_from=default.id)
    return policy


def delete_override(session: Session, actor: Actor, company_id: int, policy_id: int) -> None:
    """Drop a community's override: the community follows the company default again."""
    policy = get_scoped(session, EscalationPolicy, policy_id, company_id)
    if policy.community_id is None:
        raise ServiceError(N_("the company default policy cannot be deleted"))
    community_id = policy.community_id
    session.delete(policy)
    session.flush()
    audit.record(session, actor, "escalation_policy.delete", "escalation_policy", policy_id,
                 company_id=company_id, community_id=community_id)


# --- validation ---------------------------------------------------------------------------------


def validate_stages(stages: Sequence[StageInput]) -> None:
    """Refuse a stage list the engine could not run lawfully; raises ServiceError."""
    codes: set[str] = set()
    demand_seen = False
    pre_due = 0
    for data in stages:
        _validate_one(data)
        if data.code in codes:
            raise ServiceError(N_("stage code %(code)s is used twice"), code=data.code)
        codes.add(data.code)
        if data.action == Action.PRE_DUE_NOTICE:
            pre_due += 1
            if pre_due > 1:
                raise ServiceError(N_("a policy has at most one pre-due notice"))
        demand_seen = demand_seen or data.action == Action.DEMAND
        if data.action in AFTER_DEMAND and not demand_seen:  # L2
            raise ServiceError(N_("stage %(code)s must come after a formal demand stage"), code=data.code)


def _validate_one(data: StageInput) -> None:
    if not data.code or len(data.code) > 40:
        raise ServiceError(N_("a stage code of 1 to 40 characters is required"))
    if not data.name:
        raise ServiceError(N_("stage %(code)s needs a name"), code=data.code)
    if len(data.template) > 60:
        raise ServiceError(N_("template name %(name)s is too long"), name=data.template)
    if data.action == Action.PRE_DUE_NOTICE and data.min_days_overdue >= 0:
        raise ServiceError(N_("a pre-due notice is sent before the due date: days overdue must be negative"))
    if data.action != Action.PRE_DUE_NOTICE and data.min_days_overdue < 0:
        raise ServiceError(N_("stage %(code)s: days overdue cannot be negative"), code=data.code)
    if data.min_amount < 0 or data.min_periods < 0 or data.min_days_since_previous < 0:
        raise ServiceError(N_("stage %(code)s: amounts, periods and days cannot be negative"), code=data.code)
    if len(set(data.channels)) != len(data.channels):
        raise ServiceError(N_("stage %(code)s lists a channel twice"), code=data.code)
    if data.action in MESSAGING and not data.channels:
        raise ServiceError(N_("stage %(code)s sends a message and needs at least one channel"), code=data.code)
    if data.action == Action.DEMAND:
        if data.deadline_days is not None and data.deadline_days <= 0:
            raise ServiceError(N_("a formal demand needs a deadline of at least one day"))
    elif data.deadline_days is not None:
        raise ServiceError(N_("only a formal demand has a deadline"))


def _clean(data: StageInput) -> StageInput:
    try:
        action = Action(data.action)
        channels = tuple(Channel(c) for c in data.channels)
    except ValueError as exc:
        raise ServiceError(N_("unknown action or channel: %(value)s"), value=str(exc)) from exc
    return replace(data, code=data.code.strip(), name=data.name.strip(), action=action, channels=channels,
                   template=data.template.strip(), min_amount=Decimal(data.min_amount).quantize(Decimal("0.01")))


# --- helpers ------------------------------------------------------------------------------------


def _ordered(policy: EscalationPolicy) -> list[EscalationStage]:
    return sorted(policy.stages, key=lambda s: s.position)


def _scoped_stage(session: Session, company_id: int, stage_id: int) -> EscalationStage:
    stage = session.get(EscalationStage, stage_id)
    if stage is None or stage.policy.company_id != company_id:
        raise NotFound(N_("%(kind)s %(id)s not found"), kind="EscalationStage", id=stage_id)
    return stage


def _stage_of(policy: EscalationPolicy, stage_id: int) -> EscalationStage:
    for stage in policy.stages:
        if stage.id == stage_id:
            return stage
    raise NotFound(N_("%(kind)s %(id)s not found"), kind="EscalationStage", id=stage_id)


def _refuse_if_in_use(session: Session, policy: EscalationPolicy, code: str) -> None:
    """Open cases sit at this stage: renaming or deleting it would strand them."""
    query = select(func.count()).select_from(CollectionCase).where(
        CollectionCase.company_id == policy.company_id, CollectionCase.status == CaseStatus.OPEN,
        CollectionCase.stage_code == code)
    overrides = select(EscalationPolicy.community_id).where(
        EscalationPolicy.company_id == policy.company_id, EscalationPolicy.community_id.is_not(None))
    if policy.community_id is not None:
        query = query.where(CollectionCase.community_id == policy.community_id)
    else:
        query = query.where(CollectionCase.community_id.not_in(overrides))
    count = session.scalar(query) or 0
    if count:
        raise ServiceError(N_("%(count)s open cases are at stage %(code)s; it cannot be renamed or deleted"),
                           count=count, code=code)


def _renumber(session: Session, stages: list[EscalationStage]) -> None:
    """Positions are unique per policy: park them out of range first, then number 0..n-1."""
    for n, stage in enumerate(stages):
        stage.position = 10_000 + n
    session.flush()
    for n, stage in enumerate(stages):
        stage.position = n
    session.flush()


def _touch(policy: EscalationPolicy, actor: Actor) -> None:
    policy.updated_by = actor.name


def _rule(stage: EscalationStage) -> StageRule:
    return StageRule(
        code=stage.code, action=Action(stage.action), min_days_overdue=stage.min_days_overdue,
        min_amount=stage.min_amount, min_periods=stage.min_periods,
        min_days_since_previous=stage.min_days_since_previous,
        channels=tuple(Channel(c) for c in stage.channels or ()), needs_approval=stage.needs_approval,
        deadline_days=stage.deadline_days, template=stage.template or "", name=stage.name,
    )


def _as_input(stage: EscalationStage) -> StageInput:
    rule = _rule(stage)
    return StageInput(rule.code, rule.name, rule.action, rule.min_days_overdue, rule.min_amount, rule.min_periods,
                      rule.min_days_since_previous, rule.channels, rule.template, rule.needs_approval,
                      rule.deadline_days)


def _stage_from_rule(position: int, rule: StageRule) -> EscalationStage:
    stage = EscalationStage(position=position)
    _fill(stage, StageInput(rule.code, rule.name or rule.code, rule.action, rule.min_days_overdue, rule.min_amount,
                            rule.min_periods, rule.min_days_since_previous, rule.channels, rule.template,
                            rule.needs_approval, rule.deadline_days))
    return stage


def _fill(stage: EscalationStage, data: StageInput) -> None:
    stage.code, stage.name, stage.action = data.code, data.name, data.action
    stage.min_days_overdue, stage.min_amount = data.min_days_overdue, data.min_amount
    stage.min_periods, stage.min_days_since_previous = data.min_periods, data.min_days_since_previous
    stage.channels = [c.value for c in data.channels]
    stage.template, stage.needs_approval, stage.deadline_days = data.template, data.needs_approval, data.deadline_days


def _snapshot(stage: EscalationStage) -> dict[str, object]:
    return {"code": stage.code, "name": stage.name, "action": str(stage.action), "position": stage.position,
            "min_days_overdue": stage.min_days_overdue, "min_amount": str(stage.min_amount),
            "min_periods": stage.min_periods, "min_days_since_previous": stage.min_days_since_previous,
            "channels": list(stage.channels or []), "template": stage.template,
            "needs_approval": stage.needs_approval, "deadline_days": stage.deadline_days}

