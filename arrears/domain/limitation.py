"""Limitation per charge (L4, Civil Code arts. 188, 195, 201–203) and delivery of demands (L5)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .calendar import HolidayCalendar, add_years

LIMITATION_YEARS = 3


@dataclass(frozen=True)
class LimitationEnd:
    """When a charge's limitation ends.

    ``end`` is the legal last day (moved past rest days, art. 203); ``unmoved`` is the
    corresponding calendar day, from which warnings count (the earlier one, L4);
    ``provisional`` means a year involved has no published holiday calendar yet.
    """

    end: date
    unmoved: date
    provisional: bool


def limitation_end(
    due_date: date, interruptions: Iterable[date], calendar: HolidayCalendar
) -> LimitationEnd:
    """Last day of the 3-year limitation of a charge due on ``due_date`` (L4, L5, E3).

    Convention (L4): the owner is in default from ``due_date + 1``; the period ends on the day
    corresponding to that day three years later (month end if none, art. 201), moved to the next
    working day if it is a rest day (art. 203). Each interruption (L5) restarts the period: it
    then ends on the day corresponding to the event date three years later (the event day itself
    not counted, art. 201). Interruptions are taken in date order; one counts only if it is after
    the due date and on or before the current (moved) end: an event after the period has run out
    does not revive it.
    """
    unmoved = add_years(due_date + timedelta(days=1), LIMITATION_YEARS)
    end = calendar.next_working_day_on_or_after(unmoved)
    for event in sorted(interruptions):
        if due_date < event <= end:
            unmoved = add_years(event, LIMITATION_YEARS)
            end = calendar.next_working_day_on_or_after(unmoved)
    provisional = calendar.is_provisional(unmoved) or calendar.is_provisional(end)
    return LimitationEnd(end=end, unmoved=unmoved, provisional=provisional)


def is_time_barred(end: LimitationEnd, on: date) -> bool:
    """True once the last day of the limitation has passed (the owner may then refuse, art. 192)."""
    return on > end.end


class DeliveryResult(StrEnum):
    """How a demand reached (or did not reach) the owner: the rows of L5's delivery table.

    "Given address" means an address the owner gave in writing (contract, service-address
    confirmation); the refusal/return rows exist only in that form on purpose.
    """

    SIGNED_BY_OWNER = "signed_by_owner"
    SIGNED_BY_HOUSEHOLD_ADULT = "signed_by_household_adult"
    SIGNED_BY_AUTHORISED = "signed_by_authorised"
    REFUSED_AT_GIVEN_ADDRESS = "refused_at_given_address"
    RETURNED_FROM_GIVEN_ADDRESS = "returned_from_given_address"
    SIGNED_BY_LOCKER_OR_RECEPTION = "signed_by_locker_or_reception"
    SIGNED_BY_COMPANY_STAFF = "signed_by_company_staff"
    RETURNED_ADDRESS_UNKNOWN = "returned_address_unknown"
    SMS_RECEIPT = "sms_receipt"
    EMAIL_ACCEPTED = "email_accepted"
    SMS_NO_RECEIPT = "sms_no_receipt"
    EMAIL_NO_RECEIPT = "email_no_receipt"
    POSTED_NOTICE = "posted_notice"
    GROUP_CHAT = "group_chat"


_DELIVERED = frozenset(
    {
        DeliveryResult.SIGNED_BY_OWNER,
        DeliveryResult.SIGNED_BY_HOUSEHOLD_ADULT,
        DeliveryResult.SIGNED_BY_AUTHORISED,
        DeliveryResult.REFUSED_AT_GIVEN_ADDRESS,
        DeliveryResult.RETURNED_FROM_GIVEN_ADDRESS,
    }
)
_DELIVERED_IF_OWNER_GAVE_CONTACT = frozenset(
    {DeliveryResult.SMS_RECEIPT, DeliveryResult.EMAIL_ACCEPTED}
)


def counts_as_delivered(result: DeliveryResult, owner_gave_contact: bool = True) -> bool:
    """Whether a demand with this result reached the owner and so interrupts limitation (L5).

    An SMS receipt or an accepted e-mail counts only for a number/address the owner gave
    (``owner_gave_contact``). Lockers, receptions, company staff, unknown addresses, messages
    without receipt, postings and group chats never count.
    """
    if result in _DELIVERED:
        return True
    return result in _DELIVERED_IF_OWNER_GAVE_CONTACT and owner_gave_contact
