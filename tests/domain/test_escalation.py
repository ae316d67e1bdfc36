"""Escalation decisions (issue 3 §2; L2 demand brake; disputes cap at reminders): truth tables on
the default policy and properties over arbitrary policies, debts and case states."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from arrears.domain.escalation import (
    REMINDER_ACTIONS,
    Action,
    CaseState,
    Debt,
    Decision,
    Outcome,
    Policy,
    Reason,
    StageRule,
    action_key,
    decide,
    default_policy_stages,
    demand_deadline,
    pre_due_key,
)

AS_OF = dt.date(2026, 11, 29)
DAY = dt.timedelta(days=1)
D = Decimal
POLICY = Policy(tuple(default_policy_stages()))
LONG_AGO = AS_OF - 400 * DAY


def debt(days: int, arrears: str = "600.00", periods: int = 3) -> Debt:
    return Debt(D(arrears), AS_OF - days * DAY, periods)


def at(stage: str, entered: dt.date = LONG_AGO, **kw: object) -> CaseState:
    return CaseState(is_open=True, stage_code=stage, stage_entered_on=entered, **kw)  # type: ignore[arg-type]


NEW = CaseState()

# --- truth table on the default policy --------------------------------------------------------

ROWS = [
    # (id, debt, state, outcome, stage, reason, skipped)
    ("no debt, no case", Debt(D("0.00"), None, 0), NEW, Outcome.NOTHING, None, Reason.BELOW_TOLERANCE, ()),
    ("debt just overdue: open, no stage yet", debt(10), NEW, Outcome.OPEN, None, Reason.NOT_DUE_YET, ()),
    ("15 days: first reminder", debt(15), NEW, Outcome.OPEN, "reminder_1", Reason.ADVANCED, ()),
    ("14 days: not yet", debt(14), NEW, Outcome.OPEN, None, Reason.NOT_DUE_YET, ()),
    ("50 days, new: straight to reminder 2", debt(50), NEW, Outcome.OPEN, "reminder_2", Reason.ADVANCED,
     ("reminder_1",)),
    ("imported old debt starts with the demand (L2)", debt(900, periods=30), NEW, Outcome.OPEN, "demand",
     Reason.ADVANCED, ("reminder_1", "reminder_2")),
    ("demand not delivered: stays", debt(300), at("demand"), Outcome.STAY, None,
     Reason.AWAITING_DEMAND_DELIVERY, ()),
    ("deadline's last day: still running", debt(300), at("demand", demand_deadline=AS_OF), Outcome.STAY, None,
     Reason.DEMAND_DEADLINE_RUNNING, ()),
    ("deadline passed: jumps to legal-ready", debt(300), at("demand", demand_deadline=AS_OF - DAY),
     Outcome.ADVANCE, "legal_ready", Reason.ADVANCED, ("public_notice", "mediation")),
    ("deadline passed but only 2 periods: mediation", debt(300, periods=2),
     at("demand", demand_deadline=AS_OF - DAY), Outcome.ADVANCE, "mediation", Reason.ADVANCED, ("public_notice",)),
    ("min gap since the previous stage", debt(50), at("reminder_1", AS_OF - 5 * DAY), Outcome.STAY, None,
     Reason.MIN_GAP, ()),
    ("min gap met on its day", debt(50), at("reminder_1", AS_OF - 14 * DAY), Outcome.ADVANCE, "reminder_2",
     Reason.ADVANCED, ()),
    ("dispute caps at the reminders", debt(300), at("reminder_1", disputed=True), Outcome.ADVANCE,
     "reminder_2", Reason.ADVANCED, ()),
    ("disputed at the cap stays", debt(300), at("reminder_2", disputed=True), Outcome.STAY, None,
     Reason.DISPUTED, ()),
    ("disputed new case opens at a reminder", debt(300), CaseState(disputed=True), Outcome.OPEN, "reminder_2",
     Reason.ADVANCED, ("reminder_1",)),
    ("dispute never lowers the stage", debt(300), at("demand", disputed=True), Outcome.STAY, None,
     Reason.DISPUTED, ()),
    ("paused stays", debt(300), at("reminder_1", paused=True), Outcome.STAY, None, Reason.PAUSED, ()),
    ("paid: closes", Debt(D("0.00"), None, 0), at("demand"), Outcome.CLOSE, None, Reason.BELOW_TOLERANCE, ()),
    ("paid while paused: still closes", Debt(D("0.00"), None, 0), at("demand", paused=True), Outcome.CLOSE, None,
     Reason.BELOW_TOLERANCE, ()),
    ("final stage stays", debt(900), at("legal_ready", demand_deadline=LONG_AGO), Outcome.STAY, None,
     Reason.FINAL_STAGE, ()),
    ("debt shrank below the stage: no regression", debt(20, periods=1), at("reminder_2"), Outcome.STAY, None,
     Reason.NOT_DUE_YET, ()),
]


@pytest.mark.parametrize(("debt_", "state", "outcome", "stage", "reason", "skipped"),
                         [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_default_policy_truth_table(debt_: Debt, state: CaseState, outcome: Outcome, stage: str | None,
                                    reason: Reason, skipped: tuple[str, ...]) -> None:
    decision = decide(POLICY, debt_, state, AS_OF)
    assert decision.outcome == outcome
    assert (decision.stage.code if decision.stage else None) == stage
    assert decision.reason == reason
    assert decision.skipped == skipped


@pytest.mark.parametrize(("arrears", "outcome"), [("50.00", Outcome.CLOSE), ("49.99", Outcome.CLOSE),
                                                  ("50.01", Outcome.ADVANCE)])
def test_tolerance_is_inclusive(arrears: str, outcome: Outcome) -> None:
    policy = Policy(POLICY.stages, tolerance=D("50.00"))
    assert decide(policy, debt(50, arrears), at("reminder_1"), AS_OF).outcome == outcome


@pytest.mark.parametrize(("state", "expected"), [
    (NEW, AS_OF - 10 * DAY + 15 * DAY),  # first reminder's day
    (at("reminder_1", AS_OF - 5 * DAY), AS_OF - 5 * DAY + 14 * DAY),  # min gap
    (at("demand"), None),  # a person must deliver the demand
    (at("demand", demand_deadline=AS_OF + 3 * DAY), AS_OF + 4 * DAY),  # the day after the deadline
    (at("reminder_1", paused=True), None),
])
def test_next_action_on(state: CaseState, expected: dt.date | None) -> None:
    days = 10 if state == NEW else 60 if state.stage_code == "reminder_1" else 300
    assert decide(POLICY, debt(days), state, AS_OF).next_action_on == expected


def test_min_amount_and_periods_are_triggers() -> None:
    stages = (StageRule("r", Action.REMINDER, 10, min_amount=D("100.00")),
              StageRule("r2", Action.REMINDER, 10, min_periods=2))
    policy = Policy(stages)
    assert decide(policy, debt(20, "99.99", 1), NEW, AS_OF).stage is None
    assert decide(policy, debt(20, "100.00", 1), NEW, AS_OF).stage == stages[0]
    assert decide(policy, debt(20, "100.00", 2), NEW, AS_OF).stage == stages[1]


def test_helpers() -> None:
    assert demand_deadline(dt.date(2026, 3, 1), 15) == dt.date(2026, 3, 16)  # runs from the day after (L2)
    assert action_key(7, "demand", 2) == "case:7:demand:2"
    assert pre_due_key(3, dt.date(2026, 1, 15)) == "predue:3:2026-01-15"
    assert POLICY.pre_due is not None and POLICY.pre_due.code == "pre_due"
    assert POLICY.position("pre_due") == -1 and POLICY.position(None) == -1
    assert [s.code for s in POLICY.case_stages][0] == "reminder_1"
    assert not any(s.action.value in {"cut_utilities", "restrict_access"} for s in POLICY.stages)  # L3


# --- bugs found while writing the properties (kept as regression tests) -------------------------

def test_dispute_never_lets_a_demand_through_when_a_reminder_follows_it() -> None:
    """A policy may place a reminder after the demand; a dispute must still stop before the demand."""
    stages = (StageRule("r1", Action.REMINDER, 10), StageRule("demand", Action.DEMAND, 20, deadline_days=15),
              StageRule("r3", Action.REMINDER, 400))
    decision = decide(Policy(stages), debt(100), CaseState(is_open=True, stage_code="r1", disputed=True), AS_OF)
    assert decision.stage is None and decision.reason == Reason.DISPUTED


def test_legal_ready_needs_a_delivered_demand_even_without_a_demand_stage() -> None:
    """L2: no filing is prepared without a delivered demand whose deadline passed."""
    stages = (StageRule("r1", Action.REMINDER, 10), StageRule("legal", Action.LEGAL_READY, 20))
    policy = Policy(stages)
    assert decide(policy, debt(100), NEW, AS_OF).stage == stages[0]
    passed = CaseState(is_open=True, stage_code="r1", demand_deadline=AS_OF - DAY)
    assert decide(policy, debt(100), passed, AS_OF).stage == stages[1]


def test_a_paused_closed_case_reopens_without_an_action() -> None:
    decision = decide(POLICY, debt(300), CaseState(paused=True), AS_OF)
    assert (decision.outcome, decision.stage, decision.reason) == (Outcome.OPEN, None, Reason.PAUSED)


def test_a_closed_case_starts_a_new_cycle_from_no_stage() -> None:
    """Reopening never inherits the last cycle's stage (a new cycle gets its own actions)."""
    decision = decide(POLICY, debt(20), CaseState(stage_code="reminder_2", stage_entered_on=AS_OF - DAY), AS_OF)
    assert (decision.outcome, decision.stage) == (Outcome.OPEN, POLICY.stage("reminder_1"))


