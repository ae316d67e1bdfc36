"""Payment plans: validating an instalment schedule and judging a plan as of a date.

A kept plan pauses escalation; a missed instalment (after the grace days) breaks it and
escalation resumes where it stopped. The plan itself is the owner's acknowledgement of the debt
(L5), which the service records as a limitation interruption.

The judgement is computed from *dated* payments, not from "what was paid by the run date": an
instalment is missed when the payments received by the end of its due date plus the grace days
do not cover every instalment due so far. So a plan broken on a night the run skipped is still
broken when the next run comes (a late catch-up does not mend it), and the result never depends
on which nights the scheduler happened to run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True)
class Instalment:
    due_on: dt.date
    amount: Decimal


class ScheduleProblem(StrEnum):
    """Why a schedule is refused; the service turns each into a user message."""

    NO_INSTALMENTS = "no_instalments"
    NON_POSITIVE_AMOUNT = "non_positive_amount"
    DATES_NOT_INCREASING = "dates_not_increasing"
    BEFORE_AGREEMENT = "before_agreement"
    NEGATIVE_GRACE = "negative_grace"
    EXCEEDS_BALANCE = "exceeds_balance"


def schedule_problems(
    agreed_on: dt.date, instalments: Sequence[Instalment], grace_days: int, balance: Decimal
) -> list[ScheduleProblem]:
    """Everything wrong with a proposed plan (empty list = acceptable).

    `balance` is the open principal the case's owner could pay off: the arrears plus charges
    already billed but not yet due (a plan often clears both). The total may be less (a plan for
    part of the debt is the company's choice) but never more: late fees are never inside arrears,
    and a total above the balance is almost always a typing error that would break the plan at once.
    """
    problems: list[ScheduleProblem] = []
    if not instalments:
        problems.append(ScheduleProblem.NO_INSTALMENTS)
    if any(i.amount <= 0 for i in instalments):
        problems.append(ScheduleProblem.NON_POSITIVE_AMOUNT)
    if any(b.due_on <= a.due_on for a, b in zip(instalments, instalments[1:])):
        problems.append(ScheduleProblem.DATES_NOT_INCREASING)
    if instalments and instalments[0].due_on < agreed_on:
        problems.append(ScheduleProblem.BEFORE_AGREEMENT)
    if grace_days < 0:
        problems.append(ScheduleProblem.NEGATIVE_GRACE)
    if total(instalments) > balance:
        problems.append(ScheduleProblem.EXCEEDS_BALANCE)
    return problems


def total(instalments: Iterable[Instalment]) -> Decimal:
    return sum((i.amount for i in instalments), Decimal("0.00"))


def due_by(instalments: Iterable[Instalment], on: dt.date) -> Decimal:
    """What the owner should have paid by the end of `on` (grace not included)."""
    return total(i for i in instalments if i.due_on <= on)


class PlanState(StrEnum):
    KEPT = "kept"
    COMPLETED = "completed"
    BROKEN = "broken"


#: Better for the owner is higher: more money never moves a plan down this order.
STATE_RANK = {PlanState.BROKEN: 0, PlanState.KEPT: 1, PlanState.COMPLETED: 2}


@dataclass(frozen=True)
class PlanJudgement:
    state: PlanState
    paid: Decimal  # counted payments received from agreement through as_of
    due: Decimal  # instalments whose grace has run out by as_of
    ended_on: dt.date | None  # completion date, or the last day of grace of the missed instalment


def judge(
    agreed_on: dt.date,
    instalments: Sequence[Instalment],
    grace_days: int,
    payments: Iterable[tuple[dt.date, Decimal]],
    as_of: dt.date,
) -> PlanJudgement:
    """The plan's state at the end of `as_of`, from the dated payments counted towards it.

    Payments before `agreed_on` or after `as_of` do not count. Whichever came first wins: the
    completion (payments reached the total) or the first missed instalment (at the end of its due
    date + grace days the payments so far were short of every instalment due so far). The two can
    never fall on the same day: completing covers every instalment.
    """
    grace = dt.timedelta(days=max(grace_days, 0))
    dated = sorted((on, amount) for on, amount in payments if agreed_on <= on <= as_of)
    paid = sum((amount for _, amount in dated), Decimal("0.00"))
    completed_on = _completed_on(dated, total(instalments))
    broken_on = next(
        (i.due_on + grace for i in instalments
         if i.due_on + grace <= as_of and _paid_by(dated, i.due_on + grace) < due_by(instalments, i.due_on)),
        None,
    )
    due = due_by(instalments, as_of - grace)
    if broken_on is not None and (completed_on is None or broken_on < completed_on):
        return PlanJudgement(PlanState.BROKEN, paid, due, broken_on)
    if completed_on is not None:
        return PlanJudgement(PlanState.COMPLETED, paid, due, completed_on)
    return PlanJudgement(PlanState.KEPT, paid, due, None)


def _paid_by(dated: Sequence[tuple[dt.date, Decimal]], on: dt.date) -> Decimal:
    return sum((amount for day, amount in dated if day <= on), Decimal("0.00"))


def _completed_on(dated: Sequence[tuple[dt.date, Decimal]], target: Decimal) -> dt.date | None:
    running = Decimal("0.00")
    for day, amount in dated:
        running += amount
        if running >= target:
            return day
    return None
