"""The plain data of a filing packet (issue 4 §4), built from the ledger of one collection case.

Everything a filing document prints comes from here: the parties (co-owners with their ID numbers
in full — filing documents are the only place they appear unmasked, L18), the statement of the
case's debtor as of the as-of date (the same engine as the statement service, so the figures
agree to the fen), each period's calculation (standard × area × months, payments and their
application, late-fee segments, L6–L8), the delivered demands with their proof (L2, L5), the
court-fee estimate (L9) and the numbered evidence list (SPC evidence rules art. 19).

Preconditions (refused with ServiceError): a route this case may take (L10–L12) and at least one
delivered demand whose deadline has passed by the as-of date (L2).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.allocation import AllocationPolicy, Component
from arrears.domain.courtfees import CourtFee, Procedure, court_fee, enforcement_fee
from arrears.domain.escalation import Action, Channel
from arrears.domain.identity import IdentifierError, IdType, birth_date_from_id
from arrears.domain.latefees import LateFeeTerms, PrincipalReduction, late_fee_lines
from arrears.domain.limitation import DeliveryResult
from arrears.domain.lpr import (
    CONTRACT,
    LPR_MULTIPLE,
    LPR_X1_3,
    LprRate,
    basis_terms,
    check_basis,
    lpr_on,
    rebased_late_fee,
)
from arrears.domain.money import ZERO
from arrears.domain.periods import BillingCycle, DueRule, Period, period_amount
from arrears.domain.statement import ADJUSTMENT, Statement, StatementLine
from arrears.persistence.enums import (
    FeeBasis,
    FeeKind,
    InterruptionKind,
    OwnerKind,
    UnitType,
)
from arrears.persistence.models import (
    Charge,
    CollectionCase,
    Community,
    Delivery,
    EscalationAction,
    FeeSchedule,
    Interruption,
    LegalCase,
    MessageAction,
    OutboundMessage,
    Owner,
    Ownership,
    Unit,
)

from ..errors import N_, ServiceError
from ..escalation.disputes import ever_disputed
from ..statements import unit_statement
from ..tenancy import get_company, get_scoped


class Route(StrEnum):
    PAYMENT_ORDER = "payment_order"
    SMALL_CLAIMS = "small_claims"
    LAWSUIT = "lawsuit"
    ARBITRATION = "arbitration"


ROUTE_TEXT = {
    Route.PAYMENT_ORDER: "督促程序（申请支付令）",
    Route.SMALL_CLAIMS: "小额诉讼程序",
    Route.LAWSUIT: "民事诉讼（简易程序）",
    Route.ARBITRATION: "仲裁",
}
#: The fee each route pays (L9); a lawsuit is estimated under the simplified procedure (E6: the
#: default above the small-claims ceiling), with the ordinary fee shown beside it.
ROUTE_PROCEDURE = {
    Route.PAYMENT_ORDER: Procedure.PAYMENT_ORDER,
    Route.SMALL_CLAIMS: Procedure.SMALL_CLAIMS,
    Route.LAWSUIT: Procedure.SIMPLIFIED,
}
PROCEDURE_TEXT = {
    Procedure.ORDINARY: "普通程序",
    Procedure.SIMPLIFIED: "简易程序",
    Procedure.SMALL_CLAIMS: "小额诉讼程序",
    Procedure.SETTLEMENT: "调解结案或撤诉",
    Procedure.PAYMENT_ORDER: "申请支付令",
}
ID_TYPE_TEXT = {
    IdType.RESIDENT_ID: "居民身份证",
    IdType.PASSPORT: "护照",
    IdType.HK_MACAO_PERMIT: "港澳居民来往内地通行证",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    IdType.HMT_RESIDENCE_PERMIT: "港澳台居民居住证",
    IdType.FOREIGN_PERMANENT_ID: "外国人永久居留身份证",
    IdType.USCC: "统一社会信用代码",
    IdType.ORG_CODE: "组织机构代码",
}
UNIT_TYPE_TEXT = {
    UnitType.RESIDENTIAL: "住宅",
    UnitType.COMMERCIAL: "商业用房",
    UnitType.PARKING: "车位",
    UnitType.STORAGE: "储藏室",
    UnitType.OTHER: "其他",
}
CYCLE_TEXT = {
    BillingCycle.MONTHLY: "按月",
    BillingCycle.QUARTERLY: "按季",
    BillingCycle.HALF_YEARLY: "按半年",
    BillingCycle.YEARLY: "按年",
}
POLICY_TEXT = {
    AllocationPolicy.PRINCIPAL_FIRST: "先冲抵到期在先的欠费本金，违约金最后冲抵（principal_first）",
    AllocationPolicy.STATUTORY: "依《民法典》第五百六十一条，按费用、违约金、本金的顺序冲抵（statutory）",
}
CHANNEL_TEXT = {Channel.EMAIL: "电子邮件", Channel.SMS: "短信", Channel.LETTER: "EMS邮寄", Channel.HAND: "直接送达"}
RESULT_TEXT = {
    DeliveryResult.SIGNED_BY_OWNER: "业主本人签收",
    DeliveryResult.SIGNED_BY_HOUSEHOLD_ADULT: "同住成年家属签收",
    DeliveryResult.SIGNED_BY_AUTHORISED: "业主授权的人签收",
    DeliveryResult.REFUSED_AT_GIVEN_ADDRESS: "在业主书面确认的送达地址拒收",
    DeliveryResult.RETURNED_FROM_GIVEN_ADDRESS: "自业主书面确认的送达地址退回",
    DeliveryResult.SMS_RECEIPT: "短信网关回执送达",
    DeliveryResult.EMAIL_ACCEPTED: "收件服务器已接收",
}
SOURCE_TEXT = {"payment": "缴费", "credit": "预存款冲抵", "adjustment": "减免调整"}
COMPONENT_TEXT = {Component.PRINCIPAL: "本金", Component.LATE_FEE: "违约金", Component.COST: "费用"}
NONE = "无"


@dataclass(frozen=True)
class Plaintiff:
    name: str
    uscc: str
    address: str
    legal_representative: str
    phone: str


@dataclass(frozen=True)
class Defendant:
    name: str
    is_organisation: bool
    id_type_text: str
    id_number: str  # in full: filing documents only (L18)
    gender: str
    birth_date: dt.date | None
    nationality: str
    address: str
    phone: str


@dataclass(frozen=True)
class Agent:
    name: str
    firm: str
    title: str
    phone: str
    id_number: str
    special: bool  # special authorisation (特别授权) or general (一般代理)


@dataclass(frozen=True)
class Application:
    on: dt.date
    amount: Decimal
    component_text: str
    source_text: str
    ref: str


@dataclass(frozen=True)
class Segment:
    """One late-fee segment (L7, E2): ``start`` not counted, ``end`` counted; ``fee`` exact."""

    start: dt.date
    end: dt.date
    days: int
    principal: Decimal
    fee_text: str  # exact, unrounded (e.g. 8.8605): rounded once per period


@dataclass(frozen=True)
class PeriodLine:
    seq: int
    label: str
    fee_item: str
    period_start: dt.date
    period_end: dt.date
    due_date: dt.date
    formula: str  # 2.20元/㎡·月 × 89.50㎡ × 3个月
    standard_amount: Decimal | None
    amount: Decimal
    prorated: bool  # amount differs from standard × area × months (part period, discount)
    applications: tuple[Application, ...]
    paid: Decimal
    adjusted: Decimal
    outstanding: Decimal
    late_fee_days: int
    late_fee_accrued: Decimal
    late_fee_paid: Decimal
    late_fee: Decimal  # outstanding late fee claimed (0 when not claimed)
    late_fee_capped: bool
    segments: tuple[Segment, ...]
    time_barred: bool
    limitation_end: dt.date
    demanded: bool  # listed in a delivered demand (L2: otherwise flagged)


@dataclass(frozen=True)
class FeeStandard:
    fee_item: str
    unit_type_text: str
    rate: Decimal
    rate_text: str  # 2.20
    unit_text: str  # 元/㎡·月 or 元/户·月
    cycle_text: str
    due_text: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True)
class DemandRecord:
    seq: int
    reference: str
    prepared_on: dt.date
    delivered_on: dt.date
    deadline_on: dt.date | None
    channel_text: str
    result_text: str
    tracking_number: str
    message_ref: str
    signed_by: str
    proof_ref: str  # what proves the delivery: tracking number / message id / interruption proof
    periods_text: str
    amount: Decimal


@dataclass(frozen=True)
class EvidenceItem:
    seq: int
    name: str
    source: str
    content: str
    proves: str
    pages: str = ""


@dataclass(frozen=True)
class Filing:
    """Everything the documents of one packet print; templates read it, never the database."""

    case_id: int
    reference: str
    route: Route
    route_text: str
    as_of: dt.date
    plaintiff: Plaintiff
    defendants: tuple[Defendant, ...]
    agent: Agent | None
    community_name: str
    community_address: str
    unit_code: str
    unit_label: str
    unit_address: str
    unit_type_text: str
    area: Decimal
    area_text: str
    contract_name: str
    contract_number: str
    contract_signed_on: dt.date | None
    contract_start: dt.date | None
    contract_end: dt.date | None
    fee_clause: str
    late_fee_rate: Decimal | None
    late_fee_rate_text: str
    late_fee_cap_text: str
    policy_text: str
    demand_deadline_days: int
    fee_standards: tuple[FeeStandard, ...]
    lines: tuple[PeriodLine, ...]
    demands: tuple[DemandRecord, ...]
    undemanded_periods: tuple[str, ...]
    first_period: str
    last_period: str
    periods_text: str
    overdue_total: Decimal  # outstanding principal of the listed periods
    credit: Decimal  # unapplied prepayment of the debtor, deducted (LEGAL "arrears")
    principal: Decimal  # fees claimed = arrears as of the as-of date
    late_fee_requested: bool
    claim_late_fees: bool  # requested and the contract has a clause (L7, L10)
    until_actual_payment: bool
    late_fee: Decimal
    total: Decimal
    time_barred_total: Decimal
    court: str
    commission: str
    preservation: str
    mediation: bool
    disputed: bool
    cost_charges_total: Decimal
    court_fee: CourtFee | None
    court_fee_alternatives: tuple[tuple[str, Decimal], ...]
    enforcement_fee: Decimal
    procedure_text: str
    evidence: tuple[EvidenceItem, ...] = field(default=())
    late_fee_basis: str = CONTRACT  # contract | lpr_x1_3 (L7)
    claim_rate_text: str = ""  # the daily rate the claimed late fee is computed at (contract or LPR × 1.3)
    late_fee_basis_text: str = ""  # the basis in words, for the sheet and the complaint
    lpr_percent: Decimal | None = None  # the one-year LPR applied (basis lpr_x1_3)
    lpr_effective_from: dt.date | None = None

    @property
    def sheet_title(self) -> str:
        return "欠费及违约金计算表" if self.claim_late_fees else "欠费计算表"

    @property
    def defendant_names(self) -> str:
        return "、".join(d.name for d in self.defendants)


def _claimed_ids(session: Session, case: CollectionCase) -> set[int] | None:
    """Once a legal case is open, the packet claims exactly its charges: a time-barred charge the
    lawyer did not include stays out of the claim (L4). None: no legal case yet, claim them all."""
    legal = session.scalar(select(LegalCase).where(LegalCase.collection_case_id == case.id,
                                                   LegalCase.closed_on.is_(None)))
    if legal is None or not legal.claimed_charge_ids:
        return None
    return {int(i) for i in legal.claimed_charge_ids}


def filing_data(
    session: Session,
    company_id: int,
    case_id: int,
    *,
    route: Route | str,
    as_of: dt.date,
    claim_late_fees: bool,
    until_actual_payment: bool,
    preservation: str | None = None,
    mediation: bool = True,
    agent: Agent | None = None,
    late_fee_basis: str = CONTRACT,
) -> Filing:
    """The data of a filing packet for case ``case_id`` as of ``as_of`` (see the module doc).

    ``late_fee_basis``: ``contract`` (the contract's daily rate) or ``lpr_x1_3`` (the one-year LPR in
    force on ``as_of`` × 1.3 / 365 a day, the contract's cap unchanged; L7)."""
    route = parse_route(route)
    basis = _basis(late_fee_basis)
    case = get_scoped(session, CollectionCase, case_id, company_id)
    company = get_company(session, company_id)
    community = session.get(Community, case.community_id)
    unit = get_scoped(session, Unit, case.unit_id, company_id)
    assert community is not None
    check_route(session, case, community, route)
    demands = delivered_demands(session, case, as_of)
    check_demanded(case, demands, as_of)

    statements = unit_statement(session, company_id, unit.id, as_of)
    statement = statements.by_debtor.get(case.ownership_id)
    if statement is None:
        raise ServiceError(N_("case %(id)s has no charges as of %(date)s"), id=case.id, date=as_of.isoformat())
    kinds = _charge_kinds(session, [line.key for line in statement.lines])
    has_clause = community.late_fee_rate_per_day is not None
    claim_fee = claim_late_fees and has_clause
    # Payment order: only a fixed amount can be ordered (L10), never "until actual payment".
    until = until_actual_payment and claim_fee and route is not Route.PAYMENT_ORDER
    demanded_ids = {int(c["id"]) for action, _ in demands for c in (action.charges or [])}
    contract_terms = LateFeeTerms(rate_per_day=community.late_fee_rate_per_day,
                                  cap_ratio=community.late_fee_cap_ratio)
    try:
        terms = basis_terms(basis, contract_terms, as_of)
        lpr = lpr_on(as_of) if basis == LPR_X1_3 else None
    except LookupError:
        raise ServiceError(N_("no one-year LPR on record for %(date)s: claim late fees on the contract rate "
                              "(L7)"), date=as_of.isoformat()) from None
    lines = _lines(session, community, unit, statement, kinds, claim_fee, demanded_ids, _claimed_ids(session, case),
                   terms=terms if basis != CONTRACT else None)
    if not lines:
        raise ServiceError(N_("case %(id)s owes nothing as of %(date)s"), id=case.id, date=as_of.isoformat())
    overdue_total = sum((line.outstanding for line in lines), ZERO)
    principal = max(overdue_total - statement.credit, ZERO)
    late_fee = sum((line.late_fee for line in lines), ZERO)
    if principal + late_fee <= 0:
        raise ServiceError(N_("case %(id)s owes nothing as of %(date)s"), id=case.id, date=as_of.isoformat())
    total = principal + late_fee
    fee, alternatives, procedure_text = _court_fees(route, total)
    labels = [line.label for line in lines]
    defendants = _defendants(session, case, community, unit)
    filing = Filing(
        case_id=case.id,
        reference=f"ARR-CASE-{case.id:06d}",
        route=route,
        route_text=ROUTE_TEXT[route],
        as_of=as_of,
        plaintiff=Plaintiff(company.name, company.uscc, company.address, company.legal_representative,
                            company.phone or company.collections_contact or NONE),
        defendants=defendants,
        agent=agent,
        community_name=community.name,
        community_address=community.address,
        unit_code=unit.code,
        unit_label=f"{community.name}{unit.code}",
        unit_address=_unit_address(community, unit),
        unit_type_text=UNIT_TYPE_TEXT.get(unit.unit_type, str(unit.unit_type)),
        area=unit.area,
        area_text=_num(unit.area),
        contract_name=community.contract_name,
        contract_number=community.contract_number or NONE,
        contract_signed_on=community.contract_signed_on,
        contract_start=community.contract_start,
        contract_end=community.contract_end,
        fee_clause=(community.fee_clause or "").strip(),
        late_fee_rate=community.late_fee_rate_per_day,
        late_fee_rate_text=rate_text(community.late_fee_rate_per_day),
        late_fee_cap_text=_cap_text(community.late_fee_cap_ratio),
        policy_text=POLICY_TEXT.get(community.allocation_policy, str(community.allocation_policy)),
        demand_deadline_days=community.demand_deadline_days,
        fee_standards=_fee_standards(session, community, unit),
        lines=lines,
        demands=tuple(_demand_record(session, i, action, delivery, case) for i, (action, delivery)
                      in enumerate(demands, start=1)),
        undemanded_periods=tuple(line.label for line in lines if not line.demanded),
        first_period=labels[0],
        last_period=labels[-1],
        periods_text=_span(lines[0].period_start, lines[-1].period_end),
        overdue_total=overdue_total,
        credit=statement.credit,
        principal=principal,
        late_fee_requested=claim_late_fees,
        claim_late_fees=claim_fee,
        until_actual_payment=until,
        late_fee=late_fee,
        total=total,
        time_barred_total=sum((line.outstanding for line in lines if line.time_barred), ZERO),
        court=(community.competent_court or "").strip(),
        commission=(community.arbitration_commission or "").strip(),
        preservation=(preservation or "").strip() or NONE,
        mediation=mediation,
        disputed=ever_disputed(session, case.id),
        cost_charges_total=sum((line.outstanding for line in statement.lines
                                if kinds.get(line.key) == FeeKind.COST and line.overdue), ZERO),
        court_fee=fee,
        court_fee_alternatives=alternatives,
        enforcement_fee=enforcement_fee(total),
        procedure_text=procedure_text,
        late_fee_basis=basis,
        claim_rate_text=(rate_text(community.late_fee_rate_per_day) if lpr is None
                         else lpr_rate_text(lpr.rate_percent)),
        late_fee_basis_text=_basis_text(lpr, terms, contract_terms, as_of) if claim_fee else "",
        lpr_percent=lpr.rate_percent if lpr is not None else None,
        lpr_effective_from=lpr.effective_from if lpr is not None else None,
    )
    return _with_evidence(filing)


def _basis_text(lpr: LprRate | None, terms: LateFeeTerms, contract: LateFeeTerms, as_of: dt.date) -> str:
    """The late-fee basis in words (L7) for the sheet and the complaint."""
    if lpr is None:
        return "按合同约定的违约金标准计算"
    lower = (terms.rate_per_day is not None and contract.rate_per_day is not None
             and terms.rate_per_day < contract.rate_per_day)
    return (f"按{_cn(as_of)}适用的一年期贷款市场报价利率（LPR，{_cn(lpr.effective_from)}公布）"
            f"{_num(lpr.rate_percent)}%的{_num(LPR_MULTIPLE).rstrip('0')}倍计算（年利率"
            f"{_num(lpr.rate_percent * LPR_MULTIPLE)}%，日利率为年利率÷365）"
            + ("，低于合同约定标准，系预期法院依法调整后的标准" if lower else ""))


def _basis(value: str) -> str:
    try:
        return check_basis(value)
    except ValueError:
        raise ServiceError(N_("unknown late-fee basis %(basis)s (contract or lpr_x1_3)"), basis=str(value)) from None


def lpr_rate_text(rate_percent: Decimal) -> str:
    """3.00 → 一年期LPR 3.00%×1.3÷365（日利率约0.0107%）."""
    daily = rate_percent * LPR_MULTIPLE / 365
    return (f"一年期贷款市场报价利率{_num(rate_percent)}%的{_num(LPR_MULTIPLE).rstrip('0')}倍"
            f"（年利率{_num(rate_percent * LPR_MULTIPLE)}%÷365，即每日约{daily:.4f}%）")


# --- preconditions ----------------------------------------------------------------------------------


def parse_route(route: Route | str) -> Route:
    try:
        return Route(str(route).strip())
    except ValueError:
        raise ServiceError(N_("unknown filing route %(route)s (payment_order, small_claims, lawsuit or "
                              "arbitration)"), route=str(route)) from None


def check_route(session: Session, case: CollectionCase, community: Community, route: Route) -> None:
    """L10–L12: arbitration needs the contract's commission, and then the courts will not take
    the case; a payment order is refused once the case has ever been disputed."""
    commission = (community.arbitration_commission or "").strip()
    if route is Route.ARBITRATION and not commission:
        raise ServiceError(N_("arbitration needs an arbitration clause: community %(code)s names no "
                              "arbitration commission (L12)"), code=community.code)
    if route is not Route.ARBITRATION and commission:
        raise ServiceError(N_("the service contract of community %(code)s names an arbitration commission "
                              "(%(commission)s): file with it, not with a court (L12)"),
                           code=community.code, commission=commission)
    if route is Route.PAYMENT_ORDER and ever_disputed(session, case.id):
        raise ServiceError(N_("case %(id)s has been disputed: a payment order is not available (L10)"),
                           id=case.id)


def delivered_demands(
    session: Session, case: CollectionCase, as_of: dt.date
) -> list[tuple[EscalationAction, Delivery | None]]:
    """The case's demands delivered by ``as_of``, each with the delivery result that proves it
    (None when the delivery was recorded without an outbox message, e.g. imported)."""
    actions = list(session.scalars(
        select(EscalationAction).where(
            EscalationAction.case_id == case.id, EscalationAction.action == Action.DEMAND,
            EscalationAction.delivered_on.is_not(None), EscalationAction.delivered_on <= as_of,
        ).order_by(EscalationAction.delivered_on, EscalationAction.id)))
    result: list[tuple[EscalationAction, Delivery | None]] = []
    for action in actions:
        delivery = session.scalar(
            select(Delivery).join(MessageAction, MessageAction.message_id == Delivery.message_id)
            .where(MessageAction.action_id == action.id, Delivery.occurred_on == action.delivered_on)
            .order_by(Delivery.id).limit(1))
        result.append((action, delivery))
    return result


def check_demanded(
    case: CollectionCase, demands: Sequence[tuple[EscalationAction, Delivery | None]], as_of: dt.date
) -> None:
    """L2: no filing without at least one delivered demand whose deadline has passed by ``as_of``."""
    deadlines = [action.deadline_on for action, _ in demands if action.deadline_on is not None]
    if case.demand_deadline is not None:
        deadlines.append(case.demand_deadline)
    if not demands and case.demand_deadline is None:
        raise ServiceError(N_("case %(id)s has no delivered demand: a filing needs a written demand that "
                              "reached the owner and whose deadline has passed (L2)"), id=case.id)
    if not any(deadline < as_of for deadline in deadlines):
        latest = max(deadlines) if deadlines else None
        raise ServiceError(N_("the deadline of the demand to case %(id)s has not passed by %(date)s "
                              "(it ends on %(deadline)s): file after it (L2)"),
                           id=case.id, date=as_of.isoformat(), deadline=latest.isoformat() if latest else "?")


# --- parts --------------------------------------------------------------------------------------------


def rate_text(rate: Decimal | None) -> str:
    """0.0005 → 每日万分之五（0.05%）; None → 无 (no late-fee clause)."""
    if rate is None:
        return NONE
    percent = f"{(rate * 100).normalize():f}%"
    digits = "零一二三四五六七八九"
    for scale, word in ((Decimal(10000), "万分之"), (Decimal(1000), "千分之")):
        n = rate * scale
        if n == n.to_integral_value() and 1 <= n <= 9:
            return f"每日{word}{digits[int(n)]}（{percent}）"
    return f"每日{percent}"


def _cap_text(ratio: Decimal | None) -> str:
    if ratio is None:
        return "不设上限"
    if ratio == 1:
        return "每期违约金总额（含已付）不超过该期欠费本金"
    return f"每期违约金总额（含已付）不超过该期费用的{(ratio * 100).normalize():f}%"


def _unit_address(community: Community, unit: Unit) -> str:
    return f"{community.address}{community.name}{unit.code}室"


def _charge_kinds(session: Session, charge_ids: Sequence[int]) -> dict[int, FeeKind]:
    if not charge_ids:
        return {}
    rows = session.execute(select(Charge.id, Charge.kind).where(Charge.id.in_(charge_ids)))
    return {charge_id: FeeKind(kind) for charge_id, kind in rows}


def _schedules(session: Session, community: Community, unit: Unit) -> list[FeeSchedule]:
    return list(session.scalars(
        select(FeeSchedule).where(FeeSchedule.community_id == community.id, FeeSchedule.unit_type == unit.unit_type)
        .order_by(FeeSchedule.valid_from, FeeSchedule.id)))


def _fee_standards(session: Session, community: Community, unit: Unit) -> tuple[FeeStandard, ...]:
    return tuple(
        FeeStandard(
            fee_item=s.fee_item.name,
            unit_type_text=UNIT_TYPE_TEXT.get(s.unit_type, str(s.unit_type)),
            rate=s.rate,
            rate_text=_num(s.rate),
            unit_text="元/㎡·月" if s.basis == FeeBasis.PER_M2 else "元/户·月",
            cycle_text=CYCLE_TEXT.get(s.cycle, str(s.cycle)),
            due_text=("每期最后一日前交纳" if s.due_rule == DueRule.PERIOD_END
                      else f"每期首月{s.due_day}日前交纳"),
            valid_from=s.valid_from,
            valid_to=s.valid_to,
        )
        for s in _schedules(session, community, unit))


def _lines(
    session: Session, community: Community, unit: Unit, statement: Statement, kinds: Mapping[int, FeeKind],
    claim_fee: bool, demanded_ids: set[int], claimed: set[int] | None = None, *, terms: LateFeeTerms | None = None,
) -> tuple[PeriodLine, ...]:
    """The period lines; ``terms`` re-prices the late fee (LPR basis, L7), else the ledger's is used."""
    rebase = terms is not None
    if terms is None:
        terms = LateFeeTerms(rate_per_day=community.late_fee_rate_per_day, cap_ratio=community.late_fee_cap_ratio)
    schedules = _schedules(session, community, unit)
    item_of = dict(session.execute(
        select(Charge.id, Charge.fee_item_id).where(Charge.id.in_([line.key for line in statement.lines]))).all())
    lines: list[PeriodLine] = []
    for line in statement.lines:
        if kinds.get(line.key) == FeeKind.COST or line.due_date >= statement.as_of:
            continue
        if claimed is not None and line.key not in claimed:
            continue
        if rebase and claim_fee:
            line = replace(line, late_fee=rebased_late_fee(line, terms, statement.as_of))
        fee_owed = claim_fee and line.late_fee.outstanding > 0
        if line.outstanding <= 0 and not fee_owed:
            continue
        schedule = _schedule_for(schedules, item_of.get(line.key), line.period_start)
        formula, standard = _formula(schedule, unit, line)
        lines.append(PeriodLine(
            seq=len(lines) + 1,
            label=_period_text(line),
            fee_item=line.fee_item,
            period_start=line.period_start,
            period_end=line.period_end,
            due_date=line.due_date,
            formula=formula,
            standard_amount=standard,
            amount=line.amount,
            prorated=standard is not None and standard != line.amount,
            applications=tuple(
                Application(a.on, a.amount, COMPONENT_TEXT.get(a.component, str(a.component)),
                            SOURCE_TEXT.get(a.source, a.source), a.ref if a.source != ADJUSTMENT else _reason(a.ref))
                for a in sorted(line.applications, key=lambda a: (a.on, a.source))),
            paid=line.paid,
            adjusted=line.adjusted,
            outstanding=line.outstanding,
            late_fee_days=line.late_fee.days if claim_fee else 0,
            late_fee_accrued=line.late_fee.accrued if claim_fee else ZERO,
            late_fee_paid=line.late_fee.paid if claim_fee else ZERO,
            late_fee=line.late_fee.outstanding if claim_fee else ZERO,
            late_fee_capped=claim_fee and line.late_fee.capped,
            segments=_segments(line, terms, statement.as_of) if claim_fee else (),
            time_barred=line.time_barred,
            limitation_end=line.limitation.end,
            demanded=line.key in demanded_ids,
        ))
    return tuple(lines)


def _reason(code: str) -> str:
    return {"vacancy_discount": "空置减免", "settlement": "和解减免", "court_reduction": "法院调减",
            "late_fee_waiver": "违约金减免", "dispute_credit": "异议处理减免"}.get(code, "其他调整")


def _span(start: dt.date, end: dt.date) -> str:
    """2026年1月至2026年12月 (whole months), else the exact dates."""
    if start.day == 1 and (end + dt.timedelta(days=1)).day == 1:
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.year}年{start.month}月"
        return f"{start.year}年{start.month}月至{end.year}年{end.month}月"
    return f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日"


