"""Printed-letter batches: queued letter and hand-delivery messages → one PDF for the printer and a
CSV mailing list for the post office, kept as stored files with a LetterBatch.

Each message becomes the rich letter of the document registry (services.documents.letters): the
formal demand (催告函) when it carries a demand or a more serious action, else the reminder; its
rows are exactly the actions' frozen charges.

A letter is "sent" when its batch is made (its text is frozen in the message, its PDF in the
batch); delivery results with tracking numbers come back through `delivery.record_delivery`.
The stop list and the contact caps (L17: a letter is a contact too) are honoured here, because
letters never pass through the outbox's dispatch: a stopped owner's letter is cancelled and falls
back to the next channel; a letter the caps would block waits (`not_before`) for a later batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from arrears.channels.letters import MailingRow, mailing_list_csv
from arrears.documents import render_pdfs
from arrears.domain.contact import next_send_time
from arrears.domain.escalation import Action, Channel
from arrears.persistence.enums import MessageStatus
from arrears.persistence.models import (
    Company,
    EscalationAction,
    LetterBatch,
    MessageAction,
    OutboundMessage,
    StoredFile,
)

from .. import audit
from ..actor import Actor
from ..tenancy import get_company
from ..timezone import company_today
from .outbox import contact_rules, fall_back
from .stoplist import is_stopped, stopped_channels

PRINTED = (Channel.LETTER, Channel.HAND)
#: Demands (and anything more serious) go by EMS with a tracking number; reminders by registered mail.
EMS_ACTIONS = frozenset({Action.DEMAND, Action.NOTICE_CANDIDATE, Action.MEDIATION_REFERRAL, Action.LEGAL_READY})


def letter_reference(message: OutboundMessage, on: dt.date) -> str:
    """The number printed on the letter and in the mailing list (it names the outbox message)."""
    return f"ARR-{on.year}-{message.id:06d}"


def message_id_of(reference: str) -> int | None:
    """The outbox id a letter reference names (for matching a filled-in mailing list back)."""
    match = re.fullmatch(r"ARR-\d{4}-(\d+)", reference.strip())
    return int(match.group(1)) if match else None


def make_letter_batch(session: Session, actor: Actor, company_id: int, *, now: dt.datetime) -> LetterBatch | None:
    """Print every due queued letter of the company; None when there is nothing to print."""
    company = get_company(session, company_id)
    today = company_today(company, now)
    messages = _printable(session, actor, company, _queued(session, company_id, now), now=now)
    if not messages:
        session.flush()
        return None
    # imported here: the documents package imports this module
    from ..documents.letters import letter_for_message

    built, letters, mailing = [], [], []
    for message in messages:
        actions = _actions(session, message.id)
        document = letter_for_message(session, company, message, actions, today)
        letter = document.context["letter"]
        built.append(document)
        letters.append(letter)
        if message.channel == Channel.LETTER:
            mailing.append(MailingRow(letter.reference, letter.recipient_name, message.address, letter.unit_label,
                                      "EMS" if any(a.action in EMS_ACTIONS for a in actions) else "挂号"))
    stamp = f"{today:%Y%m%d}-{messages[0].id}"
    data = render_pdfs([(document.template, document.context) for document in built],
                       title=f"信函批次 {stamp}", author=company.name, created=now)
    pdf = _store(session, actor, company_id, f"letters-{stamp}.pdf", "application/pdf", data)
    csv = _store(session, actor, company_id, f"mailing-list-{stamp}.csv", "text/csv; charset=utf-8",
                 mailing_list_csv(mailing))
    batch = LetterBatch(company_id=company_id, created_by=actor.name, letter_count=len(messages),
                        pdf_file_id=pdf.id, csv_file_id=csv.id)
    session.add(batch)
    session.flush()
    for message, letter in zip(messages, letters, strict=True):
        message.status = MessageStatus.SENT
        message.letter_batch_id = batch.id
        message.sent_at = now
        message.attempts += 1
        message.gateway_ref = letter.reference
        message.last_error = None
    audit.record(session, actor, "letter_batch.create", "letter_batch", batch.id, company_id=company_id,
                 messages=[m.id for m in messages], pdf_file_id=pdf.id, csv_file_id=csv.id, pdf_sha256=pdf.sha256)
    session.flush()
    return batch


def _queued(session: Session, company_id: int, now: dt.datetime) -> list[OutboundMessage]:
    statement = (select(OutboundMessage)
                 .where(OutboundMessage.company_id == company_id, OutboundMessage.channel.in_(PRINTED),
                        OutboundMessage.status == MessageStatus.QUEUED,
                        or_(OutboundMessage.not_before.is_(None), OutboundMessage.not_before <= now))
                 .order_by(OutboundMessage.id))
    if session.get_bind().dialect.name == "postgresql":  # two batches at once never print a letter twice
        statement = statement.with_for_update(skip_locked=True)
    return list(session.scalars(statement))


def _printable(session: Session, actor: Actor, company: Company, messages: Sequence[OutboundMessage], *,
               now: dt.datetime) -> list[OutboundMessage]:
    """Drop stopped owners' letters (cancelled, fallen back) and letters the caps would block (later)."""
    stops = stopped_channels(session, [m.owner_id for m in messages])
    rules = contact_rules(company)
    printed: dict[int, list[dt.datetime]] = {}
    result = []
    for message in messages:
        if is_stopped(stops.get(message.owner_id, set()), message.channel):
            message.status = MessageStatus.CANCELLED
            message.last_error = "the owner is on the stop list"
            audit.record(session, actor, "message.cancelled", "outbound_message", message.id,
                         company_id=company.id, channel=message.channel.value, why=message.last_error)
            fall_back(session, actor, message, now=now)
            continue
        sent = _sent_times(session, message, now) + printed.get(message.owner_id, [])
        at = next_send_time(now, sent, rules, message.channel)
        if at > now:
            message.not_before = at
            message.last_error = f"deferred to {at.isoformat()} by contact caps (L17)"
            continue
        printed.setdefault(message.owner_id, []).append(now)
        result.append(message)
    return result


def _sent_times(session: Session, message: OutboundMessage, now: dt.datetime) -> list[dt.datetime]:
    """This owner's other messages that went out in the last 30 days, on any channel (L17)."""
    since = now - dt.timedelta(days=30)
    rows = session.execute(select(OutboundMessage.sent_at, OutboundMessage.claimed_at, OutboundMessage.status).where(
        OutboundMessage.owner_id == message.owner_id, OutboundMessage.id != message.id,
        or_(OutboundMessage.sent_at > since,
            (OutboundMessage.status == MessageStatus.UNKNOWN) & (OutboundMessage.claimed_at > since))))
    return [sent or claimed for sent, claimed, _ in rows if (sent or claimed) is not None]


def _actions(session: Session, message_id: int) -> list[EscalationAction]:
    return list(session.scalars(select(EscalationAction).join(
        MessageAction, MessageAction.action_id == EscalationAction.id)
        .where(MessageAction.message_id == message_id).order_by(EscalationAction.id)))


def _store(session: Session, actor: Actor, company_id: int, filename: str, content_type: str,
           data: bytes) -> StoredFile:
    stored = StoredFile(company_id=company_id, filename=filename, content_type=content_type, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), data=data, created_by=actor.name)
    session.add(stored)
    session.flush()
    return stored
