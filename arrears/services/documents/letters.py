"""Letters to owners as PDF: the reminder notice, the formal written demand (催告函) and the
statement of account. Builders read the database and hand plain data to the templates.

* A letter is built for an escalation action (the registry's subject) together with the other
  actions its message carries (one owner's units go out as one letter, L17): option
  ``message_id`` names the message; without it the latest message carrying the action is used.
* A letter's charges are exactly the actions' frozen ``charges`` (evidence: a sent demand is never
  recomputed); the late fee is computed as of the letter date, per listed charge, and shown
  beside the principal, never inside it (L7, "Definitions").
* The reference (ARR-2026-000123) names the outbox message (``letter_reference``); the case ids
  are printed too, so a letter leads back to its case and its message record.
* Letters follow the owner's language: ``en`` renders the English variants in
  ``templates/documents/en/`` (reminder, demand, statement of account); anything else is Chinese,
  the default. Court documents are always Chinese (they are not built here).
* Reminders and demands print the owner's self-service link per unit (text and QR code): the
  unrevoked, unexpired link of the owner and unit — issued when the message was created — read
  here, never created (rendering is read-only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from arrears.documents.formatting import period as period_text
from arrears.domain.allocation import AllocationPolicy, Component
from arrears.domain.escalation import Action, Channel
from arrears.domain.money import ZERO
from arrears.persistence.models import (
    Allocation,
    CollectionCase,
    Community,
    Company,
    EscalationAction,
    MessageAction,
    OutboundMessage,
    Owner,
    Payment,
    Unit,
)

from arrears.persistence.base import utcnow

from ..errors import N_, ServiceError
from ..selfservice.links import LinkSigner, active_link, default_signer
from ..escalation.letters import letter_reference, message_id_of
from ..statements import unit_statement
from ..tenancy import get_company, get_scoped
from ..timezone import company_today
from .registry import Built, DocumentRequest, builder

LEGAL_BASIS = "《中华人民共和国民法典》第九百四十四条"
ARTICLE_944 = (
    ("业主应当按照约定向物业服务人支付物业费。物业服务人已经按照约定和有关规定提供服务的，业主不得以未接受"
    "或者无需接受相关物业服务为由拒绝支付物业费。"),
    ("业主违反约定逾期不支付物业费的，物业服务人可以催告其在合理期限内支付；合理期限届满仍不支付的，"
    "物业服务人可以提起诉讼或者申请仲裁。"),
)
#: Actions serious enough for the formal demand (催告函) rather than the reminder.
DEMAND_ACTIONS = frozenset({Action.DEMAND, Action.NOTICE_CANDIDATE, Action.MEDIATION_REFERRAL, Action.LEGAL_READY})
ENGLISH = "en"
POLICY_TEXT_EN = {
    AllocationPolicy.PRINCIPAL_FIRST: ("principal first: payments settle each period's principal in order of due date, "
                                       "late fees last"),
    AllocationPolicy.STATUTORY: ("statutory order: costs first, then late fees, then principal (Civil Code of the "
                                 "PRC, art. 561)"),
}
POLICY_TEXT = {
    AllocationPolicy.PRINCIPAL_FIRST: "先本金后违约金：按应缴日期先后冲抵各期本金，违约金最后冲抵",
    AllocationPolicy.STATUTORY: "法定顺序：先费用，再违约金，后本金（《中华人民共和国民法典》第五百六十一条）",
}


# --- plain data for the templates --------------------------------------------------------------

@dataclass(frozen=True)
class Sender:
    """The company as the letter shows it (how to pay, whom to call)."""

    name: str
    address: str
    phone: str
    contact: str  # collections contact line, else the phone
    uscc: str = ""
    legal_representative: str = ""


@dataclass(frozen=True)
class LetterRow:
    """One frozen charge of the letter: period, due date, principal outstanding (as listed when the
    action was prepared) and the late fee on it as of the letter date (None: not claimed)."""

    unit: str
    period: str
    due: dt.date | None
    outstanding: Decimal
    late_fee: Decimal | None = None


@dataclass(frozen=True)
class SelfServiceLink:
    """The owner's self-service link for one unit, as printed: the URL and its QR code."""

    unit: str
    url: str
    qr: str  # an SVG data: URI


