"""After judgement: the performance period, delay interest, the enforcement deadline, candidates
for the dishonest judgement-debtor list and the court's deletion window (L14, L15, E7).

Pure: dates and amounts in, dates and amounts out; ``today`` and the calendar are parameters.
Reasons are English msgids (constants marked with ``N_``); the service/web layer translates them.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from .calendar import HolidayCalendar, add_years
from .identity import is_minor
from .money import is_fen, to_fen


def N_(message: str) -> str:  # the gettext marker pybabel extracts (-k N_)
    """Mark a msgid for extraction; the service/web layer translates it where it is shown."""
    return message


#: L14: 最高人民法院关于执行程序中计算迟延履行期间的债务利息适用法律若干问题的解释 (法释〔2014〕8号)
#: art. 1: the doubled part of the interest is 0.0175 % (日万分之一点七五) of the unpaid amount per day.
DELAY_INTEREST_RATE_PER_DAY = Decimal("0.000175")
DELAY_INTEREST_SOURCE = "法释〔2014〕8号 第一条"
#: L14: CPL 2023 art. 250 — enforcement must be applied for within 2 years.
ENFORCEMENT_PERIOD_YEARS = 2
#: L15: the court deletes a listing within 3 working days after full performance.
DELETION_WORKING_DAYS = 3

# L15 candidate reasons
CANDIDATE = N_(
    "all conditions are met: the owner is a candidate for the dishonest-debtor list; "
    "a person must approve the application (L15)")
NO_TITLE = N_("no effective judgement or other title yet (L15)")
DEADLINE_NOT_PASSED = N_("the performance period has not ended yet (L15)")
NO_ENFORCEMENT = N_("enforcement has not been applied for (L15)")
PAID = N_("the judgement debt is paid (L15)")
NO_GROUND = N_("no ground recorded (e.g. owns the unit, has income): a person must record one (L15)")
MINOR = N_("the debtor is a minor: never on the dishonest-debtor list (L15)")
BIRTH_DATE_UNKNOWN = N_(
    "the debtor's birth date is unknown: it cannot be ruled out that the debtor is a minor (L15)")
SECURITY_GIVEN = N_(
    "adequate security was given or seized assets suffice: no dishonest-debtor listing (L15)")


def last_day_of_period(deadline: date, calendar: HolidayCalendar) -> date:
    """The real last day of a court period ending on ``deadline`` (CPL art. 85, L14): a rest day
    moves it to the next working day (E7: Sunday 2026-05-31 → Monday 2026-06-01)."""
    return calendar.next_working_day_on_or_after(deadline)


def delay_days(deadline_last_day: date, as_of: date) -> int:
    """Days of delay: each day after the performance period's last day up to ``as_of`` (L14)."""
    return max(0, (as_of - deadline_last_day).days)


def delay_interest(amount: Decimal, deadline_last_day: date, as_of: date, *,
                   rate_per_day: Decimal = DELAY_INTEREST_RATE_PER_DAY) -> Decimal:
    """Interest for delayed performance on the unpaid judgement amount (L14; E7: 12 345.60 from
    2026-06-01 to 2026-06-30 = 29 days → 62.65), rounded half-up to the fen once."""
    if not isinstance(amount, Decimal) or not is_fen(amount) or amount < 0:
        raise ValueError(f"amount must be a non-negative Decimal amount in fen: {amount!r}")
    return to_fen(amount * rate_per_day * delay_days(deadline_last_day, as_of))


def enforcement_deadline(performance_last_day: date, calendar: HolidayCalendar) -> date:
    """Last day to apply for enforcement (CPL art. 250, L14): two years from the performance
    period's last day, moved to the next working day if it is a rest day (art. 85). E7:
    2026-06-01 → 2028-06-01. In a year whose holidays are not published yet only weekends count
    (``calendar.is_provisional``)."""
    return calendar.next_working_day_on_or_after(add_years(performance_last_day, ENFORCEMENT_PERIOD_YEARS))


def add_working_days(d: date, days: int, calendar: HolidayCalendar) -> date:
    """The ``days``-th working day after ``d`` (``d`` itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    while days:
        d += timedelta(days=1)
        if not calendar.is_rest_day(d):
            days -= 1
    return d


def deletion_window_end(paid_on: date, calendar: HolidayCalendar) -> date:
    """The last day the court has to delete a listing after full performance on ``paid_on``: three
    working days, counted from the next day (L15)."""
    return add_working_days(paid_on, DELETION_WORKING_DAYS, calendar)


def dishonest_candidate(
    *,
    title_effective_on: date | None,
    performance_last_day: date | None,
    enforcement_applied_on: date | None,
    unpaid: Decimal,
    ground: str | None,
    birth_date: date | None,
    today: date,
    is_person: bool = True,
    security_adequate: bool = False,
) -> tuple[bool, tuple[str, ...]]:
    """Whether one debtor is a candidate for the dishonest judgement-debtor list, and why (L15).

    All must hold: an effective title (on or before ``today``), the performance period's last day
    passed, enforcement applied for, an unpaid amount, a ground recorded by a person, no adequate
    security — and never a minor: a person whose birth date is unknown is not flagged either
    (``is_person=False`` for organisations, which have no birth date). The company only applies;
    the court lists. A True result is a candidate for a person to approve, never a filing."""
    reasons: list[str] = []
    if title_effective_on is None or title_effective_on > today:
        reasons.append(NO_TITLE)
    if performance_last_day is None or today <= performance_last_day:
        reasons.append(DEADLINE_NOT_PASSED)
    if enforcement_applied_on is None or enforcement_applied_on > today:
        reasons.append(NO_ENFORCEMENT)
    if unpaid <= 0:
        reasons.append(PAID)
    if not (ground or "").strip():
        reasons.append(NO_GROUND)
    if security_adequate:
        reasons.append(SECURITY_GIVEN)
    if is_person:
        if birth_date is None:
            reasons.append(BIRTH_DATE_UNKNOWN)
        elif is_minor(birth_date, today):
            reasons.append(MINOR)
    if reasons:
        return False, tuple(reasons)
    return True, (CANDIDATE,)
