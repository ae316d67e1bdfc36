"""Documents after a title (issue 5 §4, §6): the enforcement application (强制执行申请书), the
application to list a dishonest judgement debtor (纳入失信被执行人名单申请书), the request to delete
the listing (删除失信信息申请书) and the mediation settlement summary (调解协议摘要).

The subject of each is a LegalCase id. Options (strings): ``as_of`` (YYYY-MM-DD, default the
company's today: the date delay interest is computed to and the minors rule is checked on),
``agent_name``/``agent_firm``/``agent_title``/``agent_phone``/``agent_id``/``agent_special`` (the
filing agent, as for the packet), ``legal_rep_title``; ``paid_on`` for the deletion request when
the case has no ``paid_in_full_on`` yet; ``event_id`` for the mediation summary (default: the
latest settled mediation event).

Rules:
* L14, E7 — delay interest (加倍部分债务利息) at 0.0175 % per day on the unpaid judgement amount
  (principal + late fee + costs awarded) for each day after the performance period's last day
  (a deadline on a rest day moves to the next working day, CPL art. 85) up to and including the
  as-of date (``arrears.domain.judgement``). The amounts paid are those the case screen counts
  (``arrears.services.legal.deadlines.recovered``: received from the filing on the claimed and
  cost charges); they reduce the judgement amount first (SPC 2014 interpretation art. 4: the
  money debt before the doubled interest); each payment after the last day starts a new segment,
  each segment is computed by the rule and printed to the fen, the total is their sum (without
  payments after the last day it equals ``deadlines.figures``).
* L9 — the enforcement fee estimate is ``enforcement_fee`` of the amount applied for.
* L15 — the dishonest-list application needs an effective title, a passed performance period,
  an enforcement application, an unpaid amount and a ground recorded by a person; never a minor
  (birth date on the owner record or from the ID number; an unknown birth date of a natural
  person is refused too). Refusals are ServiceErrors.
* L15 — the deletion request names the full-performance date, the listing and asks for deletion
  within 3 working days.
* L13 — the mediation summary reads the latest settlement event: kind ``mediation_settled``
  (``arrears.services.legal.events.record_mediation``) or kind ``mediation`` with outcome
  ``settled``. ``detail`` keys: ``stage`` (``pre_suit``/``in_suit``), ``mediator`` (court or
  committee; else the case's court), ``terms`` (text, one term a line, or a list), optionally
  ``case_number``, ``principal``, ``late_fee``, ``costs``, ``total`` (default their sum),
  ``instalments`` (list of ``{"due_on": "YYYY-MM-DD", "amount": "123.45"}``, summing to the
  total), ``pay_by``, ``waiver``, ``signed_on``. Amounts and the payment date not in the detail
  come from the mediation-document title recorded with it (awarded amounts, performance
  deadline).

ID numbers are printed in full: these are filing documents (L18).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.calendar import load_default_calendar
from arrears.domain.courtfees import enforcement_fee
from arrears.domain.identity import is_minor
from arrears.domain.judgement import (
    DELAY_INTEREST_RATE_PER_DAY,
    delay_interest,
    deletion_window_end,
    last_day_of_period,
)
from arrears.domain.money import ZERO, to_fen
from arrears.persistence.enums import FeeKind
from arrears.persistence.models import (
    Allocation,
    Charge,
    CollectionCase,
    Community,
    LegalCase,
    LegalEvent,
    Unit,
)
from arrears.persistence.models import Payment as PaymentRow

from ..errors import N_, ServiceError
from ..tenancy import get_company, get_scoped
from ..timezone import company_today
from .packet_data import (
    NONE,
    Agent,
    Defendant,
    Plaintiff,
    _defendants,
    _num,
    _unit_address,
)
from .registry import Built, DocumentRequest, builder

KINDS = ("enforcement_application", "dishonest_list_application", "deletion_request", "mediation_settlement")
TITLES = {
    "enforcement_application": "强制执行申请书",
    "dishonest_list_application": "纳入失信被执行人名单申请书",
    "deletion_request": "删除失信信息申请书",
    "mediation_settlement": "调解协议摘要",
}
#: The kind of title (LegalCase.title_kind) as the document names it.
TITLE_KIND_TEXT = {
    "judgement": "民事判决书", "judgment": "民事判决书",
    "mediation": "民事调解书", "mediation_document": "民事调解书",
    "payment_order": "支付令",
    "award": "仲裁裁决书", "arbitration_award": "仲裁裁决书",
    "ruling": "民事裁定书", "confirmation": "民事裁定书（司法确认）",
}
#: L14: 0.0175 % per day (SPC 2014 interpretation art. 1), as printed.
DELAY_RATE_TEXT = ("日万分之一点七五" if DELAY_INTEREST_RATE_PER_DAY == Decimal("0.000175")
                   else f"每日{(DELAY_INTEREST_RATE_PER_DAY * 100).normalize():f}%")
AWARD_KINDS = ("award", "arbitration_award")
STAGE_TEXT = {"pre_suit": "诉前调解", "in_suit": "诉中调解", "committee": "人民调解"}


# --- L14 (pure): the segments of delay interest between payments ---------------------------------------


@dataclass(frozen=True)
class InterestSegment:
    """Delay interest on one balance: ``start`` not counted, ``end`` counted (E7)."""

    start: dt.date
    end: dt.date
    days: int
    balance: Decimal
    interest: Decimal


def interest_segments(
    judgement_amount: Decimal, last_day: dt.date, payments: Sequence[tuple[dt.date, Decimal]], as_of: dt.date
) -> tuple[Decimal, tuple[InterestSegment, ...]]:
    """The unpaid amount on ``as_of`` and the delay-interest segments after ``last_day`` (L14):
    payments reduce the judgement amount first; a payment on day P ends a segment on P."""
    balance = judgement_amount
    for on, amount in sorted(payments):
        if on <= last_day:
            balance -= amount
    balance = max(balance, ZERO)
    segments: list[InterestSegment] = []
    start = last_day
    for on, amount in sorted(p for p in payments if last_day < p[0] <= as_of):
        if on > start and balance > 0:
            segments.append(InterestSegment(start, on, (on - start).days, balance, delay_interest(balance, start, on)))
            start = on
        balance = max(balance - amount, ZERO)
    if as_of > start and balance > 0:
        segments.append(InterestSegment(start, as_of, (as_of - start).days, balance,
                                        delay_interest(balance, start, as_of)))
    return balance, tuple(segments)


# --- the data of the documents ----------------------------------------------------------------------


@dataclass(frozen=True)
class Title:
    """The effective title (执行依据)."""

    kind: str
    kind_text: str
    issuer: str
    case_number: str
    effective_on: dt.date
    performance_deadline: dt.date
    last_day: dt.date  # the performance period's last day (CPL art. 85)
    principal: Decimal
    late_fee: Decimal
    costs: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.late_fee + self.costs

    @property
    def is_award(self) -> bool:
        return self.kind in AWARD_KINDS

    @property
    def text(self) -> str:
        """南京市鼓楼区人民法院（2026）苏0106民初1234号民事判决书"""
        return f"{self.issuer}{self.case_number}{self.kind_text}"


@dataclass(frozen=True)
class Payment:
    on: dt.date
    amount: Decimal


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_on: dt.date
    amount: Decimal


@dataclass(frozen=True)
class LegalDoc:
    """Everything the four documents print; templates read it, never the database."""

    legal_case_id: int
    reference: str
    as_of: dt.date
    applicant: Plaintiff
    respondents: tuple[Defendant, ...]
    agent: Agent | None
    unit_label: str
    unit_address: str
    area_text: str
    court: str  # where the case was filed / the title's issuer
    case_number: str
    enforcement_court: str
    enforcement_case_number: str
    enforcement_applied_on: dt.date | None
    title: Title | None
    payments: tuple[Payment, ...]
    paid: Decimal
    unpaid: Decimal
    segments: tuple[InterestSegment, ...]
    delay_interest: Decimal
    enforcement_amount: Decimal  # unpaid + delay interest to the as-of date
    enforcement_fee: Decimal
    dishonest_ground: str
    dishonest_ground_by: str
    listed_on: dt.date | None
    dishonest_applied_on: dt.date | None
    minors_checked_on: tuple[dt.date, ...]
    paid_in_full_on: dt.date | None
    deletion_by: dt.date | None

    @property
    def respondent_names(self) -> str:
        return "、".join(r.name for r in self.respondents)

    @property
    def interest_from(self) -> dt.date | None:
        return self.title.last_day + dt.timedelta(days=1) if self.title else None


@dataclass(frozen=True)
class Settlement:
    """A mediation settlement (L13) as recorded on the case's mediation event."""

    signed_on: dt.date
    stage_text: str
    mediator: str
    case_number: str
    principal: Decimal
    late_fee: Decimal
    costs: Decimal
    total: Decimal
    instalments: tuple[Instalment, ...]
    pay_by: dt.date | None
    terms: tuple[str, ...]
    waiver: str
    note: str
    judicial_confirmation: bool  # pre-suit / committee settlement: joint application within 30 days


