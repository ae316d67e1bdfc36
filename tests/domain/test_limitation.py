"""limitation: 3 years per charge (L4), interruptions (L5), the delivery table (L5), E3."""

from datetime import date

import pytest

from arrears.domain.calendar import HolidayCalendar, load_default_calendar
from arrears.domain.limitation import (
    LIMITATION_YEARS,
    DeliveryResult,
    LimitationEnd,
    counts_as_delivered,
    is_time_barred,
    limitation_end,
)

R = DeliveryResult


@pytest.fixture(scope="module")
def cal() -> HolidayCalendar:
    return load_default_calendar()


def test_e3_no_interruption(cal: HolidayCalendar) -> None:
    """E3: "A monthly charge due 2023-03-15, unpaid. In default from 2023-03-16; limitation ends
    2026-03-16 with no interruption." """
    result = limitation_end(date(2023, 3, 15), [], cal)
    assert result == LimitationEnd(
        end=date(2026, 3, 16), unmoved=date(2026, 3, 16), provisional=False
    )
    assert LIMITATION_YEARS == 3


def test_e3_end_is_a_monday_so_it_stands(cal: HolidayCalendar) -> None:
    """E3: "2026-03-16 above is a Monday, so it stands." """
    assert date(2026, 3, 16).weekday() == 0
    assert not cal.is_rest_day(date(2026, 3, 16))
    assert (
        limitation_end(date(2023, 3, 15), [], cal).end
        == limitation_end(date(2023, 3, 15), [], cal).unmoved
    )


def test_e3_delivered_demand_restarts_and_moves_past_saturday(cal: HolidayCalendar) -> None:
    """E3 (L5, art. 203): "A demand … signed for on 2025-06-10: limitation restarts; 2028-06-10 is
    a Saturday, so the new end is 2028-06-12 (provisional until the 2028 holiday calendar is
    published)." Warnings count from the unmoved date (L4)."""
    assert counts_as_delivered(R.SIGNED_BY_OWNER)
    result = limitation_end(date(2023, 3, 15), [date(2025, 6, 10)], cal)
    assert result == LimitationEnd(
        end=date(2028, 6, 12), unmoved=date(2028, 6, 10), provisional=True
    )


def test_e3_letter_returned_addressee_unknown_does_not_interrupt(cal: HolidayCalendar) -> None:
    """E3: "The same letter returned 'addressee unknown' from an address the owner never gave:
    no interruption." So the caller passes no interruption date and the end stays."""
    assert not counts_as_delivered(R.RETURNED_ADDRESS_UNKNOWN)
    assert limitation_end(date(2023, 3, 15), [], cal).end == date(2026, 3, 16)


def test_e3_notice_board_posting_does_not_interrupt() -> None:
    """E3: "A notice-board posting on 2025-06-10: no interruption." (L5: not a demand)"""
    assert not counts_as_delivered(R.POSTED_NOTICE)
    assert not counts_as_delivered(R.GROUP_CHAT)


def test_e3_leap_day_default_start(cal: HolidayCalendar) -> None:
    """E3: "A charge due 2024-02-28 (default from 2024-02-29): no 29 February in 2027, so month
    end 2027-02-28, a Sunday: limitation ends 2027-03-01." """
    result = limitation_end(date(2024, 2, 28), [], cal)
    assert (result.unmoved, result.end) == (date(2027, 2, 28), date(2027, 3, 1))
    assert result.provisional  # 2027 not yet published


def test_end_moved_past_statutory_holiday(cal: HolidayCalendar) -> None:
    """L4 art. 203: due 2023-09-30 → unmoved 2026-10-01 (National Day) → first working day 10-08."""
    result = limitation_end(date(2023, 9, 30), [], cal)
    assert (result.unmoved, result.end, result.provisional) == (
        date(2026, 10, 1),
        date(2026, 10, 8),
        False,
    )


def test_interruption_rules(cal: HolidayCalendar) -> None:
    due = date(2023, 3, 15)
    # on or before the due date: ignored
    assert limitation_end(due, [date(2023, 3, 15)], cal).end == date(2026, 3, 16)
    # on the (moved) end day itself: still counts
    assert limitation_end(due, [date(2026, 3, 16)], cal).unmoved == date(2029, 3, 16)
    # after the period has run out: does not revive it
    assert limitation_end(due, [date(2026, 3, 17)], cal).end == date(2026, 3, 16)
    # chained, in date order whatever the input order
    chained = limitation_end(due, [date(2028, 1, 5), date(2025, 6, 10)], cal)
    assert chained.unmoved == date(2031, 1, 5)


def test_interruption_counts_against_the_moved_end(cal: HolidayCalendar) -> None:
    """The period of a charge due 2024-02-28 runs to Monday 2027-03-01 (moved): an acknowledgement
    that day still interrupts."""
    assert limitation_end(date(2024, 2, 28), [date(2027, 3, 1)], cal).unmoved == date(2030, 3, 1)


def test_is_time_barred_after_the_end_day() -> None:
    end = LimitationEnd(end=date(2026, 3, 16), unmoved=date(2026, 3, 16), provisional=False)
    assert not is_time_barred(end, date(2026, 3, 16))
    assert is_time_barred(end, date(2026, 3, 17))


# L5 delivery table: (result, owner gave the contact data, counts as delivered?)
DELIVERY_TABLE = [
    (R.SIGNED_BY_OWNER, True, True),
    (R.SIGNED_BY_HOUSEHOLD_ADULT, True, True),
    (R.SIGNED_BY_AUTHORISED, True, True),
    (R.REFUSED_AT_GIVEN_ADDRESS, True, True),
    (R.RETURNED_FROM_GIVEN_ADDRESS, True, True),
    (R.SIGNED_BY_LOCKER_OR_RECEPTION, True, False),
    (R.SIGNED_BY_COMPANY_STAFF, True, False),
    (R.RETURNED_ADDRESS_UNKNOWN, True, False),
    (R.SMS_RECEIPT, True, True),
    (R.SMS_RECEIPT, False, False),
    (R.EMAIL_ACCEPTED, True, True),
    (R.EMAIL_ACCEPTED, False, False),
    (R.SMS_NO_RECEIPT, True, False),
    (R.EMAIL_NO_RECEIPT, True, False),
    (R.POSTED_NOTICE, True, False),
    (R.GROUP_CHAT, True, False),
]


@pytest.mark.parametrize(("result", "gave_contact", "delivered"), DELIVERY_TABLE)
def test_l5_delivery_table(result: DeliveryResult, gave_contact: bool, delivered: bool) -> None:
    """L5: each row of the delivery table."""
    assert counts_as_delivered(result, owner_gave_contact=gave_contact) is delivered


def test_delivery_table_covers_every_result() -> None:
    assert {row[0] for row in DELIVERY_TABLE} == set(DeliveryResult)
    assert len(DeliveryResult) == 14
