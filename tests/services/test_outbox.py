"""The outbox: bundling (L17), claim-then-send exactly once, unknown outcomes, retries, fallback,
the stop list and SMS receipts (L5). Gateways here are tiny in-test fakes."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.channels.base import OutgoingMessage, Receipt, SendOutcome, SendResult
from arrears.config import Settings
from arrears.domain.escalation import Action, Channel
from arrears.domain.limitation import DeliveryResult
from arrears.persistence.enums import ActionStatus, MessageStatus
from arrears.persistence.models import (
    AuditEntry,
    Company,
    Delivery,
    EscalationAction,
    MessageAction,
    OutboundMessage,
    Owner,
    Unit,
)
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation import outbox
from arrears.services.escalation.gateways import Gateways, build_gateways
from arrears.services.escalation.outbox import (
    dispatch_pending,
    poll_receipts,
    queue_approved,
    recover_stale,
    resolve_unknown,
)
from arrears.services.escalation.stoplist import add_stop, lift_stop, stopped_channels
from arrears.services.runtime import Runtime
from tests.factories import ACTOR, make_community, make_company, make_owner, make_ownership, make_unit
from tests.support.sms_gateway import KEY as SMS_KEY
from tests.support.sms_gateway import FakeSmsGateway, sms_gateway  # noqa: F401 - fixture
from tests.support.smtp_server import LoopbackSmtpServer, smtp_server  # noqa: F401 - fixture

# 10:00 in Shanghai: inside the allowed hours for SMS.
NOW = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)
ALL = (Channel.EMAIL, Channel.SMS, Channel.LETTER)


# ----------------------------------------------------------------------------- fakes and data


class FakeGateway:
    """Records every send; answers with the configured outcomes in turn (then ACCEPTED)."""

    def __init__(self, channel: Channel, outcomes: Sequence[SendOutcome | Exception] = (),
                 receipts: Sequence[Receipt] = (), pause: threading.Event | None = None) -> None:
        self.channel = channel
        self.outcomes = list(outcomes)
        self.receipts = list(receipts)
        self.calls: list[OutgoingMessage] = []
        self.pause = pause
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> SendResult:
        with self._lock:
            self.calls.append(message)
            outcome = self.outcomes.pop(0) if self.outcomes else SendOutcome.ACCEPTED
        if self.pause is not None:
            self.pause.wait(0.05)
        if isinstance(outcome, Exception):
            raise outcome
        return SendResult(outcome, gateway_ref=f"ref-{message.idempotency_key}", detail=f"fake {outcome}")

    def poll_receipts(self, since: dt.datetime) -> list[Receipt]:
        return list(self.receipts)

    @property
    def keys(self) -> list[str]:
        return [m.idempotency_key for m in self.calls]


@dataclass
class World:
    company_id: int
    owner_id: int
    unit_ids: list[int]
    action_ids: list[int]


def make_world(session: Session, *, units: int = 1, email: str | None = "owner@example.cn",
               phone: str | None = "13800138000", channels: Sequence[Channel] = ALL,
               action: Action = Action.REMINDER, template: str = "reminder", company: Company | None = None,
               owner: Owner | None = None, **company_kw: Any) -> World:
    """An owner with `units` units, each with one APPROVED action."""
    company = company or make_company(session, **company_kw)
    community = make_community(session, company)
    owner = owner or make_owner(session, company.id, email=email, phone=phone)
    unit_ids, action_ids = [], []
    for _ in range(units):
        unit = make_unit(session, community)
        ownership = make_ownership(session, unit, [owner])
        record = EscalationAction(
            key=f"case:{unit.id}:{template}:1", company_id=company.id, ownership_id=ownership.id, unit_id=unit.id,
            owner_id=owner.id, stage_code=template, action=action, prepared_on=NOW.date(),
            status=ActionStatus.APPROVED, reason="30 days overdue", arrears=Decimal("400.00"),
            channels=[c.value for c in channels], template=template, deadline_days=15,
            charges=[{"id": 1, "period": "2026-09", "due": "2026-09-15", "outstanding": "400.00"}])
        session.add(record)
        session.flush()
        unit_ids.append(unit.id)
        action_ids.append(record.id)
    return World(company.id, owner.id, unit_ids, action_ids)


def messages(session: Session, owner_id: int | None = None) -> list[OutboundMessage]:
    statement = select(OutboundMessage).order_by(OutboundMessage.id)
    if owner_id is not None:
        statement = statement.where(OutboundMessage.owner_id == owner_id)
    return list(session.scalars(statement))


def linked(session: Session, message_id: int) -> list[int]:
    return sorted(session.scalars(select(MessageAction.action_id).where(MessageAction.message_id == message_id)))


def queued_world(runtime: Runtime, **kw: Any) -> World:
    with runtime.transaction() as session:
        world = make_world(session, **kw)
        queue_approved(session, ACTOR, world.company_id, now=NOW)
    return world


def load(runtime: Runtime, owner_id: int | None = None) -> list[OutboundMessage]:
    with runtime.transaction() as session:
        return messages(session, owner_id)


# ----------------------------------------------------------------------------- queueing


def test_l17_one_owner_two_units_gets_one_message(session: Session) -> None:
    world = make_world(session, units=2)
    assert queue_approved(session, ACTOR, world.company_id, now=NOW) == 1
    [message] = messages(session)
    assert message.channel == Channel.EMAIL and message.address == "owner@example.cn"
    assert message.status == MessageStatus.QUEUED and message.language == "zh_CN"
    assert linked(session, message.id) == world.action_ids
    labels = [f"{session.get(Unit, u).code}" for u in world.unit_ids]  # type: ignore[union-attr]
    assert all(label in message.body for label in labels)
    assert {a.status for a in session.scalars(select(EscalationAction))} == {ActionStatus.DISPATCHED}
    assert queue_approved(session, ACTOR, world.company_id, now=NOW) == 0  # nothing twice


def test_two_owners_get_two_messages_and_first_usable_channel(session: Session) -> None:
    first = make_world(session, email=None)
    second = make_world(session, email=None, phone=None)
    assert queue_approved(session, ACTOR, first.company_id, now=NOW) == 1
    assert queue_approved(session, ACTOR, second.company_id, now=NOW) == 1
    sms, letter = messages(session)
    assert sms.channel == Channel.SMS and sms.address == "13800138000"
    unit = session.get(Unit, second.unit_ids[0])
    assert unit is not None and letter.channel == Channel.LETTER and unit.code in letter.address


def test_actions_without_channels_are_done_without_a_message(session: Session) -> None:
    world = make_world(session, channels=(), action=Action.NOTICE_CANDIDATE, template="notice")
    assert queue_approved(session, ACTOR, world.company_id, now=NOW) == 0
    assert messages(session) == []
    assert session.get(EscalationAction, world.action_ids[0]).status == ActionStatus.DONE  # type: ignore[union-attr]


def test_l17_owner_stopped_everywhere_stays_approved_with_a_visible_reason(session: Session) -> None:
    world = make_world(session)
    stop = add_stop(session, ACTOR, world.company_id, world.owner_id, reason="asked in writing")
    assert queue_approved(session, ACTOR, world.company_id, now=NOW) == 0
    action = session.get(EscalationAction, world.action_ids[0])
    assert action is not None and action.status == ActionStatus.APPROVED
    assert action.reason.startswith("30 days overdue\n[outbox] not sent") and "stop list" in action.reason
    audits = session.scalar(select(AuditEntry.id).where(AuditEntry.action == "action.not_sent"))
    queue_approved(session, ACTOR, world.company_id, now=NOW)
    assert action.reason.count("[outbox]") == 1
    assert len(list(session.scalars(select(AuditEntry).where(AuditEntry.action == "action.not_sent")))) == 1
    assert audits is not None
    lift_stop(session, ACTOR, world.company_id, stop.id, today=NOW.date())
    assert queue_approved(session, ACTOR, world.company_id, now=NOW) == 1
    assert action.status == ActionStatus.DISPATCHED and action.reason == "30 days overdue"


def test_stop_on_one_channel_skips_it(session: Session) -> None:
    world = make_world(session)
    add_stop(session, ACTOR, world.company_id, world.owner_id, channel=Channel.EMAIL, reason="bounces")
    queue_approved(session, ACTOR, world.company_id, now=NOW)
    assert [m.channel for m in messages(session)] == [Channel.SMS]


def test_stop_list_rules(session: Session) -> None:
    world = make_world(session)
    other = make_world(session)
    with pytest.raises(ServiceError):
        add_stop(session, ACTOR, world.company_id, world.owner_id, reason="  ")
    with pytest.raises(NotFound):
        add_stop(session, ACTOR, world.company_id, other.owner_id, reason="x")
    first = add_stop(session, ACTOR, world.company_id, world.owner_id, channel=Channel.SMS, reason="x")
    assert add_stop(session, ACTOR, world.company_id, world.owner_id, channel=Channel.SMS, reason="x") is first
    add_stop(session, ACTOR, world.company_id, world.owner_id, reason="all")
    assert stopped_channels(session, [world.owner_id, other.owner_id]) == {world.owner_id: {Channel.SMS, None}}
    lift_stop(session, ACTOR, world.company_id, first.id, today=NOW.date())
    assert stopped_channels(session, [world.owner_id]) == {world.owner_id: {None}}
    with pytest.raises(ServiceError):
        lift_stop(session, ACTOR, world.company_id, first.id, today=NOW.date())


# ----------------------------------------------------------------------------- crash recovery, people


def _unknown_message(session: Session) -> tuple[World, OutboundMessage]:
    world = make_world(session)
    queue_approved(session, ACTOR, world.company_id, now=NOW)
    [message] = messages(session)
    message.status, message.claimed_at, message.claimed_by, message.attempts = (
        MessageStatus.SENDING, NOW, "dead-worker", 1)
    session.flush()
    assert recover_stale(session, now=NOW + dt.timedelta(minutes=10)) == 0  # still young
    assert recover_stale(session, now=NOW + dt.timedelta(minutes=16)) == 1
    assert message.status == MessageStatus.UNKNOWN
    return world, message


def test_resolve_unknown_as_sent_never_resends(session: Session) -> None:
    world, message = _unknown_message(session)
    with pytest.raises(ServiceError):
        resolve_unknown(session, ACTOR, world.company_id, message.id, was_sent=True, note=" ", now=NOW)
    resolve_unknown(session, ACTOR, world.company_id, message.id, was_sent=True, note="owner confirmed", now=NOW)
    assert message.status == MessageStatus.SENT and message.sent_at == NOW and message.resolved_by == ACTOR.name
    assert len(messages(session)) == 1
    with pytest.raises(ServiceError):
        resolve_unknown(session, ACTOR, world.company_id, message.id, was_sent=True, note="again", now=NOW)


def test_resolve_unknown_as_not_sent_falls_back_with_a_new_message(session: Session) -> None:
    world, message = _unknown_message(session)
    resolve_unknown(session, ACTOR, world.company_id, message.id, was_sent=False, note="not in SMTP log", now=NOW)
    old, new = messages(session)
    assert old.status == MessageStatus.FAILED
    assert new.id != old.id and new.fallback_of_id == old.id and new.channel == Channel.SMS
    assert linked(session, new.id) == world.action_ids


def test_resolve_unknown_requeue_uses_a_new_id_on_the_same_channel(session: Session) -> None:
    world, message = _unknown_message(session)
    resolve_unknown(session, ACTOR, world.company_id, message.id, was_sent=False, note="server down",
                    now=NOW, requeue=True)
    old, new = messages(session)
    assert (new.channel, new.status, new.fallback_of_id) == (Channel.EMAIL, MessageStatus.QUEUED, old.id)


def test_resolve_unknown_is_scoped_to_the_company(session: Session) -> None:
    _, message = _unknown_message(session)
    other = make_company(session)
    with pytest.raises(NotFound):
        resolve_unknown(session, ACTOR, other.id, message.id, was_sent=True, note="x", now=NOW)


# ----------------------------------------------------------------------------- dispatch


def test_email_accepted_is_sent_once_with_its_idempotency_key_and_delivered(runtime: Runtime) -> None:
    world = queued_world(runtime)
    email = FakeGateway(Channel.EMAIL)
    result = dispatch_pending(runtime, Gateways.of(email), now=NOW, worker="w1")
    assert (result.sent, result.failed, result.unknown) == (1, 0, 0)
    [message] = load(runtime)
    assert email.keys == [f"arrears-msg-{message.id}"]
    assert message.status == MessageStatus.DELIVERED and message.sent_at == NOW
    assert message.gateway_ref == f"ref-arrears-msg-{message.id}" and message.attempts == 1
    with runtime.transaction() as session:
        [delivery] = session.scalars(select(Delivery))
        assert (delivery.message_id, delivery.result, delivery.source) == (
            message.id, DeliveryResult.EMAIL_ACCEPTED, "smtp")
    # dispatch again: nothing is sent twice
    assert dispatch_pending(runtime, Gateways.of(email), now=NOW + dt.timedelta(hours=1), worker="w1").sent == 0
    assert len(email.calls) == 1 and world.owner_id == message.owner_id


def test_letters_are_not_sent_by_dispatch(runtime: Runtime) -> None:
    queued_world(runtime, email=None, phone=None)
    email, sms = FakeGateway(Channel.EMAIL), FakeGateway(Channel.SMS)
    assert dispatch_pending(runtime, Gateways.of(email, sms), now=NOW, worker="w1") == outbox.DispatchResult()
    [letter] = load(runtime)
    assert (letter.channel, letter.status) == (Channel.LETTER, MessageStatus.QUEUED)


def test_chunks_send_every_message_exactly_once(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    with runtime.transaction() as session:
        company = make_company(session)
        for _ in range(5):
            make_world(session, company=company, email=None)
        queue_approved(session, ACTOR, company.id, now=NOW)
    sms = FakeGateway(Channel.SMS)
    claim, claimed = outbox._claim, []

    def spy(session: Session, **kw: Any) -> list[int]:
        claimed.append(claim(session, **kw))
        return claimed[-1]

    monkeypatch.setattr(outbox, "_claim", spy)
    result = dispatch_pending(runtime, Gateways.of(sms), now=NOW, worker="w1", chunk=2)
    assert result.sent == 5
    assert [len(ids) for ids in claimed] == [2, 2, 1, 0]
    assert sorted(sms.keys) == sorted(f"arrears-msg-{m.id}" for m in load(runtime))
    assert dispatch_pending(runtime, Gateways.of(sms), now=NOW, worker="w2").sent == 0
    assert len(sms.calls) == 5


def test_two_dispatchers_at_once_send_each_message_exactly_once(runtime: Runtime, database_url: str) -> None:
    """Concurrent claims: PostgreSQL skips locked rows; SQLite takes turns at the write lock."""
    with runtime.transaction() as session:
        company = make_company(session)
        for _ in range(12):
            make_world(session, company=company, email=None)
        queue_approved(session, ACTOR, company.id, now=NOW)
    sms = FakeGateway(Channel.SMS, pause=threading.Event())
    start = threading.Barrier(2)
    results: dict[str, outbox.DispatchResult] = {}
    errors: list[BaseException] = []

    def run(worker: str) -> None:
        try:
            start.wait()
            results[worker] = dispatch_pending(runtime, Gateways.of(sms), now=NOW, worker=worker, chunk=3)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(sms.keys) == sorted(set(sms.keys)) and len(sms.keys) == 12
    assert sum(r.sent for r in results.values()) == 12
    assert all(r.sent > 0 for r in results.values()) and len(results) == 2  # both really took part
    assert {m.status for m in load(runtime)} == {MessageStatus.SENT}


def test_send_interrupted_between_gateway_and_commit_ends_unknown_and_is_not_resent(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    queued_world(runtime, units=1)
    queued_world(runtime, units=1)
    email = FakeGateway(Channel.EMAIL)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process killed after the gateway accepted")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_record", crash)
        with pytest.raises(RuntimeError):
            dispatch_pending(runtime, Gateways.of(email), now=NOW, worker="w1", chunk=5)
    first, second = load(runtime)
    assert first.status == MessageStatus.SENDING and len(email.calls) == 1
    assert (second.status, second.attempts, second.claimed_by) == (MessageStatus.QUEUED, 0, None)  # released
    # another dispatch never takes a message in `sending`
    assert dispatch_pending(runtime, Gateways.of(email), now=NOW, worker="w2").sent == 1
    with runtime.transaction() as session:
        assert recover_stale(session, now=NOW + dt.timedelta(minutes=20)) == 1
    assert dispatch_pending(runtime, Gateways.of(email), now=NOW + dt.timedelta(hours=1), worker="w2").sent == 0
    first, second = load(runtime)
    assert first.status == MessageStatus.UNKNOWN and "may have been sent" in (first.last_error or "")
    assert email.keys.count(f"arrears-msg-{first.id}") == 1 and len(email.calls) == 2


def test_gateway_exception_is_unknown_and_never_retried(runtime: Runtime) -> None:
    queued_world(runtime)
    email = FakeGateway(Channel.EMAIL, outcomes=[TimeoutError("read timed out")])
    result = dispatch_pending(runtime, Gateways.of(email), now=NOW, worker="w1")
    assert result.unknown == 1
    [message] = load(runtime)
    assert message.status == MessageStatus.UNKNOWN and "TimeoutError" in (message.last_error or "")
    assert dispatch_pending(runtime, Gateways.of(email), now=NOW + dt.timedelta(days=1), worker="w1").sent == 0
    assert len(email.calls) == 1


def test_retry_backs_off_then_succeeds(runtime: Runtime) -> None:
    queued_world(runtime)
    email = FakeGateway(Channel.EMAIL, outcomes=[SendOutcome.RETRY])
    assert dispatch_pending(runtime, Gateways.of(email), now=NOW, worker="w1").retried == 1
    [message] = load(runtime)
    assert (message.status, message.attempts, message.not_before) == (
        MessageStatus.QUEUED, 1, NOW + outbox.BACKOFF[0])
    assert dispatch_pending(runtime, Gateways.of(email), now=NOW + dt.timedelta(seconds=30), worker="w1").sent == 0
    assert dispatch_pending(runtime, Gateways.of(email), now=NOW + dt.timedelta(minutes=2), worker="w1").sent == 1
    [message] = load(runtime)
    assert message.status == MessageStatus.DELIVERED and message.attempts == 2
    assert email.keys == [f"arrears-msg-{message.id}"] * 2  # same key: the gateway can deduplicate


def test_retries_run_out_then_the_next_channel(runtime: Runtime) -> None:
    queued_world(runtime)
    email = FakeGateway(Channel.EMAIL, outcomes=[SendOutcome.RETRY] * outbox.MAX_ATTEMPTS)
    sms = FakeGateway(Channel.SMS)
    now = NOW
    for _ in range(outbox.MAX_ATTEMPTS):
        dispatch_pending(runtime, Gateways.of(email, sms), now=now, worker="w1")
        now += dt.timedelta(hours=2)
    first, second = load(runtime)
    assert first.status == MessageStatus.FAILED and first.attempts == outbox.MAX_ATTEMPTS
    assert (second.channel, second.status, second.fallback_of_id) == (Channel.SMS, MessageStatus.SENT, first.id)


def test_rejected_falls_back_to_the_next_channel_with_the_same_actions(runtime: Runtime) -> None:
    world = queued_world(runtime, units=2)
    email = FakeGateway(Channel.EMAIL, outcomes=[SendOutcome.REJECTED])
    sms = FakeGateway(Channel.SMS)
    result = dispatch_pending(runtime, Gateways.of(email, sms), now=NOW, worker="w1")
    assert (result.failed, result.sent) == (1, 1)
    first, second = load(runtime)
    assert first.status == MessageStatus.FAILED and first.last_error == "fake rejected"
    assert (second.channel, second.status, second.fallback_of_id) == (Channel.SMS, MessageStatus.SENT, first.id)
    assert "\n" not in second.body  # composed again for SMS
    with runtime.transaction() as session:
        assert linked(session, second.id) == world.action_ids


def test_unconfigured_channel_falls_back_and_the_last_failure_leaves_a_note(runtime: Runtime) -> None:
    world = queued_world(runtime, channels=(Channel.EMAIL, Channel.SMS))
    result = dispatch_pending(runtime, Gateways.of(), now=NOW, worker="w1")
    assert result.failed == 2
    first, second = load(runtime)
    assert (first.status, second.status, second.channel) == (MessageStatus.FAILED, MessageStatus.FAILED, Channel.SMS)
    assert "no email gateway configured" in (first.last_error or "")
    with runtime.transaction() as session:
        action = session.get(EscalationAction, world.action_ids[0])
        assert action is not None and "no channel is left" in action.reason


def test_l17_stop_added_after_queueing_cancels_at_send_time_and_falls_back(runtime: Runtime) -> None:
    world = queued_world(runtime)
    with runtime.transaction() as session:
        add_stop(session, ACTOR, world.company_id, world.owner_id, channel=Channel.EMAIL, reason="asked")
    email, sms = FakeGateway(Channel.EMAIL), FakeGateway(Channel.SMS)
    result = dispatch_pending(runtime, Gateways.of(email, sms), now=NOW, worker="w1")
    assert (result.cancelled, result.sent) == (1, 1)
    first, second = load(runtime)
    assert first.status == MessageStatus.CANCELLED and email.calls == []
    assert second.channel == Channel.SMS and len(sms.calls) == 1


def test_sms_receipts_deliver_or_fall_back(runtime: Runtime) -> None:
    delivered = queued_world(runtime, email=None)
    lost = queued_world(runtime, email=None)
    sms = FakeGateway(Channel.SMS)
    dispatch_pending(runtime, Gateways.of(sms), now=NOW, worker="w1")
    one, two = load(runtime)
    at = NOW + dt.timedelta(minutes=3)
    sms.receipts = [Receipt(f"ref-arrears-msg-{one.id}", f"arrears-msg-{one.id}", True, at),
                    Receipt("zzz", f"arrears-msg-{two.id}", False, at, detail="phone off"),
                    Receipt("unknown-ref", "other-system-1", True, at)]
    assert poll_receipts(runtime, Gateways.of(sms), now=at) == 2
    assert poll_receipts(runtime, Gateways.of(sms), now=at) == 0  # polling again changes nothing
    one, two, letter = load(runtime)
    assert (one.status, one.delivered_at) == (MessageStatus.DELIVERED, at)
    assert two.status == MessageStatus.FAILED
    assert (letter.channel, letter.fallback_of_id, letter.owner_id) == (Channel.LETTER, two.id, lost.owner_id)
    with runtime.transaction() as session:
        got = [(d.message_id, d.result, d.source, d.note)
               for d in session.scalars(select(Delivery).order_by(Delivery.id))]
    assert got == [(one.id, DeliveryResult.SMS_RECEIPT, "gateway", None),
                   (two.id, DeliveryResult.SMS_NO_RECEIPT, "gateway", "undelivered: phone off")]
    assert delivered.owner_id == one.owner_id


def test_build_gateways_leaves_unconfigured_channels_empty() -> None:
    gateways = build_gateways(Settings(env="testing"))
    assert all(gateways.get(channel) is None for channel in Channel)
    configured = build_gateways(Settings(env="testing", smtp_host="127.0.0.1", sms_url="http://127.0.0.1:1",
                                         sms_key="k"))
    assert configured.get(Channel.EMAIL).channel == Channel.EMAIL  # type: ignore[union-attr]
    assert configured.get(Channel.SMS).channel == Channel.SMS  # type: ignore[union-attr]
    assert configured.get(Channel.LETTER) is None


# ----------------------------------------------------------------------------- with the real channels


def _real_gateways(smtp: LoopbackSmtpServer, sms: FakeSmsGateway) -> Gateways:
    return build_gateways(Settings(env="testing", smtp_host=smtp.host, smtp_port=smtp.port,
                                   mail_from="wuye@example.cn", sms_url=sms.url, sms_key=SMS_KEY))


def test_email_arrives_at_the_loopback_smtp_server(runtime: Runtime, smtp_server: LoopbackSmtpServer,  # noqa: F811
                                                   sms_gateway: FakeSmsGateway) -> None:  # noqa: F811
    world = queued_world(runtime, units=2)
    result = dispatch_pending(runtime, _real_gateways(smtp_server, sms_gateway), now=NOW, worker="w1")
    assert result.sent == 1
    [message] = load(runtime)
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["owner@example.cn"] and mail.message["Subject"] == message.subject
    text = mail.message.get_content()
    with runtime.transaction() as session:
        assert all(session.get(Unit, u).code in text for u in world.unit_ids)  # type: ignore[union-attr]
    assert message.status == MessageStatus.DELIVERED and sms_gateway.sends == []


def test_refused_email_falls_back_to_sms_and_its_receipt_delivers(runtime: Runtime,
                                                                  smtp_server: LoopbackSmtpServer,  # noqa: F811
                                                                  sms_gateway: FakeSmsGateway) -> None:  # noqa: F811
    queued_world(runtime)
    smtp_server.refuse("owner@example.cn")
    gateways = _real_gateways(smtp_server, sms_gateway)
    result = dispatch_pending(runtime, gateways, now=NOW, worker="w1")
    assert (result.failed, result.sent) == (1, 1)
    email, text = load(runtime)
    assert email.status == MessageStatus.FAILED and text.fallback_of_id == email.id
    [sent] = sms_gateway.sends
    assert (sent["id"], sent["phone"], text.gateway_ref) == (f"arrears-msg-{text.id}", "13800138000", sent["ref"])
    sms_gateway.receipt(f"arrears-msg-{text.id}", at=NOW + dt.timedelta(minutes=3))
    assert poll_receipts(runtime, gateways, now=NOW + dt.timedelta(minutes=5)) == 1
    _, text = load(runtime)
    assert text.status == MessageStatus.DELIVERED