def legal_doc(session: Session, company_id: int, legal_case_id: int, *, as_of: dt.date,
              agent: Agent | None = None, paid_on: dt.date | None = None, today: dt.date | None = None) -> LegalDoc:
    """The plain data of the documents of legal case ``legal_case_id`` as of ``as_of`` (``today``,
    default ``as_of``: the filing day, on which — and on ``as_of`` — the minors rule is checked)."""
    case = get_scoped(session, LegalCase, legal_case_id, company_id)
    company = get_company(session, company_id)
    collection = get_scoped(session, CollectionCase, case.collection_case_id, company_id)
    community = session.get(Community, collection.community_id)
    unit = get_scoped(session, Unit, case.unit_id, company_id)
    assert community is not None
    title = _title(case, community)
    payments: tuple[Payment, ...] = ()
    paid = unpaid = interest = ZERO
    segments: tuple[InterestSegment, ...] = ()
    if title is not None:
        payments = _payments(session, case, as_of)
        paid = sum((p.amount for p in payments), ZERO)
        unpaid, segments = interest_segments(title.total, title.last_day, [(p.on, p.amount) for p in payments], as_of)
        interest = sum((s.interest for s in segments), ZERO)
    full_on = case.paid_in_full_on or paid_on
    applied = unpaid + interest
    return LegalDoc(
        legal_case_id=case.id,
        reference=f"ARR-LEGAL-{case.id:06d}",
        as_of=as_of,
        applicant=Plaintiff(company.name, company.uscc, company.address, company.legal_representative,
                            company.phone or company.collections_contact or NONE),
        respondents=_defendants(session, collection, community, unit),
        agent=agent,
        unit_label=f"{community.name}{unit.code}",
        unit_address=_unit_address(community, unit),
        area_text=_num(unit.area),
        court=(case.court or community.competent_court or "").strip(),
        case_number=(case.case_number or "").strip(),
        # the court that gave the title enforces it; an award is enforced by a court, never the commission
        enforcement_court=(case.enforcement_court or ("" if title is not None and title.is_award else
                                                      case.court or community.competent_court or "")).strip(),
        enforcement_case_number=(case.enforcement_case_number or "").strip(),
        enforcement_applied_on=case.enforcement_applied_on,
        title=title,
        payments=payments,
        paid=paid,
        unpaid=unpaid,
        segments=segments,
        delay_interest=interest,
        enforcement_amount=applied,
        enforcement_fee=enforcement_fee(applied) if applied > 0 else ZERO,
        dishonest_ground=(case.dishonest_ground or "").strip(),
        dishonest_ground_by=(case.dishonest_ground_by or "").strip(),
        listed_on=case.listed_on,
        dishonest_applied_on=case.dishonest_applied_on,
        minors_checked_on=tuple(sorted({as_of, today or as_of})),
        paid_in_full_on=full_on,
        deletion_by=deletion_window_end(full_on, load_default_calendar()) if full_on else None,
    )


