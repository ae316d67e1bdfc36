"""Documents after a title (issue 5 §6) rendered to PDF and read back: the enforcement application
(E7's delay interest, L14), the dishonest-list application (L15: ground, never minors), the deletion
request (3 working days) and the mediation settlement summary (L13)."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from arrears.domain.courtfees import enforcement_fee
from arrears.domain.money import amount_in_capitals
from arrears.persistence.models import LegalCase, LegalEvent
from arrears.services.documents.legal_docs import interest_segments
from arrears.services.documents.registry import KINDS, DocumentRequest, build, render
from arrears.services.errors import ServiceError
from arrears.services.legal import deadlines
from arrears.services.payments import PaymentInput, record_payment
from tests.factories import ACTOR, RESIDENT_IDS

from .packet_world import COURT, TODAY, USCC, World, build_world

D = Decimal
CASE_NUMBER = "（2026）苏0106民初1234号"
ENFORCEMENT_NUMBER = "（2026）苏0106执5678号"
E7_AS_OF = dt.date(2026, 6, 30)
UNIT_ADDRESS = "南京市鼓楼区中山路1号阳光花园3-2-1101室"
GROUND = "被执行人名下拥有案涉房屋，且有稳定工资收入，有履行能力而拒不履行"
MINOR_ID = "320106201005150016"  # born 2010-05-15: a minor in 2026


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def legal_case(session: Session, world: World, **kw: Any) -> LegalCase:
    """A legal case with E7's title: 11,800.00 + 420.60 + 125.00 = 12,345.60, performance period
    ending Sunday 2026-05-31 (last day Monday 2026-06-01)."""
    fields: dict[str, Any] = {
        "company_id": world.company.id, "collection_case_id": world.case.id, "unit_id": world.unit.id,
        "ownership_id": world.case.ownership_id, "opened_on": dt.date(2026, 3, 1), "opened_by": "tester",
        "claim_as_of": dt.date(2026, 3, 1), "claimed_charge_ids": [c.id for c in world.charges],
        "claimed_principal": D("11800.00"), "claimed_late_fee": D("420.60"),
        "court": COURT, "case_number": CASE_NUMBER, "filed_on": dt.date(2026, 3, 5),
        "title_kind": "judgement", "title_effective_on": dt.date(2026, 5, 16), "awarded_principal": D("11800.00"),
        "awarded_late_fee": D("420.60"), "awarded_costs": D("125.00"), "performance_deadline": dt.date(2026, 5, 31),
    }
    fields.update(kw)
    case = LegalCase(**fields)
    session.add(case)
    session.flush()
    return case


def render_text(session: Session, world: World, case: LegalCase, kind: str, **options: str) -> str:
    built, pdf = render(session, DocumentRequest(kind, world.company.id, case.id, options))
    assert pdf.startswith(b"%PDF-")
    assert built.author == world.company.name and built.filename == f"legal-{case.id}-{kind}.pdf"
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None and meta.author == world.company.name
    return pdf_text(pdf)


def both(amount: Decimal) -> list[str]:
    return [f"{amount:,.2f}", amount_in_capitals(amount)]


def assert_parties(text: str) -> None:
    for name in ("李明", "赵丽", RESIDENT_IDS[1], RESIDENT_IDS[0], "金陵物业服务有限公司", USCC, "王建国"):
        assert name in text, name


def test_the_four_kinds_are_registered() -> None:
    for kind in ("enforcement_application", "dishonest_list_application", "deletion_request", "mediation_settlement"):
        assert kind in KINDS


def test_interest_segments_e7_and_a_part_payment() -> None:
    """E7: 12,345.60 unpaid, last day 2026-06-01, as of 2026-06-30 → 29 days → 62.65; a payment
    after the last day ends a segment (start not counted, payment day counted)."""
    unpaid, segments = interest_segments(D("12345.60"), dt.date(2026, 6, 1), [], E7_AS_OF)
    assert unpaid == D("12345.60")
    assert [(s.days, s.balance, s.interest) for s in segments] == [(29, D("12345.60"), D("62.65"))]
    unpaid, segments = interest_segments(
        D("12345.60"), dt.date(2026, 6, 1), [(dt.date(2026, 5, 20), D("345.60")), (dt.date(2026, 6, 10), D("2000.00"))],
        E7_AS_OF)
    assert unpaid == D("10000.00")
    assert [(s.start, s.end, s.days, s.balance, s.interest) for s in segments] == [
        (dt.date(2026, 6, 1), dt.date(2026, 6, 10), 9, D("12000.00"), D("18.90")),
        (dt.date(2026, 6, 10), E7_AS_OF, 20, D("10000.00"), D("35.00")),
    ]
    assert interest_segments(D("100.00"), dt.date(2026, 6, 1), [(dt.date(2026, 6, 5), D("100.00"))],
                             E7_AS_OF)[0] == D("0.00")


def test_enforcement_application_e7(session: Session) -> None:
    world = build_world(session)
    case = legal_case(session, world, enforcement_court=COURT)
    text = render_text(session, world, case, "enforcement_application", as_of=E7_AS_OF.isoformat(),
                       agent_name="陈律师", agent_firm="江苏某某律师事务所", agent_phone="13800000001")
    assert "强制执行申请书" in text
    assert_parties(text)
    assert "1990年3月7日" in text and "1949年12月31日" in text  # the respondents' birth dates (from the IDs)
    assert "陈律师" in text and "江苏某某律师事务所" in text
    # the title: court, case number, effective date
    assert f"{COURT}{CASE_NUMBER}民事判决书" in text and "2026年5月16日发生法律效力" in text
    # amounts in figures and capitals (L8)
    for amount in (D("11800.00"), D("420.60"), D("125.00")):
        assert f"{amount:,.2f}" in text, amount
    for amount in (D("12345.60"), D("62.65"), D("12408.25")):
        for part in both(amount):
            assert part in text, part
    assert "陆拾贰元陆角伍分" in text and "壹万贰仟叁佰肆拾伍元陆角" in text
    # E7: the period ends on Sunday 2026-05-31, so its last day is Monday 2026-06-01; interest from 06-02
    assert "2026年5月31日" in text and "顺延至2026年6月1日" in text
    assert "自2026年6月2日起" in text and "日万分之一点七五" in text and "暂计至2026年6月30日" in text
    assert "2026年6月1日2026年6月30日2912,345.6062.65" in text  # the segment: from, to, days, base, interest
    # nothing paid: non-performance
    assert "被执行人未履行" in text and "至今未履行给付义务" in text
    # known assets: the unit with its address and area
    assert UNIT_ADDRESS in text and "89.50平方米" in text
    # enforcement fee estimate (L9) on the amount applied for
    fee = enforcement_fee(D("12408.25"))
    assert fee == D("86.12") and f"预估{fee}元" in text
    assert "第二百四十七条" in text and "第二百五十条" in text and "第二百六十四条" in text
    assert "申请执行人（盖章）" in text and f"此致{COURT}" in text


def test_enforcement_application_counts_payments_like_the_case_screen(session: Session) -> None:
    world = build_world(session)
    case = legal_case(session, world)
    record_payment(session, ACTOR, world.company.id,
                   PaymentInput(world.unit.id, world.owners[0].id, "R-2026-0610", dt.date(2026, 6, 10), D("1000.00")),
                   today=TODAY)
    built = build(session, DocumentRequest("enforcement_application", world.company.id, case.id,
                                           {"as_of": E7_AS_OF.isoformat()}))
    doc = built.context["d"]
    figures = deadlines.figures(session, case, E7_AS_OF)
    assert doc.paid == figures.recovered == D("1000.00")
    assert doc.unpaid == figures.unpaid == D("11345.60")
    # 9 days on 12,345.60 (19.44432 → 19.44) then 20 days on 11,345.60 (39.7096 → 39.71)
    assert [s.interest for s in doc.segments] == [D("19.44"), D("39.71")]
    assert doc.delay_interest == D("59.15")
    text = render_text(session, world, case, "enforcement_application", as_of=E7_AS_OF.isoformat())
    assert "2026年6月10日付1,000.00元" in text and "仅履行人民币1,000.00元" in text
    for part in both(D("11345.60")) + both(D("59.15")):
        assert part in text, part


def test_enforcement_application_refused_before_the_period_ends_or_without_a_title(session: Session) -> None:
    world = build_world(session)
    case = legal_case(session, world)
    with pytest.raises(ServiceError, match="performance period"):
        build(session, DocumentRequest("enforcement_application", world.company.id, case.id, {"as_of": "2026-06-01"}))
    case.title_effective_on = None
    session.flush()
    with pytest.raises(ServiceError, match="no effective title"):
        build(session, DocumentRequest("enforcement_application", world.company.id, case.id, {"as_of": "2026-06-30"}))


def test_dishonest_list_application(session: Session) -> None:
    world = build_world(session)
    case = legal_case(session, world, enforcement_court=COURT, enforcement_case_number=ENFORCEMENT_NUMBER,
                      enforcement_applied_on=dt.date(2026, 6, 8), dishonest_ground=GROUND,
                      dishonest_ground_by="manager")
    text = render_text(session, world, case, "dishonest_list_application", as_of=E7_AS_OF.isoformat())
    assert "纳入失信被执行人名单申请书" in text
    assert_parties(text)
    assert ENFORCEMENT_NUMBER in text and CASE_NUMBER in text and COURT in text
    assert "2026年6月8日" in text and "2026年5月16日" in text
    assert re.sub(r"\s", "", GROUND) in text
    for part in both(D("12345.60")) + both(D("62.65")):
        assert part in text, part
    assert "第一条第（一）项" in text and "不属于未成年人" in text


def test_dishonest_list_application_refused_without_a_ground(session: Session) -> None:
    world = build_world(session)
    case = legal_case(session, world, enforcement_court=COURT, enforcement_case_number=ENFORCEMENT_NUMBER,
                      enforcement_applied_on=dt.date(2026, 6, 8), dishonest_ground="  ")
    with pytest.raises(ServiceError, match="no recorded ground"):
        render(session, DocumentRequest("dishonest_list_application", world.company.id, case.id,
                                        {"as_of": E7_AS_OF.isoformat()}))


def test_dishonest_list_application_never_for_a_minor(session: Session) -> None:
    world = build_world(session)
    world.owners[1].id_number = MINOR_ID  # born 2010-05-15
    session.flush()
    case = legal_case(session, world, enforcement_court=COURT, enforcement_case_number=ENFORCEMENT_NUMBER,
                      enforcement_applied_on=dt.date(2026, 6, 8), dishonest_ground=GROUND)
    with pytest.raises(ServiceError, match="minor") as refused:
        render(session, DocumentRequest("dishonest_list_application", world.company.id, case.id,
                                        {"as_of": E7_AS_OF.isoformat()}))
    assert "赵丽" in str(refused.value)


def test_dishonest_list_application_needs_a_known_birth_date_and_an_enforcement_case(session: Session) -> None:
    world = build_world(session)
    world.owners[1].id_type, world.owners[1].id_number = "passport", "E12345678"
    session.flush()
    case = legal_case(session, world, dishonest_ground=GROUND)
    request = DocumentRequest("dishonest_list_application", world.company.id, case.id, {"as_of": "2026-06-30"})
    with pytest.raises(ServiceError, match="birth date of 赵丽 is unknown"):
        build(session, request)
    world.owners[1].birth_date = dt.date(1980, 1, 1)
    session.flush()
    with pytest.raises(ServiceError, match="no enforcement case"):
        build(session, request)


def test_deletion_request(session: Session) -> None:
    world = build_world(session)
    case = legal_case(session, world, enforcement_court=COURT, enforcement_case_number=ENFORCEMENT_NUMBER,
                      enforcement_applied_on=dt.date(2026, 6, 8), dishonest_ground=GROUND,
                      dishonest_applied_on=dt.date(2026, 7, 1), listed_on=dt.date(2026, 8, 20),
                      paid_in_full_on=dt.date(2026, 9, 4))
    text = render_text(session, world, case, "deletion_request")
    assert "删除失信信息申请书" in text
    assert_parties(text)
    assert ENFORCEMENT_NUMBER in text and COURT in text
    assert "贵院于2026年8月20日将被执行人纳入失信被执行人名单" in text  # the listing
    assert "已于2026年9月4日全部履行" in text  # full performance
    assert "三个工作日内" in text and "不迟于2026年9月9日" in text  # Fri 09-04 → Mon, Tue, Wed
    for part in both(D("12345.60")):
        assert part in text, part
    assert "第十条第一款第（一）项" in text


def test_deletion_request_refused_before_full_payment_or_without_a_listing(session: Session) -> None:
    world = build_world(session)
    case = legal_case(session, world, listed_on=dt.date(2026, 8, 20))
    request = DocumentRequest("deletion_request", world.company.id, case.id)
    with pytest.raises(ServiceError, match="not been paid in full"):
        build(session, request)
    assert build(session, DocumentRequest("deletion_request", world.company.id, case.id, {"paid_on": "2026-09-04"}))
    case.listed_on = None
    session.flush()
    with pytest.raises(ServiceError, match="no dishonest-list application or listing"):
        build(session, DocumentRequest("deletion_request", world.company.id, case.id, {"paid_on": "2026-09-04"}))


def test_mediation_settlement_from_the_lifecycle_event(session: Session) -> None:
    """The event record_mediation writes (kind mediation_settled, terms as text) with the amounts of
    the mediation-document title."""
    world = build_world(session)
    case = legal_case(session, world, title_kind="mediation_document", awarded_principal=D("2062.80"),
                      awarded_late_fee=D("100.00"), awarded_costs=D("0.00"), performance_deadline=dt.date(2026, 6, 30))
    session.add(LegalEvent(legal_case_id=case.id, kind="mediation_settled", occurred_on=dt.date(2026, 5, 16),
                           recorded_by="tester", detail={
                               "stage": "pre_suit", "outcome": "settled", "mediator": "鼓楼区物业纠纷人民调解委员会",
                               "terms": "被申请人于2026年6月30日前一次性付清\n申请人放弃其余违约金"}))
    session.flush()
    text = render_text(session, world, case, "mediation_settlement")
    assert "调解协议摘要" in text
    assert_parties(text)
    assert "鼓楼区物业纠纷人民调解委员会（诉前调解）" in text and "2026年5月16日" in text
    for part in both(D("2062.80")) + both(D("100.00")) + both(D("2162.80")):
        assert part in text, part
    assert "于2026年6月30日前一次性向物业服务人支付人民币2,162.80元" in text
    assert "申请人放弃其余违约金" in text and "司法确认" in text


def test_mediation_settlement_with_instalments(session: Session) -> None:
    world = build_world(session)
    case = legal_case(session, world, title_kind=None, title_effective_on=None, awarded_principal=None,
                      awarded_late_fee=None, awarded_costs=None, performance_deadline=None)
    detail = {"stage": "in_suit", "outcome": "settled", "mediator": COURT, "case_number": CASE_NUMBER,
              "principal": "2062.80", "late_fee": "64.59", "costs": "25.00",
              "instalments": [{"due_on": "2026-06-30", "amount": "1000.00"},
                              {"due_on": "2026-07-31", "amount": "1152.39"}],
              "terms": ["任何一期逾期未付，申请人可就全部未付款项申请强制执行"]}
    event = LegalEvent(legal_case_id=case.id, kind="mediation", occurred_on=dt.date(2026, 5, 20),
                       recorded_by="tester", detail=detail)
    session.add(event)
    session.flush()
    text = render_text(session, world, case, "mediation_settlement")
    assert CASE_NUMBER in text and f"{COURT}（诉中调解）" in text and "2026年5月20日" in text
    assert "分2期" in text
    for part in both(D("2152.39")) + both(D("1000.00")) + both(D("1152.39")) + both(D("64.59")):
        assert part in text, part
    assert "2026年6月30日前" in text and "2026年7月31日前" in text
    assert "任何一期逾期未付" in text and "司法确认" not in text
    event.detail = {**detail, "instalments": [{"due_on": "2026-06-30", "amount": "1000.00"}]}
    session.flush()
    with pytest.raises(ServiceError, match="add up to 1000.00, not the settled 2152.39"):
        build(session, DocumentRequest("mediation_settlement", world.company.id, case.id))


def test_mediation_settlement_refused_without_a_settlement(session: Session) -> None:
    world = build_world(session)
    case = legal_case(session, world)
    session.add(LegalEvent(legal_case_id=case.id, kind="mediation_failed", occurred_on=dt.date(2026, 5, 16),
                           recorded_by="tester", detail={"stage": "in_suit", "outcome": "failed"}))
    session.flush()
    with pytest.raises(ServiceError, match="no recorded mediation settlement"):
        build(session, DocumentRequest("mediation_settlement", world.company.id, case.id))


def test_documents_of_another_company_are_not_found(session: Session) -> None:
    world = build_world(session)
    case = legal_case(session, world)
    other = build_world(session, uscc="91110000600007336D")
    with pytest.raises(ServiceError):
        build(session, DocumentRequest("enforcement_application", other.company.id, case.id, {"as_of": "2026-06-30"}))


def test_enforcement_of_an_award_names_the_commission_and_leaves_the_court_to_fill(session: Session) -> None:
    world = build_world(session, commission="南京仲裁委员会")
    case = legal_case(session, world, title_kind="award", court="南京仲裁委员会", case_number="（2026）宁仲字第88号")
    text = render_text(session, world, case, "enforcement_application", as_of=E7_AS_OF.isoformat())
    assert "南京仲裁委员会（2026）宁仲字第88号仲裁裁决书" in text
    assert "此致＿＿＿＿＿＿人民法院" in text