@dataclass(frozen=True)
class Letter:
    kind: str  # reminder_letter | demand_letter
    title: str
    reference: str
    case_ids: tuple[int, ...]
    date: dt.date
    sender: Sender
    recipient_name: str
    address_lines: tuple[str, ...]
    units: tuple[str, ...]
    rows: tuple[LetterRow, ...]
    deadline_days: int
    claim_late_fee: bool = False
    late_fee_basis: str = ""  # the contract's late-fee clause in words
    contract_name: str = ""
    language: str = "zh_CN"
    links: tuple[SelfServiceLink, ...] = ()

    @property
    def principal(self) -> Decimal:
        return sum((row.outstanding for row in self.rows), ZERO)

    @property
    def late_fee(self) -> Decimal:
        return sum((row.late_fee or ZERO for row in self.rows), ZERO)

    @property
    def unit_label(self) -> str:
        return ("; " if self.language == ENGLISH else "；").join(self.units)

    @property
    def periods(self) -> str:
        return periods_summary([row.period for row in self.rows], self.language)

    @property
    def several_units(self) -> bool:
        return len(self.units) > 1


@dataclass(frozen=True)
class StatementRow:
    period: str
    fee_item: str
    due: dt.date
    amount: Decimal
    paid: Decimal
    adjusted: Decimal
    outstanding: Decimal
    overdue: bool
    days_overdue: int
    late_fee: Decimal
    time_barred: bool


@dataclass(frozen=True)
class PaymentRow:
    received_on: dt.date
    receipt_ref: str
    amount: Decimal
    method: str
    applied: str  # "2026年1月 本金 200.00；…"
    unapplied: Decimal


@dataclass(frozen=True)
class StatementOfAccount:
    reference: str
    case_id: int
    as_of: dt.date
    date: dt.date
    sender: Sender
    debtor_names: tuple[str, ...]
    unit: str
    area: Decimal
    contract_name: str
    rows: tuple[StatementRow, ...]
    payments: tuple[PaymentRow, ...]
    total_amount: Decimal
    total_paid: Decimal
    total_adjusted: Decimal
    total_outstanding: Decimal
    overdue_outstanding: Decimal
    upcoming_outstanding: Decimal
    credit: Decimal
    arrears: Decimal
    late_fee: Decimal
    late_fee_basis: str
    policy: str
    time_barred_outstanding: Decimal

    @property
    def debtor(self) -> str:
        return "、".join(self.debtor_names)


def document_language(language: str | None) -> str:
    """``en`` for English-speaking owners (en, en_US, en-GB), else the default zh_CN."""
    base = (language or "").replace("-", "_").split("_")[0].lower()
    return ENGLISH if base == ENGLISH else "zh_CN"


def template_for(kind: str, language: str) -> str:
    return f"{ENGLISH}/{kind}.html" if language == ENGLISH else f"{kind}.html"


def periods_summary(labels: Sequence[str], language: str = "zh_CN") -> str:
    """The periods a letter names, in words: up to four listed, else first 至 last and the count."""
    if language == ENGLISH:
        raw = list(dict.fromkeys(label for label in labels if label))
        if not raw:
            return ""
        count = f"{len(raw)} period{'s' if len(raw) > 1 else ''}"
        if len(raw) <= 4:
            return f"{', '.join(raw)} ({count})"
        return f"{raw[0]} to {raw[-1]} ({count})"
    names = list(dict.fromkeys(period_text(label) for label in labels if label))
    if not names:
        return ""
    if len(names) <= 4:
        return "、".join(names) + f"（共{len(names)}期）"
    return f"{names[0]}至{names[-1]}期间（共{len(names)}期）"


def late_fee_basis(community: Community, language: str = "zh_CN") -> str:
    """The contract's late-fee clause in words ('' when there is none)."""
    rate = community.late_fee_rate_per_day
    if not rate:
        return ""
    if language == ENGLISH:
        text = f"a late fee of {_percent(rate)} of the overdue principal per day"
        if community.late_fee_cap_ratio is not None:
            text += f", capped at {_percent(community.late_fee_cap_ratio)} of each period's fee"
        return text
    text = f"按逾期未付本金每日{_percent(rate)}计收违约金"
    if community.late_fee_cap_ratio is not None:
        text += f"，每期违约金总额以该期费用的{_percent(community.late_fee_cap_ratio)}为限"
    return text