def _title(case: LegalCase, community: Community) -> Title | None:
    if case.title_effective_on is None or case.performance_deadline is None or case.awarded_principal is None:
        return None
    kind = (case.title_kind or "").strip()
    issuer = (case.court or "").strip()
    if kind in AWARD_KINDS:
        issuer = (community.arbitration_commission or issuer).strip()
    return Title(
        kind=kind,
        kind_text=TITLE_KIND_TEXT.get(kind, kind if kind and not kind.isascii() else "生效法律文书"),
        issuer=issuer or "＿＿＿＿＿＿人民法院",
        case_number=(case.case_number or "").strip() or "（＿＿＿＿）＿＿＿＿号",
        effective_on=case.title_effective_on,
        performance_deadline=case.performance_deadline,
        last_day=last_day_of_period(case.performance_deadline, load_default_calendar()),
        principal=to_fen(case.awarded_principal),
        late_fee=to_fen(case.awarded_late_fee or ZERO),
        costs=to_fen(case.awarded_costs or ZERO),
    )


def _payments(session: Session, case: LegalCase, as_of: dt.date) -> tuple[Payment, ...]:
    """What the debtor paid, by day, from the filing (the opening before a filing) to ``as_of``
    towards the claimed charges and the ownership's cost charges — the same payments as
    ``arrears.services.legal.deadlines.recovered`` (the case screen), with their dates."""
    start = case.filed_on or case.opened_on
    charge_ids = {int(c) for c in (case.claimed_charge_ids or [])}
    charge_ids |= set(session.scalars(select(Charge.id).where(
        Charge.unit_id == case.unit_id, Charge.ownership_id == case.ownership_id, Charge.kind == FeeKind.COST)))
    if not charge_ids:
        return ()
    rows = session.execute(
        select(PaymentRow.received_on, Allocation.amount, Allocation.voided_on)
        .join(PaymentRow, PaymentRow.id == Allocation.payment_id)
        .where(Allocation.charge_id.in_(charge_ids), PaymentRow.received_on >= start,
               PaymentRow.received_on <= as_of))
    by_day: dict[dt.date, Decimal] = {}
    for on, amount, voided in rows:
        if voided is None or voided > as_of:
            by_day[on] = by_day.get(on, ZERO) + Decimal(amount)
    return tuple(Payment(on, to_fen(amount)) for on, amount in sorted(by_day.items()) if amount > 0)


