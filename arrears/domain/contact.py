"""When an owner may be contacted next: contact caps and quiet hours (L17, Civil Code art. 1033).

Pure: the outbox asks `next_send_time` at send time with the times of every message already sent
to the owner (across all their units and all channels, fallback attempts included) and either
sends now or defers the message to the returned time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .escalation import Channel

WEEK = dt.timedelta(days=7)
MONTH = dt.timedelta(days=30)

#: Channels barred in quiet hours (L17: "no SMS or calls outside 08:00–20:00").
QUIET_CHANNELS = frozenset({Channel.SMS})


@dataclass(frozen=True)
class ContactRules:
    """A company's limits. Hours are local hours in `timezone`: `quiet_end` is the first hour
    allowed, `quiet_start` the first hour barred (defaults 08:00–20:00); equal hours mean no
    quiet hours. Caps count messages per owner in any 7 and any 30 days."""

    cap_7_days: int = 2
    cap_30_days: int = 6
    quiet_end: int = 8
    quiet_start: int = 20
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        if self.cap_7_days < 1 or self.cap_30_days < 1:
            raise ValueError("contact caps must allow at least one message")
        if not (0 <= self.quiet_end <= 23 and 0 <= self.quiet_start <= 23):
            raise ValueError("quiet hours are hours of the day (0-23)")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def in_quiet_hours(at: dt.datetime, rules: ContactRules) -> bool:
    """Whether `at` (tz-aware) falls outside the allowed local hours [quiet_end, quiet_start)."""
    if rules.quiet_end == rules.quiet_start:
        return False
    hour = at.astimezone(rules.zone).hour
    if rules.quiet_end < rules.quiet_start:
        return not rules.quiet_end <= hour < rules.quiet_start
    return rules.quiet_start <= hour < rules.quiet_end


def end_of_quiet_hours(at: dt.datetime, rules: ContactRules) -> dt.datetime:
    """The first allowed moment at or after `at` (UTC)."""
    if not in_quiet_hours(at, rules):
        return at
    local = at.astimezone(rules.zone)
    day = local.date()
    for offset in range(3):  # today's or tomorrow's opening hour
        opening = dt.datetime.combine(day + dt.timedelta(days=offset), dt.time(rules.quiet_end),
                                      tzinfo=rules.zone)
        if opening > local and not in_quiet_hours(opening, rules):
            return opening.astimezone(dt.timezone.utc)
    raise AssertionError("no opening hour within two days")  # pragma: no cover - hours are 0-23


def cap_release(now: dt.datetime, sent: Iterable[dt.datetime], rules: ContactRules) -> dt.datetime:
    """The earliest moment at or after `now` when one more message keeps every 7- and 30-day
    window within its cap. A window counts messages with ``t - span < sent_at <= t``."""
    recent = sorted((s for s in sent if s > now - MONTH), reverse=True)
    release = now
    for cap, span in ((rules.cap_7_days, WEEK), (rules.cap_30_days, MONTH)):
        if len(recent) >= cap:
            # the cap-th most recent message must have left the window
            release = max(release, recent[cap - 1] + span)
    return release


def next_send_time(now: dt.datetime, sent: Iterable[dt.datetime], rules: ContactRules,
                   channel: Channel) -> dt.datetime:
    """When a message on `channel` may go out: `now` if allowed, else the later of the cap
    release and (for SMS) the end of quiet hours. Moving later never adds earlier sends, so the
    quiet-hours shift cannot break a cap."""
    at = cap_release(now, sent, rules)
    if channel in QUIET_CHANNELS:
        at = end_of_quiet_hours(at, rules)
    return at