def _percent(ratio: Decimal) -> str:
    value = (Decimal(ratio) * 100).normalize()
    return f"{value:f}%"


# --- building from the database ----------------------------------------------------------------

def sender_of(company: Company) -> Sender:
    phone = company.phone or ""
    return Sender(name=company.name, address=company.address, phone=phone,
                  contact=company.collections_contact or phone, uscc=company.uscc,
                  legal_representative=company.legal_representative)


def unit_label(unit: Unit) -> str:
    return f"{unit.community.name} {unit.code}"


def letter_for_message(session: Session, company: Company, message: OutboundMessage | None,
                       actions: Sequence[EscalationAction], on: dt.date, *, kind: str | None = None,
                       claim_late_fees: bool | None = None) -> Built:
    """The letter for the actions one message carries (or one action without a message) as of ``on``.

    ``kind`` defaults to the demand when any action is a demand or more serious, else the reminder.
    """
    if not actions:
        raise ServiceError(N_("a letter needs at least one escalation action"))
    if kind is None:
        kind = "demand_letter" if any(a.action in DEMAND_ACTIONS for a in actions) else "reminder_letter"
    if kind not in ("demand_letter", "reminder_letter"):
        raise ServiceError(N_("unknown kind of letter: %(kind)s"), kind=kind)
    owner = session.get(Owner, actions[0].owner_id)
    units = {a.unit_id: session.get(Unit, a.unit_id) for a in actions}
    first_unit = units[actions[0].unit_id]
    if owner is None or first_unit is None:
        raise ServiceError(N_("the letter's owner or unit no longer exists"))
    community = first_unit.community
    language = document_language(owner.language)
    basis = late_fee_basis(community, language)
    claim = bool(basis) if claim_late_fees is None else (claim_late_fees and bool(basis))
    claim = claim and kind == "demand_letter"
    rows: list[LetterRow] = []
    for action in actions:
        unit = units[action.unit_id]
        label = unit_label(unit) if unit is not None else f"#{action.unit_id}"
        fees = _late_fees(session, company.id, action.unit_id, on) if claim else {}
        for charge in action.charges:  # exactly the frozen list, never re-read from the ledger
            due = charge.get("due")
            key = charge.get("id")
            rows.append(LetterRow(
                unit=label, period=str(charge.get("period") or ""),
                due=dt.date.fromisoformat(str(due)) if due else None,
                outstanding=Decimal(str(charge.get("outstanding") or "0")),
                late_fee=(fees.get(int(key), ZERO) if key is not None else ZERO) if claim else None))
    days = [a.deadline_days for a in actions if a.deadline_days]
    deadline_days = max(days) if days else community.demand_deadline_days
    reference = _reference(message, actions, on)
    address = message.address if message is not None and message.channel in (Channel.LETTER, Channel.HAND) else ""
    address = address or owner.service_address or f"{community.address} {community.name} {first_unit.code}"
    title = _TITLES[language][kind]
    letter = Letter(
        kind=kind, title=title, reference=reference,
        case_ids=tuple(dict.fromkeys(a.case_id for a in actions if a.case_id is not None)),
        date=on, sender=sender_of(company), recipient_name=owner.name,
        address_lines=tuple(line.strip() for line in address.splitlines() if line.strip()),
        units=tuple(dict.fromkeys(unit_label(u) for u in units.values() if u is not None)),
        rows=tuple(rows), deadline_days=deadline_days, claim_late_fee=claim, late_fee_basis=basis,
        contract_name=community.contract_name, language=language,
        links=letter_links(session, owner.id, [u for u in units.values() if u is not None]))
    return Built(template=template_for(kind, language), context={"company_name": company.name, "reference": reference,
                                                   "letter": letter, "legal_basis": LEGAL_BASIS,
                                                   "article_944": ARTICLE_944},
                 title=f"{title} {reference}", filename=f"{kind}-{reference}.pdf", author=company.name)


_TITLES = {
    "zh_CN": {"demand_letter": "催告函", "reminder_letter": "物业服务费缴费提醒函"},
    ENGLISH: {"demand_letter": "Formal Demand for Payment", "reminder_letter": "Reminder: Property Service Fees"},
}