# --- refusals -----------------------------------------------------------------------------------------


def _require_title(doc: LegalDoc, kind: str) -> Title:
    if doc.title is None:
        raise ServiceError(N_("legal case %(id)s has no effective title (judgement, mediation document, order "
                              "or award with its amounts and performance deadline): no %(kind)s can be drafted"),
                           id=doc.legal_case_id, kind=kind)
    return doc.title


def _require_overdue(doc: LegalDoc, title: Title, kind: str) -> None:
    if doc.as_of <= title.last_day:
        raise ServiceError(N_("the performance period of legal case %(id)s ends on %(date)s: no %(kind)s before "
                              "it has passed (L14)"), id=doc.legal_case_id, date=title.last_day.isoformat(), kind=kind)
    if doc.unpaid <= 0:
        raise ServiceError(N_("the judgement of legal case %(id)s has been paid in full: no %(kind)s"),
                           id=doc.legal_case_id, kind=kind)


def check_no_minor(respondents: Sequence[Defendant], on: dt.date, legal_case_id: int) -> None:
    """L15: never a minor on the dishonest-debtor list; an unknown birth date is not a yes."""
    for person in respondents:
        if person.is_organisation:
            continue
        if person.birth_date is None:
            raise ServiceError(N_("the birth date of %(name)s is unknown: record it before applying to list "
                                  "them as a dishonest debtor (minors are never listed, L15)"), name=person.name)
        if is_minor(person.birth_date, on):
            raise ServiceError(N_("%(name)s is a minor: a minor is never put on the dishonest-debtor list "
                                  "(legal case %(id)s, L15)"), name=person.name, id=legal_case_id)


