"""Contact caps and quiet hours enforced by the outbox at send time (L17)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from arrears.channels.base import SendOutcome
from arrears.domain.escalation import Channel
from arrears.persistence.enums import MessageStatus
from arrears.persistence.models import Company, OutboundMessage, Owner
from arrears.services.escalation.gateways import Gateways
from arrears.services.escalation.outbox import dispatch_pending, queue_approved
from arrears.services.runtime import Runtime
from tests.factories import ACTOR
from tests.services.test_outbox import NOW, FakeGateway, load, make_world

DAY = dt.timedelta(days=1)


def _queue_more(runtime: Runtime, owner_id: int, *, at: dt.datetime, **kw: Any) -> None:
    """A new approved action for the same owner (a new unit), queued at `at`."""
    with runtime.transaction() as session:
        owner = session.get(Owner, owner_id)
        assert owner is not None
        company = session.get(Company, owner.company_id)
        make_world(session, company=company, owner=owner, **kw)
        assert queue_approved(session, ACTOR, owner.company_id, now=at) == 1


def _first(runtime: Runtime, **kw: Any) -> int:
    with runtime.transaction() as session:
        world = make_world(session, **kw)
        queue_approved(session, ACTOR, world.company_id, now=NOW)
    return world.owner_id


def test_l17_third_message_in_a_week_is_deferred_until_the_first_leaves_the_window(runtime: Runtime) -> None:
    owner_id = _first(runtime)
    email = FakeGateway(Channel.EMAIL)
    gateways = Gateways.of(email)
    assert dispatch_pending(runtime, gateways, now=NOW, worker="w").sent == 1
    _queue_more(runtime, owner_id, at=NOW + 2 * DAY)
    assert dispatch_pending(runtime, gateways, now=NOW + 2 * DAY, worker="w").sent == 1
    _queue_more(runtime, owner_id, at=NOW + 4 * DAY)
    result = dispatch_pending(runtime, gateways, now=NOW + 4 * DAY, worker="w")
    assert (result.sent, result.deferred) == (0, 1)
    third = load(runtime)[-1]
    assert (third.status, third.not_before, third.attempts) == (MessageStatus.QUEUED, NOW + 7 * DAY, 0)
    assert "L17" in (third.last_error or "")
    assert dispatch_pending(runtime, gateways, now=NOW + 7 * DAY - dt.timedelta(minutes=1), worker="w").sent == 0
    assert dispatch_pending(runtime, gateways, now=NOW + 7 * DAY, worker="w").sent == 1
    assert len(email.calls) == 3 and load(runtime)[-1].attempts == 1


def test_l17_caps_count_every_channel_and_unknown_outcomes(runtime: Runtime) -> None:
    """A letter already sent and an SMS whose outcome is unknown both count for a new e-mail."""
    owner_id = _first(runtime, email=None)  # → SMS
    sms = FakeGateway(Channel.SMS, outcomes=[RuntimeError("connection reset")])
    assert dispatch_pending(runtime, Gateways.of(sms), now=NOW, worker="w").unknown == 1
    with runtime.transaction() as session:
        owner = session.get(Owner, owner_id)
        assert owner is not None
        session.add(OutboundMessage(company_id=owner.company_id, owner_id=owner_id, channel=Channel.LETTER,
                                    address="x", body="letter", status=MessageStatus.SENT, sent_at=NOW + DAY))
        owner.email = "later@example.cn"
    _queue_more(runtime, owner_id, at=NOW + 2 * DAY)
    email = FakeGateway(Channel.EMAIL)
    result = dispatch_pending(runtime, Gateways.of(email, sms), now=NOW + 2 * DAY, worker="w")
    assert (result.deferred, email.calls) == (1, [])
    with runtime.transaction() as session:
        deferred = session.scalar(select(OutboundMessage).where(OutboundMessage.channel == Channel.EMAIL))
        assert deferred is not None and deferred.not_before == NOW + 7 * DAY


def test_l17_fallback_attempt_counts_towards_the_cap(runtime: Runtime) -> None:
    owner_id = _first(runtime)
    email = FakeGateway(Channel.EMAIL, outcomes=[SendOutcome.REJECTED])
    sms = FakeGateway(Channel.SMS)
    gateways = Gateways.of(email, sms)
    assert dispatch_pending(runtime, gateways, now=NOW, worker="w").sent == 1  # the SMS fallback
    _queue_more(runtime, owner_id, at=NOW + DAY)
    assert dispatch_pending(runtime, gateways, now=NOW + DAY, worker="w").sent == 1
    _queue_more(runtime, owner_id, at=NOW + 2 * DAY)
    assert dispatch_pending(runtime, gateways, now=NOW + 2 * DAY, worker="w").deferred == 1


def test_l17_sms_at_21_shanghai_waits_until_08_next_day_but_email_goes(runtime: Runtime) -> None:
    evening = dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.timezone.utc)  # 21:00 Asia/Shanghai
    _first(runtime, email=None)
    _first(runtime)
    email, sms = FakeGateway(Channel.EMAIL), FakeGateway(Channel.SMS)
    result = dispatch_pending(runtime, Gateways.of(email, sms), now=evening, worker="w")
    assert (result.sent, result.deferred, sms.calls) == (1, 1, [])
    text = next(m for m in load(runtime) if m.channel == Channel.SMS)
    morning = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.timezone.utc)  # 08:00 Asia/Shanghai
    assert (text.status, text.not_before, text.attempts) == (MessageStatus.QUEUED, morning, 0)
    assert dispatch_pending(runtime, Gateways.of(email, sms), now=morning - dt.timedelta(minutes=1),
                            worker="w").sent == 0
    assert dispatch_pending(runtime, Gateways.of(email, sms), now=morning, worker="w").sent == 1
    assert len(sms.calls) == 1


def test_l17_company_settings_apply(runtime: Runtime) -> None:
    """The company's own time zone, quiet hours and caps decide."""
    at = dt.datetime(2026, 11, 30, 8, 30, tzinfo=dt.timezone.utc)  # 08:30 in London (GMT in winter)
    owner_id = _first(runtime, email=None, timezone="Europe/London", quiet_hours_end=9, quiet_hours_start=18,
                      contact_cap_7_days=1)
    sms = FakeGateway(Channel.SMS)
    assert dispatch_pending(runtime, Gateways.of(sms), now=at, worker="w").deferred == 1
    nine = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc)
    assert load(runtime)[0].not_before == nine
    assert dispatch_pending(runtime, Gateways.of(sms), now=nine, worker="w").sent == 1
    _queue_more(runtime, owner_id, at=nine + DAY)
    assert dispatch_pending(runtime, Gateways.of(sms), now=nine + DAY, worker="w").deferred == 1
    assert load(runtime)[-1].not_before == nine + 7 * DAY


def test_l17_other_owners_do_not_share_a_cap(runtime: Runtime) -> None:
    for _ in range(3):
        _first(runtime)
    assert dispatch_pending(runtime, Gateways.of(FakeGateway(Channel.EMAIL)), now=NOW, worker="w").sent == 3
