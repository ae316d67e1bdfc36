"""The outbox: approved actions become one message per owner, sent after commit, exactly once.

* `queue_approved` bundles each owner's approved actions across units into ONE message (L17) on
  the first channel of the fallback order the owner has an address for and is not stopped on.
* `dispatch_pending` claims due e-mail/SMS messages in a short transaction (PostgreSQL: FOR UPDATE
  SKIP LOCKED; SQLite: a conditional UPDATE … RETURNING, one writer at a time), commits, then checks
  the stop list, contact caps and quiet hours (L17) at send time, sends with the outbox id as the
  gateway's idempotency key, and records the outcome in a new transaction. Retries happen only for
  failures known to have sent nothing (RETRY); a final failure falls back to the next channel;
  an unknown outcome is never resent by itself — a person resolves it (`resolve_unknown`).
* `recover_stale` marks messages left in `sending` by a crashed process as `unknown`.
* `poll_receipts` turns SMS delivery receipts into deliveries (L5) or failures (→ fallback).

Letters and hand delivery are not sent here: they wait for a letter batch.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.orm import Session

from arrears.channels.base import OutgoingMessage, Receipt, SendOutcome, SendResult
from arrears.domain.contact import ContactRules, next_send_time
from arrears.domain.escalation import Action, Channel
from arrears.domain.limitation import DeliveryResult
from arrears.persistence.enums import ActionStatus, MessageStatus
from arrears.persistence.models import (
    Company,
    EscalationAction,
    MessageAction,
    OutboundMessage,
    Owner,
    OwnerLink,
    Unit,
)

from .. import audit
from ..actor import Actor
from ..errors import N_, ServiceError
from ..runtime import Runtime
from ..selfservice.links import default_signer, link_for_message
from ..tenancy import get_company, get_scoped
from ..timezone import company_today
from .compose import SEVERITY, Item, Sender, compose, items_from_charges
from .gateways import SENT_BY_DISPATCH, Gateways
from .stoplist import Stops, is_stopped, stopped_channels

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
#: Back-off after a RETRY outcome, by attempt number (1st, 2nd, …); the last value repeats.
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15),
           dt.timedelta(hours=1))
STALE_AFTER = dt.timedelta(minutes=15)
OUTBOX_NOTE = "[outbox] "
_KEY = re.compile(r"^arrears-msg-(\d+)$")


@dataclass
class DispatchResult:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    unknown: int = 0
    retried: int = 0
    cancelled: int = 0  # stop list: cancelled at send time (and fallen back)


def idempotency_key(message_id: int) -> str:
    return f"arrears-msg-{message_id}"


# --------------------------------------------------------------------------- queueing


def queue_approved(session: Session, actor: Actor, company_id: int, *, now: dt.datetime) -> int:
    """Approved actions without a message → one message per owner; returns messages created.

    Actions with no channel (notice candidate, mediation referral, legal ready) are DONE. When an
    owner has no usable channel (no address, or stopped) the actions stay APPROVED and their
    `reason` gets an "[outbox] …" line saying why, so the review screen shows what to fix; the
    next call sends them once an address is added or the stop is lifted.
    """
    company = get_company(session, company_id)
    actions = _approved_unqueued(session, company_id)
    by_owner: dict[int, list[EscalationAction]] = {}
    for action in actions:
        if not action.channels:
            action.status = ActionStatus.DONE
            audit.record(session, actor, "action.done", "escalation_action", action.id,
                         company_id=company_id, key=action.key, why="no message for this action")
        else:
            by_owner.setdefault(action.owner_id, []).append(action)
    if not by_owner:
        session.flush()
        return 0
    stops = stopped_channels(session, by_owner)
    owners = {o.id: o for o in session.scalars(select(Owner).where(Owner.id.in_(list(by_owner))))}
    created = 0
    for owner_id, group in by_owner.items():
        owner = owners[owner_id]
        choice = _first_usable(session, channel_order(group), owner, stops.get(owner_id, set()), group)
        if choice is None:
            _note(session, actor, group, _unreachable_text(owner, channel_order(group), stops.get(owner_id, set())))
            continue
        message = _new_message(session, company, owner, group, *choice, now=now)
        for action in group:
            action.status = ActionStatus.DISPATCHED
            action.reason = _strip_note(action.reason)
        audit.record(session, actor, "message.queue", "outbound_message", message.id, company_id=company_id,
                     owner_id=owner_id, channel=message.channel.value, actions=[a.id for a in group])
        created += 1
    session.flush()
    return created


def _approved_unqueued(session: Session, company_id: int) -> list[EscalationAction]:
    has_message = exists().where(MessageAction.action_id == EscalationAction.id)
    statement = (select(EscalationAction)
                 .where(EscalationAction.company_id == company_id,
                        EscalationAction.status == ActionStatus.APPROVED, ~has_message)
                 .order_by(EscalationAction.id))
    if _is_postgres(session):  # a concurrent queue_approved skips what this one is bundling
        statement = statement.with_for_update(skip_locked=True)
    return list(session.scalars(statement))


def channel_order(actions: Iterable[EscalationAction]) -> list[Channel]:
    """The bundle's fallback order: the most serious action's channels first, then the others'."""
    order: list[Channel] = []
    ranked = sorted(actions, key=lambda a: (SEVERITY.index(a.action) if a.action in SEVERITY else 99, a.id))
    for action in ranked:
        for value in action.channels:
            if Channel(value) not in order:
                order.append(Channel(value))
    return order


