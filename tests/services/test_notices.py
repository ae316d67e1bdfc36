"""The public arrears notice service (issue 4 §3, L16/L18): who is listed, with which figures, and
the notice's life — approval, take-down after a payment, correction, the public check."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.escalation import Action
from arrears.domain.periods import DueRule
from arrears.persistence.enums import (
    ActionStatus,
    CaseStatus,
    DisputeCategory,
    PlanStatus,
)
from arrears.persistence.models import (
    AuditEntry,
    Building,
    CaseHold,
    CollectionCase,
    Community,
    Company,
    Dispute,
    EscalationAction,
    NoticeStatus,
    Owner,
    Ownership,
    PaymentPlan,
    PublicNotice,
    Unit,
)
from arrears.services import billing
from arrears.services.documents import notices
from arrears.services.errors import NotFound, ServiceError
from arrears.services.payments import PaymentInput, record_payment
from arrears.services.statements import unit_statement
from tests.factories import (
    ACTOR,
    RESIDENT_IDS,
    make_community,
    make_company,
    make_owner,
    make_ownership,
    make_schedule,
)

D = Decimal
TODAY = dt.date(2026, 5, 10)
AS_OF = dt.date(2026, 5, 1)
LEGAL_BASIS = "《南京市住宅物业管理条例》"
CONTACT = "物业服务中心 025-52345678"
_keys = itertools.count(1)

# Every owner of the test community: the notice must contain none of these names, IDs or phones.
OWNERS = {
    "listed": ("李明华", RESIDENT_IDS[0], "13912345601"),
    "partly": ("王秀英", RESIDENT_IDS[1], "13912345602"),
    "former": ("陈建国", RESIDENT_IDS[2], "13912345603"),
    "buyer": ("刘芳菲", "110101198001010053", "13912345604"),
    "disputed": ("赵志强", "110101198502020035", "13912345605"),
    "plan": ("孙丽娟", "11010119900303003X", "13912345606"),
    "paid": ("周海涛", "110101197504040015", "13912345607"),
    "prepared": ("吴晓燕", "110101196805050023", "13912345608"),
    "reminder": ("郑国平", "110101199206060011", "13912345609"),
    "held": ("冯雪梅", "110101198807070028", "13912345610"),
}


@dataclass
class World:
    company: Company
    community: Community
    units: dict[str, Unit] = field(default_factory=dict)
    owners: dict[str, Owner] = field(default_factory=dict)
    cases: dict[str, CollectionCase] = field(default_factory=dict)

    @property
    def company_id(self) -> int:
        return self.company.id


def _unit(session: Session, w: World, building: Building, code: str) -> Unit:
    unit = Unit(company_id=w.company.id, community_id=w.community.id, building_id=building.id, code=code,
                area=D("100.00"))
    session.add(unit)
    session.flush()
    return unit


def _owner(session: Session, w: World, key: str) -> Owner:
    name, id_number, phone = OWNERS[key]
    owner = make_owner(session, w.company.id, name=name, id_number=id_number, phone=phone,
                       email=f"{key}@example.cn")
    w.owners[key] = owner
    return owner


def make_case(session: Session, w: World, key: str, unit: Unit, ownership: Ownership, *,
              action: Action = Action.NOTICE_CANDIDATE, status: ActionStatus = ActionStatus.APPROVED,
              cycle: int = 1, action_cycle: int | None = None) -> CollectionCase:
    case = CollectionCase(company_id=w.company.id, community_id=w.community.id, unit_id=unit.id,
                          ownership_id=ownership.id, owner_id=ownership.parties[0].owner_id,
                          status=CaseStatus.OPEN, cycle=cycle, stage_code="notice", opened_on=dt.date(2026, 2, 15),
                          stage_entered_on=dt.date(2026, 4, 20))
    session.add(case)
    session.flush()
    session.add(EscalationAction(
        key=f"case:{case.id}:notice:{next(_keys)}", company_id=w.company.id, case_id=case.id,
        ownership_id=ownership.id, unit_id=unit.id, owner_id=case.owner_id, cycle=action_cycle or cycle,
        stage_code="notice", action=action, prepared_on=dt.date(2026, 4, 20), status=status,
        arrears=D("800.00"),
    ))
    session.flush()
    w.cases[key] = case
    return case


def build_world(session: Session, *, company: Company | None = None) -> World:
    """One community, charges of 200.00 due at each month end Jan–May 2026 on every unit (billed
    through May); as of 2026-05-01 Jan–Apr are overdue. Units (building 1 and 2):

    1-1-101 listed (800.00, Jan–Apr) · 1-1-102 paid January → listed (600.00, Feb–Apr)
    1-1-201 former owner's case (sold 2026-03-31) → left out · 1-1-202 open dispute → left out
    2-1-101 active plan → left out · 2-1-102 paid on 2026-05-05 (after as-of) → left out
    2-1-201 notice action only prepared · 2-1-202 only a reminder → not at the notice stage
    2-2-301 case on hold → left out
    """
    company = company or make_company(session, collections_contact=CONTACT, phone="025-50000000")
    community = make_community(session, company, late_fee_rate_per_day=None, notice_legal_basis=LEGAL_BASIS,
                               name="金陵花园", code=f"JL{next(_keys)}")
    make_schedule(session, community, rate=D("2.00"), due_rule=DueRule.PERIOD_END, due_day=None)
    w = World(company, community)
    b1 = Building(community_id=community.id, code="1", name="1栋")
    b2 = Building(community_id=community.id, code="2", name="2栋")
    session.add_all([b1, b2])
    session.flush()
    codes = {"listed": (b1, "1-1-101"), "partly": (b1, "1-1-102"), "former": (b1, "1-1-201"),
             "disputed": (b1, "1-1-202"), "plan": (b2, "2-1-101"), "paid": (b2, "2-1-102"),
             "prepared": (b2, "2-1-201"), "reminder": (b2, "2-1-202"), "held": (b2, "2-2-301")}
    ownerships: dict[str, Ownership] = {}
    for key, (building, code) in codes.items():
        unit = w.units[key] = _unit(session, w, building, code)
        if key == "former":
            ownerships[key] = make_ownership(session, unit, [_owner(session, w, "former")],
                                             valid_to=dt.date(2026, 3, 31))
            make_ownership(session, unit, [_owner(session, w, "buyer")], valid_from=dt.date(2026, 4, 1))
        else:
            ownerships[key] = make_ownership(session, unit, [_owner(session, w, key)])
    billing.run_billing(session, ACTOR, company_id=company.id, through=dt.date(2026, 5, 1), today=TODAY)
    pay(session, w, "partly", "200.00", dt.date(2026, 2, 20))
    for key in ("listed", "partly", "former", "disputed", "plan", "paid", "held"):
        make_case(session, w, key, w.units[key], ownerships[key])
    make_case(session, w, "prepared", w.units["prepared"], ownerships["prepared"], status=ActionStatus.PREPARED)
    make_case(session, w, "reminder", w.units["reminder"], ownerships["reminder"], action=Action.REMINDER)
    session.add(Dispute(case_id=w.cases["disputed"].id, category=DisputeCategory.SERVICE_QUALITY,
                        description="lift broken", opened_on=dt.date(2026, 4, 25), opened_by="staff"))
    session.add(PaymentPlan(case_id=w.cases["plan"].id, agreed_on=dt.date(2026, 4, 28), status=PlanStatus.ACTIVE,
                            created_by="staff"))
    session.add(CaseHold(case_id=w.cases["held"].id, reason="bereavement", author="staff",
                         starts_on=dt.date(2026, 5, 1), ends_on=dt.date(2026, 6, 30)))
    pay(session, w, "paid", "100.00", dt.date(2026, 5, 5))
    session.flush()
    return w


def pay(session: Session, w: World, key: str, amount: str, on: dt.date) -> None:
    record_payment(session, ACTOR, w.company.id,
                   PaymentInput(w.units[key].id, w.owners[key].id, f"R-{key}-{next(_keys)}", on, amount),
                   today=max(on, TODAY))


def approved_notice(session: Session, w: World) -> PublicNotice:
    notice = notices.generate_notice(session, ACTOR, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    return notices.approve_notice(session, ACTOR, w.company_id, notice.id, today=TODAY,
                                  public_base_url="https://wy.example.cn")


# ---------------------------------------------------------------- who is listed


def test_lists_only_approved_notice_stage_cases_of_current_owners(session: Session) -> None:
    w = build_world(session)
    selection = notices.select_entries(session, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    rows = [(e["building"], e["unit"], e["periods"], e["period_count"], e["amount"]) for e in selection.entries]
    assert rows == [
        ("1栋", "1-1-101", "2026年1月至2026年4月", 4, "800.00"),
        ("1栋", "1-1-102", "2026年2月至2026年4月", 3, "600.00"),
    ]
    assert selection.total == D("1400.00")
    assert selection.excluded == {
        "former_owner": ["1-1-201"], "disputed": ["1-1-202"], "payment_plan": ["2-1-101"],
        "paid_since": ["2-1-102"], "on_hold": ["2-2-301"],
    }


def test_entries_hold_no_personal_data(session: Session) -> None:
    w = build_world(session)
    notice = notices.generate_notice(session, ACTOR, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    stored = str(notice.entries) + str(notice.header)
    for owner in session.scalars(select(Owner).where(Owner.company_id == w.company_id)):
        for value in (owner.name, owner.id_number, owner.phone, owner.email):
            assert value and value not in stored
    assert set(notice.entries[0]) == {"unit_id", "building", "unit", "periods", "period_count", "oldest_due", "amount"}


def test_amounts_come_from_the_ledger_as_of_the_date(session: Session) -> None:
    """As of 2026-03-01 only January and February were overdue; a later payment does not change
    what was owed then — but it keeps the unit off the notice (paid since the as-of date)."""
    w = build_world(session)
    earlier = notices.select_entries(session, w.company_id, w.community.id, as_of=dt.date(2026, 3, 1), today=TODAY)
    assert [(e["unit"], e["periods"], e["amount"]) for e in earlier.entries] == [
        ("1-1-101", "2026年1月至2026年2月", "400.00"),
        ("1-1-102", "2026年2月", "200.00"),
    ]
    # the former owner's case is still out: its ownership does not cover today
    assert earlier.excluded["former_owner"] == ["1-1-201"]


def test_figures_match_the_statement_of_account(session: Session) -> None:
    """The notice's amounts are the debtor's arrears on the unit's statement as of the date."""
    w = build_world(session)
    pay(session, w, "listed", "50.00", dt.date(2026, 4, 2))  # a part payment before the as-of date
    selection = notices.select_entries(session, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    assert [e["amount"] for e in selection.entries] == ["750.00", "600.00"]
    for entry in selection.entries:
        case = next(c for c in w.cases.values() if c.unit_id == entry["unit_id"])
        statement = unit_statement(session, w.company_id, case.unit_id, AS_OF).by_debtor[case.ownership_id]
        assert entry["amount"] == str(statement.arrears)
        overdue = [line for line in statement.lines if line.overdue]
        assert entry["period_count"] == len(overdue)


def test_previous_cycle_notice_action_does_not_count(session: Session) -> None:
    w = build_world(session)
    case = w.cases["listed"]
    case.cycle = 2
    session.flush()
    selection = notices.select_entries(session, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    assert [e["unit"] for e in selection.entries] == ["1-1-102"]


def test_generate_refuses_future_dates_missing_basis_and_empty_notices(session: Session) -> None:
    w = build_world(session)
    with pytest.raises(ServiceError, match="in the future"):
        notices.generate_notice(session, ACTOR, w.company_id, w.community.id, as_of=TODAY + dt.timedelta(days=1),
                                today=TODAY)
    w.community.notice_legal_basis = " "
    with pytest.raises(ServiceError, match="no legal basis"):
        notices.generate_notice(session, ACTOR, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    w.community.notice_legal_basis = LEGAL_BASIS
    with pytest.raises(ServiceError, match="qualifies"):
        notices.generate_notice(session, ACTOR, w.company_id, w.community.id, as_of=dt.date(2026, 1, 15),
                                today=TODAY)
    assert session.scalars(select(PublicNotice)).all() == []


# ---------------------------------------------------------------- life of a notice


def test_generate_freezes_entries_with_a_hash_and_audits(session: Session) -> None:
    w = build_world(session)
    notice = notices.generate_notice(session, ACTOR, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    assert notice.status == NoticeStatus.DRAFT
    assert notice.reference == f"GS-{w.community.code}-20260501-01"
    assert (notice.unit_count, notice.total) == (2, D("1400.00"))
    assert notice.content_hash == notices.content_hash(notice.header, notice.entries)
    assert len(notice.content_hash) == 64
    assert notice.header["legal_basis"] == LEGAL_BASIS and notice.header["contact"] == CONTACT
    assert notice.pdf_file_id is None
    with pytest.raises(ServiceError, match="not approved"):
        notices.notice_pdf(session, w.company_id, notice.id)
    second = notices.generate_notice(session, ACTOR, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    assert second.reference.endswith("-02") and second.content_hash != notice.content_hash
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "notice.generate",
                                                   AuditEntry.entity_id == notice.id)) is not None


def test_approval_fixes_posting_period_and_stores_the_pdf(session: Session) -> None:
    w = build_world(session)
    w.community.notice_posting_days = 15
    notice = approved_notice(session, w)
    assert notice.status == NoticeStatus.APPROVED and notice.approved_by == ACTOR.name
    assert (notice.posting_from, notice.posting_until) == (TODAY, dt.date(2026, 5, 24))
    filename, pdf = notices.notice_pdf(session, w.company_id, notice.id)
    assert pdf.startswith(b"%PDF") and filename.endswith(".pdf")
    assert notices.public_status(notice, TODAY) == "current"
    assert notices.public_status(notice, dt.date(2026, 5, 25)) == "expired"
    with pytest.raises(ServiceError, match="not a draft"):
        notices.approve_notice(session, ACTOR, w.company_id, notice.id, today=TODAY)
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "notice.approve",
                                                   AuditEntry.entity_id == notice.id)) is not None


def test_approval_refuses_when_the_ledger_changed(session: Session) -> None:
    w = build_world(session)
    notice = notices.generate_notice(session, ACTOR, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    pay(session, w, "listed", "50.00", dt.date(2026, 5, 9))
    with pytest.raises(ServiceError, match="changed since it was generated \\(units 1-1-101"):
        notices.approve_notice(session, ACTOR, w.company_id, notice.id, today=TODAY)
    assert notice.status == NoticeStatus.DRAFT


def test_payment_marks_the_notice_for_take_down_and_a_correction_supersedes_it(session: Session) -> None:
    w = build_world(session)
    notice = approved_notice(session, w)
    assert notices.mark_takedowns(session, w.company_id, today=TODAY) == []
    pay(session, w, "partly", "600.00", dt.date(2026, 5, 12))
    marked = notices.mark_takedowns(session, w.company_id, today=dt.date(2026, 5, 12))
    assert marked == [notice]
    assert notice.takedown_marked_on == dt.date(2026, 5, 12) and notice.takedown_marked_by
    assert notice.takedown_units == [{"unit": "1-1-102", "reason": "paid_since"}]
    assert notices.public_status(notice, dt.date(2026, 5, 12)) == "take_down"
    assert notices.mark_takedowns(session, w.company_id, today=dt.date(2026, 5, 13)) == []  # idempotent
    taken = notices.confirm_takedown(session, ACTOR, w.company_id, notice.id, today=dt.date(2026, 5, 13))
    assert (taken.taken_down_on, taken.taken_down_by) == (dt.date(2026, 5, 13), ACTOR.name)
    with pytest.raises(ServiceError, match="already taken down"):
        notices.confirm_takedown(session, ACTOR, w.company_id, notice.id, today=dt.date(2026, 5, 13))

    corrected = notices.generate_corrected_notice(session, ACTOR, w.company_id, notice.id, today=dt.date(2026, 5, 13))
    assert corrected.replaces_id == notice.id and corrected.as_of == AS_OF
    assert [e["unit"] for e in corrected.entries] == ["1-1-101"]
    assert corrected.header["replaces"] == notice.reference
    assert notice.status == NoticeStatus.SUPERSEDED and notice.superseded_by_id == corrected.id
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "public_notice")))
    assert {"notice.generate", "notice.approve", "notice.mark_takedown", "notice.taken_down",
            "notice.supersede"} <= actions