# --- builders -----------------------------------------------------------------------------------------


def _doc(session: Session, request: DocumentRequest) -> LegalDoc:
    company = get_company(session, request.company_id)
    agent = None
    if request.option("agent_name"):
        agent = Agent(name=request.option("agent_name"), firm=request.option("agent_firm"),
                      title=request.option("agent_title"), phone=request.option("agent_phone"),
                      id_number=request.option("agent_id"), special=request.flag_option("agent_special", False))
    today = company_today(company)
    paid_on = request.date_option("paid_on", today) if request.option("paid_on") else None
    return legal_doc(session, request.company_id, request.subject_id, as_of=request.date_option("as_of", today),
                     agent=agent, paid_on=paid_on, today=today)


def _built(kind: str, doc: LegalDoc, request: DocumentRequest, **extra: Any) -> Built:
    title = TITLES[kind]
    return Built(
        template=f"{kind}.html",
        context={
            "company_name": doc.applicant.name,
            "reference": doc.reference,
            "d": doc,
            "title": title,
            "legal_rep_title": request.option("legal_rep_title"),
            "rate_text": DELAY_RATE_TEXT,
            **extra,
        },
        title=f"{title} {doc.respondent_names} {doc.unit_label}",
        filename=f"legal-{doc.legal_case_id}-{kind}.pdf",
        author=doc.applicant.name,
    )


@builder("enforcement_application")
def build_enforcement_application(session: Session, request: DocumentRequest) -> Built:
    """强制执行申请书 (L14, E7): the title, amounts, delay interest, non-performance, known assets."""
    doc = _doc(session, request)
    title = _require_title(doc, "enforcement application")
    _require_overdue(doc, title, "enforcement application")
    return _built("enforcement_application", doc, request)


@builder("dishonest_list_application")
def build_dishonest_list_application(session: Session, request: DocumentRequest) -> Built:
    """纳入失信被执行人名单申请书 (L15): only with a recorded ground, never for a minor."""
    doc = _doc(session, request)
    if not doc.dishonest_ground:
        raise ServiceError(N_("legal case %(id)s has no recorded ground for the dishonest-debtor list (e.g. owns "
                              "the unit, has income): a person must record it first (L15)"), id=doc.legal_case_id)
    for day in doc.minors_checked_on:
        check_no_minor(doc.respondents, day, doc.legal_case_id)
    title = _require_title(doc, "dishonest-list application")
    _require_overdue(doc, title, "dishonest-list application")
    if not doc.enforcement_case_number:
        raise ServiceError(N_("legal case %(id)s has no enforcement case: apply for enforcement before the "
                              "dishonest-debtor list (L15)"), id=doc.legal_case_id)
    return _built("dishonest_list_application", doc, request)


@builder("deletion_request")
def build_deletion_request(session: Session, request: DocumentRequest) -> Built:
    """删除失信信息申请书 (L15): full performance on a date, deletion within 3 working days."""
    doc = _doc(session, request)
    if doc.listed_on is None and doc.dishonest_applied_on is None:
        raise ServiceError(N_("legal case %(id)s has no dishonest-list application or listing to delete"),
                           id=doc.legal_case_id)
    if doc.paid_in_full_on is None:
        raise ServiceError(N_("legal case %(id)s has not been paid in full: record the full payment (or give "
                              "paid_on) before requesting the deletion"), id=doc.legal_case_id)
    return _built("deletion_request", doc, request)


SETTLED = ("settled", "settlement", "agreed")


