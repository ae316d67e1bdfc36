"""judgement: performance period, delay interest, enforcement deadline, dishonest-list candidates and
the deletion window (L14, L15, E7)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain import judgement as j
from arrears.domain.calendar import load_default_calendar, weekends_only_calendar
from arrears.domain.identity import IdType, birth_date_from_id
from arrears.domain.judgement import (
    add_working_days,
    delay_interest,
    deletion_window_end,
    dishonest_candidate,
    enforcement_deadline,
    last_day_of_period,
)

D = Decimal
CAL = load_default_calendar()


# --- E7 -------------------------------------------------------------------------------------------


def test_e7_last_day_interest_and_enforcement_deadline() -> None:
    """E7: 12 345.60 unpaid; the period ends Sunday 2026-05-31 → last day Monday 2026-06-01;
    as of 2026-06-30: 29 days × 12 345.60 × 0.000175 = 62.6539… → 62.65; enforcement by 2028-06-01."""
    assert date(2026, 5, 31).weekday() == 6
    last = last_day_of_period(date(2026, 5, 31), CAL)
    assert last == date(2026, 6, 1)
    assert j.delay_days(last, date(2026, 6, 30)) == 29
    assert delay_interest(D("12345.60"), last, date(2026, 6, 30)) == D("62.65")
    deadline = enforcement_deadline(last, CAL)
    assert deadline == date(2028, 6, 1) and deadline.weekday() == 3  # a Thursday


def test_last_day_on_a_working_day_stays_and_holidays_move_it() -> None:
    assert last_day_of_period(date(2026, 6, 2), CAL) == date(2026, 6, 2)
    # Labour Day break 2026-05-01…05: the period ends on Wednesday 2026-05-06
    assert last_day_of_period(date(2026, 5, 1), CAL) == date(2026, 5, 6)
    # a make-up working day (Saturday 2026-05-09) is a working day
    assert last_day_of_period(date(2026, 5, 9), CAL) == date(2026, 5, 9)


def test_no_interest_on_or_before_the_last_day() -> None:
    last = date(2026, 6, 1)
    assert delay_interest(D("12345.60"), last, last) == D("0.00")
    assert delay_interest(D("12345.60"), last, date(2026, 5, 1)) == D("0.00")
    assert delay_interest(D("12345.60"), last, last + timedelta(days=1)) == D("2.16")


@pytest.mark.parametrize("amount", [D("-1.00"), D("1.001")])
def test_bad_amounts_are_refused(amount: Decimal) -> None:
    with pytest.raises(ValueError, match="amount"):
        delay_interest(amount, date(2026, 6, 1), date(2026, 6, 30))


def test_enforcement_deadline_on_a_rest_day_moves_to_the_next_working_day() -> None:
    # two years from 2024-10-01 is 2026-10-01 (National Day break to 10-07): next working day 10-08
    assert enforcement_deadline(date(2024, 10, 1), CAL) == date(2026, 10, 8)
    # 29 February → 28 February (Civil Code art. 201 ¶2, add_years), a Monday in 2026 → no move
    assert enforcement_deadline(date(2024, 2, 29), weekends_only_calendar()) == date(2026, 3, 2)


# --- the deletion window (L15) --------------------------------------------------------------------


@pytest.mark.parametrize(("paid_on", "end"), [
    (date(2026, 6, 1), date(2026, 6, 4)),  # Monday → Thursday
    (date(2026, 6, 5), date(2026, 6, 10)),  # Friday → over the weekend → Wednesday
    (date(2026, 6, 6), date(2026, 6, 10)),  # Saturday → Mon, Tue, Wed
])
def test_deletion_window_is_three_working_days(paid_on: date, end: date) -> None:
    assert deletion_window_end(paid_on, CAL) == end


def test_deletion_window_over_a_holiday_counts_make_up_working_days() -> None:
    # 2026-09-30 (Wed); 10-01…10-07 holiday; 10-08 Thu, 10-09 Fri, 10-10 Sat is a make-up working day
    assert deletion_window_end(date(2026, 9, 30), CAL) == date(2026, 10, 10)
    # 2026-06-18 (Thu); 06-19…06-21 Dragon Boat break; 06-22, 06-23, 06-24
    assert deletion_window_end(date(2026, 6, 18), CAL) == date(2026, 6, 24)
    assert add_working_days(date(2026, 6, 18), 0, CAL) == date(2026, 6, 18)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 6, 18), -1, CAL)


# --- dishonest-list candidates (L15) --------------------------------------------------------------

TODAY = date(2026, 8, 1)
ADULT_ID = "110101199003074477"  # born 1990-03-07
READY: dict[str, object] = {
    "title_effective_on": date(2026, 5, 16), "performance_last_day": date(2026, 6, 1),
    "enforcement_applied_on": date(2026, 7, 1), "unpaid": D("12345.60"), "ground": "owns the unit",
    "birth_date": date(1990, 3, 7), "today": TODAY}


def test_candidate_when_every_condition_holds() -> None:
    assert dishonest_candidate(**READY) == (True, (j.CANDIDATE,))  # type: ignore[arg-type]
    assert birth_date_from_id(IdType.RESIDENT_ID, ADULT_ID) == date(1990, 3, 7)


@pytest.mark.parametrize(("change", "reason"), [
    ({"title_effective_on": None}, j.NO_TITLE),
    ({"title_effective_on": date(2026, 8, 2)}, j.NO_TITLE),
    ({"performance_last_day": None}, j.DEADLINE_NOT_PASSED),
    ({"performance_last_day": TODAY}, j.DEADLINE_NOT_PASSED),
    ({"enforcement_applied_on": None}, j.NO_ENFORCEMENT),
    ({"unpaid": D("0.00")}, j.PAID),
    ({"ground": None}, j.NO_GROUND),
    ({"ground": "   "}, j.NO_GROUND),
    ({"security_adequate": True}, j.SECURITY_GIVEN),
    ({"birth_date": None}, j.BIRTH_DATE_UNKNOWN),
])
def test_each_missing_condition_blocks(change: dict[str, object], reason: str) -> None:
    candidate, reasons = dishonest_candidate(**{**READY, **change})  # type: ignore[arg-type]
    assert not candidate
    assert reasons == (reason,)


def test_organisation_needs_no_birth_date() -> None:
    assert dishonest_candidate(**{**READY, "birth_date": None, "is_person": False})[0]  # type: ignore[arg-type]


@pytest.mark.parametrize("birth", [date(2008, 8, 1), date(2008, 8, 2), date(2015, 1, 1)])
def test_minors_are_never_candidates(birth: date) -> None:
    """Under 18 on TODAY (the 18th birthday itself still counts as minor, identity.is_minor)."""
    candidate, reasons = dishonest_candidate(**{**READY, "birth_date": birth})  # type: ignore[arg-type]
    assert not candidate and reasons == (j.MINOR,)


def test_adult_from_the_day_after_the_18th_birthday() -> None:
    assert dishonest_candidate(**{**READY, "birth_date": date(2008, 7, 31)})[0]  # type: ignore[arg-type]


@given(birth=st.dates(min_value=date(2008, 8, 1), max_value=TODAY),
       unpaid=st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2))
def test_a_minor_is_never_flagged_whatever_else_holds(birth: date, unpaid: Decimal) -> None:
    assert not dishonest_candidate(**{**READY, "birth_date": birth, "unpaid": unpaid})[0]  # type: ignore[arg-type]


def test_all_reasons_are_listed_together() -> None:
    _, reasons = dishonest_candidate(title_effective_on=None, performance_last_day=None, enforcement_applied_on=None,
                                     unpaid=D("0.00"), ground=None, birth_date=date(2010, 1, 1), today=TODAY)
    assert reasons == (j.NO_TITLE, j.DEADLINE_NOT_PASSED, j.NO_ENFORCEMENT, j.PAID, j.NO_GROUND, j.MINOR)


# --- properties -----------------------------------------------------------------------------------

AMOUNTS = st.decimals(min_value=D("0.00"), max_value=D("10000000.00"), places=2)
LAST = date(2026, 6, 1)


@given(amount=AMOUNTS, a=st.integers(0, 3000), b=st.integers(0, 3000))
def test_delay_interest_is_monotonic_in_days(amount: Decimal, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert delay_interest(amount, LAST, LAST + timedelta(days=lo)) <= delay_interest(
        amount, LAST, LAST + timedelta(days=hi))


@given(x=AMOUNTS, y=AMOUNTS, days=st.integers(0, 3000))
def test_delay_interest_is_monotonic_in_amount(x: Decimal, y: Decimal, days: int) -> None:
    lo, hi = sorted((x, y))
    as_of = LAST + timedelta(days=days)
    assert delay_interest(lo, LAST, as_of) <= delay_interest(hi, LAST, as_of)
    assert delay_interest(hi, LAST, as_of) - delay_interest(lo, LAST, as_of) <= delay_interest(
        hi - lo, LAST, as_of) + D("0.01")


@given(paid=st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31)))
def test_deletion_window_ends_on_a_working_day_at_least_three_days_later(paid: date) -> None:
    end = deletion_window_end(paid, CAL)
    assert not CAL.is_rest_day(end)
    assert end >= paid + timedelta(days=3)
    working = [paid + timedelta(days=n) for n in range(1, (end - paid).days + 1)]
    assert sum(not CAL.is_rest_day(d) for d in working) == 3