# --- properties ---------------------------------------------------------------------------------

CASE_ACTIONS = [Action.REMINDER, Action.DEMAND, Action.NOTICE_CANDIDATE, Action.MEDIATION_REFERRAL,
                Action.LEGAL_READY]


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    count = draw(st.integers(min_value=1, max_value=7))
    stages = []
    for index in range(count):
        action = draw(st.sampled_from(CASE_ACTIONS))
        stages.append(StageRule(
            code=f"s{index}", action=action, min_days_overdue=draw(st.integers(0, 400)),
            min_amount=draw(st.decimals(min_value=0, max_value=2000, places=2)),
            min_periods=draw(st.integers(0, 6)), min_days_since_previous=draw(st.integers(0, 30)),
            deadline_days=15 if action == Action.DEMAND else None,
        ))
    if draw(st.booleans()):
        stages.insert(0, StageRule("pre", Action.PRE_DUE_NOTICE, -3))
    tolerance = draw(st.sampled_from([D("0.00"), D("10.00"), D("100.00")]))
    return Policy(tuple(stages), tolerance)


debts = st.builds(
    Debt,
    arrears=st.decimals(min_value=0, max_value=5000, places=2),
    oldest_due=st.one_of(st.none(), st.integers(0, 1200).map(lambda n: AS_OF - n * DAY)),
    overdue_periods=st.integers(0, 40),
)


