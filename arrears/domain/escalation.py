"""Escalation decisions: which stage a collection case belongs in, computed from the debt.

The stage is recomputed from the facts on every run (never "one step per run"), so a case that
missed a night lands on the right stage and a repeated run decides the same thing again. Two legal
brakes cap the computed stage:

* L2 — nothing beyond the formal demand until a demand has been delivered (L5 delivery table) and
  the reasonable period it gave has run out; a long-standing debt found by an import therefore
  starts with a demand, never at legal-ready;
* an open dispute pauses escalation beyond reminders.

L3 — there is deliberately no action that stops or throttles water, power, heat or gas, or limits
access to the estate, the home, lifts or parking: Civil Code art. 944 ¶3 forbids it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum


class Action(StrEnum):
    """What entering a stage does. No utility or access action exists, on purpose (L3)."""

    PRE_DUE_NOTICE = "pre_due_notice"
    REMINDER = "reminder"
    DEMAND = "demand"
    NOTICE_CANDIDATE = "notice_candidate"
    MEDIATION_REFERRAL = "mediation_referral"
    LEGAL_READY = "legal_ready"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"
    HAND = "hand"


#: Actions that are still "reminders": the only ones an open dispute lets through.
REMINDER_ACTIONS = frozenset({Action.PRE_DUE_NOTICE, Action.REMINDER})


@dataclass(frozen=True)
class StageRule:
    """One stage of a policy. Triggers are all required; `deadline_days` is for demands (L2)."""

    code: str
    action: Action
    min_days_overdue: int
    min_amount: Decimal = Decimal("0.00")
    min_periods: int = 1
    min_days_since_previous: int = 0
    channels: tuple[Channel, ...] = ()
    needs_approval: bool = True
    deadline_days: int | None = None
    template: str = ""
    name: str = ""


@dataclass(frozen=True)
class Policy:
    """Ordered stages (pre-due notice, if any, is not a case stage) and the company's tolerance."""

    stages: tuple[StageRule, ...]
    tolerance: Decimal = Decimal("0.00")

    @property
    def pre_due(self) -> StageRule | None:
        """The optional notice sent `-min_days_overdue` days before a due date."""
        return next((s for s in self.stages if s.action == Action.PRE_DUE_NOTICE), None)

    @property
    def case_stages(self) -> tuple[StageRule, ...]:
        return tuple(s for s in self.stages if s.action != Action.PRE_DUE_NOTICE)

    def position(self, code: str | None) -> int:
        """Index of a case stage; -1 for "no stage yet" or a stage no longer in the policy."""
        for index, stage in enumerate(self.case_stages):
            if stage.code == code:
                return index
        return -1

    def stage(self, code: str | None) -> StageRule | None:
        index = self.position(code)
        return self.case_stages[index] if index >= 0 else None


@dataclass(frozen=True)
class Debt:
    """An owner's arrears on one unit as of the run date (late fees excluded, per definitions)."""

    arrears: Decimal
    oldest_due: dt.date | None
    overdue_periods: int

    def days_overdue(self, as_of: dt.date) -> int:
        return (as_of - self.oldest_due).days if self.oldest_due else 0


@dataclass(frozen=True)
class CaseState:
    """What the case already is. `demand_deadline` is the deadline of its latest delivered demand."""

    is_open: bool = False
    stage_code: str | None = None
    stage_entered_on: dt.date | None = None
    demand_deadline: dt.date | None = None
    paused: bool = False
    disputed: bool = False


class Outcome(StrEnum):
    NOTHING = "nothing"  # no case, no arrears
    OPEN = "open"  # open (or reopen) the case; the same decision also says the first stage
    ADVANCE = "advance"
    STAY = "stay"
    CLOSE = "close"


class Reason(StrEnum):
    """Why a case did not move further; shown in the work queue and run history."""

    BELOW_TOLERANCE = "below_tolerance"
    PAUSED = "paused"
    DISPUTED = "disputed"
    AWAITING_DEMAND_DELIVERY = "awaiting_demand_delivery"
    DEMAND_DEADLINE_RUNNING = "demand_deadline_running"
    MIN_GAP = "min_gap"
    NOT_DUE_YET = "not_due_yet"
    FINAL_STAGE = "final_stage"
    ADVANCED = "advanced"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    stage: StageRule | None = None  # the stage to enter (OPEN/ADVANCE) — its action is prepared
    reason: Reason = Reason.NOT_DUE_YET
    next_action_on: dt.date | None = None
    skipped: tuple[str, ...] = field(default=())  # stages jumped over after a gap


def decide(policy: Policy, debt: Debt, state: CaseState, as_of: dt.date) -> Decision:
    """The outcome of one run for one case. Pure: the same inputs always give the same decision."""
    if debt.oldest_due is None or debt.arrears <= policy.tolerance:
        if state.is_open:
            return Decision(Outcome.CLOSE, reason=Reason.BELOW_TOLERANCE)
        return Decision(Outcome.NOTHING, reason=Reason.BELOW_TOLERANCE)
    opening = Outcome.OPEN if not state.is_open else None
    if state.paused:  # a hold or kept plan also keeps a reopening case from acting at once
        return Decision(opening or Outcome.STAY, reason=Reason.PAUSED)
    if not state.is_open:  # a new cycle: the last cycle's stage, timing and demand do not carry over
        state = replace(state, stage_code=None, stage_entered_on=None, demand_deadline=None)
    current = policy.position(state.stage_code)
    target, brake = _target(policy, debt, state, as_of)
    if target <= current:
        return Decision(opening or Outcome.STAY, reason=brake,
                        next_action_on=_next_date(policy, debt, state, as_of, current, brake))
    stage = policy.case_stages[target]
    if state.stage_entered_on is not None and current >= 0:
        ready_on = state.stage_entered_on + dt.timedelta(days=stage.min_days_since_previous)
        if as_of < ready_on:
            return Decision(opening or Outcome.STAY, reason=Reason.MIN_GAP, next_action_on=ready_on)
    skipped = tuple(s.code for s in policy.case_stages[current + 1:target])
    return Decision(opening or Outcome.ADVANCE, stage=stage, reason=Reason.ADVANCED,
                    next_action_on=_next_date(policy, debt, state, as_of, target, Reason.ADVANCED),
                    skipped=skipped)


