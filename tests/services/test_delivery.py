"""Delivery results with proof (issue 3 §6): what counts as delivered follows L5's table, and a
delivered demand sets its deadline (L2) and interrupts limitation for exactly its charges (L5)."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.escalation import Action, Channel, action_key
from arrears.domain.limitation import DeliveryResult as R
from arrears.domain.periods import DueRule
from arrears.persistence.enums import ActionStatus, InterruptionKind, MessageStatus
from arrears.persistence.models import (
    AuditEntry,
    Charge,
    CollectionCase,
    Company,
    Delivery,
    EscalationAction,
    Interruption,
    MessageAction,
    OutboundMessage,
    Owner,
    StoredFile,
    Unit,
)
from arrears.services import billing
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation.delivery import attach_proof, record_delivery
from tests.factories import ACTOR, make_community, make_company, make_owner, make_ownership, make_schedule, make_unit

TODAY = dt.date(2026, 11, 22)
SENT_AT = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Shanghai
DELIVERED_ON = dt.date(2026, 11, 12)
SERVICE_ADDRESS = "上海市徐汇区漕溪北路88号 邮编 200030"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64


@dataclass
class Demand:
    company: Company
    unit: Unit
    owner: Owner
    case: CollectionCase
    action: EscalationAction
    message: OutboundMessage
    charges: list[Charge]  # every charge of the unit; the demand lists the first three

    @property
    def listed_ids(self) -> list[int]:
        return [c.id for c in self.charges[:3]]


def build_demand(session: Session, *, channel: Channel = Channel.LETTER, address: str | None = None,
                 channels: tuple[Channel, ...] = (), action: Action = Action.DEMAND, deadline_days: int | None = 15,
                 status: MessageStatus = MessageStatus.SENT, company: Company | None = None,
                 **owner_kw: Any) -> Demand:
    """A sent demand for Jan–Mar 2026 (200.00 each, due at month end) on a unit that also owes April."""
    community = make_community(session, company=company, late_fee_rate_per_day=None)
    make_schedule(session, community, rate=Decimal("2.00"), due_rule=DueRule.PERIOD_END, due_day=None)
    unit = make_unit(session, community, area=Decimal("100.00"))
    owner_kw.setdefault("email", "owner@example.cn")
    owner = make_owner(session, unit.company_id, **owner_kw)
    ownership = make_ownership(session, unit, [owner])
    billing.run_billing(session, ACTOR, company_id=unit.company_id, through=dt.date(2026, 4, 1), today=TODAY)
    charges = list(session.scalars(select(Charge).where(Charge.unit_id == unit.id).order_by(Charge.due_date)))
    assert len(charges) == 4
    case = CollectionCase(company_id=unit.company_id, community_id=community.id, unit_id=unit.id,
                          ownership_id=ownership.id, owner_id=owner.id, opened_on=dt.date(2026, 6, 1),
                          stage_code="demand", stage_entered_on=dt.date(2026, 11, 9))
    session.add(case)
    session.flush()
    listed = charges[:3]
    prepared = EscalationAction(
        key=action_key(case.id, "demand", 1), company_id=unit.company_id, case_id=case.id,
        ownership_id=ownership.id, unit_id=unit.id, owner_id=owner.id, cycle=1, stage_code="demand", action=action,
        prepared_on=dt.date(2026, 11, 9), status=ActionStatus.DISPATCHED, needs_approval=True,
        arrears=sum((c.principal_outstanding for c in listed), Decimal("0.00")),
        channels=[c.value for c in (channels or (channel,))], deadline_days=deadline_days,
        charges=[{"id": c.id, "period": c.period_label, "due": c.due_date.isoformat(),
                  "outstanding": str(c.principal_outstanding)} for c in listed])
    session.add(prepared)
    session.flush()
    if address is None:
        address = {Channel.EMAIL: owner.email, Channel.SMS: owner.phone}.get(
            channel, f"{community.address} {community.name} {unit.code}")
    message = OutboundMessage(company_id=unit.company_id, owner_id=owner.id, channel=channel, address=address,
                              subject="物业服务费催缴通知", body="尊敬的业主：\n\n请缴费。", status=status,
                              sent_at=SENT_AT if status != MessageStatus.QUEUED else None)
    session.add(message)
    session.flush()
    session.add(MessageAction(message_id=message.id, action_id=prepared.id))
    session.flush()
    return Demand(session.get(Company, unit.company_id), unit, owner, case, prepared, message, charges)  # type: ignore[arg-type]


def _record(session: Session, demand: Demand, result: R = R.SIGNED_BY_OWNER, **kw: Any) -> Delivery:
    kw.setdefault("occurred_on", DELIVERED_ON)
    kw.setdefault("today", TODAY)
    if demand.message.channel == Channel.LETTER:
        kw.setdefault("tracking_number", "EA123456789CN")
    if result in (R.SIGNED_BY_OWNER, R.SIGNED_BY_HOUSEHOLD_ADULT, R.SIGNED_BY_AUTHORISED):
        kw.setdefault("signed_by", demand.owner.name)
    return record_delivery(session, ACTOR, demand.company.id, demand.message.id, result=result, **kw)


def _interruptions(session: Session, unit_id: int) -> list[Interruption]:
    return list(session.scalars(select(Interruption).where(Interruption.unit_id == unit_id)))


def _count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_l5_delivered_demand_interrupts_exactly_its_charges_and_sets_the_deadline(session: Session) -> None:
    demand = build_demand(session)
    frozen = copy.deepcopy(demand.action.charges)
    delivery = _record(session, demand, proof=("回执.png", "image/png", PNG), note="EMS 查询页截图")
    assert (delivery.result, delivery.occurred_on, delivery.tracking_number, delivery.signed_by) == (
        R.SIGNED_BY_OWNER, DELIVERED_ON, "EA123456789CN", demand.owner.name)
    assert demand.message.status == MessageStatus.DELIVERED and demand.message.delivered_at is not None
    action = demand.action
    assert (action.delivered_on, action.deadline_on, action.status) == (
        DELIVERED_ON, dt.date(2026, 11, 27), ActionStatus.DONE)  # 15 days from the day after delivery (L2)
    assert demand.case.demand_deadline == dt.date(2026, 11, 27)
    [event] = _interruptions(session, demand.unit.id)
    assert (event.kind, event.occurred_on, event.proof_ref, event.owner_id) == (
        InterruptionKind.DEMAND_DELIVERED, DELIVERED_ON, "EA123456789CN", demand.owner.id)
    assert sorted(c.charge_id for c in event.charges) == demand.listed_ids  # not April: the demand did not list it
    assert "signed by" in (event.proof_note or "") and "scan" in (event.proof_note or "")
    assert action.charges == frozen  # a sent demand is evidence: never edited
    stored = session.get(StoredFile, delivery.proof_file_id)
    assert stored is not None and stored.sha256 == hashlib.sha256(PNG).hexdigest() and stored.size == len(PNG)
    assert (stored.filename, stored.content_type, stored.data) == ("回执.png", "image/png", PNG)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "delivery.record"))
    assert entry is not None and entry.entity_id == delivery.id and entry.detail["delivered"] is True


def test_l5_interruption_covers_the_listed_charges_even_after_a_payment(session: Session) -> None:
    demand = build_demand(session)
    for charge in demand.charges:  # the ledger moves on after the demand was sent
        charge.principal_outstanding = Decimal("0.00")
    _record(session, demand)
    [event] = _interruptions(session, demand.unit.id)
    assert sorted(c.charge_id for c in event.charges) == demand.listed_ids


def test_case_deadline_keeps_the_later_of_two_demands(session: Session) -> None:
    demand = build_demand(session, deadline_days=10)
    demand.case.demand_deadline = dt.date(2026, 12, 31)
    _record(session, demand)
    assert demand.action.deadline_on == dt.date(2026, 11, 22)
    assert demand.case.demand_deadline == dt.date(2026, 12, 31)


def test_l5_returned_address_unknown_is_not_delivered_and_falls_back(session: Session) -> None:
    demand = build_demand(session, channels=(Channel.LETTER, Channel.HAND))
    _record(session, demand, R.RETURNED_ADDRESS_UNKNOWN)
    assert _interruptions(session, demand.unit.id) == []
    assert demand.message.status == MessageStatus.FAILED and "returned_address_unknown" in (demand.message.last_error or "")
    assert (demand.action.delivered_on, demand.case.demand_deadline) == (None, None)
    assert demand.action.status == ActionStatus.DISPATCHED
    fallback = session.scalar(select(OutboundMessage).where(OutboundMessage.fallback_of_id == demand.message.id))
    assert fallback is not None and fallback.channel == Channel.HAND and fallback.status == MessageStatus.QUEUED
    assert [a.action_id for a in fallback.actions] == [demand.action.id]


@pytest.mark.parametrize("result", [R.SIGNED_BY_LOCKER_OR_RECEPTION, R.SIGNED_BY_COMPANY_STAFF])
def test_l5_locker_reception_or_staff_signature_is_not_delivery(session: Session, result: R) -> None:
    demand = build_demand(session)
    _record(session, demand, result, signed_by="快递柜")
    assert _interruptions(session, demand.unit.id) == []
    assert demand.message.status == MessageStatus.FAILED


def test_l5_refusal_at_the_unit_address_the_owner_never_gave_is_not_delivery(session: Session) -> None:
    demand = build_demand(session)  # letter to the unit's address
    _record(session, demand, R.REFUSED_AT_GIVEN_ADDRESS)
    assert _interruptions(session, demand.unit.id) == []
    assert demand.message.status == MessageStatus.FAILED


def test_l5_refusal_at_the_confirmed_service_address_counts(session: Session) -> None:
    demand = build_demand(session, address=SERVICE_ADDRESS, service_address=SERVICE_ADDRESS,
                          service_address_confirmed=True)
    _record(session, demand, R.REFUSED_AT_GIVEN_ADDRESS, occurred_on=dt.date(2026, 11, 14))
    [event] = _interruptions(session, demand.unit.id)
    assert event.occurred_on == dt.date(2026, 11, 14)
    assert demand.message.status == MessageStatus.DELIVERED


def test_l5_service_address_not_confirmed_does_not_count(session: Session) -> None:
    demand = build_demand(session, address=SERVICE_ADDRESS, service_address=SERVICE_ADDRESS)
    _record(session, demand, R.RETURNED_FROM_GIVEN_ADDRESS)
    assert _interruptions(session, demand.unit.id) == []


def test_l5_email_accepted_counts_only_on_the_owners_own_address(session: Session) -> None:
    own = build_demand(session, channel=Channel.EMAIL)
    _record(session, own, R.EMAIL_ACCEPTED, source="smtp")
    assert len(_interruptions(session, own.unit.id)) == 1
    assert _interruptions(session, own.unit.id)[0].proof_ref == f"message:{own.message.id}"
    other = build_demand(session, channel=Channel.EMAIL, address="someone.else@example.cn")
    _record(session, other, R.EMAIL_ACCEPTED, source="smtp")
    assert _interruptions(session, other.unit.id) == []
    assert other.message.status == MessageStatus.FAILED


def test_l5_sms_receipt_on_the_owners_number_counts_and_no_receipt_does_not(session: Session) -> None:
    demand = build_demand(session, channel=Channel.SMS, phone="138 0013 8000", address="+8613800138000")
    _record(session, demand, R.SMS_RECEIPT, source="gateway")
    assert len(_interruptions(session, demand.unit.id)) == 1
    silent = build_demand(session, channel=Channel.SMS)
    _record(session, silent, R.SMS_NO_RECEIPT)
    assert _interruptions(session, silent.unit.id) == []


def test_hand_delivery_signed_needs_no_tracking_number(session: Session) -> None:
    demand = build_demand(session, channel=Channel.HAND)
    _record(session, demand, R.SIGNED_BY_HOUSEHOLD_ADULT, signed_by="李梅（配偶）")
    assert len(_interruptions(session, demand.unit.id)) == 1


def test_recording_the_same_result_twice_is_a_no_op(session: Session) -> None:
    demand = build_demand(session)
    first = _record(session, demand)
    audits = _count(session, AuditEntry)
    again = _record(session, demand)
    assert again is first
    assert len(_interruptions(session, demand.unit.id)) == 1
    assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.message_id == demand.message.id)) == 1
    assert _count(session, AuditEntry) == audits


def test_a_different_result_after_delivery_is_refused(session: Session) -> None:
    demand = build_demand(session)
    _record(session, demand)
    with pytest.raises(ServiceError, match="already recorded as delivered"):
        _record(session, demand, R.RETURNED_ADDRESS_UNKNOWN)


def test_a_non_demand_message_is_delivered_without_interruption(session: Session) -> None:
    demand = build_demand(session, action=Action.REMINDER, deadline_days=None)
    _record(session, demand)
    assert demand.message.status == MessageStatus.DELIVERED
    assert _interruptions(session, demand.unit.id) == []
    assert (demand.action.delivered_on, demand.action.status) == (None, ActionStatus.DISPATCHED)


def test_two_demands_in_one_message_each_interrupt_their_own_charges(session: Session) -> None:
    first = build_demand(session)
    second = build_demand(session, company=first.company)
    session.add(MessageAction(message_id=first.message.id, action_id=second.action.id))
    session.flush()
    _record(session, first)
    assert [sorted(c.charge_id for c in e.charges) for e in _interruptions(session, first.unit.id)] == [first.listed_ids]
    assert [sorted(c.charge_id for c in e.charges) for e in _interruptions(session, second.unit.id)] == [second.listed_ids]
    assert second.case.demand_deadline == dt.date(2026, 11, 27)


@pytest.mark.parametrize(("kw", "message"), [
    ({"occurred_on": TODAY + dt.timedelta(days=1)}, "in the future"),
    ({"occurred_on": dt.date(2026, 11, 9)}, "before the message was sent"),
    ({"tracking_number": "  "}, "tracking number"),
    ({"signed_by": ""}, "who signed"),
    ({"result": R.SMS_RECEIPT}, "not a result of a message sent by letter"),
    ({"result": R.GROUP_CHAT}, "not a result"),
    ({"proof": ("x.gif", "image/gif", b"GIF89a")}, "PDF, JPEG or PNG"),
    ({"proof": ("x.pdf", "application/pdf", PNG)}, "not a valid application/pdf"),
    ({"proof": ("x.pdf", "application/pdf", b"")}, "empty"),
    ({"proof": ("x.pdf", "application/pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))}, "larger than 10 MB"),
])
def test_bad_results_are_refused_and_change_nothing(session: Session, kw: dict[str, Any], message: str) -> None:
    demand = build_demand(session)
    kw = dict(kw)  # the parameters are shared by both databases' runs
    result = kw.pop("result", R.SIGNED_BY_OWNER)
    files, audits = _count(session, StoredFile), _count(session, AuditEntry)
    with pytest.raises(ServiceError, match=message):
        _record(session, demand, result, **kw)
    assert _count(session, Delivery) == 0 and _count(session, StoredFile) == files
    assert _count(session, AuditEntry) == audits and demand.message.status == MessageStatus.SENT


def test_a_queued_message_has_no_result_yet(session: Session) -> None:
    demand = build_demand(session, status=MessageStatus.QUEUED)
    with pytest.raises(ServiceError, match="has not been sent"):
        _record(session, demand)


def test_an_unknown_message_with_a_delivery_is_resolved(session: Session) -> None:
    demand = build_demand(session, channel=Channel.SMS, status=MessageStatus.UNKNOWN)
    _record(session, demand, R.SMS_RECEIPT, source="gateway")
    assert demand.message.status == MessageStatus.DELIVERED and demand.message.resolved_by == ACTOR.name


def test_tenancy_another_companys_message_is_not_found(session: Session) -> None:
    demand = build_demand(session)
    other = make_company(session)
    with pytest.raises(NotFound):
        record_delivery(session, ACTOR, other.id, demand.message.id, result=R.SIGNED_BY_OWNER,
                        occurred_on=DELIVERED_ON, today=TODAY, tracking_number="EA1", signed_by="x")
    assert _count(session, Delivery) == 0


def test_proof_can_be_attached_later_once(session: Session) -> None:
    demand = build_demand(session)
    delivery = _record(session, demand)
    assert delivery.proof_file_id is None
    attach_proof(session, ACTOR, demand.company.id, delivery.id, ("scan.pdf", "application/pdf", PDF))
    stored = session.get(StoredFile, delivery.proof_file_id)
    assert stored is not None and stored.sha256 == hashlib.sha256(PDF).hexdigest()
    with pytest.raises(ServiceError, match="already has its proof"):
        attach_proof(session, ACTOR, demand.company.id, delivery.id, ("scan.pdf", "application/pdf", PDF))
    with pytest.raises(NotFound):
        attach_proof(session, ACTOR, make_company(session).id, delivery.id, ("s.pdf", "application/pdf", PDF))