@st.composite
def states(draw: st.DrawFn, policy: Policy) -> CaseState:
    codes = [None, *(s.code for s in policy.case_stages)]
    return CaseState(
        is_open=draw(st.booleans()),
        stage_code=draw(st.sampled_from(codes)),
        stage_entered_on=draw(st.one_of(st.none(), st.integers(0, 60).map(lambda n: AS_OF - n * DAY))),
        demand_deadline=draw(st.one_of(st.none(), st.integers(-20, 60).map(lambda n: AS_OF - n * DAY))),
        paused=draw(st.booleans()),
        disputed=draw(st.booleans()),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Policy, Debt, CaseState]:
    policy = draw(policies())
    return policy, draw(debts), draw(states(policy))


def apply(state: CaseState, decision: Decision, as_of: dt.date) -> CaseState:
    """What the sweep does with a decision (the facts stay the same)."""
    if decision.outcome == Outcome.CLOSE:
        return CaseState()
    if decision.outcome == Outcome.NOTHING:
        return state
    if decision.outcome == Outcome.OPEN:
        state = CaseState(demand_deadline=None, paused=state.paused, disputed=state.disputed, is_open=True)
    if decision.stage is not None:
        return CaseState(True, decision.stage.code, as_of, state.demand_deadline, state.paused, state.disputed)
    return state


def _demand_passed(state: CaseState) -> bool:
    return state.demand_deadline is not None and AS_OF > state.demand_deadline


PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(scenarios())
def test_deciding_again_after_applying_changes_nothing(scenario: tuple[Policy, Debt, CaseState]) -> None:
    policy, debt_, state = scenario
    first = decide(policy, debt_, state, AS_OF)
    again = decide(policy, debt_, apply(state, first, AS_OF), AS_OF)
    assert again.stage is None
    assert again.outcome in (Outcome.STAY, Outcome.NOTHING)


@PROPERTY
@given(scenarios())
def test_nothing_beyond_the_demand_without_a_passed_deadline(scenario: tuple[Policy, Debt, CaseState]) -> None:
    """L2: the first demand is the ceiling until a delivered demand's deadline has passed; legal-ready
    is never reached without it, whether or not the policy has a demand stage."""
    policy, debt_, state = scenario
    decision = decide(policy, debt_, state, AS_OF)
    if decision.stage is None or _demand_passed(state if state.is_open else CaseState()):
        return
    stages = policy.case_stages
    demand_at = next((i for i, s in enumerate(stages) if s.action == Action.DEMAND), len(stages))
    assert policy.position(decision.stage.code) <= demand_at
    assert decision.stage.action != Action.LEGAL_READY


@PROPERTY
@given(scenarios())
def test_a_dispute_never_goes_beyond_the_reminders(scenario: tuple[Policy, Debt, CaseState]) -> None:
    policy, debt_, state = scenario
    decision = decide(policy, debt_, CaseState(state.is_open, state.stage_code, state.stage_entered_on,
                                               state.demand_deadline, state.paused, disputed=True), AS_OF)
    if decision.stage is not None:
        assert decision.stage.action in REMINDER_ACTIONS
        first_other = next(i for i, s in enumerate(policy.case_stages + (None,))  # type: ignore[operator]
                           if s is None or s.action not in REMINDER_ACTIONS)
        assert policy.position(decision.stage.code) < first_other