def _target(policy: Policy, debt: Debt, state: CaseState, as_of: dt.date) -> tuple[int, Reason]:
    """Highest stage whose triggers are met, capped by the legal brakes, with the brake that held."""
    stages = policy.case_stages
    days = debt.days_overdue(as_of)
    cap, brake = len(stages) - 1, Reason.FINAL_STAGE
    # L2 gate: the first demand, and in any case nothing from the first legal-ready stage on
    # (a policy without a demand stage must not reach legal-ready undemanded).
    gates = [i for i, s in enumerate(stages) if s.action == Action.DEMAND][:1] + \
        [i - 1 for i, s in enumerate(stages) if s.action == Action.LEGAL_READY][:1]
    if gates and not _demand_deadline_passed(state, as_of):
        cap = min(gates)
        brake = (Reason.AWAITING_DEMAND_DELIVERY if state.demand_deadline is None
                 else Reason.DEMAND_DEADLINE_RUNNING)
    if state.disputed:  # only the reminders before the first other stage (never lifts the L2 cap)
        first_other = next((i for i, s in enumerate(stages) if s.action not in REMINDER_ACTIONS), len(stages))
        cap, brake = min(cap, first_other - 1), Reason.DISPUTED
    best = -1
    for index, stage in enumerate(stages[: cap + 1]):
        if _triggered(stage, debt, days):
            best = index
    if best < cap and brake not in (Reason.DISPUTED,):
        brake = Reason.NOT_DUE_YET
    return best, brake


def _triggered(stage: StageRule, debt: Debt, days: int) -> bool:
    return (days >= stage.min_days_overdue and debt.arrears >= stage.min_amount
            and debt.overdue_periods >= stage.min_periods)


def _demand_deadline_passed(state: CaseState, as_of: dt.date) -> bool:
    """The reasonable period includes its last day (L2): the brake lifts the day after it."""
    return state.demand_deadline is not None and as_of > state.demand_deadline


def _next_date(policy: Policy, debt: Debt, state: CaseState, as_of: dt.date,
               position: int, brake: Reason) -> dt.date | None:
    """When the case may next move, for the work queue; None when only a person can move it."""
    if brake == Reason.DEMAND_DEADLINE_RUNNING and state.demand_deadline is not None:
        return state.demand_deadline + dt.timedelta(days=1)
    if brake in (Reason.AWAITING_DEMAND_DELIVERY, Reason.DISPUTED, Reason.PAUSED):
        return None
    following = policy.case_stages[position + 1:]
    if not following or debt.oldest_due is None:
        return None
    return max(as_of + dt.timedelta(days=1),
               debt.oldest_due + dt.timedelta(days=following[0].min_days_overdue))


def demand_deadline(delivered_on: dt.date, deadline_days: int) -> dt.date:
    """Last day of the reasonable period: it runs from the day after delivery (L2)."""
    return delivered_on + dt.timedelta(days=deadline_days)


def action_key(case_id: int, stage_code: str, cycle: int) -> str:
    """The unique key of a prepared action: one per case, stage and case cycle."""
    return f"case:{case_id}:{stage_code}:{cycle}"


def pre_due_key(ownership_id: int, due_date: dt.date) -> str:
    return f"predue:{ownership_id}:{due_date.isoformat()}"


def default_policy_stages() -> Sequence[StageRule]:
    """The policy a company starts with; every figure is editable in the policy editor."""
    email_sms = (Channel.EMAIL, Channel.SMS, Channel.LETTER)
    return (
        StageRule("pre_due", Action.PRE_DUE_NOTICE, -3, channels=(Channel.SMS, Channel.EMAIL),
                  needs_approval=False, template="pre_due", name="Pre-due notice"),
        StageRule("reminder_1", Action.REMINDER, 15, channels=email_sms, needs_approval=False,
                  template="reminder", name="First reminder"),
        StageRule("reminder_2", Action.REMINDER, 45, min_days_since_previous=14, channels=email_sms,
                  template="reminder", name="Second reminder"),
        StageRule("demand", Action.DEMAND, 75, min_days_since_previous=14,
                  channels=(Channel.LETTER, Channel.EMAIL, Channel.SMS), deadline_days=15,
                  template="demand", name="Formal written demand"),
        StageRule("public_notice", Action.NOTICE_CANDIDATE, 105, min_days_since_previous=7,
                  template="notice", name="Public notice candidate"),
        StageRule("mediation", Action.MEDIATION_REFERRAL, 135, min_days_since_previous=14,
                  template="mediation", name="Mediation referral"),
        StageRule("legal_ready", Action.LEGAL_READY, 150, min_periods=3, min_days_since_previous=14,
                  template="legal", name="Ready for legal filing"),
    )