def signer() -> LinkSigner:
    """How link URLs are made (the app's secret and public base URL, from the environment)."""
    return default_signer()


def letter_links(session: Session, owner_id: int, units: Sequence[Unit]) -> tuple[SelfServiceLink, ...]:
    """The owner's usable self-service link for each unit of the letter (none: nothing printed)."""
    from .notices import qr_data_uri

    now, made = utcnow(), signer()
    links = []
    for unit in sorted(units, key=unit_label):
        link = active_link(session, owner_id, unit.id, now=now)
        if link is not None:
            url = made.url(link)
            links.append(SelfServiceLink(unit_label(unit), url, qr_data_uri(url)))
    return tuple(links)


def _late_fees(session: Session, company_id: int, unit_id: int, on: dt.date) -> dict[int, Decimal]:
    """The late fee outstanding per charge of the unit as of ``on`` (L7)."""
    statement = unit_statement(session, company_id, unit_id, on).statement
    return {line.key: line.late_fee.outstanding for line in statement.lines}


def _reference(message: OutboundMessage | None, actions: Sequence[EscalationAction], on: dt.date) -> str:
    if message is None:  # not sent yet: a draft named after the action, never confused with a message
        return f"ARR-{on.year}-A{actions[0].id:06d}"
    if message.gateway_ref and message_id_of(message.gateway_ref) == message.id:
        return message.gateway_ref  # the number printed when the letter went out
    return letter_reference(message, on)


def _message_of(session: Session, request: DocumentRequest, action: EscalationAction) -> OutboundMessage | None:
    wanted = request.option("message_id")
    if wanted:
        message = session.get(OutboundMessage, int(wanted)) if wanted.isdigit() else None
        linked = message is not None and session.get(MessageAction, (message.id, action.id)) is not None
        if message is None or message.company_id != request.company_id or not linked:
            raise ServiceError(N_("message %(id)s does not carry escalation action %(action)s"),
                               id=wanted, action=action.id)
        return message
    printed = OutboundMessage.channel.in_((Channel.LETTER, Channel.HAND))
    return session.scalar(
        select(OutboundMessage).join(MessageAction, MessageAction.message_id == OutboundMessage.id)
        .where(MessageAction.action_id == action.id)
        .order_by(printed.desc(), OutboundMessage.id.desc()).limit(1))


def message_actions(session: Session, message_id: int) -> list[EscalationAction]:
    return list(session.scalars(select(EscalationAction).join(
        MessageAction, MessageAction.action_id == EscalationAction.id)
        .where(MessageAction.message_id == message_id).order_by(EscalationAction.id)))


def _build_letter(session: Session, request: DocumentRequest) -> Built:
    company = get_company(session, request.company_id)
    action = get_scoped(session, EscalationAction, request.subject_id, request.company_id)
    message = _message_of(session, request, action)
    actions = message_actions(session, message.id) if message is not None else [action]
    on = request.date_option("as_of", request.date_option("date", company_today(company)))
    claim = request.flag_option("claim_late_fees", True)
    return letter_for_message(session, company, message, actions, on, kind=request.kind, claim_late_fees=claim)


builder("reminder_letter")(_build_letter)
builder("demand_letter")(_build_letter)


# --- statement of account ----------------------------------------------------------------------