def _first_usable(session: Session, order: Sequence[Channel], owner: Owner, stops: Stops,
                  actions: Sequence[EscalationAction]) -> tuple[Channel, str] | None:
    for channel in order:
        if is_stopped(stops, channel):
            continue
        address = _address(session, owner, channel, actions)
        if address:
            return channel, address
    return None


def _address(session: Session, owner: Owner, channel: Channel, actions: Sequence[EscalationAction]) -> str | None:
    if channel == Channel.EMAIL:
        value = owner.email
    elif channel == Channel.SMS:
        value = owner.phone
    else:  # a letter or hand delivery goes to the service address, else the unit itself
        value = owner.service_address or _unit_address(session, actions[0].unit_id)
    return (value or "").strip() or None


def _unit_address(session: Session, unit_id: int) -> str:
    unit = session.get(Unit, unit_id)
    if unit is None:
        return ""
    community = unit.community
    return f"{community.address} {community.name} {unit.code}"


def _unit_label(session: Session, unit_id: int) -> str:
    unit = session.get(Unit, unit_id)
    return f"{unit.community.name} {unit.code}" if unit is not None else f"#{unit_id}"


def _unreachable_text(owner: Owner, order: Sequence[Channel], stops: Stops) -> str:
    if None in stops:
        return "not sent: the owner is on the stop list for every channel"
    missing = ", ".join(c.value for c in order)
    return f"not sent: no usable channel ({missing}) — add an address or lift a stop"


def _note(session: Session, actor: Actor, actions: Sequence[EscalationAction], text: str) -> None:
    """Replace the action's "[outbox]" line (one line, so repeated calls add nothing)."""
    for action in actions:
        base = _strip_note(action.reason)
        reason = f"{base}\n{OUTBOX_NOTE}{text}" if base else OUTBOX_NOTE + text
        if action.reason != reason:
            action.reason = reason
            audit.record(session, actor, "action.not_sent", "escalation_action", action.id,
                         company_id=action.company_id, key=action.key, why=text)


def _strip_note(reason: str | None) -> str:
    """The reason without its "[outbox]" line."""
    return "\n".join(line for line in (reason or "").splitlines() if not line.startswith(OUTBOX_NOTE))


def _new_message(session: Session, company: Company, owner: Owner, actions: Sequence[EscalationAction],
                 channel: Channel, address: str, *, now: dt.datetime,
                 fallback_of: OutboundMessage | None = None) -> OutboundMessage:
    links = _self_service_links(session, company, owner, actions, now=now)
    composed = compose(
        [Item(a.action, a.template, _unit_label(session, a.unit_id), a.arrears, items_from_charges(a.charges),
              a.deadline_days, links[a.unit_id][1] if a.unit_id in links else "") for a in actions],
        channel=channel, language=owner.language or "zh_CN", owner_name=owner.name,
        sender=Sender(company.name, company.address, company.collections_contact or company.phone or company.address),
        as_of=company_today(company, now))
    message = OutboundMessage(company_id=company.id, owner_id=owner.id, channel=channel, address=address,
                              language=owner.language or "zh_CN", subject=composed.subject, body=composed.body,
                              status=MessageStatus.QUEUED, attempts=0,
                              fallback_of_id=fallback_of.id if fallback_of is not None else None)
    session.add(message)
    session.flush()
    for action in actions:
        session.add(MessageAction(message_id=message.id, action_id=action.id))
    for link, _ in links.values():
        if link.message_id is None:  # minted for this message
            link.message_id = message.id
    session.flush()
    return message


