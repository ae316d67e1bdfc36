"""Payment plans (issue 3 §3; L5 acknowledgement): schedule validation and plan state by date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.plans import (
    STATE_RANK,
    Instalment,
    PlanState,
    ScheduleProblem,
    due_by,
    judge,
    schedule_problems,
    total,
)

AGREED = dt.date(2026, 6, 1)
D = Decimal


def _plan(*rows: tuple[str, str]) -> list[Instalment]:
    return [Instalment(dt.date.fromisoformat(on), D(amount)) for on, amount in rows]


THREE = _plan(("2026-06-10", "100.00"), ("2026-07-10", "100.00"), ("2026-08-10", "100.00"))


# --- validation -----------------------------------------------------------------------------

def test_a_sound_schedule_has_no_problems() -> None:
    assert schedule_problems(AGREED, THREE, 7, D("300.00")) == []
    assert schedule_problems(AGREED, THREE, 0, D("500.00")) == []  # a plan for part of the debt


@pytest.mark.parametrize(("instalments", "grace", "balance", "problem"), [
    ([], 7, D("100.00"), ScheduleProblem.NO_INSTALMENTS),
    (_plan(("2026-06-10", "0.00")), 7, D("100.00"), ScheduleProblem.NON_POSITIVE_AMOUNT),
    (_plan(("2026-06-10", "-5.00")), 7, D("100.00"), ScheduleProblem.NON_POSITIVE_AMOUNT),
    (_plan(("2026-06-10", "10.00"), ("2026-06-10", "10.00")), 7, D("100.00"),
     ScheduleProblem.DATES_NOT_INCREASING),
    (_plan(("2026-07-10", "10.00"), ("2026-06-10", "10.00")), 7, D("100.00"),
     ScheduleProblem.DATES_NOT_INCREASING),
    (_plan(("2026-05-31", "10.00")), 7, D("100.00"), ScheduleProblem.BEFORE_AGREEMENT),
    (THREE, -1, D("300.00"), ScheduleProblem.NEGATIVE_GRACE),
    (THREE, 7, D("299.99"), ScheduleProblem.EXCEEDS_BALANCE),
])
def test_each_problem_is_reported(instalments: list[Instalment], grace: int, balance: Decimal,
                                  problem: ScheduleProblem) -> None:
    assert problem in schedule_problems(AGREED, instalments, grace, balance)


def test_first_instalment_on_the_agreement_day_is_allowed() -> None:
    assert schedule_problems(AGREED, _plan(("2026-06-01", "10.00")), 0, D("10.00")) == []


def test_due_by_and_total() -> None:
    assert total(THREE) == D("300.00")
    assert due_by(THREE, dt.date(2026, 7, 9)) == D("100.00")
    assert due_by(THREE, dt.date(2026, 7, 10)) == D("200.00")


# --- judgement truth table -------------------------------------------------------------------

def _pay(*rows: tuple[str, str]) -> list[tuple[dt.date, Decimal]]:
    return [(dt.date.fromisoformat(on), D(amount)) for on, amount in rows]


@pytest.mark.parametrize(("payments", "as_of", "state", "ended_on"), [
    # nothing due yet
    ([], "2026-06-09", PlanState.KEPT, None),
    # first instalment due 06-10, grace 5: unpaid, the plan holds until the end of 06-15 ...
    ([], "2026-06-14", PlanState.KEPT, None),
    # ... when it breaks (judged at the end of as_of); ended_on is the last day of grace
    ([], "2026-06-15", PlanState.BROKEN, "2026-06-15"),
    # paid on the last day of grace: kept
    (_pay(("2026-06-15", "100.00")), "2026-07-01", PlanState.KEPT, None),
    # part payment is short: broken
    (_pay(("2026-06-10", "99.99")), "2026-06-16", PlanState.BROKEN, "2026-06-15"),
    # a late catch-up does not mend a plan broken before it (dated judgement)
    (_pay(("2026-06-20", "100.00")), "2026-06-25", PlanState.BROKEN, "2026-06-15"),
    # paying ahead covers later instalments
    (_pay(("2026-06-02", "200.00")), "2026-07-15", PlanState.KEPT, None),
    # paying the total completes, on the day it was reached
    (_pay(("2026-06-02", "120.00"), ("2026-07-01", "180.00")), "2026-07-01", PlanState.COMPLETED,
     "2026-07-01"),
    # payments before the agreement do not count
    (_pay(("2026-05-20", "300.00")), "2026-06-16", PlanState.BROKEN, "2026-06-15"),
    # payments after as_of do not count yet
    (_pay(("2026-06-12", "300.00")), "2026-06-11", PlanState.KEPT, None),
    # second instalment missed
    (_pay(("2026-06-10", "100.00"), ("2026-07-20", "50.00")), "2026-07-31", PlanState.BROKEN,
     "2026-07-15"),
])
def test_judgement(payments: list[tuple[dt.date, Decimal]], as_of: str, state: PlanState,
                   ended_on: str | None) -> None:
    result = judge(AGREED, THREE, 5, payments, dt.date.fromisoformat(as_of))
    assert result.state == state
    assert result.ended_on == (dt.date.fromisoformat(ended_on) if ended_on else None)


def test_judgement_reports_paid_and_due() -> None:
    result = judge(AGREED, THREE, 5, _pay(("2026-06-10", "150.00")), dt.date(2026, 7, 15))
    assert (result.paid, result.due) == (D("150.00"), D("200.00"))
    assert result.state == PlanState.BROKEN  # 150 < 200 at the end of 07-15


def test_zero_grace_means_the_due_date_itself() -> None:
    assert judge(AGREED, THREE, 0, [], dt.date(2026, 6, 10)).state == PlanState.BROKEN
    assert judge(AGREED, THREE, 0, [], dt.date(2026, 6, 9)).state == PlanState.KEPT


# --- properties ------------------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.01"), max_value=D("5000.00"), places=2)
offsets = st.integers(min_value=0, max_value=400)


@st.composite
def schedules(draw: st.DrawFn) -> list[Instalment]:
    gaps = draw(st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=8))
    first = draw(st.integers(min_value=0, max_value=30))
    days, rows = first, []
    for gap in gaps:
        rows.append(Instalment(AGREED + dt.timedelta(days=days), draw(amounts)))
        days += gap
    return rows


payment_lists = st.lists(st.tuples(offsets.map(lambda n: AGREED + dt.timedelta(days=n - 30)), amounts),
                         max_size=10)


@settings(max_examples=200, deadline=None)
@given(schedules(), st.integers(min_value=0, max_value=30), offsets)
def test_paying_the_total_at_agreement_always_completes(plan: list[Instalment], grace: int, later: int) -> None:
    result = judge(AGREED, plan, grace, [(AGREED, total(plan))], AGREED + dt.timedelta(days=later))
    assert result.state == PlanState.COMPLETED and result.ended_on == AGREED


@settings(max_examples=200, deadline=None)
@given(schedules(), st.integers(min_value=0, max_value=30), offsets)
def test_paying_each_instalment_on_its_due_date_is_never_broken(plan: list[Instalment], grace: int,
                                                               later: int) -> None:
    as_of = AGREED + dt.timedelta(days=later)
    result = judge(AGREED, plan, grace, [(i.due_on, i.amount) for i in plan], as_of)
    assert result.state != PlanState.BROKEN
    assert (result.state == PlanState.COMPLETED) == (as_of >= plan[-1].due_on)


@settings(max_examples=300, deadline=None)
@given(schedules(), st.integers(min_value=0, max_value=30), payment_lists,
       st.tuples(offsets.map(lambda n: AGREED + dt.timedelta(days=n - 30)), amounts), offsets)
def test_state_is_monotonic_in_payments(plan: list[Instalment], grace: int,
                                        payments: list[tuple[dt.date, Decimal]],
                                        extra: tuple[dt.date, Decimal], later: int) -> None:
    """One more payment never makes a plan worse (BROKEN < KEPT < COMPLETED)."""
    as_of = AGREED + dt.timedelta(days=later)
    before = judge(AGREED, plan, grace, payments, as_of)
    after = judge(AGREED, plan, grace, [*payments, extra], as_of)
    assert STATE_RANK[after.state] >= STATE_RANK[before.state]


@settings(max_examples=300, deadline=None)
@given(schedules(), st.integers(min_value=0, max_value=30), payment_lists, offsets, offsets)
def test_broken_and_completed_are_final_in_time(plan: list[Instalment], grace: int,
                                               payments: list[tuple[dt.date, Decimal]], a: int, b: int) -> None:
    early, late = sorted((AGREED + dt.timedelta(days=a), AGREED + dt.timedelta(days=b)))
    first = judge(AGREED, plan, grace, payments, early)
    second = judge(AGREED, plan, grace, payments, late)
    if first.state != PlanState.KEPT:
        assert second.state == first.state and second.ended_on == first.ended_on


@settings(max_examples=300, deadline=None)
@given(schedules(), st.integers(min_value=0, max_value=30), payment_lists, offsets)
def test_kept_means_every_expired_instalment_is_covered(plan: list[Instalment], grace: int,
                                                       payments: list[tuple[dt.date, Decimal]],
                                                       later: int) -> None:
    """The issue's rule, on the run date: kept ⇒ paid ≥ instalments due by as_of − grace."""
    as_of = AGREED + dt.timedelta(days=later)
    result = judge(AGREED, plan, grace, payments, as_of)
    if result.state == PlanState.KEPT:
        assert result.paid >= result.due
        assert result.paid < total(plan)
    assert result.due <= total(plan)
