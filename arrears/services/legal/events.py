"""The life of a legal case (issue 5 §3–4): each court step validates the current state, updates the
case's dates, appends a LegalEvent (with the court's document, stored as a StoredFile) and is
audited. Withdrawal and dismissal can end a case at any point; a closed case (closed_on set) makes
room for a new legal case of the same collection case.

drafted → filed → (mediation) → payment order issued → objection raised → (converted: filed) →
title effective → enforcement applied → dishonest-list application → listed → deletion requested
→ deleted; or → paid (closed). Rules: L5 (a filing interrupts limitation for exactly the claimed
charges), L10 (payment order: 15-day objection period, 7 days to decline the lawsuit), L12
(arbitration only with a commission), L13 (mediation), L14 (enforcement after the performance
period, within 2 years), L15 (dishonest list: candidates only, never minors; deletion request at
once on full payment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain import judgement
from arrears.domain.identity import IdentifierError, IdType, birth_date_from_id
from arrears.domain.money import ZERO
from arrears.persistence.enums import (
    InterruptionKind,
    LegalRoute,
    LegalState,
    OwnerKind,
)
from arrears.persistence.legal import LegalCase, LegalEvent
from arrears.persistence.models import Community, Owner, Ownership

from .. import audit
from ..actor import Actor
from ..errors import N_, ServiceError
from ..escalation.delivery import Proof, store_proof
from ..escalation.disputes import ever_disputed
from ..interruptions import record_interruption
from ..tenancy import get_scoped
from . import deadlines as periods

TITLE_KINDS = ("judgement", "mediation_document", "payment_order", "award")
LAWSUIT_ROUTES = frozenset({LegalRoute.SMALL_CLAIMS, LegalRoute.SIMPLIFIED, LegalRoute.ORDINARY})
#: Which titles each route can end in (a mediation document on any court route, L13).
TITLES_OF_ROUTE = {
    LegalRoute.PAYMENT_ORDER: ("payment_order", "mediation_document"),
    LegalRoute.SMALL_CLAIMS: ("judgement", "mediation_document"),
    LegalRoute.SIMPLIFIED: ("judgement", "mediation_document"),
    LegalRoute.ORDINARY: ("judgement", "mediation_document"),
    LegalRoute.ARBITRATION: ("award", "mediation_document"),
}
MEDIATION_STAGES = ("pre_suit", "in_suit")
MEDIATION_OUTCOMES = ("started", "settled", "failed")
OPEN_STATES = frozenset(LegalState) - periods.CLOSED
AFTER_TITLE = frozenset({LegalState.TITLE_EFFECTIVE, LegalState.ENFORCEMENT_APPLIED, LegalState.DISHONEST_APPLIED,
                         LegalState.LISTED})


# --- helpers ----------------------------------------------------------------------------------------------


def get_legal_case(session: Session, company_id: int, legal_case_id: int, *, lock: bool = False) -> LegalCase:
    case = get_scoped(session, LegalCase, legal_case_id, company_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        session.flush()
        session.refresh(case, with_for_update=True)
    return case


def add_event(
    session: Session, actor: Actor, case: LegalCase, kind: str, on: dt.date, *, detail: dict[str, Any] | None = None,
    note: str | None = None, document: Proof | None = None,
) -> LegalEvent:
    """Append a timeline entry (with the court's document when given) and audit it."""
    stored = store_proof(session, actor, case.company_id, document) if document is not None else None
    clean = {k: audit._jsonable(v) for k, v in (detail or {}).items()}
    event = LegalEvent(legal_case_id=case.id, kind=kind, occurred_on=on, recorded_by=actor.name, detail=clean,
                       note=(note or "").strip() or None, file_id=stored.id if stored else None)
    case.events.append(event)  # keeps a loaded timeline in step
    session.flush()
    audit.record(session, actor, f"legal.{kind}", "legal_case", case.id, company_id=case.company_id,
                 event_id=event.id, occurred_on=on, state=str(case.state), file_id=event.file_id, **clean)
    return event


def _state(case: LegalCase, allowed: Sequence[LegalState] | frozenset[LegalState], what: str) -> None:
    if case.state not in allowed:
        raise ServiceError(N_("cannot %(what)s: legal case %(id)s is %(state)s (allowed when %(allowed)s)"),
                           what=what, id=case.id, state=case.state.value,
                           allowed=", ".join(sorted(s.value for s in allowed)))


def _past(on: dt.date, today: dt.date, what: str) -> None:
    if on > today:
        raise ServiceError(N_("the %(what)s date %(date)s is in the future"), what=what, date=on.isoformat())


def _text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ServiceError(N_("%(what)s is required"), what=what)
    return text


def _money(value: Decimal | str | int | None, what: str) -> Decimal:
    try:
        amount = Decimal(str(value if value is not None else "0")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ServiceError(N_("%(what)s is not an amount: %(value)s"), what=what, value=str(value)) from None
    if amount < 0:
        raise ServiceError(N_("%(what)s must not be negative"), what=what)
    return amount


def _route(value: LegalRoute | str) -> LegalRoute:
    try:
        return LegalRoute(str(value).strip())
    except ValueError:
        raise ServiceError(N_("unknown route %(route)s"), route=str(value)) from None


def _close(case: LegalCase, state: LegalState, on: dt.date) -> None:
    case.state = state
    case.closed_on = on


def _after(on: dt.date, earlier: dt.date | None, what: str, before: str) -> None:
    if earlier is not None and on < earlier:
        raise ServiceError(N_("the %(what)s date %(date)s is before the %(before)s (%(earlier)s)"),
                           what=what, date=on.isoformat(), before=before, earlier=earlier.isoformat())


# --- route ------------------------------------------------------------------------------------------------


def set_route(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, route: LegalRoute | str, reason: str = "",
    today: dt.date,
) -> LegalCase:
    """The lawyer confirms or changes the proposed route before filing (L10–L12)."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, (LegalState.DRAFTED, LegalState.MEDIATION), "set the route")
    if case.state == LegalState.MEDIATION and case.filed_on is not None:
        raise ServiceError(N_("the route of a filed case cannot change"))
    chosen = _route(route)
    check_route(session, case, chosen)
    if chosen != case.proposed_route and not (reason or "").strip():
        raise ServiceError(N_("say why the route differs from the proposed one (%(proposed)s)"),
                           proposed=case.proposed_route.value if case.proposed_route else "none")
    previous = case.route
    case.route = chosen
    add_event(session, actor, case, "route_set", today, note=reason,
              detail={"route": chosen.value, "previous": previous.value if previous else None,
                      "proposed": case.proposed_route.value if case.proposed_route else None})
    return case


def check_route(session: Session, case: LegalCase, route: LegalRoute) -> None:
    """A payment order is refused once the case was ever disputed (L10); arbitration needs the
    contract's commission, and then the courts will not take the case (L12)."""
    community = session.get(Community, _community_id(session, case))
    commission = ((community.arbitration_commission if community else None) or "").strip()
    if route == LegalRoute.PAYMENT_ORDER and ever_disputed(session, case.collection_case_id):
        raise ServiceError(N_("the case has been disputed: a payment order is not available (L10)"))
    if route == LegalRoute.ARBITRATION and not commission:
        raise ServiceError(N_("arbitration needs an arbitration clause naming a commission; the contract "
                              "names none (L12)"))
    if route != LegalRoute.ARBITRATION and commission:
        raise ServiceError(N_("the contract names an arbitration commission (%(commission)s): the courts will "
                              "not take the case (L12)"), commission=commission)


def _community_id(session: Session, case: LegalCase) -> int:
    from arrears.persistence.models import CollectionCase

    collection = session.get(CollectionCase, case.collection_case_id)
    assert collection is not None
    return collection.community_id


# --- filing and the court's steps -------------------------------------------------------------------------


def record_filing(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, court: str, case_number: str,
    filed_on: dt.date, today: dt.date, document: Proof | None = None, note: str | None = None,
) -> LegalCase:
    """The claim is filed (court or arbitration commission, its case number, the filing date); the
    filing interrupts limitation for exactly the claimed charges (L5)."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, (LegalState.DRAFTED, LegalState.MEDIATION), "record the filing")
    if case.filed_on is not None:
        raise ServiceError(N_("legal case %(id)s is already filed (%(number)s)"), id=case.id,
                           number=case.case_number or "")
    if case.route is None:
        raise ServiceError(N_("confirm the route before recording the filing"))
    court, number = _text(court, "the court"), _text(case_number, "the case number")
    _past(filed_on, today, "filing")
    _after(filed_on, case.opened_on, "filing", "opening of the legal case")
    check_route(session, case, case.route)
    charge_ids = [int(c) for c in case.claimed_charge_ids]
    interruption = None
    if charge_ids:
        interruption, _ = record_interruption(
            session, actor, company_id, case.unit_id, kind=InterruptionKind.FILING, occurred_on=filed_on,
            proof_ref=f"{court} {number}"[:200], charge_ids=charge_ids, today=today,
            proof_note=f"legal case {case.id}: {case.route.value} filed", source="legal")
    case.court, case.case_number, case.filed_on = court, number, filed_on
    case.state = LegalState.FILED
    add_event(session, actor, case, "filed", filed_on, note=note, document=document,
              detail={"court": court, "case_number": number, "route": case.route.value,
                      "interruption_id": interruption.id if interruption else None, "charges": charge_ids})
    return case


def record_mediation(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, stage: str, outcome: str,
    on: dt.date, today: dt.date, mediator: str | None = None, terms: str | None = None,
    effective_on: dt.date | None = None, principal: Decimal | str | None = None,
    late_fee: Decimal | str | None = None, costs: Decimal | str | None = None,
    performance_deadline: dt.date | None = None, document: Proof | None = None, note: str | None = None,
) -> LegalCase:
    """Mediation (L13): pre-suit (before filing; a request to a mediation committee interrupts
    limitation, L5) or in-suit. ``settled`` needs the terms and gives a mediation-document title
    (amounts, effective date, performance deadline); ``failed`` returns the case to where it was."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    if stage not in MEDIATION_STAGES:
        raise ServiceError(N_("unknown mediation stage %(stage)s (pre_suit or in_suit)"), stage=stage)
    if outcome not in MEDIATION_OUTCOMES:
        raise ServiceError(N_("unknown mediation outcome %(outcome)s (started, settled or failed)"), outcome=outcome)
    _past(on, today, "mediation")
    if stage == "in_suit" and case.filed_on is None:
        raise ServiceError(N_("in-suit mediation needs a filed claim; record the filing first"))
    _after(on, case.filed_on if stage == "in_suit" else case.opened_on, "mediation",
           "filing" if stage == "in_suit" else "opening of the legal case")
    detail: dict[str, Any] = {"stage": stage, "outcome": outcome, "mediator": (mediator or "").strip() or None}
    if outcome == "started":
        _state(case, (LegalState.DRAFTED,) if stage == "pre_suit" else (LegalState.FILED,), "start mediation")
        if stage == "pre_suit" and case.claimed_charge_ids:
            interruption, _ = record_interruption(
                session, actor, company_id, case.unit_id, kind=InterruptionKind.MEDIATION_REQUEST, occurred_on=on,
                proof_ref=f"legal case {case.id} mediation {on.isoformat()}" + (f" {mediator}" if mediator else ""),
                charge_ids=[int(c) for c in case.claimed_charge_ids], today=today, source="legal",
                proof_note="pre-suit mediation request")
            detail["interruption_id"] = interruption.id
        case.state = LegalState.MEDIATION
        add_event(session, actor, case, "mediation_started", on, detail=detail, note=note, document=document)
        return case
    allowed = (LegalState.MEDIATION, LegalState.DRAFTED) if stage == "pre_suit" else (
        LegalState.MEDIATION, LegalState.FILED)
    _state(case, allowed, f"record the mediation {outcome}")
    if outcome == "failed":
        case.state = LegalState.FILED if case.filed_on is not None else LegalState.DRAFTED
        add_event(session, actor, case, "mediation_failed", on, detail=detail, note=note, document=document)
        return case
    detail["terms"] = _text(terms, "the settlement terms")
    add_event(session, actor, case, "mediation_settled", on, detail=detail, note=note)
    _set_title(session, actor, case, kind="mediation_document", effective_on=effective_on or on, principal=principal,
               late_fee=late_fee, costs=costs, performance_deadline=performance_deadline, today=today,
               document=document, note=None)
    return case


def record_payment_order(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, issued_on: dt.date,
    served_on: dt.date | None = None, today: dt.date, document: Proof | None = None, note: str | None = None,
) -> LegalCase:
    """The court issued the payment order (and served it): the owner has 15 days from service to
    pay or object (L10). Called again with ``served_on`` once service is known."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    if case.route != LegalRoute.PAYMENT_ORDER:
        raise ServiceError(N_("legal case %(id)s is not on the payment-order route"), id=case.id)
    _past(issued_on, today, "issue")
    first = case.state != LegalState.PAYMENT_ORDER_ISSUED
    if not first:
        if case.order_served_on is not None or served_on is None:
            raise ServiceError(N_("the payment order of legal case %(id)s is already recorded"), id=case.id)
        if issued_on != case.order_issued_on:
            raise ServiceError(N_("the payment order was issued on %(date)s"), date=str(case.order_issued_on))
    else:
        _state(case, (LegalState.FILED,), "record the payment order")
        _after(issued_on, case.filed_on, "issue", "filing")
    if served_on is not None:
        _past(served_on, today, "service")
        _after(served_on, issued_on, "service", "issue")
    case.order_issued_on = issued_on
    case.order_served_on = served_on
    case.state = LegalState.PAYMENT_ORDER_ISSUED
    end = periods.objection_end(case)
    add_event(session, actor, case, "payment_order" if first else "payment_order_served",
              issued_on if first else served_on or issued_on, note=note, document=document,
              detail={"issued_on": issued_on, "served_on": served_on, "objection_period_ends": end})
    return case


def record_objection(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, objection_on: dt.date, today: dt.date,
    document: Proof | None = None, note: str | None = None,
) -> LegalCase:
    """The owner objected within the 15 days: the matter becomes a lawsuit unless the company
    declines within 7 days (L10)."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, (LegalState.PAYMENT_ORDER_ISSUED,), "record an objection")
    if case.order_served_on is None:
        raise ServiceError(N_("record the service of the payment order first"))
    _past(objection_on, today, "objection")
    _after(objection_on, case.order_served_on, "objection", "service of the order")
    end = periods.objection_end(case)
    assert end is not None
    if objection_on > end:
        raise ServiceError(N_("the objection period ended on %(date)s: a late objection does not stop the "
                              "payment order (L10)"), date=end.isoformat())
    case.objection_on = objection_on
    case.state = LegalState.OBJECTION_RAISED
    add_event(session, actor, case, "objection", objection_on, note=note, document=document,
              detail={"decline_window_ends": periods.decline_end(case)})
    return case


def decline_conversion(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, on: dt.date, today: dt.date,
    note: str | None = None, document: Proof | None = None,
) -> LegalCase:
    """The company declines the lawsuit within 7 days of the objection (L10): the case ends."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, (LegalState.OBJECTION_RAISED,), "decline the lawsuit")
    _past(on, today, "decline")
    _after(on, case.objection_on, "decline", "objection")
    end = periods.decline_end(case)
    assert end is not None
    if on > end:
        raise ServiceError(N_("the 7-day window to decline ended on %(date)s: the matter has become a "
                              "lawsuit (L10)"), date=end.isoformat())
    _close(case, LegalState.WITHDRAWN, on)
    add_event(session, actor, case, "conversion_declined", on, note=note, document=document)
    return case


def convert_to_lawsuit(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, on: dt.date, today: dt.date,
    route: LegalRoute | str = LegalRoute.SIMPLIFIED, case_number: str | None = None, note: str | None = None,
    document: Proof | None = None,
) -> LegalCase:
    """After an objection the matter continues as a lawsuit (L10); the court may give it a new number."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, (LegalState.OBJECTION_RAISED,), "convert to a lawsuit")
    _past(on, today, "conversion")
    _after(on, case.objection_on, "conversion", "objection")
    chosen = _route(route)
    if chosen not in LAWSUIT_ROUTES:
        raise ServiceError(N_("a payment order converts to a lawsuit (small claims, simplified or ordinary), "
                              "not %(route)s"), route=chosen.value)
    previous = case.case_number
    case.route = chosen
    if (case_number or "").strip():
        case.case_number = case_number.strip()  # type: ignore[union-attr]
    case.state = LegalState.FILED
    add_event(session, actor, case, "converted_to_lawsuit", on, note=note, document=document,
              detail={"route": chosen.value, "case_number": case.case_number, "previous_case_number": previous})
    return case


def record_title(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, kind: str, effective_on: dt.date,
    principal: Decimal | str, late_fee: Decimal | str = ZERO, costs: Decimal | str = ZERO,
    performance_deadline: dt.date, today: dt.date, document: Proof | None = None, note: str | None = None,
) -> LegalCase:
    """An effective title: judgement, mediation document, unopposed payment order or award, with
    the awarded amounts and the performance deadline (the last day the judgement gives)."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _set_title(session, actor, case, kind=kind, effective_on=effective_on, principal=principal, late_fee=late_fee,
               costs=costs, performance_deadline=performance_deadline, today=today, document=document, note=note)
    return case


def _set_title(
    session: Session, actor: Actor, case: LegalCase, *, kind: str, effective_on: dt.date | None,
    principal: Decimal | str | None, late_fee: Decimal | str | None, costs: Decimal | str | None,
    performance_deadline: dt.date | None, today: dt.date, document: Proof | None, note: str | None,
) -> None:
    if kind not in TITLE_KINDS:
        raise ServiceError(N_("unknown title kind %(kind)s (judgement, mediation_document, payment_order or "
                              "award)"), kind=kind)
    allowed = {LegalState.FILED, LegalState.MEDIATION, LegalState.PAYMENT_ORDER_ISSUED}
    if kind == "mediation_document":
        allowed.add(LegalState.DRAFTED)  # a pre-suit settlement, judicially confirmed (L13)
    _state(case, frozenset(allowed), "record the title")
    if kind != "mediation_document" and case.filed_on is None:
        raise ServiceError(N_("a %(kind)s needs a filed claim; record the filing first"), kind=kind)
    if case.route is not None and kind not in TITLES_OF_ROUTE[case.route]:
        raise ServiceError(N_("a %(kind)s is not a title of the %(route)s route"), kind=kind, route=case.route.value)
    if effective_on is None or performance_deadline is None:
        raise ServiceError(N_("a title needs its effective date and performance deadline"))
    _past(effective_on, today, "effective")
    _after(effective_on, case.filed_on, "effective", "filing")
    if performance_deadline < effective_on:
        raise ServiceError(N_("the performance deadline %(date)s is before the title took effect"),
                           date=performance_deadline.isoformat())
    if case.state == LegalState.PAYMENT_ORDER_ISSUED:
        if kind != "payment_order":
            raise ServiceError(N_("while the payment order stands, the only title is the order itself"))
        end = periods.objection_end(case)
        if end is None or effective_on <= end:
            raise ServiceError(N_("the payment order takes effect only after its objection period (%(date)s)"),
                               date=end.isoformat() if end else "not served")
    elif kind == "payment_order":
        raise ServiceError(N_("record the payment order (issued and served) first"))
    amounts = {"principal": _money(principal, "the awarded principal"),
               "late_fee": _money(late_fee, "the awarded late fee"), "costs": _money(costs, "the awarded costs")}
    if sum(amounts.values(), ZERO) <= 0:
        raise ServiceError(N_("a title awards an amount"))
    case.title_kind, case.title_effective_on = kind, effective_on
    case.awarded_principal, case.awarded_late_fee, case.awarded_costs = (
        amounts["principal"], amounts["late_fee"], amounts["costs"])
    case.performance_deadline = performance_deadline
    case.state = LegalState.TITLE_EFFECTIVE
    last = periods.performance_last_day(case)
    add_event(session, actor, case, "title", effective_on, note=note, document=document,
              detail={"title_kind": kind, **amounts, "performance_deadline": performance_deadline,
                      "performance_last_day": last,
                      "enforcement_deadline": periods.enforcement_deadline(last) if last else None})


# --- after the title --------------------------------------------------------------------------------------


def record_enforcement(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, court: str, case_number: str,
    applied_on: dt.date, today: dt.date, document: Proof | None = None, note: str | None = None,
) -> LegalCase:
    """Enforcement applied for (L14): only after the performance period's last day, within 2 years."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, (LegalState.TITLE_EFFECTIVE,), "record the enforcement application")
    court, number = _text(court, "the enforcement court"), _text(case_number, "the enforcement case number")
    _past(applied_on, today, "application")
    last = periods.performance_last_day(case)
    assert last is not None
    if applied_on <= last:
        raise ServiceError(N_("the performance period runs until %(date)s: enforcement can be applied for "
                              "only after it (L14)"), date=last.isoformat())
    deadline = periods.enforcement_deadline(last)
    if applied_on > deadline:
        raise ServiceError(N_("the deadline to apply for enforcement was %(date)s (2 years from the last day "
                              "of the performance period, L14): the application is out of time"),
                           date=deadline.isoformat())
    figures = periods.figures(session, case, applied_on)
    if figures.unpaid <= 0:
        raise ServiceError(N_("the title is paid in full: there is nothing to enforce"))
    case.enforcement_court, case.enforcement_case_number, case.enforcement_applied_on = court, number, applied_on
    case.state = LegalState.ENFORCEMENT_APPLIED
    add_event(session, actor, case, "enforcement_applied", applied_on, note=note, document=document,
              detail={"court": court, "case_number": number, "unpaid": figures.unpaid,
                      "delay_interest": figures.delay_interest, "enforcement_deadline": deadline})
    return case


def record_dishonest_ground(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, text: str, today: dt.date,
    by: str | None = None,
) -> LegalCase:
    """A person records why the owner is able to pay but refuses (e.g. owns the unit, has income, L15);
    ``by`` names who established it (default: the actor)."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, (LegalState.TITLE_EFFECTIVE, LegalState.ENFORCEMENT_APPLIED), "record a ground")
    case.dishonest_ground = _text(text, "the ground")
    case.dishonest_ground_by = (by or "").strip()[:120] or actor.name
    add_event(session, actor, case, "dishonest_ground", today,
              detail={"ground": case.dishonest_ground, "by": case.dishonest_ground_by})
    return case


def dishonest_check(session: Session, case: LegalCase, on: dt.date) -> tuple[bool, tuple[str, ...]]:
    """L15 (``domain.judgement.dishonest_candidate`` for every debtor of the ownership): an effective
    title, the performance period over, enforcement applied for, the debt unpaid and a ground
    recorded by a person — never a minor (birth date from the record or the ID number; a person
    whose birth date is unknown is not flagged either). Returns (candidate, reasons)."""
    owners = _owners(session, case)
    if not owners:
        return False, (N_("the legal case has no debtor on record"),)
    unpaid = periods.figures(session, case, on).unpaid
    reasons: list[str] = []
    for owner in owners:
        ok, why = judgement.dishonest_candidate(
            title_effective_on=case.title_effective_on, performance_last_day=periods.performance_last_day(case),
            enforcement_applied_on=case.enforcement_applied_on, unpaid=unpaid, ground=case.dishonest_ground,
            birth_date=owner_birth_date(owner), today=on, is_person=owner.kind != OwnerKind.ORGANISATION)
        if not ok:
            reasons.extend(r for r in why if r not in reasons)
    return (False, tuple(reasons)) if reasons else (True, (judgement.CANDIDATE,))


def owner_birth_date(owner: Owner) -> dt.date | None:
    if owner.birth_date is not None:
        return owner.birth_date
    try:
        return birth_date_from_id(IdType(owner.id_type), owner.id_number)
    except (ValueError, IdentifierError):
        return None


def _owners(session: Session, case: LegalCase) -> list[Owner]:
    ownership = session.get(Ownership, case.ownership_id)
    owners = [p.owner for p in sorted(ownership.parties, key=lambda p: p.position)] if ownership else []
    return owners


def apply_dishonest(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, on: dt.date, today: dt.date,
    document: Proof | None = None, note: str | None = None,
) -> LegalCase:
    """A person approved and filed the application to list the owner (L15) — only for a candidate."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, (LegalState.ENFORCEMENT_APPLIED,), "apply for the dishonest-debtor list")
    _past(on, today, "application")
    ok, reasons = dishonest_check(session, case, on)
    if not ok:
        raise ServiceError(N_("the owner is not a candidate for the dishonest-debtor list: %(reasons)s (L15)"),
                           reasons="; ".join(reasons))
    case.dishonest_applied_on = on
    case.state = LegalState.DISHONEST_APPLIED
    add_event(session, actor, case, "dishonest_applied", on, note=note, document=document,
              detail={"ground": case.dishonest_ground, "ground_by": case.dishonest_ground_by})
    return case


def record_listing(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, listed_on: dt.date, today: dt.date,
    document: Proof | None = None, note: str | None = None,
) -> LegalCase:
    """The court listed the owner (only the court lists, L15)."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, (LegalState.DISHONEST_APPLIED,), "record the listing")
    _past(listed_on, today, "listing")
    _after(listed_on, case.dishonest_applied_on, "listing", "application")
    case.listed_on = listed_on
    case.state = LegalState.LISTED
    add_event(session, actor, case, "listed", listed_on, note=note, document=document)
    return case


def request_deletion(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, on: dt.date, today: dt.date,
    note: str | None = None, document: Proof | None = None,
) -> LegalCase:
    """The creditor asks the court to delete the listing (after full payment, or by choice: then no
    new application for 6 months, L15); the court deletes within 3 working days."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, (LegalState.LISTED,), "request the deletion")
    _past(on, today, "request")
    _request_deletion(session, actor, case, on, note=note, document=document, paid=False)
    return case


def _request_deletion(session: Session, actor: Actor, case: LegalCase, on: dt.date, *, note: str | None,
                      document: Proof | None, paid: bool) -> None:
    case.deletion_requested_on = on
    case.state = LegalState.DELETION_REQUESTED
    add_event(session, actor, case, "deletion_requested", on, note=note, document=document,
              detail={"paid_in_full": paid, "window_ends": periods.deletion_window_end(on)})


def record_deletion(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, deleted_on: dt.date, today: dt.date,
    document: Proof | None = None, note: str | None = None,
) -> LegalCase:
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, (LegalState.DELETION_REQUESTED, LegalState.LISTED), "record the deletion")
    _past(deleted_on, today, "deletion")
    _after(deleted_on, case.listed_on, "deletion", "listing")
    case.deleted_on = deleted_on
    _close(case, LegalState.DELETED, deleted_on)
    add_event(session, actor, case, "deleted", deleted_on, note=note, document=document)
    return case


def withdraw(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, on: dt.date, reason: str, today: dt.date,
    document: Proof | None = None,
) -> LegalCase:
    """The company withdraws (before or after filing); the case closes."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, OPEN_STATES, "withdraw")
    _past(on, today, "withdrawal")
    _after(on, case.opened_on, "withdrawal", "opening")
    _close(case, LegalState.WITHDRAWN, on)
    add_event(session, actor, case, "withdrawn", on, note=_text(reason, "a reason"), document=document)
    return case


def dismiss(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, on: dt.date, reason: str, today: dt.date,
    document: Proof | None = None,
) -> LegalCase:
    """The court or commission dismissed the claim; the case closes."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    _state(case, OPEN_STATES, "record a dismissal")
    if case.filed_on is None:
        raise ServiceError(N_("only a filed claim can be dismissed; withdraw a draft instead"))
    _past(on, today, "dismissal")
    _after(on, case.filed_on, "dismissal", "filing")
    _close(case, LegalState.DISMISSED, on)
    add_event(session, actor, case, "dismissed", on, note=_text(reason, "a reason"), document=document)
    return case


# --- payments during a legal case -------------------------------------------------------------------------


def refresh_payments(session: Session, actor: Actor, company_id: int, *, today: dt.date) -> list[LegalCase]:
    """Compare what was recovered since filing with the awarded amounts. On full payment of a title:
    a listed owner → the deletion request is drafted the same day (L15, the court's 3-working-day
    window); otherwise → PAID and closed. A claim paid in full before any title is marked (event
    ``paid_in_full``) for the lawyer to withdraw. Returns the cases that changed."""
    changed: list[LegalCase] = []
    cases = session.scalars(select(LegalCase).where(LegalCase.company_id == company_id,
                                                    LegalCase.closed_on.is_(None)).order_by(LegalCase.id))
    for case in cases:
        if case.state in (LegalState.DELETION_REQUESTED,) or case.paid_in_full_on is not None:
            continue
        figures = periods.figures(session, case, today)
        if case.state in AFTER_TITLE:
            if figures.unpaid > 0:
                continue
            case.paid_in_full_on = today
            add_event(session, actor, case, "paid_in_full", today,
                      detail={"awarded": figures.awarded_total, "recovered": figures.recovered})
            if case.state == LegalState.LISTED:
                _request_deletion(session, actor, case, today, note=None, document=None, paid=True)
            else:
                _close(case, LegalState.PAID, today)
                add_event(session, actor, case, "closed_paid", today)
            changed.append(case)
        elif case.claimed_principal + case.claimed_late_fee > 0 and \
                figures.recovered >= case.claimed_principal + case.claimed_late_fee:
            case.paid_in_full_on = today
            add_event(session, actor, case, "paid_in_full", today,
                      note="the claim is paid before a title: withdraw the claim",
                      detail={"claimed": case.claimed_principal + case.claimed_late_fee,
                              "recovered": figures.recovered})
            changed.append(case)
    session.flush()
    return changed