def _self_service_links(session: Session, company: Company, owner: Owner, actions: Sequence[EscalationAction], *,
                        now: dt.datetime) -> dict[int, tuple[OwnerLink, str]]:
    """unit id → (link, URL) for every unit of a reminder, demand or later action in the message:
    a still-valid link of the owner and unit is reused, else one is issued in this transaction."""
    units = list(dict.fromkeys(a.unit_id for a in actions if a.action != Action.PRE_DUE_NOTICE))
    if not units:
        return {}
    signer = default_signer()
    result = {}
    for unit_id in units:
        try:
            link = link_for_message(session, _system("outbox"), company.id, owner.id, unit_id, now=now)
        except ServiceError as exc:  # e.g. no ownership record links the owner to the unit
            log.warning("no self-service link for owner %s, unit %s: %s", owner.id, unit_id, exc)
            continue
        result[unit_id] = (link, signer.url(link))
    return result


# --------------------------------------------------------------------------- dispatch


def dispatch_pending(runtime: Runtime, gateways: Gateways, *, now: dt.datetime, worker: str,
                     company_id: int | None = None, chunk: int | None = None) -> DispatchResult:
    """Send every due e-mail/SMS message, chunk by chunk, until none is due.

    Each chunk is claimed and committed first; a process that dies afterwards leaves its messages
    in `sending` for `recover_stale`. Deferred and retried messages get a later `not_before`,
    so the loop ends.
    """
    size = chunk or runtime.settings.dispatch_chunk or 50
    result = DispatchResult()
    while True:
        with _transaction(runtime) as session:
            ids = _claim(session, now=now, worker=worker, company_id=company_id, limit=size)
        if not ids:
            return result
        _process_chunk(runtime, gateways, ids, now=now, worker=worker, result=result)


def _claim(session: Session, *, now: dt.datetime, worker: str, company_id: int | None, limit: int) -> list[int]:
    """Claim up to `limit` due messages for `worker` (status → sending, attempts + 1).

    PostgreSQL: lock the candidates with FOR UPDATE SKIP LOCKED (another dispatcher skips them),
    then update them. SQLite: one conditional UPDATE … RETURNING (writers take turns). Either way
    the UPDATE re-checks status = 'queued', so a message is claimed by one dispatcher only.
    """
    due = [OutboundMessage.status == MessageStatus.QUEUED,
           OutboundMessage.channel.in_(SENT_BY_DISPATCH),
           or_(OutboundMessage.not_before.is_(None), OutboundMessage.not_before <= now)]
    if company_id is not None:
        due.append(OutboundMessage.company_id == company_id)
    candidates = select(OutboundMessage.id).where(*due).order_by(OutboundMessage.id).limit(limit)
    if _is_postgres(session):
        ids = list(session.scalars(candidates.with_for_update(skip_locked=True)))
        if not ids:
            return []
        chosen = OutboundMessage.id.in_(ids)
    else:
        chosen = OutboundMessage.id.in_(candidates.scalar_subquery())
    statement = (update(OutboundMessage)
                 .where(chosen, OutboundMessage.status == MessageStatus.QUEUED)
                 .values(status=MessageStatus.SENDING, claimed_at=now, claimed_by=worker,
                         attempts=OutboundMessage.attempts + 1)
                 .returning(OutboundMessage.id)
                 .execution_options(synchronize_session=False))
    return sorted(session.scalars(statement))


def _process_chunk(runtime: Runtime, gateways: Gateways, ids: list[int], *, now: dt.datetime, worker: str,
                   result: DispatchResult) -> None:
    for index, message_id in enumerate(ids):
        try:
            prepared = _prepare(runtime, gateways, message_id, now=now, worker=worker, result=result)
        except BaseException:
            _release(runtime, ids[index:], worker)  # nothing of these reached a gateway
            raise
        if prepared is None:
            continue
        outgoing, gateway = prepared
        try:
            outcome = _send(gateway, outgoing)
            with _transaction(runtime) as session:
                _record(session, message_id, outcome, now=now, worker=worker, result=result)
        except BaseException:
            # This message may have gone out: it stays `sending` until recover_stale → unknown.
            _release(runtime, ids[index + 1:], worker)
            raise