def _period_text(line: StatementLine) -> str:
    start, end = line.period_start, line.period_end
    if start.day == 1 and start.year == end.year and start.month == end.month:
        return f"{start.year}年{start.month}月"
    if start.day == 1 and (end + dt.timedelta(days=1)).day == 1:
        if start.year == end.year:
            return f"{start.year}年{start.month}月至{end.month}月"
        return f"{start.year}年{start.month}月至{end.year}年{end.month}月"
    return f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日"


def _schedule_for(schedules: Sequence[FeeSchedule], fee_item_id: int | None, day: dt.date) -> FeeSchedule | None:
    for schedule in schedules:
        if schedule.fee_item_id == fee_item_id and schedule.valid_from <= day and (
                schedule.valid_to is None or day <= schedule.valid_to):
            return schedule
    return None


def _formula(schedule: FeeSchedule | None, unit: Unit, line: StatementLine) -> tuple[str, Decimal | None]:
    """standard × area × months (E1), or the billed amount when no schedule explains it."""
    if schedule is None:
        return "按账单金额", None
    months = Period(line.period_start, line.period_end).months
    if schedule.basis == FeeBasis.PER_M2:
        standard = period_amount(unit.area, schedule.rate, months)
        text = f"{_num(schedule.rate)}元/㎡·月 × {_num(unit.area)}㎡ × {months}个月"
    else:
        standard = period_amount(Decimal(1), schedule.rate, months)
        text = f"{_num(schedule.rate)}元/户·月 × {months}个月"
    return text, standard