@builder("statement_of_account")
def build_statement_of_account(session: Session, request: DocumentRequest) -> Built:
    """Per charge of the case's debtor: period, due date, amount, paid, outstanding, late fee; the
    payments with what they paid; totals; the allocation policy (L6) — as of ``as_of``."""
    company = get_company(session, request.company_id)
    case = get_scoped(session, CollectionCase, request.subject_id, request.company_id)
    today = company_today(company)
    as_of = request.date_option("as_of", today)
    unit = get_scoped(session, Unit, case.unit_id, request.company_id)
    result = unit_statement(session, request.company_id, unit.id, as_of)
    statement = result.by_debtor.get(case.ownership_id) or result.statement
    debtor = result.debtors.get(case.ownership_id)
    names = debtor.names if debtor is not None else ()
    owner = session.get(Owner, case.owner_id)
    if not names:
        names = (owner.name,) if owner is not None else ()
    language = document_language(owner.language if owner is not None else None)
    english = language == ENGLISH
    labels = {line.key: line.label if english else period_text(line.label) for line in statement.lines}
    rows = tuple(StatementRow(
        period=line.label, fee_item=line.fee_item, due=line.due_date, amount=line.amount, paid=line.paid,
        adjusted=line.adjusted, outstanding=line.outstanding, overdue=line.overdue,
        days_overdue=line.days_overdue, late_fee=line.late_fee.outstanding, time_barred=line.time_barred)
        for line in statement.lines)
    payer_ids = set(debtor.owner_ids) if debtor is not None else {case.owner_id}
    payments = _payments(session, unit.id, payer_ids, as_of, labels, language)
    community = unit.community
    reference = f"ST-{as_of.year}-{case.id:06d}"
    data = StatementOfAccount(
        reference=reference, case_id=case.id, as_of=as_of, date=request.date_option("date", today),
        sender=sender_of(company), debtor_names=tuple(names), unit=unit_label(unit), area=unit.area,
        contract_name=community.contract_name, rows=rows, payments=payments,
        total_amount=statement.total_amount, total_paid=statement.total_paid,
        total_adjusted=statement.total_adjusted, total_outstanding=statement.total_outstanding,
        overdue_outstanding=statement.overdue_outstanding, upcoming_outstanding=statement.upcoming_outstanding,
        credit=statement.credit, arrears=statement.arrears, late_fee=statement.late_fee_outstanding,
        late_fee_basis=late_fee_basis(community, language),
        policy=(POLICY_TEXT_EN if language == ENGLISH else POLICY_TEXT).get(statement.policy, str(statement.policy)),
        time_barred_outstanding=statement.time_barred_outstanding)
    title = "Statement of Account" if language == ENGLISH else "物业服务费对账单"
    return Built(template=template_for("statement_of_account", language),
                 context={"company_name": company.name, "reference": reference, "statement": data},
                 title=f"{title} {reference}", filename=f"statement_of_account-{case.id}-{as_of:%Y%m%d}.pdf",
                 author=company.name)


COMPONENT_TEXT = {Component.PRINCIPAL: "本金", Component.LATE_FEE: "违约金", Component.COST: "费用"}
METHOD_TEXT = {"bank_transfer": "银行转账", "cash": "现金", "wechat": "微信支付", "alipay": "支付宝",
               "card": "银行卡", "pos": "POS刷卡"}
COMPONENT_TEXT_EN = {Component.PRINCIPAL: "principal", Component.LATE_FEE: "late fee", Component.COST: "costs"}
METHOD_TEXT_EN = {"bank_transfer": "bank transfer", "cash": "cash", "wechat": "WeChat Pay", "alipay": "Alipay",
                  "card": "bank card", "pos": "POS"}


def _payments(session: Session, unit_id: int, payer_ids: set[int], as_of: dt.date,
              labels: Mapping[int, str], language: str = "zh_CN") -> tuple[PaymentRow, ...]:
    english = language == ENGLISH
    components, methods = (COMPONENT_TEXT_EN, METHOD_TEXT_EN) if english else (COMPONENT_TEXT, METHOD_TEXT)
    payments = session.scalars(
        select(Payment).where(Payment.unit_id == unit_id, Payment.payer_id.in_(payer_ids),
                              Payment.received_on <= as_of,
                              or_(Payment.reversed_on.is_(None), Payment.reversed_on > as_of))
        .order_by(Payment.received_on, Payment.id))
    rows = []
    for payment in payments:
        parts, applied = [], ZERO
        for allocation in sorted(payment.allocations, key=lambda a: (a.applied_on, a.id)):
            if not _counts(allocation, as_of):
                continue
            applied += allocation.amount
            label = labels.get(allocation.charge_id, f"#{allocation.charge_id}")
            parts.append(f"{label} {components.get(allocation.component, str(allocation.component))} "
                         f"{allocation.amount:,.2f}")
        rows.append(PaymentRow(received_on=payment.received_on, receipt_ref=payment.receipt_ref,
                               amount=payment.amount, method=methods.get(payment.method, payment.method),
                               applied=("; " if english else "；").join(parts),
                               unapplied=max(payment.amount - applied, ZERO)))
    return tuple(rows)


def _counts(allocation: Allocation, as_of: dt.date) -> bool:
    return allocation.applied_on <= as_of and (allocation.voided_on is None or allocation.voided_on > as_of)