def _prepare(runtime: Runtime, gateways: Gateways, message_id: int, *, now: dt.datetime, worker: str,
             result: DispatchResult) -> tuple[OutgoingMessage, Any] | None:
    """Send-time checks in their own transaction; the message to send, or None when handled."""
    with _transaction(runtime) as session:
        message = session.get(OutboundMessage, message_id)
        if message is None or message.status != MessageStatus.SENDING or message.claimed_by != worker:
            return None
        actor = _system(worker)
        if is_stopped(stopped_channels(session, [message.owner_id]).get(message.owner_id, set()), message.channel):
            _finish(session, actor, message, MessageStatus.CANCELLED, "the owner is on the stop list", now=now)
            result.cancelled += 1
            return None
        gateway = gateways.get(message.channel)
        if gateway is None:
            _finish(session, actor, message, MessageStatus.FAILED, f"no {message.channel.value} gateway configured",
                    now=now)
            result.failed += 1
            return None
        company = session.get(Company, message.company_id)
        assert company is not None
        at = next_send_time(now, _sent_times(session, message, now), contact_rules(company), message.channel)
        if at > now:
            _requeue(message, at, f"deferred to {at.isoformat()} by contact caps or quiet hours (L17)",
                     consumed=False)
            result.deferred += 1
            return None
        return OutgoingMessage(idempotency_key=idempotency_key(message.id), channel=message.channel,
                               address=message.address, subject=message.subject, body=message.body,
                               language=message.language), gateway


def _send(gateway: Any, outgoing: OutgoingMessage) -> SendResult:
    """A gateway reports RETRY itself when it knows nothing went out; any exception may have
    happened after the message left, so it is UNKNOWN (never resent by itself)."""
    try:
        return gateway.send(outgoing)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded as unknown
        log.exception("gateway %s raised for %s", outgoing.channel, outgoing.idempotency_key)
        return SendResult(SendOutcome.UNKNOWN, detail=f"gateway raised {type(exc).__name__}: {exc}")


def _record(session: Session, message_id: int, outcome: SendResult, *, now: dt.datetime,
            worker: str, result: DispatchResult) -> None:
    message = session.get(OutboundMessage, message_id)
    live = message is not None and message.claimed_by == worker and (
        message.status == MessageStatus.SENDING
        or (message.status == MessageStatus.UNKNOWN and message.resolved_by is None))  # recovered meanwhile
    if message is None or not live:
        log.warning("outcome %s of message %s not recorded: it changed meanwhile", outcome.outcome, message_id)
        return
    actor = _system(worker)
    if outcome.outcome == SendOutcome.ACCEPTED:
        _mark_sent(session, actor, message, outcome, now=now)
        result.sent += 1
    elif outcome.outcome == SendOutcome.RETRY and message.attempts < MAX_ATTEMPTS:
        _requeue(message, now + BACKOFF[min(message.attempts, len(BACKOFF)) - 1],
                 f"attempt {message.attempts} failed, nothing sent: {outcome.detail}", consumed=True)
        result.retried += 1
    elif outcome.outcome in (SendOutcome.RETRY, SendOutcome.REJECTED):
        detail = outcome.detail if outcome.outcome == SendOutcome.REJECTED else (
            f"gave up after {message.attempts} attempts: {outcome.detail}")
        _finish(session, actor, message, MessageStatus.FAILED, detail or "rejected", now=now)
        result.failed += 1
    else:
        message.status = MessageStatus.UNKNOWN
        message.last_error = outcome.detail or "the gateway could not say whether the message was sent"
        audit.record(session, actor, "message.unknown", "outbound_message", message.id,
                     company_id=message.company_id, detail=message.last_error)
        result.unknown += 1


def _mark_sent(session: Session, actor: Actor, message: OutboundMessage, outcome: SendResult, *,
               now: dt.datetime) -> None:
    message.status = MessageStatus.SENT
    message.sent_at = now
    message.gateway_ref = outcome.gateway_ref
    message.last_error = None
    audit.record(session, actor, "message.sent", "outbound_message", message.id, company_id=message.company_id,
                 channel=message.channel.value, gateway_ref=outcome.gateway_ref)
    if message.channel == Channel.EMAIL:  # accepted by the receiving server: delivered (L5)
        company = session.get(Company, message.company_id)
        assert company is not None
        _deliver(session, actor, message, DeliveryResult.EMAIL_ACCEPTED, at=now,
                 today=company_today(company, now), source="smtp", note=outcome.detail or None)


