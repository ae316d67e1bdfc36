"""Printed-letter batches (issue 3 §6): queued letters → one PDF + a CSV mailing list, messages sent;
the stop list and contact caps (L17) hold for letters too."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.escalation import Channel
from arrears.persistence.enums import MessageStatus
from arrears.persistence.models import LetterBatch, OutboundMessage, StoredFile
from arrears.services.escalation.letters import letter_reference, make_letter_batch, message_id_of
from arrears.services.escalation.stoplist import add_stop
from tests.factories import ACTOR
from tests.services.test_delivery import SERVICE_ADDRESS, Demand, build_demand

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Shanghai


def _queued(session: Session, n: int, **kw: object) -> list[Demand]:
    first = build_demand(session, status=MessageStatus.QUEUED, **kw)  # type: ignore[arg-type]
    rest = [build_demand(session, status=MessageStatus.QUEUED, company=first.company, **kw)  # type: ignore[arg-type]
            for _ in range(n - 1)]
    return [first, *rest]


def _file(session: Session, file_id: int) -> StoredFile:
    stored = session.get(StoredFile, file_id)
    assert stored is not None
    return stored


def test_three_letters_make_one_pdf_one_mailing_list_and_are_sent(session: Session) -> None:
    demands = _queued(session, 3)
    demands[1].owner.service_address = SERVICE_ADDRESS
    demands[1].message.address = SERVICE_ADDRESS
    company = demands[0].company
    demands[0].message.body = f"尊敬的业主：\n\n请于十五日内缴清。\n\n{company.name}\n2026-11-22\n"
    email = build_demand(session, channel=Channel.EMAIL, status=MessageStatus.QUEUED, company=company)
    batch = make_letter_batch(session, ACTOR, company.id, now=NOW)
    assert batch is not None and batch.letter_count == 3 and batch.created_by == ACTOR.name

    pdf = _file(session, batch.pdf_file_id)
    assert pdf.content_type == "application/pdf" and pdf.sha256 == hashlib.sha256(pdf.data).hexdigest()
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages]
    references = [letter_reference(d.message, dt.date(2026, 11, 22)) for d in demands]
    assert len(pages) == 3  # short letters: one page each, each on its own page
    for page, demand, reference in zip(pages, demands, references, strict=True):
        assert reference in page and demand.owner.name in page and "第 1 页 共 1 页" in page
        assert "2026年11月22日" in page and "催告函" in page.replace(" ", "")  # a demand: the formal letter
        assert "200.00" in page and "600.00" in page and "2026年3月31日" in page  # the frozen Jan–Mar charges
        assert "2026-04" not in page  # April was not listed by the demand
    assert "2026-11-22" not in pages[0]  # compose's sign-off became the signature block

    data = _file(session, batch.csv_file_id).data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    assert list(rows[0]) == ["reference", "recipient", "address", "postcode", "unit", "mail_class", "tracking_number"]
    assert [r["reference"] for r in rows] == references
    assert rows[1]["postcode"] == "200030" and rows[0]["postcode"] == ""
    assert {r["mail_class"] for r in rows} == {"EMS"} and {r["tracking_number"] for r in rows} == {""}
    assert rows[0]["unit"] == f"{demands[0].unit.community.name} {demands[0].unit.code}"

    for demand, reference in zip(demands, references, strict=True):
        message = demand.message
        assert (message.status, message.letter_batch_id, message.sent_at, message.gateway_ref) == (
            MessageStatus.SENT, batch.id, NOW, reference)
        assert message_id_of(reference) == message.id
    assert email.message.status == MessageStatus.QUEUED  # e-mail is the outbox's job
    assert make_letter_batch(session, ACTOR, company.id, now=NOW) is None  # nothing printed twice


def test_hand_delivery_is_printed_but_not_on_the_mailing_list(session: Session) -> None:
    [hand] = _queued(session, 1, channel=Channel.HAND)
    batch = make_letter_batch(session, ACTOR, hand.company.id, now=NOW)
    assert batch is not None and hand.message.status == MessageStatus.SENT
    assert len(PdfReader(io.BytesIO(_file(session, batch.pdf_file_id).data)).pages) == 1
    assert _file(session, batch.csv_file_id).data.decode("utf-8-sig").strip().count("\n") == 0  # header only


def test_nothing_queued_makes_no_batch(session: Session) -> None:
    [demand] = _queued(session, 1)
    demand.message.not_before = NOW + dt.timedelta(hours=1)
    assert make_letter_batch(session, ACTOR, demand.company.id, now=NOW) is None
    assert session.scalar(select(func.count()).select_from(LetterBatch)) == 0


def test_other_companies_letters_are_not_printed(session: Session) -> None:
    [mine] = _queued(session, 1)
    [theirs] = _queued(session, 1)
    batch = make_letter_batch(session, ACTOR, mine.company.id, now=NOW)
    assert batch is not None and batch.letter_count == 1
    assert theirs.message.status == MessageStatus.QUEUED


def test_l17_stopped_owner_letter_is_cancelled_and_falls_back(session: Session) -> None:
    [demand] = _queued(session, 1, channels=(Channel.LETTER, Channel.HAND))
    add_stop(session, ACTOR, demand.company.id, demand.owner.id, channel=Channel.LETTER, reason="律师函要求")
    assert make_letter_batch(session, ACTOR, demand.company.id, now=NOW) is None
    assert demand.message.status == MessageStatus.CANCELLED
    fallback = session.scalar(select(OutboundMessage).where(OutboundMessage.fallback_of_id == demand.message.id))
    assert fallback is not None and fallback.channel == Channel.HAND
    batch = make_letter_batch(session, ACTOR, demand.company.id, now=NOW)  # the next batch prints it
    assert batch is not None and fallback.letter_batch_id == batch.id


def test_l17_letter_over_the_contact_cap_waits_for_a_later_batch(session: Session) -> None:
    [demand] = _queued(session, 1)
    for days in (1, 2):  # two messages in the last 7 days: the default cap
        session.add(OutboundMessage(company_id=demand.company.id, owner_id=demand.owner.id, channel=Channel.SMS,
                                    address="13800138000", body="x", status=MessageStatus.SENT,
                                    sent_at=NOW - dt.timedelta(days=days)))
    session.flush()
    assert make_letter_batch(session, ACTOR, demand.company.id, now=NOW) is None
    assert demand.message.status == MessageStatus.QUEUED
    assert demand.message.not_before == NOW - dt.timedelta(days=2) + dt.timedelta(days=7)
    later = make_letter_batch(session, ACTOR, demand.company.id, now=NOW + dt.timedelta(days=5))
    assert later is not None and demand.message.status == MessageStatus.SENT


def test_l17_one_batch_counts_its_own_letters_against_the_cap(session: Session) -> None:
    first = build_demand(session, status=MessageStatus.QUEUED)
    second = build_demand(session, status=MessageStatus.QUEUED, company=first.company)
    second.message.owner_id = first.owner.id  # two letters for one owner (e.g. a fallback and a new one)
    session.add(OutboundMessage(company_id=first.company.id, owner_id=first.owner.id, channel=Channel.SMS,
                                address="13800138000", body="x", status=MessageStatus.SENT,
                                sent_at=NOW - dt.timedelta(days=1)))
    session.flush()
    batch = make_letter_batch(session, ACTOR, first.company.id, now=NOW)
    assert batch is not None and batch.letter_count == 1
    assert (first.message.status, second.message.status) == (MessageStatus.SENT, MessageStatus.QUEUED)
