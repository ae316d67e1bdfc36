"""Contact caps and quiet hours (L17): the time the outbox is told to send at is always allowed."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.contact import (
    ContactRules,
    cap_release,
    end_of_quiet_hours,
    in_quiet_hours,
    next_send_time,
)
from arrears.domain.escalation import Channel

UTC = dt.timezone.utc
SHANGHAI = ContactRules()


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_l17_sms_at_21_shanghai_waits_for_08_next_day() -> None:
    at = _utc(2026, 11, 30, 13, 0)  # 21:00 in Shanghai
    assert in_quiet_hours(at, SHANGHAI)
    assert next_send_time(at, [], SHANGHAI, Channel.SMS) == _utc(2026, 12, 1, 0, 0)  # 08:00


def test_l17_email_is_not_bound_by_quiet_hours() -> None:
    at = _utc(2026, 11, 30, 13, 0)
    assert next_send_time(at, [], SHANGHAI, Channel.EMAIL) == at


def test_l17_quiet_hours_bounds() -> None:
    assert not in_quiet_hours(_utc(2026, 11, 30, 0, 0), SHANGHAI)  # 08:00 first allowed hour
    assert not in_quiet_hours(_utc(2026, 11, 30, 11, 59), SHANGHAI)  # 19:59
    assert in_quiet_hours(_utc(2026, 11, 30, 12, 0), SHANGHAI)  # 20:00 first barred hour
    assert in_quiet_hours(_utc(2026, 11, 29, 23, 59), SHANGHAI)  # 07:59
    # 03:00 local → 08:00 the same day
    assert end_of_quiet_hours(_utc(2026, 11, 29, 19, 0), SHANGHAI) == _utc(2026, 11, 30, 0, 0)


def test_l17_third_message_in_a_week_waits_until_the_first_leaves_the_window() -> None:
    sent = [_utc(2026, 11, 1, 2), _utc(2026, 11, 3, 2)]
    now = _utc(2026, 11, 5, 2)
    assert cap_release(now, sent, SHANGHAI) == _utc(2026, 11, 8, 2)
    assert cap_release(_utc(2026, 11, 9, 2), sent, SHANGHAI) == _utc(2026, 11, 9, 2)


def test_l17_thirty_day_cap() -> None:
    rules = ContactRules(cap_7_days=7, cap_30_days=3)
    sent = [_utc(2026, 11, d, 2) for d in (1, 10, 20)]
    assert cap_release(_utc(2026, 11, 21, 2), sent, rules) == _utc(2026, 12, 1, 2)


def test_caps_below_one_are_refused() -> None:
    with pytest.raises(ValueError):
        ContactRules(cap_7_days=0)


ZONES = st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Asia/Kolkata"])
HOURS = st.integers(min_value=0, max_value=23)
MOMENTS = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 12, 31),
                       timezones=st.just(UTC))
RULES = st.builds(ContactRules, cap_7_days=st.integers(1, 4), cap_30_days=st.integers(1, 10),
                  quiet_end=HOURS, quiet_start=HOURS, timezone=ZONES)


@settings(max_examples=300, deadline=None)
@given(rules=RULES, now=MOMENTS, channel=st.sampled_from(list(Channel)))
def test_l17_returned_sms_time_is_never_in_quiet_hours(rules: ContactRules, now: dt.datetime,
                                                       channel: Channel) -> None:
    at = next_send_time(now, [], rules, channel)
    assert at >= now
    if channel == Channel.SMS:
        assert not in_quiet_hours(at, rules)
        assert at - now <= dt.timedelta(days=1)
    else:
        assert at == now


@settings(max_examples=200, deadline=None)
@given(rules=RULES, start=MOMENTS, channel=st.sampled_from([Channel.SMS, Channel.EMAIL]),
       gaps=st.lists(st.integers(min_value=0, max_value=60 * 24 * 12), min_size=1, max_size=25))
def test_l17_sending_at_returned_times_never_exceeds_caps(rules: ContactRules, start: dt.datetime,
                                                          channel: Channel, gaps: list[int]) -> None:
    """Simulate an outbox that wants to send after each gap and sends at the time it is told."""
    sent: list[dt.datetime] = []
    now = start
    for gap in gaps:
        now = max(now, sent[-1] if sent else now) + dt.timedelta(minutes=gap)
        at = next_send_time(now, sent, rules, channel)
        assert at >= now
        if channel == Channel.SMS:
            assert not in_quiet_hours(at, rules)
        sent.append(at)
    for end in sent:
        assert sum(end - dt.timedelta(days=7) < s <= end for s in sent) <= rules.cap_7_days
        assert sum(end - dt.timedelta(days=30) < s <= end for s in sent) <= rules.cap_30_days