def _requeue(message: OutboundMessage, not_before: dt.datetime, why: str, *, consumed: bool) -> None:
    """Back to the queue; a deferral does not use up an attempt."""
    message.status = MessageStatus.QUEUED
    message.not_before = not_before
    message.claimed_at = None
    message.claimed_by = None
    message.last_error = why
    if not consumed:
        message.attempts = max(0, message.attempts - 1)


def _release(runtime: Runtime, ids: Sequence[int], worker: str) -> None:
    """Give back claimed messages that never reached a gateway (best effort, after an error)."""
    if not ids:
        return
    try:
        with _transaction(runtime) as session:
            session.execute(update(OutboundMessage)
                            .where(OutboundMessage.id.in_(list(ids)), OutboundMessage.claimed_by == worker,
                                   OutboundMessage.status == MessageStatus.SENDING)
                            .values(status=MessageStatus.QUEUED, claimed_at=None, claimed_by=None,
                                    attempts=OutboundMessage.attempts - 1)
                            .execution_options(synchronize_session=False))
    except Exception:  # noqa: BLE001 - recover_stale will mark them unknown instead
        log.exception("could not release claimed messages %s", list(ids))


def contact_rules(company: Company) -> ContactRules:
    """The company's L17 limits (a cap below one is treated as one: ContactRules refuses zero)."""
    return ContactRules(cap_7_days=max(1, company.contact_cap_7_days), cap_30_days=max(1, company.contact_cap_30_days),
                        quiet_end=company.quiet_hours_end, quiet_start=company.quiet_hours_start,
                        timezone=company.timezone or "Asia/Shanghai")


def _sent_times(session: Session, message: OutboundMessage, now: dt.datetime) -> list[dt.datetime]:
    """Every other message to this owner that went out (or may have: unknown) in the last 30 days,
    on any channel — fallback attempts included (L17)."""
    since = now - dt.timedelta(days=30)
    rows = session.execute(select(OutboundMessage.sent_at, OutboundMessage.claimed_at).where(
        OutboundMessage.owner_id == message.owner_id, OutboundMessage.id != message.id,
        or_(OutboundMessage.sent_at > since,
            and_(OutboundMessage.sent_at.is_(None), OutboundMessage.status == MessageStatus.UNKNOWN,
                 OutboundMessage.claimed_at > since))))
    return [sent or claimed for sent, claimed in rows if (sent or claimed) is not None]


# --------------------------------------------------------------------------- final states, fallback


def _finish(session: Session, actor: Actor, message: OutboundMessage, status: MessageStatus, why: str, *,
            now: dt.datetime) -> OutboundMessage | None:
    """FAILED or CANCELLED, then the next channel in the fallback order (a new message)."""
    message.status = status
    message.last_error = why
    audit.record(session, actor, f"message.{status.value}", "outbound_message", message.id,
                 company_id=message.company_id, channel=message.channel.value, why=why)
    return fall_back(session, actor, message, now=now)


def fall_back(session: Session, actor: Actor, message: OutboundMessage, *, now: dt.datetime) -> OutboundMessage | None:
    """A new message on the next usable channel after `message.channel`, carrying the same actions.
    None when no channel is left: the actions get an "[outbox]" note a person can act on."""
    actions = _actions_of(session, message.id)
    owner = session.get(Owner, message.owner_id)
    company = session.get(Company, message.company_id)
    assert owner is not None and company is not None
    order = channel_order(actions)
    tried = _tried_channels(session, message)
    start = order.index(message.channel) + 1 if message.channel in order else 0
    remaining = [c for c in order[start:] if c not in tried]
    stops = stopped_channels(session, [owner.id]).get(owner.id, set())
    choice = _first_usable(session, remaining, owner, stops, actions) if actions else None
    if choice is None:
        if actions:
            _note(session, actor, actions, f"message {message.id} {message.status.value} and no channel is left")
        audit.record(session, actor, "message.exhausted", "outbound_message", message.id,
                     company_id=message.company_id)
        return None
    new = _new_message(session, company, owner, actions, *choice, now=now, fallback_of=message)
    audit.record(session, actor, "message.fallback", "outbound_message", new.id, company_id=message.company_id,
                 fallback_of=message.id, channel=new.channel.value)
    return new


