"""Filing packet documents rendered to PDF and read back (issue 4 §4, §7): every document of every
route; amounts in figures and capitals (L8), periods, parties with ID numbers in full (L18), the
as-of date, the 13 fact elements of the element-style complaint, the court-fee estimate (L9)."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from arrears.domain.courtfees import Procedure, court_fee
from arrears.domain.money import amount_in_capitals
from arrears.services.documents.packet import build_packet
from arrears.services.documents.registry import render
from arrears.services.statements import unit_statement
from tests.factories import RESIDENT_IDS

from .packet_world import AS_OF, COURT, TRACKING, USCC, World, build_world

D = Decimal
PRINCIPAL = D("2062.80")  # E1 × 4 quarters − E2's 300.00
LATE_FEE = D("164.59")  # 49.70 + 65.27 + 38.40 + 11.22 (E2's method to 2026-11-22)
TOTAL = D("2227.39")
FACT_HEADINGS = [
    "1.物业服务合同签订情况", "2.签订主体", "3.物业项目情况", "4.约定的物业费标准", "5.约定的物业服务期限",
    "6.约定的物业费交纳方式", "7.约定的逾期交纳违约金", "8.欠费数额及计算方式", "9.违约金数额及计算方式",
    "10.催缴情况", "11.其他需要说明的内容", "12.诉请依据", "13.证据清单",
]


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with all white space removed (pypdf breaks lines inside long runs)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def render_packet(session: Session, world: World, route: str, **kw: bool) -> dict[str, str]:
    kw.setdefault("claim_late_fees", True)
    kw.setdefault("until_actual_payment", True)
    requests = build_packet(session, world.company.id, world.case.id, route=route, as_of=AS_OF, **kw)
    texts: dict[str, str] = {}
    for request in requests:
        built, pdf = render(session, request)
        assert pdf.startswith(b"%PDF-")
        assert built.author == world.company.name
        meta = PdfReader(io.BytesIO(pdf)).metadata
        assert meta is not None and meta.author == world.company.name
        texts[request.kind] = pdf_text(pdf)
    return texts


def both(amount: Decimal) -> list[str]:
    return [f"{amount:,.2f}", amount_in_capitals(amount)]


def assert_parties(text: str) -> None:
    for name in ("李明", "赵丽", RESIDENT_IDS[1], RESIDENT_IDS[0], "金陵物业服务有限公司", USCC):
        assert name in text, name


def test_lawsuit_packet_complaint_has_every_element(session: Session) -> None:
    world = build_world(session)
    texts = render_packet(session, world, "lawsuit")
    assert list(texts) == ["complaint", "calculation_sheet", "evidence_list", "power_of_attorney",
                           "legal_rep_certificate", "court_fee_estimate"]
    complaint = texts["complaint"]
    assert "民事起诉状" in complaint and "物业服务合同纠纷" in complaint
    for heading in FACT_HEADINGS:
        assert heading in complaint, heading
    for section in ("当事人信息", "诉讼请求和依据", "约定管辖和诉讼保全", "事实与理由", "对纠纷解决方式的意愿"):
        assert re.sub(r"\s", "", section) in complaint
    assert_parties(complaint)
    assert "1990年3月7日" in complaint and "1949年12月31日" in complaint  # birth dates from the IDs
    assert "13912345678" in complaint and "13987654321" in complaint
    for amount in (PRINCIPAL, LATE_FEE, TOTAL):
        for text in both(amount):
            assert text in complaint, text
    assert "截至2026年11月22日" in complaint
    assert "是否主张至实际清偿之日：是。自2026年11月23日起" in complaint
    assert "每日万分之五" in complaint
    assert "2026年1月至2026年12月" in complaint  # the periods
    assert "诉讼费用（案件受理费等）由被告承担" in complaint
    assert COURT in complaint
    assert "是否申请财产保全措施无" in complaint
    assert "89.50平方米" in complaint and "2.20元/㎡·月" in complaint
    assert "YG-2019-001" in complaint and "2019年6月1日" in complaint and "2019年7月1日" in complaint
    assert "2026年10月25日" in complaint and TRACKING in complaint  # demand history with its proof
    assert "是否考虑先行调解是" in complaint
    assert "具状人（盖章）" in complaint and "日期：" in complaint


def test_calculation_sheet_matches_the_statement_service(session: Session) -> None:
    world = build_world(session)
    sheet = render_packet(session, world, "small_claims")["calculation_sheet"]
    statement = unit_statement(session, world.company.id, world.unit.id, AS_OF).by_debtor[world.case.ownership_id]
    assert statement.arrears == PRINCIPAL and statement.late_fee_outstanding == LATE_FEE
    for amount in (statement.arrears, statement.late_fee_outstanding, statement.arrears + statement.late_fee_outstanding):
        for text in both(amount):
            assert text in sheet, text
    # each period: standard × area × months, due date, payment and its application, late-fee days and amount
    assert "2.20元/㎡·月×89.50㎡×3个月=590.70" in sheet
    for period, due in (("2026年1月至3月", "2026年1月15日"), ("2026年4月至6月", "2026年4月15日"),
                        ("2026年7月至9月", "2026年7月15日"), ("2026年10月至12月", "2026年10月15日")):
        assert period in sheet and due in sheet
    assert "2026年2月14日缴费300.00（冲抵本金，R-2026-0214）" in sheet
    assert "290.70311" in sheet and "49.70" in sheet  # Q1: 290.70 outstanding, 311 late days, 49.70
    # E2's segments on Q1: 30 days on 590.70, then on 290.70 from the payment day
    assert "2026年1月15日2026年2月14日30590.70" in sheet and "8.8605" in sheet
    assert "2026年2月14日2026年11月22日281290.70" in sheet and "40.84335" in sheet
    for text in ("65.27", "38.40", "11.22", "2,362.80", "300.00"):
        assert text in sheet
    assert "principal_first" in sheet  # the allocation policy is printed (L6)


def test_evidence_list_numbers_every_item_with_the_demand_proof(session: Session) -> None:
    world = build_world(session)
    evidence = render_packet(session, world, "lawsuit")["evidence_list"]
    for item in ("营业执照", "法定代表人身份证明书", "授权委托书", "《前期物业服务合同》", "房屋权属证明",
                 "物业服务收费标准", "欠费明细及计算表", "违约金计算表", "催告函"):
        assert item in evidence, item
    assert "证据来源" in evidence and "证明目的" in evidence
    assert TRACKING in evidence and "2026年10月25日" in evidence and "2026年11月9日" in evidence
    assert "2026年第1季度至2026年第4季度（共4期）" in evidence
    assert "诉讼时效中断" in evidence


def test_payment_order_packet_without_a_late_fee_clause(session: Session) -> None:
    world = build_world(session, late_fee_rate=None)
    texts = render_packet(session, world, "payment_order")
    assert next(iter(texts)) == "payment_order_application"
    application = texts["payment_order_application"]
    assert "支付令申请书" in application
    assert_parties(application)
    for text in both(PRINCIPAL):
        assert text in application
    assert "违约金" not in application.replace("未约定逾期交纳违约金，本申请不主张违约金", "")
    assert "截至2026年11月22日" in application and COURT in application
    assert "没有其他债务纠纷" in application
    assert "至实际清偿之日" not in application  # a payment order is for a fixed amount (L10)
    fee = court_fee(PRINCIPAL, Procedure.PAYMENT_ORDER).fee
    assert fee == D("16.67")
    estimate = texts["court_fee_estimate"]
    assert "申请支付令" in estimate and f"人民币{fee}元（大写：{amount_in_capitals(fee)}）" in estimate
    sheet = texts["calculation_sheet"]
    assert "欠费计算表" in sheet and "合同未约定违约金，不计算" in sheet and "违约金分段计算明细" not in sheet
    assert "违约金（截至2026年11月22日）：无" in sheet
    assert f"合计：人民币{PRINCIPAL:,.2f}元" in sheet


def test_payment_order_with_a_clause_claims_the_late_fee_to_the_as_of_date(session: Session) -> None:
    application = render_packet(session, build_world(session), "payment_order")["payment_order_application"]
    for amount in (PRINCIPAL, LATE_FEE, TOTAL):
        for text in both(amount):
            assert text in application


def test_arbitration_packet(session: Session) -> None:
    world = build_world(session, commission="南京仲裁委员会")
    texts = render_packet(session, world, "arbitration")
    application = texts["arbitration_application"]
    assert "仲裁申请书" in application and "南京仲裁委员会" in application
    assert_parties(application)
    for amount in (PRINCIPAL, LATE_FEE, TOTAL):
        for text in both(amount):
            assert text in application
    assert "仲裁费用按该仲裁委员会的仲裁收费标准计收" in texts["court_fee_estimate"]
    assert "仲裁代理人" in texts["power_of_attorney"]


@pytest.mark.parametrize(("route", "procedure", "fee"), [
    ("small_claims", Procedure.SMALL_CLAIMS, D("25.00")),
    ("lawsuit", Procedure.SIMPLIFIED, D("25.00")),
])
def test_court_fee_estimate_matches_the_domain(session: Session, route: str, procedure: Procedure, fee: Decimal) -> None:
    world = build_world(session)
    requests = build_packet(session, world.company.id, world.case.id, route=route, as_of=AS_OF,
                            claim_late_fees=True, until_actual_payment=False)
    [request] = [r for r in requests if r.kind == "court_fee_estimate"]
    _, pdf = render(session, request)
    text = pdf_text(pdf)
    expected = court_fee(TOTAL, procedure)
    assert expected.fee == fee and expected.full_fee == D("50.00")
    assert f"人民币{expected.fee}元（大写：{amount_in_capitals(expected.fee)}）" in text
    assert "案件受理费（全额，四舍五入至分）50.00" in text
    assert "2,227.39" in text


def test_power_of_attorney_and_legal_rep_certificate(session: Session) -> None:
    world = build_world(session)
    requests = build_packet(session, world.company.id, world.case.id, route="lawsuit", as_of=AS_OF,
                            claim_late_fees=True, until_actual_payment=False,
                            options={"agent_name": "陈律师", "agent_firm": "江苏某某律师事务所", "agent_special": "true",
                                     "legal_rep_title": "执行董事"})
    texts = {r.kind: pdf_text(render(session, r)[1]) for r in requests if r.kind in (
        "power_of_attorney", "legal_rep_certificate", "complaint")}
    poa = texts["power_of_attorney"]
    assert "授权委托书" in poa and "陈律师" in poa and "江苏某某律师事务所" in poa and "特别授权" in poa
    assert "李明、赵丽" in poa
    cert = texts["legal_rep_certificate"]
    assert "王建国在我单位任执行董事职务，是我单位的法定代表人" in cert and USCC in cert
    assert "委托诉讼代理人有。姓名：陈律师" in texts["complaint"]