@PROPERTY
@given(scenarios())
def test_paused_never_moves(scenario: tuple[Policy, Debt, CaseState]) -> None:
    policy, debt_, state = scenario
    paused = CaseState(state.is_open, state.stage_code, state.stage_entered_on, state.demand_deadline, True,
                       state.disputed)
    decision = decide(policy, debt_, paused, AS_OF)
    assert decision.stage is None
    if debt_.arrears > policy.tolerance and debt_.oldest_due is not None:
        assert decision.outcome == (Outcome.STAY if state.is_open else Outcome.OPEN)
        assert decision.reason == Reason.PAUSED


@PROPERTY
@given(scenarios())
def test_at_or_below_tolerance_closes_or_does_nothing(scenario: tuple[Policy, Debt, CaseState]) -> None:
    policy, debt_, state = scenario
    small = Debt(min(debt_.arrears, policy.tolerance), debt_.oldest_due, debt_.overdue_periods)
    decision = decide(policy, small, state, AS_OF)
    assert decision.stage is None
    assert decision.outcome == (Outcome.CLOSE if state.is_open else Outcome.NOTHING)


@PROPERTY
@given(scenarios())
def test_outcomes_fit_the_case(scenario: tuple[Policy, Debt, CaseState]) -> None:
    """OPEN only for a closed case; ADVANCE/STAY/CLOSE only for an open one; a stage only on OPEN/ADVANCE."""
    policy, debt_, state = scenario
    decision = decide(policy, debt_, state, AS_OF)
    allowed = ({Outcome.STAY, Outcome.ADVANCE, Outcome.CLOSE} if state.is_open else {Outcome.OPEN, Outcome.NOTHING})
    assert decision.outcome in allowed
    assert (decision.stage is not None) <= (decision.outcome in (Outcome.OPEN, Outcome.ADVANCE))
    assert (decision.outcome == Outcome.ADVANCE) <= (decision.stage is not None)
    if decision.next_action_on is not None:
        assert decision.next_action_on > AS_OF


@PROPERTY
@given(scenarios())
def test_the_stage_never_regresses(scenario: tuple[Policy, Debt, CaseState]) -> None:
    policy, debt_, state = scenario
    decision = decide(policy, debt_, state, AS_OF)
    if decision.stage is not None and state.is_open:
        assert policy.position(decision.stage.code) > policy.position(state.stage_code)


@PROPERTY
@given(scenarios())
def test_min_days_since_previous_is_respected(scenario: tuple[Policy, Debt, CaseState]) -> None:
    policy, debt_, state = scenario
    decision = decide(policy, debt_, state, AS_OF)
    if decision.stage is not None and state.is_open and state.stage_entered_on is not None \
            and policy.position(state.stage_code) >= 0:
        assert AS_OF >= state.stage_entered_on + decision.stage.min_days_since_previous * DAY
    if decision.reason == Reason.MIN_GAP:
        assert decision.stage is None and decision.next_action_on is not None


@PROPERTY
@given(scenarios())
def test_after_a_gap_the_case_lands_on_the_highest_triggered_stage(
        scenario: tuple[Policy, Debt, CaseState]) -> None:
    """With no brake (demand deadline passed, no dispute or pause) and the gap long met, an open
    case that missed runs goes straight to the
    highest stage whose triggers are met; the ones jumped over are reported as skipped."""
    policy, debt_, state = scenario
    assume(debt_.oldest_due is not None and debt_.arrears > policy.tolerance)
    state = CaseState(True, state.stage_code, LONG_AGO, AS_OF - DAY, paused=False, disputed=False)
    decision = decide(policy, debt_, state, AS_OF)
    days = debt_.days_overdue(AS_OF)
    triggered = [i for i, s in enumerate(policy.case_stages)
                 if days >= s.min_days_overdue and debt_.arrears >= s.min_amount
                 and debt_.overdue_periods >= s.min_periods]
    current = policy.position(state.stage_code)
    highest = max(triggered, default=-1)
    if highest > current:
        assert decision.stage == policy.case_stages[highest]
        assert decision.skipped == tuple(s.code for s in policy.case_stages[current + 1:highest])
    else:
        assert decision.stage is None


@PROPERTY
@given(scenarios())
def test_decide_is_pure(scenario: tuple[Policy, Debt, CaseState]) -> None:
    policy, debt_, state = scenario
    assert decide(policy, debt_, state, AS_OF) == decide(policy, debt_, state, AS_OF)
