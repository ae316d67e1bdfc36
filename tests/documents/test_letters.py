"""Letters as PDF (issue 4 §2): the reminder, the formal demand (催告函) and the statement of account,
built from the database by the registry and read back from the PDF with pypdf.

Set ARREARS_DOCUMENT_PNG=docs/documents to write the first page of each letter as a PNG (pdftoppm).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import delete
from sqlalchemy.orm import Session

from arrears.domain.escalation import Action, Channel
from arrears.persistence.enums import MessageStatus
from arrears.persistence.models import MessageAction, StoredFile
from arrears.services.documents import DocumentRequest, build, render
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation.letters import letter_reference, make_letter_batch
from arrears.services.payment_batch import PaymentInput
from arrears.services.payments import record_payment
from tests.factories import ACTOR
from tests.services.test_delivery import Demand, build_demand

ON = dt.date(2026, 11, 22)
NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _flat(text: str) -> str:
    return "".join(text.split())


def _png(pdf: bytes, kind: str) -> None:
    folder = os.environ.get("ARREARS_DOCUMENT_PNG")
    if not folder:
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "doc.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(source),
                        str(Path(folder) / kind)], check=True)


def _with_late_fee(demand: Demand) -> None:
    demand.unit.community.late_fee_rate_per_day = Decimal("0.0005")
    demand.unit.community.late_fee_cap_ratio = Decimal(1)


def _request(demand: Demand, kind: str, **options: str) -> DocumentRequest:
    return DocumentRequest(kind, demand.company.id, demand.action.id, {"as_of": ON.isoformat(), **options})


def test_demand_letter_states_periods_amounts_late_fee_deadline_payment_dispute_and_legal_basis(
        session: Session) -> None:
    demand = build_demand(session, deadline_days=20)
    _with_late_fee(demand)
    demand.company.collections_contact = "催缴专线 021-12345678"
    session.flush()
    built, pdf = render(session, _request(demand, "demand_letter"))
    letter = built.context["letter"]
    text = _text(pdf)
    flat = _flat(text)
    reference = letter_reference(demand.message, ON)
    assert built.template == "demand_letter.html" and built.author == demand.company.name
    assert letter.reference == reference and reference in text and f"案件编号：{demand.case.id}" in text
    for expected in (demand.company.name, demand.owner.name, "催告函", "2026年11月22日",
                     "2026年1月", "2026年2月", "2026年3月", "（共3期）", "2026年3月31日",
                     "200.00", "600.00", "陆佰元整", "自收到本函之日起20日内",
                     "《中华人民共和国民法典》第九百四十四条", "合理期限届满仍不支付的",
                     "缴费方式", "异议方式", "催缴专线021-12345678", demand.company.address.replace(" ", "")):
        assert _flat(expected) in flat, expected
    assert "2026年4月" not in text  # April is owed but the demand did not list it (frozen charges)
    # the late fee as of the letter date, beside the principal and in capitals, never inside it
    fee = letter.late_fee
    assert fee > 0 and fee == sum((row.late_fee for row in letter.rows), Decimal("0.00"))
    assert f"{fee:,.2f}" in text and "违约金单独列示，不计入上述欠费本金" in flat
    assert letter.principal == Decimal("600.00")
    assert "第 1 页 共" in text
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None and meta.title == built.title and reference in meta.title
    assert meta.author == demand.company.name and meta.creation_date is not None
    _png(pdf, "demand_letter")


def test_demand_deadline_falls_back_to_the_community_setting_and_no_late_fee_without_a_clause(
        session: Session) -> None:
    demand = build_demand(session, deadline_days=None)  # community without a late-fee clause
    demand.unit.community.demand_deadline_days = 30
    session.flush()
    built, pdf = render(session, _request(demand, "demand_letter"))
    flat = _flat(_text(pdf))
    assert "自收到本函之日起30日内" in flat and not built.context["letter"].claim_late_fee
    assert "违约金（元）" not in flat and "违约金单独列示" not in flat


def test_a_sent_demand_lists_its_frozen_charges_even_after_payment(session: Session) -> None:
    demand = build_demand(session)
    record_payment(session, ACTOR, demand.company.id,
                   PaymentInput(demand.unit.id, demand.owner.id, "R-1", dt.date(2026, 11, 15), "200.00"), today=ON)
    built, pdf = render(session, _request(demand, "demand_letter", claim_late_fees="no"))
    assert [row.period for row in built.context["letter"].rows] == ["2026-01", "2026-02", "2026-03"]
    assert "600.00" in _text(pdf)


def test_reminder_letter(session: Session) -> None:
    demand = build_demand(session, action=Action.REMINDER)
    built, pdf = render(session, _request(demand, "reminder_letter"))
    text = _text(pdf)
    flat = _flat(text)
    assert built.template == "reminder_letter.html"
    for expected in ("物业服务费缴费提醒函", demand.owner.name, "600.00", "陆佰元整", "2026年1月", "2026年3月",
                     letter_reference(demand.message, ON), f"案件编号：{demand.case.id}", "缴费方式", "第 1 页 共 1 页"):
        assert _flat(expected) in flat, expected
    _png(pdf, "reminder_letter")


def test_letter_of_a_message_with_several_units_lists_each_unit(session: Session) -> None:
    first = build_demand(session)
    second = build_demand(session, company=first.company)
    second.action.owner_id = first.owner.id
    session.add(MessageAction(message_id=first.message.id, action_id=second.action.id))
    session.flush()
    built = build(session, _request(first, "demand_letter"))
    letter = built.context["letter"]
    assert letter.several_units and len(letter.rows) == 6 and letter.principal == Decimal("1200.00")
    assert set(letter.case_ids) == {first.case.id, second.case.id}


def test_a_draft_letter_without_a_message_gets_an_action_reference(session: Session) -> None:
    demand = build_demand(session)
    session.execute(delete(MessageAction).where(MessageAction.action_id == demand.action.id))
    session.expire_all()
    built = build(session, _request(demand, "demand_letter"))
    assert built.context["reference"] == f"ARR-2026-A{demand.action.id:06d}"


def test_bad_requests(session: Session) -> None:
    demand = build_demand(session)
    with pytest.raises(ServiceError):
        build(session, _request(demand, "no_such_kind"))
    with pytest.raises(ServiceError):
        build(session, _request(demand, "demand_letter", as_of="22.11.2026"))
    with pytest.raises(ServiceError):
        build(session, _request(demand, "demand_letter", message_id="999999"))
    with pytest.raises(NotFound):
        build(session, DocumentRequest("demand_letter", demand.company.id + 1000, demand.action.id))


def test_statement_of_account(session: Session) -> None:
    demand = build_demand(session)
    _with_late_fee(demand)
    record_payment(session, ACTOR, demand.company.id,
                   PaymentInput(demand.unit.id, demand.owner.id, "R-2026-0007", dt.date(2026, 2, 10), "150.00"),
                   today=ON)
    built, pdf = render(session, DocumentRequest("statement_of_account", demand.company.id, demand.case.id,
                                                 {"as_of": ON.isoformat()}))
    statement = built.context["statement"]
    text = _text(pdf)
    flat = _flat(text)
    # four charges of 200.00 (Jan–Apr), 150.00 paid on January's: 650.00 outstanding
    assert statement.total_amount == Decimal("800.00") and statement.total_paid == Decimal("150.00")
    assert statement.arrears == Decimal("650.00") and statement.late_fee > 0
    for expected in ("物业服务费对账单", demand.owner.name, demand.company.name, "2026年11月22日",
                     "2026年1月", "2026年4月", "2026年1月31日", "800.00", "150.00", "650.00", "陆佰伍拾元整",
                     "R-2026-0007", "2026年2月10日", "银行转账", f"{statement.late_fee:,.2f}",
                     f"案件编号：{demand.case.id}", "先本金后违约金", "收费期间及项目", "应缴日期", "已缴金额", "欠费金额"):
        assert _flat(expected) in flat, expected
    assert "第 1 页 共" in text
    _png(pdf, "statement_of_account")


def test_letter_batch_prints_the_rich_letters(session: Session) -> None:
    demand = build_demand(session, status=MessageStatus.QUEUED, channel=Channel.LETTER)
    batch = make_letter_batch(session, ACTOR, demand.company.id, now=NOW)
    assert batch is not None
    stored = session.get(StoredFile, batch.pdf_file_id)
    assert stored is not None
    flat = _flat(_text(stored.data))
    assert "催告函" in flat and letter_reference(demand.message, ON) in flat and "自收到本函之日起15日内" in flat