def _actions_of(session: Session, message_id: int) -> list[EscalationAction]:
    return list(session.scalars(select(EscalationAction).join(
        MessageAction, MessageAction.action_id == EscalationAction.id).where(
        MessageAction.message_id == message_id).order_by(EscalationAction.id)))


def _tried_channels(session: Session, message: OutboundMessage) -> set[Channel]:
    tried = {message.channel}
    current = message
    while current.fallback_of_id is not None:
        previous = session.get(OutboundMessage, current.fallback_of_id)
        if previous is None:
            break
        tried.add(previous.channel)
        current = previous
    return tried


# --------------------------------------------------------------------------- crashes, people


def recover_stale(session: Session, *, now: dt.datetime, older_than: dt.timedelta = STALE_AFTER) -> int:
    """Messages left in `sending` (the process died between claim and result) → UNKNOWN: the
    gateway may have sent them, so they are never resent by themselves."""
    stale = session.scalars(select(OutboundMessage).where(
        OutboundMessage.status == MessageStatus.SENDING, OutboundMessage.claimed_at < now - older_than)
        .order_by(OutboundMessage.id)).all()
    for message in stale:
        message.status = MessageStatus.UNKNOWN
        message.last_error = (f"interrupted after it was claimed by {message.claimed_by} at "
                              f"{message.claimed_at.isoformat() if message.claimed_at else '?'}: it may have been sent")
        audit.record(session, _system("recover"), "message.unknown", "outbound_message", message.id,
                     company_id=message.company_id, detail=message.last_error)
    session.flush()
    return len(stale)


def resolve_unknown(session: Session, actor: Actor, company_id: int, message_id: int, *, was_sent: bool,
                    note: str, now: dt.datetime, requeue: bool = False) -> OutboundMessage:
    """A person's decision on an `unknown` message. Sent → SENT (never resent). Not sent →
    FAILED, then the next channel (default) or, with `requeue`, a NEW message on the same channel
    (the old id is never reused: it is the gateway's idempotency key)."""
    message = get_scoped(session, OutboundMessage, message_id, company_id)
    if message.status != MessageStatus.UNKNOWN:
        raise ServiceError(N_("message %(id)s is not waiting for a decision (it is %(status)s)"),
                           id=message_id, status=message.status.value)
    note = (note or "").strip()
    if not note:
        raise ServiceError(N_("say how you know whether the message was sent"))
    message.resolved_by = actor.name
    message.resolution = note
    if was_sent:
        message.status = MessageStatus.SENT
        message.sent_at = message.sent_at or message.claimed_at or now
        audit.record(session, actor, "message.resolve", "outbound_message", message.id, company_id=company_id,
                     was_sent=True, note=note)
        session.flush()
        return message
    message.status = MessageStatus.FAILED
    audit.record(session, actor, "message.resolve", "outbound_message", message.id, company_id=company_id,
                 was_sent=False, note=note, requeue=requeue)
    if requeue:
        owner = session.get(Owner, message.owner_id)
        company = get_company(session, company_id)
        assert owner is not None
        new = _new_message(session, company, owner, _actions_of(session, message.id), message.channel,
                           message.address, now=now, fallback_of=message)
        audit.record(session, actor, "message.requeue", "outbound_message", new.id, company_id=company_id,
                     replaces=message.id)
    else:
        fall_back(session, actor, message, now=now)
    session.flush()
    return message


# --------------------------------------------------------------------------- receipts


def poll_receipts(runtime: Runtime, gateways: Gateways, *, now: dt.datetime) -> int:
    """Ask the SMS gateway for delivery receipts since the oldest SMS still waiting for one;
    returns how many receipts changed a message (polling again changes nothing)."""
    gateway = gateways.get(Channel.SMS)
    if gateway is None or not hasattr(gateway, "poll_receipts"):
        return 0
    with _transaction(runtime) as session:
        since = session.scalar(select(func.min(func.coalesce(OutboundMessage.sent_at, OutboundMessage.claimed_at)))
                               .where(OutboundMessage.channel == Channel.SMS,
                                      OutboundMessage.status.in_([MessageStatus.SENT, MessageStatus.UNKNOWN])))
    if since is None:
        return 0
    if isinstance(since, str):  # SQLite returns the raw text of an aggregate over a decorated type
        since = dt.datetime.fromisoformat(since)
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.timezone.utc)
    applied = 0
    for receipt in gateway.poll_receipts(since - dt.timedelta(minutes=5)):
        with _transaction(runtime) as session:
            applied += _apply_receipt(session, receipt, now=now)
    return applied


