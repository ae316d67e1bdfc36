"""Editable copies (issue 5 §9): the complaint and the applications as .docx, built from the same
data as their PDFs, read back with python-docx."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlalchemy.orm import Session

from arrears.documents.docx import CJK_FONT, html_blocks
from arrears.domain.money import amount_in_capitals
from arrears.services.documents.packet import build_packet
from arrears.services.documents.registry import DocumentRequest, render_docx
from arrears.services.errors import ServiceError
from tests.factories import RESIDENT_IDS

from .packet_world import AS_OF, COURT, USCC, World, build_world

D = Decimal
PRINCIPAL = D("2062.80")  # as in test_packet: E1 × 4 quarters − E2's 300.00
LATE_FEE = D("164.59")
TOTAL = D("2227.39")
FACT_HEADINGS = [
    "1.物业服务合同签订情况", "2.签订主体", "3.物业项目情况", "4.约定的物业费标准", "5.约定的物业服务期限",
    "6.约定的物业费交纳方式", "7.约定的逾期交纳违约金", "8.欠费数额及计算方式", "9.违约金数额及计算方式",
    "10.催缴情况", "11.其他需要说明的内容", "12.诉请依据", "13.证据清单",
]


def docx_text(data: bytes) -> str:
    """Every paragraph and table cell of the .docx, white space removed."""
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return re.sub(r"\s+", "", "".join(parts))


def main_request(session: Session, world: World, route: str) -> DocumentRequest:
    requests = build_packet(session, world.company.id, world.case.id, route=route, as_of=AS_OF,
                            claim_late_fees=True, until_actual_payment=True)
    return requests[0]


def assert_parties_and_amounts(text: str) -> None:
    for name in ("李明", "赵丽", RESIDENT_IDS[1], RESIDENT_IDS[0], "金陵物业服务有限公司", USCC):
        assert name in text, name
    for amount in (PRINCIPAL, LATE_FEE, TOTAL):
        assert f"{amount:,.2f}" in text, amount
        assert amount_in_capitals(amount) in text, amount


def test_complaint_docx_has_parties_amounts_and_every_fact_heading(session: Session) -> None:
    world = build_world(session)
    request = main_request(session, world, "lawsuit")
    assert request.kind == "complaint"
    built, data = render_docx(session, request)
    assert data.startswith(b"PK") and built.filename.endswith(".docx")
    document = Document(io.BytesIO(data))
    assert document.core_properties.author == world.company.name
    text = docx_text(data)
    assert "民事起诉状" in text and COURT in text
    for heading in FACT_HEADINGS:
        assert heading in text, heading
    assert_parties_and_amounts(text)
    # the elements of the complaint stay a two-column table, section rows merged across it
    table = document.tables[0]
    assert len(table.columns) == 2
    assert any(row.cells[0].text == row.cells[1].text == "事实与理由" for row in table.rows)
    # headings are Word headings; Chinese text carries the CJK font
    assert any(p.style.name.startswith("Heading") and "民事起诉状" in p.text for p in document.paragraphs)
    run = next(r for p in document.paragraphs for r in p.runs if r.text)
    fonts = run._element.rPr.find(qn("w:rFonts"))
    assert fonts is not None and fonts.get(qn("w:eastAsia")) == CJK_FONT


def test_payment_order_application_docx(session: Session) -> None:
    world = build_world(session)
    request = main_request(session, world, "payment_order")
    assert request.kind == "payment_order_application"
    _built, data = render_docx(session, request)
    text = docx_text(data)
    assert "支付令申请书" in text
    for name in ("李明", "赵丽", RESIDENT_IDS[1], "金陵物业服务有限公司"):
        assert name in text
    assert f"{PRINCIPAL:,.2f}" in text and amount_in_capitals(PRINCIPAL) in text
    assert "1.请求贵院依法向被申请人发出支付令" in text  # the numbered items stay numbered


def test_arbitration_application_docx(session: Session) -> None:
    world = build_world(session, commission="南京仲裁委员会")
    request = main_request(session, world, "arbitration")
    assert request.kind == "arbitration_application"
    _built, data = render_docx(session, request)
    text = docx_text(data)
    assert "仲裁申请书" in text and "南京仲裁委员会" in text
    assert_parties_and_amounts(text)


def test_only_the_complaint_and_the_applications_have_editable_copies(session: Session) -> None:
    world = build_world(session)
    sheet = DocumentRequest("calculation_sheet", world.company.id, world.case.id,
                            {"route": "lawsuit", "as_of": AS_OF.isoformat()})
    with pytest.raises(ServiceError):
        render_docx(session, sheet)


def test_html_blocks_layout() -> None:
    blocks, running = html_blocks(
        '<html><head><title>x</title></head><body><div class="running-company">甲公司</div>'
        "<h1>标题</h1><p>第一行<br>第二行　全角</p><ol><li>甲</li><li>乙</li></ol>"
        '<table><tr class="section"><th colspan="2">节</th></tr><tr><th>问</th><td><p>答</p></td></tr></table>'
        '<p>签字：<span class="blank"></span></p></body></html>')
    assert running == ["甲公司"]
    texts = [getattr(b, "text", None) for b in blocks]
    assert texts[:4] == ["标题", "第一行\n第二行　全角", "1. 甲", "2. 乙"]
    table = blocks[4]
    assert [[(c.colspan, c.header, [p.text for p in c.paras]) for c in row] for row in table.rows] == [  # type: ignore[union-attr]
        [(2, True, ["节"])], [(1, True, ["问"]), (1, False, ["答"])]]
    assert texts[5] == "签字：＿＿＿＿"