@builder("mediation_settlement")
def build_mediation_settlement(session: Session, request: DocumentRequest) -> Built:
    """调解协议摘要 (L13): parties, amounts, instalments/terms, mediator and date of the settlement."""
    doc = _doc(session, request)
    case = get_scoped(session, LegalCase, request.subject_id, request.company_id)
    events = list(session.scalars(select(LegalEvent).where(
        LegalEvent.legal_case_id == case.id, LegalEvent.kind.in_(("mediation_settled", "mediation")))
        .order_by(LegalEvent.id)))
    if request.option("event_id"):
        events = [e for e in events if str(e.id) == request.option("event_id").strip()]
    settled = [e for e in events if e.kind == "mediation_settled"
               or str((e.detail or {}).get("outcome", "")).strip() in SETTLED]
    if not settled:
        raise ServiceError(N_("legal case %(id)s has no recorded mediation settlement"), id=case.id)
    return _built("mediation_settlement", doc, request, s=_settlement(settled[-1], case, doc))


def _settlement(event: LegalEvent, case: LegalCase, doc: LegalDoc) -> Settlement:
    detail: Mapping[str, Any] = event.detail or {}
    title = doc.title if case.title_kind == "mediation_document" else None

    def money(name: str, awarded: Decimal) -> Decimal:
        if detail.get(name) in (None, ""):
            return awarded
        return _money(detail.get(name), name, event.id)

    principal = money("principal", title.principal if title else ZERO)
    late_fee = money("late_fee", title.late_fee if title else ZERO)
    costs = money("costs", title.costs if title else ZERO)
    total = money("total", principal + late_fee + costs)
    if total <= 0:
        raise ServiceError(N_("the mediation settlement of legal case %(id)s has no amount"), id=doc.legal_case_id)
    instalments = tuple(
        Instalment(i, _date(item.get("due_on") or item.get("on") or item.get("date"), "due_on", event.id),
                   _money(item.get("amount"), "amount", event.id))
        for i, item in enumerate(detail.get("instalments") or [], start=1))
    if instalments and sum((i.amount for i in instalments), ZERO) != total:
        raise ServiceError(N_("the instalments of mediation event %(id)s add up to %(sum)s, not the settled "
                              "%(total)s"), id=event.id, sum=f"{sum((i.amount for i in instalments), ZERO):.2f}",
                           total=f"{total:.2f}")
    terms = detail.get("terms") or ()
    if isinstance(terms, str):
        terms = tuple(t.strip() for t in terms.splitlines() if t.strip())
    stage = str(detail.get("stage") or "").strip()
    pay_by = _date(detail["pay_by"], "pay_by", event.id) if detail.get("pay_by") else (
        title.performance_deadline if title else None)
    return Settlement(
        signed_on=_date(detail["signed_on"], "signed_on", event.id) if detail.get("signed_on") else event.occurred_on,
        stage_text=STAGE_TEXT.get(stage, stage or "调解"),
        mediator=str(detail.get("mediator") or detail.get("committee") or doc.court or "＿＿＿＿＿＿").strip(),
        case_number=str(detail.get("case_number") or doc.case_number or "").strip(),
        principal=principal,
        late_fee=late_fee,
        costs=costs,
        total=total,
        instalments=instalments,
        pay_by=pay_by,
        terms=tuple(str(t).strip() for t in terms if str(t).strip()),
        waiver=str(detail.get("waiver") or "").strip(),
        note=(event.note or "").strip(),
        judicial_confirmation=stage in ("pre_suit", "committee"),
    )


def _money(value: Any, name: str, event_id: int) -> Decimal:
    if value in (None, ""):
        return ZERO
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount != to_fen(amount):
        raise ServiceError(N_("mediation event %(id)s: %(name)s is not an amount in fen: %(value)s"),
                           id=event_id, name=name, value=str(value))
    return to_fen(amount)


def _date(value: Any, name: str, event_id: int) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ServiceError(N_("mediation event %(id)s: %(name)s is not a date: %(value)s"),
                           id=event_id, name=name, value=str(value)) from None


__all__ = [
    "KINDS",
    "TITLES",
    "InterestSegment",
    "LegalDoc",
    "Settlement",
    "Title",
    "check_no_minor",
    "interest_segments",
    "legal_doc",
]