def _apply_receipt(session: Session, receipt: Receipt, *, now: dt.datetime) -> int:
    message = _message_for(session, receipt)
    if message is None or message.channel != Channel.SMS or message.status not in (
            MessageStatus.SENT, MessageStatus.UNKNOWN):
        return 0
    actor = _system("receipts")
    if message.status == MessageStatus.UNKNOWN:  # a receipt proves the gateway took it
        message.status = MessageStatus.SENT
        message.sent_at = message.sent_at or message.claimed_at or receipt.at
        message.resolved_by = actor.name
        message.resolution = "the gateway reported a receipt"
    message.gateway_ref = message.gateway_ref or receipt.gateway_ref
    company = session.get(Company, message.company_id)
    assert company is not None
    today = company_today(company, now)
    if receipt.delivered:
        _deliver(session, actor, message, DeliveryResult.SMS_RECEIPT, at=receipt.at, today=today,
                 source="gateway", note=receipt.detail or None)
    else:  # an explicit "undelivered" report: recorded as no receipt, the message fails → fallback
        _deliver(session, actor, message, DeliveryResult.SMS_NO_RECEIPT, at=receipt.at, today=today,
                 source="gateway", note=f"undelivered: {receipt.detail}" if receipt.detail else "undelivered")
        if message.status != MessageStatus.FAILED:  # (without delivery.py, or if it refused the record)
            _finish(session, actor, message, MessageStatus.FAILED,
                    f"undelivered: {receipt.detail}" if receipt.detail else "undelivered (gateway receipt)", now=now)
    session.flush()
    return 1


def _message_for(session: Session, receipt: Receipt) -> OutboundMessage | None:
    match = _KEY.match(receipt.idempotency_key or "")
    if match:
        return session.get(OutboundMessage, int(match.group(1)))
    if receipt.gateway_ref:
        return session.scalar(select(OutboundMessage).where(OutboundMessage.gateway_ref == receipt.gateway_ref))
    return None


def _deliver(session: Session, actor: Actor, message: OutboundMessage, result: DeliveryResult, *,
             at: dt.datetime, today: dt.date, source: str, note: str | None) -> None:
    """Record a gateway/SMTP result through delivery.record_delivery: it applies L5 (a delivered
    demand interrupts limitation; a result that does not count fails the message → fallback).

    Runs in a savepoint: a refused record (e.g. a bad date) is logged and leaves the message as it
    was (SENT), so a sent message is never left looking unsent."""
    company = session.get(Company, message.company_id)
    assert company is not None
    occurred_on = company_today(company, at)
    today = max(today, occurred_on)  # the gateway's clock may be ahead of the caller's `now`
    from .delivery import record_delivery  # delivery imports this module (fall_back)

    session.flush()
    try:
        with session.begin_nested():
            record_delivery(session, actor, message.company_id, message.id, result=result, occurred_on=occurred_on,
                            today=today, note=note, source=source, at=at)
    except ServiceError as exc:
        log.error("delivery %s of message %s not recorded: %s", result.value, message.id, exc)


@contextmanager
def _transaction(runtime: Runtime) -> Iterator[Session]:
    """runtime.transaction(), taking SQLite's write lock first: a WAL transaction that reads and
    then writes after another writer committed fails at once ("database is locked") instead of
    waiting, so every outbox transaction starts with a write and waits its turn (busy timeout)."""
    with runtime.transaction() as session:
        if not _is_postgres(session):
            session.execute(text("UPDATE outbound_message SET id = id WHERE 0 = 1"))
        yield session


def _system(what: str) -> Actor:
    return Actor.system(f"outbox:{what}")


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


__all__ = [
    "BACKOFF", "DispatchResult", "MAX_ATTEMPTS", "STALE_AFTER", "channel_order", "contact_rules", "dispatch_pending",
    "fall_back", "idempotency_key", "poll_receipts", "queue_approved", "recover_stale", "resolve_unknown",
]
