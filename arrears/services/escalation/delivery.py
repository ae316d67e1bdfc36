"""Delivery results of sent messages, with proof, and what a delivered demand sets off (L2, L5).

A result is recorded once (the same result on the same day again is a no-op). Whether it counts
as delivered follows L5's delivery table (`counts_as_delivered`): an e-mail or SMS counts only on
an address/number the owner gave (the one on the owner's record), a refusal or return only at an
address the owner gave in writing (the confirmed service address). A delivered message makes every
demand it carries DONE with its deadline (L2) and records a limitation interruption for exactly
the charges the demand listed — the demand's frozen `charges`, never today's ledger (L5). A result
that does not count fails the message, and the outbox falls back to the next channel.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import PurePosixPath, PureWindowsPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain import escalation as domain
from arrears.domain.escalation import Action, Channel
from arrears.domain.limitation import DeliveryResult, counts_as_delivered
from arrears.persistence.base import utcnow
from arrears.persistence.enums import ActionStatus, InterruptionKind, MessageStatus
from arrears.persistence.models import (
    CollectionCase,
    Company,
    Delivery,
    EscalationAction,
    MessageAction,
    OutboundMessage,
    Owner,
    StoredFile,
)

from .. import audit
from ..actor import Actor
from ..errors import N_, ServiceError
from ..interruptions import record_interruption
from ..tenancy import get_scoped
from ..timezone import company_today

R = DeliveryResult
SIGNED_FOR = frozenset({R.SIGNED_BY_OWNER, R.SIGNED_BY_HOUSEHOLD_ADULT, R.SIGNED_BY_AUTHORISED})
AT_GIVEN_ADDRESS = frozenset({R.REFUSED_AT_GIVEN_ADDRESS, R.RETURNED_FROM_GIVEN_ADDRESS})
RESULTS_BY_CHANNEL: dict[Channel, frozenset[DeliveryResult]] = {
    Channel.EMAIL: frozenset({R.EMAIL_ACCEPTED, R.EMAIL_NO_RECEIPT}),
    Channel.SMS: frozenset({R.SMS_RECEIPT, R.SMS_NO_RECEIPT}),
    Channel.LETTER: SIGNED_FOR | AT_GIVEN_ADDRESS | {R.SIGNED_BY_LOCKER_OR_RECEPTION, R.SIGNED_BY_COMPANY_STAFF,
                                                      R.RETURNED_ADDRESS_UNKNOWN},
    Channel.HAND: SIGNED_FOR | {R.REFUSED_AT_GIVEN_ADDRESS, R.SIGNED_BY_LOCKER_OR_RECEPTION,
                                R.SIGNED_BY_COMPANY_STAFF, R.POSTED_NOTICE},
}
#: A result can only be recorded for a message that went out (or may have: unknown).
RECORDABLE = frozenset({MessageStatus.SENT, MessageStatus.UNKNOWN, MessageStatus.DELIVERED, MessageStatus.FAILED})
PROOF_TYPES = {"application/pdf": (b"%PDF-",), "image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}
MAX_PROOF_BYTES = 10 * 1024 * 1024
DEFAULT_DEADLINE_DAYS = 15

Proof = tuple[str, str, bytes]  # (filename, content type, bytes)


def record_delivery(
    session: Session, actor: Actor, company_id: int, message_id: int, *, result: DeliveryResult,
    occurred_on: dt.date, today: dt.date, tracking_number: str | None = None, signed_by: str | None = None,
    note: str | None = None, proof: Proof | None = None, source: str = "manual", at: dt.datetime | None = None,
) -> Delivery:
    """Record how message `message_id` reached (or did not reach) the owner; see the module doc.

    `at` is the moment of delivery when known (gateway receipts), for `delivered_at`.
    """
    message = get_scoped(session, OutboundMessage, message_id, company_id)
    result = DeliveryResult(result)
    tracking_number = (tracking_number or "").strip() or None
    signed_by = (signed_by or "").strip() or None
    _validate(session, message, result, occurred_on=occurred_on, today=today, tracking_number=tracking_number,
              signed_by=signed_by)
    existing = session.scalar(select(Delivery).where(
        Delivery.message_id == message.id, Delivery.result == result, Delivery.occurred_on == occurred_on))
    if existing is not None:
        return existing  # the same result twice: nothing changes
    if message.status == MessageStatus.DELIVERED:
        raise ServiceError(N_("message %(id)s is already recorded as delivered"), id=message.id)
    stored = store_proof(session, actor, company_id, proof) if proof is not None else None
    owner = session.get(Owner, message.owner_id)
    gave = owner_gave_contact(message, owner)
    delivered = counts(message.channel, result, gave)
    delivery = Delivery(message_id=message.id, result=result, occurred_on=occurred_on,
                        tracking_number=tracking_number, signed_by=signed_by, note=(note or "").strip() or None,
                        proof_file_id=stored.id if stored else None, source=source, recorded_by=actor.name)
    session.add(delivery)
    session.flush()
    audit.record(session, actor, "delivery.record", "delivery", delivery.id, company_id=company_id,
                 message_id=message.id, result=result.value, occurred_on=occurred_on, delivered=delivered,
                 owner_gave_contact=gave, tracking_number=tracking_number, signed_by=signed_by,
                 proof_sha256=stored.sha256 if stored else None, source=source)
    if delivered:
        _delivered(session, actor, message, delivery, gave, today=today, at=at)
    else:
        _not_delivered(session, actor, message, delivery)
    session.flush()
    return delivery


def counts(channel: Channel, result: DeliveryResult, owner_gave_contact: bool) -> bool:
    """L5 for this message: a refusal or return counts only at an address the owner gave in writing."""
    if result in AT_GIVEN_ADDRESS and channel in (Channel.LETTER, Channel.HAND) and not owner_gave_contact:
        return False
    return counts_as_delivered(result, owner_gave_contact=owner_gave_contact)


def owner_gave_contact(message: OutboundMessage, owner: Owner | None) -> bool:
    """Whether the message went to an address the owner gave: the e-mail or phone on the owner's
    own record, or the service address the owner confirmed in writing (never the unit's address)."""
    if owner is None:
        return False
    if message.channel == Channel.EMAIL:
        return bool(owner.email) and _email(owner.email or "") == _email(message.address)
    if message.channel == Channel.SMS:
        return bool(owner.phone) and _phone(owner.phone or "") == _phone(message.address)
    return (owner.service_address_confirmed and bool(owner.service_address)
            and _text(owner.service_address or "") == _text(message.address))


def store_proof(session: Session, actor: Actor, company_id: int, proof: Proof) -> StoredFile:
    """A scan of the signed receipt (PDF, JPEG or PNG, at most 10 MB), kept with its SHA-256."""
    filename, content_type, data = proof
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in PROOF_TYPES:
        raise ServiceError(N_("proof must be a PDF, JPEG or PNG file, not %(type)s"), type=content_type or "?")
    if not data:
        raise ServiceError(N_("the proof file is empty"))
    if len(data) > MAX_PROOF_BYTES:
        raise ServiceError(N_("the proof file is larger than %(mb)s MB"), mb=MAX_PROOF_BYTES // (1024 * 1024))
    if not data.startswith(PROOF_TYPES[content_type]):
        raise ServiceError(N_("the proof file is not a valid %(type)s file"), type=content_type)
    name = PureWindowsPath(PurePosixPath(filename or "").name).name.strip()[:200] or "proof"
    stored = StoredFile(company_id=company_id, filename=name, content_type=content_type, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), data=data, created_by=actor.name)
    session.add(stored)
    session.flush()
    audit.record(session, actor, "file.store", "stored_file", stored.id, company_id=company_id,
                 filename=name, content_type=content_type, size=len(data), sha256=stored.sha256)
    return stored


def attach_proof(session: Session, actor: Actor, company_id: int, delivery_id: int, proof: Proof) -> Delivery:
    """Add the scan to a result recorded earlier without one (a result's proof is never replaced)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise ServiceError(N_("delivery %(id)s not found"), id=delivery_id)
    get_scoped(session, OutboundMessage, delivery.message_id, company_id)
    if delivery.proof_file_id is not None:
        raise ServiceError(N_("this delivery result already has its proof"))
    stored = store_proof(session, actor, company_id, proof)
    delivery.proof_file_id = stored.id
    audit.record(session, actor, "delivery.proof", "delivery", delivery.id, company_id=company_id,
                 proof_file_id=stored.id, sha256=stored.sha256)
    session.flush()
    return delivery


def _validate(session: Session, message: OutboundMessage, result: DeliveryResult, *, occurred_on: dt.date,
              today: dt.date, tracking_number: str | None, signed_by: str | None) -> None:
    if occurred_on > today:
        raise ServiceError(N_("a delivery result cannot be dated in the future"))
    if message.status not in RECORDABLE:
        raise ServiceError(N_("message %(id)s has not been sent (it is %(status)s)"),
                           id=message.id, status=message.status.value)
    if result not in RESULTS_BY_CHANNEL[message.channel]:
        raise ServiceError(N_("%(result)s is not a result of a message sent by %(channel)s"),
                           result=result.value, channel=message.channel.value)
    if message.channel == Channel.LETTER and not tracking_number:
        raise ServiceError(N_("a posted letter's result needs its tracking number"))
    if result in SIGNED_FOR and not signed_by:
        raise ServiceError(N_("say who signed for the letter"))
    if message.sent_at is not None:
        company = session.get(Company, message.company_id)
        assert company is not None
        if occurred_on < company_today(company, message.sent_at):
            raise ServiceError(N_("the result is dated before the message was sent (%(sent)s)"),
                               sent=company_today(company, message.sent_at).isoformat())


def _delivered(session: Session, actor: Actor, message: OutboundMessage, delivery: Delivery, gave: bool, *,
               today: dt.date, at: dt.datetime | None) -> None:
    if message.status == MessageStatus.UNKNOWN:  # a delivery proves it went out
        message.resolved_by = actor.name
        message.resolution = f"delivery recorded: {delivery.result.value}"
    message.status = MessageStatus.DELIVERED
    message.delivered_at = message.delivered_at or at or utcnow()
    for action in _demands(session, message.id):
        _demand_delivered(session, actor, message, action, delivery, gave, today=today)


def _demands(session: Session, message_id: int) -> list[EscalationAction]:
    return list(session.scalars(
        select(EscalationAction).join(MessageAction, MessageAction.action_id == EscalationAction.id)
        .where(MessageAction.message_id == message_id, EscalationAction.action == Action.DEMAND)
        .order_by(EscalationAction.id)))


def _demand_delivered(session: Session, actor: Actor, message: OutboundMessage, action: EscalationAction,
                      delivery: Delivery, gave: bool, *, today: dt.date) -> None:
    """The demand is DONE with its deadline (L2; the first delivery counts) and interrupts
    limitation for exactly the charges it listed (L5). `action.charges` is never edited."""
    if action.delivered_on is None or delivery.occurred_on < action.delivered_on:
        action.delivered_on = delivery.occurred_on
        action.deadline_on = domain.demand_deadline(delivery.occurred_on,
                                                    action.deadline_days or DEFAULT_DEADLINE_DAYS)
    action.status = ActionStatus.DONE
    if action.case_id is not None and action.deadline_on is not None:
        case = session.get(CollectionCase, action.case_id)
        if case is not None and (case.demand_deadline is None or case.demand_deadline < action.deadline_on):
            case.demand_deadline = action.deadline_on
    charge_ids = [int(charge["id"]) for charge in action.charges]
    audit.record(session, actor, "action.delivered", "escalation_action", action.id, company_id=action.company_id,
                 key=action.key, delivered_on=action.delivered_on, deadline_on=action.deadline_on,
                 message_id=message.id, charges=charge_ids)
    if not charge_ids:
        return
    record_interruption(
        session, actor, action.company_id, action.unit_id, kind=InterruptionKind.DEMAND_DELIVERED,
        occurred_on=delivery.occurred_on, proof_ref=delivery.tracking_number or f"message:{message.id}",
        charge_ids=charge_ids, today=today, owner_id=action.owner_id, delivery=delivery.result,
        owner_gave_contact=gave, proof_note=_proof_note(delivery), source=delivery.source)


def _proof_note(delivery: Delivery) -> str:
    parts = [f"{delivery.result.value} on {delivery.occurred_on.isoformat()}"]
    if delivery.signed_by:
        parts.append(f"signed by {delivery.signed_by}")
    if delivery.proof_file_id:
        parts.append(f"scan: stored file {delivery.proof_file_id}")
    if delivery.note:
        parts.append(delivery.note)
    return "; ".join(parts)


def _not_delivered(session: Session, actor: Actor, message: OutboundMessage, delivery: Delivery) -> None:
    """Did not reach the owner (L5): the message fails and the next channel takes over."""
    if message.status == MessageStatus.FAILED:
        return  # already failed (and fallen back) earlier
    message.status = MessageStatus.FAILED
    message.last_error = f"not delivered: {delivery.result.value} on {delivery.occurred_on.isoformat()}"
    audit.record(session, actor, "message.failed", "outbound_message", message.id, company_id=message.company_id,
                 why=message.last_error)
    fall_back = _fallback_helper()
    if fall_back is not None:
        fall_back(session, actor, message, now=utcnow())


def _fallback_helper():  # type: ignore[no-untyped-def]
    """The outbox's `fall_back(session, actor, message, *, now)` (written in parallel; optional)."""
    try:
        from . import outbox
    except ImportError:
        return None
    return getattr(outbox, "fall_back", None)


def _email(value: str) -> str:
    return value.strip().lower()


def _phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def _text(value: str) -> str:
    return re.sub(r"\s+", "", value)