def test_approving_a_new_notice_supersedes_the_current_one(session: Session) -> None:
    w = build_world(session)
    first = approved_notice(session, w)
    second = approved_notice(session, w)
    assert first.status == NoticeStatus.SUPERSEDED and first.superseded_by_id == second.id
    assert first.takedown_marked_on == TODAY  # the printed copy must come down
    assert notices.public_status(second, TODAY) == "current"


def test_withdraw(session: Session) -> None:
    w = build_world(session)
    draft = notices.generate_notice(session, ACTOR, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    with pytest.raises(ServiceError, match="reason"):
        notices.withdraw_notice(session, ACTOR, w.company_id, draft.id, reason=" ", today=TODAY)
    notices.withdraw_notice(session, ACTOR, w.company_id, draft.id, reason="wrong date", today=TODAY)
    assert draft.status == NoticeStatus.WITHDRAWN and draft.takedown_marked_on is None
    with pytest.raises(ServiceError, match="only an approved notice"):
        notices.generate_corrected_notice(session, ACTOR, w.company_id, draft.id, today=TODAY)


def test_public_verification_shows_status_only(session: Session) -> None:
    w = build_world(session)
    draft = notices.generate_notice(session, ACTOR, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    assert notices.verify_status(session, draft.content_hash, today=TODAY) is None  # never posted
    notices.approve_notice(session, ACTOR, w.company_id, draft.id, today=TODAY)
    found = notices.verify_status(session, draft.content_hash.upper(), today=TODAY)
    assert found is not None and found.is_current
    assert (found.community, found.as_of, found.status) == ("金陵花园", AS_OF, "current")
    assert notices.verify_status(session, "0" * 64, today=TODAY) is None
    assert notices.verify_status(session, "not-a-hash", today=TODAY) is None


def test_other_company_cannot_reach_a_notice(session: Session) -> None:
    w = build_world(session)
    other = make_company(session)
    notice = notices.generate_notice(session, ACTOR, w.company_id, w.community.id, as_of=AS_OF, today=TODAY)
    with pytest.raises(NotFound):
        notices.get_notice(session, other.id, notice.id)
    with pytest.raises(NotFound):
        notices.approve_notice(session, ACTOR, other.id, notice.id, today=TODAY)
    with pytest.raises(NotFound):
        notices.generate_notice(session, ACTOR, other.id, w.community.id, as_of=AS_OF, today=TODAY)
    assert notices.list_notices(session, other.id) == []


def test_period_text_merges_runs() -> None:
    ranges = [(dt.date(2026, 1, 1), dt.date(2026, 1, 31)), (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
              (dt.date(2026, 4, 1), dt.date(2026, 6, 30)), (dt.date(2026, 1, 1), dt.date(2026, 1, 31))]
    assert notices.period_text(ranges) == "2026年1月至2026年2月、2026年4月至2026年6月"
    assert notices.period_text([(dt.date(2026, 3, 5), dt.date(2026, 3, 20))]) == "2026年3月5日至2026年3月20日"