def _num(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    if "." in text and len(text.split(".")[1]) < 2:
        text += "0"
    elif "." not in text:
        text += ".00"
    return text


def _segments(line: StatementLine, terms: LateFeeTerms, as_of: dt.date) -> tuple[Segment, ...]:
    reductions = [PrincipalReduction(a.on, a.amount) for a in line.applications if a.reduces_principal]
    return tuple(
        Segment(s.start, s.end, s.days, s.principal, _exact(s.fee))
        for s in late_fee_lines(line.amount, line.due_date, reductions, as_of, terms))


def _exact(value: Decimal) -> str:
    if value.as_tuple().exponent < -10:  # type: ignore[operator]  # LPR basis: x/365 has no end: 6 places
        value = value.quantize(Decimal("0.000001"))
    text = f"{value.normalize():f}"
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _defendants(session: Session, case: CollectionCase, community: Community, unit: Unit) -> tuple[Defendant, ...]:
    ownership = session.get(Ownership, case.ownership_id)
    assert ownership is not None
    owners = [p.owner for p in sorted(ownership.parties, key=lambda p: p.position)]
    if not owners:
        owner = session.get(Owner, case.owner_id)
        owners = [owner] if owner is not None else []
    return tuple(_defendant(o, _unit_address(community, unit)) for o in owners)


def _defendant(owner: Owner, unit_address: str) -> Defendant:
    try:
        id_type: IdType | None = IdType(owner.id_type)
    except ValueError:
        id_type = None
    birth = owner.birth_date
    gender = ""
    if id_type is not None and birth is None:
        try:
            birth = birth_date_from_id(id_type, owner.id_number)
        except IdentifierError:
            birth = None
    number = owner.id_number.strip().upper()
    if id_type in (IdType.RESIDENT_ID, IdType.HMT_RESIDENCE_PERMIT) and len(number) == 18 and number[16].isdigit():
        gender = "男" if int(number[16]) % 2 else "女"
    organisation = owner.kind == OwnerKind.ORGANISATION
    return Defendant(
        name=owner.name,
        is_organisation=organisation,
        id_type_text=ID_TYPE_TEXT.get(id_type, owner.id_type) if id_type else owner.id_type,
        id_number=owner.id_number,
        gender=gender,
        birth_date=None if organisation else birth,
        nationality=(owner.nationality or ("中国" if id_type is IdType.RESIDENT_ID else "")).strip(),
        address=(owner.service_address or "").strip() or unit_address,
        phone=(owner.phone or "").strip() or NONE,
    )


def _demand_record(
    session: Session, seq: int, action: EscalationAction, delivery: Delivery | None, case: CollectionCase
) -> DemandRecord:
    assert action.delivered_on is not None
    message: OutboundMessage | None = session.get(OutboundMessage, delivery.message_id) if delivery else None
    interruption = session.scalar(
        select(Interruption).where(
            Interruption.unit_id == action.unit_id, Interruption.kind == InterruptionKind.DEMAND_DELIVERED,
            Interruption.occurred_on == action.delivered_on,
        ).order_by(Interruption.id).limit(1))
    tracking = (delivery.tracking_number if delivery else None) or ""
    message_ref = ""
    if message is not None:  # the letter's printed number (letters.letter_reference) when it has one
        message_ref = message.gateway_ref if (message.gateway_ref or "").startswith("ARR-") else \
            f"ARR-{(message.sent_at or dt.datetime.combine(action.prepared_on, dt.time())).year}-{message.id:06d}"
    proof_parts = []
    if tracking:
        proof_parts.append(f"EMS运单号{tracking}" if message is None or message.channel == Channel.LETTER
                           else f"回执编号{tracking}")
    if message is not None:
        proof_parts.append(f"发送记录编号{message.id}")
        if message.gateway_ref and message.gateway_ref not in (tracking, message_ref):
            proof_parts.append(f"网关回执{message.gateway_ref}")
    if interruption is not None and not proof_parts:
        ref = interruption.proof_ref
        letter = bool(action.channels) and action.channels[0] in (Channel.LETTER.value,)
        proof_parts.append(f"发送记录编号{ref.removeprefix('message:')}" if ref.startswith("message:")
                           else f"EMS运单号{ref}" if letter else f"凭证编号{ref}")
    elif interruption is not None and interruption.proof_ref not in (tracking, f"message:{message.id if message else ''}"):
        proof_parts.append(f"送达凭证{interruption.proof_ref}")
    if delivery is not None and delivery.proof_file_id:
        proof_parts.append(f"签收回执扫描件（存档文件{delivery.proof_file_id}）")
    charges = action.charges or []
    periods = [str(c.get("period", "")) for c in charges if c.get("period")]
    periods = [label_text(p) for p in sorted(periods)]
    amount = sum((Decimal(str(c.get("outstanding", "0"))) for c in charges), ZERO)
    channel = (message.channel if message is not None else
               (Channel(action.channels[0]) if action.channels else None))
    return DemandRecord(
        seq=seq,
        reference=message_ref or f"ARR-CASE-{case.id:06d}-D{seq}",
        prepared_on=action.prepared_on,
        delivered_on=action.delivered_on,
        deadline_on=action.deadline_on,
        channel_text=CHANNEL_TEXT.get(channel, "书面") if channel is not None else "书面",
        result_text=RESULT_TEXT.get(delivery.result, str(delivery.result)) if delivery else "已送达",
        tracking_number=tracking,
        message_ref=message_ref,
        signed_by=(delivery.signed_by or "") if delivery else "",
        proof_ref="；".join(proof_parts) or (interruption.proof_ref if interruption else NONE),
        periods_text=_periods_span(periods),
        amount=amount,
    )


def _periods_span(periods: Sequence[str]) -> str:
    if not periods:
        return NONE
    return periods[0] if len(periods) == 1 else f"{periods[0]}至{periods[-1]}（共{len(periods)}期）"


def label_text(label: str) -> str:
    """A charge's period label in Chinese: 2026-01 → 2026年1月, 2026Q1 → 2026年第1季度,
    2026H2 → 2026年下半年, 2026 → 2026年度; anything else unchanged."""
    if m := re.fullmatch(r"(\d{4})-(\d{2})", label):
        return f"{m[1]}年{int(m[2])}月"
    if m := re.fullmatch(r"(\d{4})Q([1-4])", label):
        return f"{m[1]}年第{m[2]}季度"
    if m := re.fullmatch(r"(\d{4})H([12])", label):
        return f"{m[1]}年{'上' if m[2] == '1' else '下'}半年"
    if re.fullmatch(r"\d{4}", label):
        return f"{label}年度"
    return label


def _court_fees(route: Route, total: Decimal) -> tuple[CourtFee | None, tuple[tuple[str, Decimal], ...], str]:
    alternatives = tuple(
        (PROCEDURE_TEXT[p], court_fee(total, p).fee)
        for p in (Procedure.ORDINARY, Procedure.SIMPLIFIED, Procedure.SMALL_CLAIMS, Procedure.PAYMENT_ORDER))
    procedure = ROUTE_PROCEDURE.get(route)
    if procedure is None:
        return None, alternatives, "仲裁"
    return court_fee(total, procedure), alternatives, PROCEDURE_TEXT[procedure]


def _with_evidence(filing: Filing) -> Filing:
    """The numbered evidence list (SPC evidence rules art. 19; LEGAL "Evidence for a filing")."""
    applicant = "申请人" if filing.route in (Route.PAYMENT_ORDER, Route.ARBITRATION) else "原告"
    respondent = "被申请人" if filing.route in (Route.PAYMENT_ORDER, Route.ARBITRATION) else "被告"
    company = filing.plaintiff.name
    items: list[tuple[str, str, str, str]] = [
        ("营业执照（副本复印件）", company, f"{company}营业执照，统一社会信用代码{filing.plaintiff.uscc}",
         f"{applicant}的主体资格"),
        ("法定代表人身份证明书", company, f"{filing.plaintiff.legal_representative}系{applicant}法定代表人",
         "法定代表人的身份"),
        ("授权委托书", company, "委托代理人的身份及代理权限", "代理人的代理权限"),
        (f"《{filing.contract_name}》", company,
         (f"合同编号{filing.contract_number}，签订日期{_cn(filing.contract_signed_on)}，约定物业服务内容、"
          f"收费标准、交纳方式{'及违约金条款' if filing.late_fee_rate is not None else ''}"),
         f"{applicant}与{respondent}之间存在物业服务合同关系及合同约定的权利义务"),
        ("房屋权属证明及面积资料（不动产登记信息或房屋交付记录）", "不动产登记机构/建设单位",
         f"{filing.unit_label}的权利人为{filing.defendant_names}，建筑面积{_num(filing.area)}平方米",
         f"{respondent}系案涉房屋业主，物业费计费面积"),
        ("物业服务收费标准及其公示材料", company,
         "；".join(f"{s.fee_item}{s.rate_text}{s.unit_text}（{_cn(s.valid_from)}起）"
                  for s in filing.fee_standards) or "物业服务收费标准",
         "物业费的收费标准"),
        ("欠费明细及计算表（附各期缴费及冲抵情况）", company,
         (f"{filing.periods_text}各期应收、已收及冲抵、欠费金额，截至{_cn(filing.as_of)}欠费"
          f"{filing.principal:,.2f}元；冲抵规则：{filing.policy_text}"),
         f"{respondent}欠付物业费的期间及数额"),
    ]
    if filing.claim_late_fees:
        items.append(("违约金计算表", company,
                      (f"按{'合同约定' if filing.late_fee_basis == CONTRACT else ''}{filing.claim_rate_text}逐期逐段计算，"
                       f"截至{_cn(filing.as_of)}违约金"
                       f"{filing.late_fee:,.2f}元"), "违约金的计算依据及数额"))
    for demand in filing.demands:
        items.append((
            f"催告函（编号{demand.reference}）及送达凭证", company,
            (f"{_cn(demand.prepared_on)}作成，{demand.channel_text}送达，{_cn(demand.delivered_on)}"
             f"{demand.result_text}；催告期间{demand.periods_text}欠费，限期至{_cn(demand.deadline_on)}；"
             f"送达凭证：{demand.proof_ref}"),
            f"{applicant}已书面催告{respondent}在合理期限内交纳，{respondent}逾期仍未交纳；诉讼时效中断",
        ))
    if filing.disputed:
        items.append(("物业服务记录（巡查、维修、保洁等记录）", company, "案涉期间提供物业服务的记录",
                      f"{applicant}已按约提供物业服务"))
    evidence = tuple(EvidenceItem(i, name, source, content, proves)
                     for i, (name, source, content, proves) in enumerate(items, start=1))
    return replace(filing, evidence=evidence)


def _cn(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else NONE


__all__ = [
    "Agent",
    "Defendant",
    "DemandRecord",
    "EvidenceItem",
    "FeeStandard",
    "Filing",
    "PeriodLine",
    "Plaintiff",
    "Route",
    "check_demanded",
    "check_route",
    "delivered_demands",
    "filing_data",
    "parse_route",
    "rate_text",
]
