"""Opening legal cases (issue 5 §1, §7): only for a collection case with a delivered demand whose
deadline has passed (L2), one open legal case per collection case, the claim computed from the
claimable charges (time-barred ones left out unless included, L4), the route proposed with its
reasons (L10–L12) and a lawyer assigned. The court's steps are in :mod:`.events` (re-exported
here, so callers can use ``cases.record_filing`` and the like).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arrears.persistence.enums import LegalRoute, LegalState
from arrears.persistence.legal import LegalCase
from arrears.persistence.models import CollectionCase

from ..actor import Actor
from ..errors import N_, ServiceError
from ..tenancy import get_scoped
from .claims import Claim, build_claim, check_ready, flagged
from .deadlines import LegalFigures, case_figures
from .events import (
    add_event,
    apply_dishonest,
    check_route,
    convert_to_lawsuit,
    decline_conversion,
    dishonest_check,
    dismiss,
    get_legal_case,
    record_deletion,
    record_dishonest_ground,
    record_enforcement,
    record_filing,
    record_listing,
    record_mediation,
    record_objection,
    record_payment_order,
    record_title,
    refresh_payments,
    request_deletion,
    set_route,
    withdraw,
)
from .lawyers import check_lawyer


@dataclass(frozen=True)
class RouteSuggestion:
    route: LegalRoute | None
    reasons: tuple[str, ...]
    note: str | None = None  # why there is no proposal (routing not available, or it refused)


@dataclass
class OpenManyResult:
    created: list[LegalCase] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (collection case id, why)


def open_legal_case(
    session: Session,
    actor: Actor,
    company_id: int,
    collection_case_id: int,
    *,
    today: dt.date,
    lawyer_user_id: int | None = None,
    include_time_barred: bool = False,
    claim_late_fees: bool = True,
    until_actual_payment: bool = True,
    late_fee_basis: str = "contract",
) -> LegalCase:
    """Open the legal case of a legal-ready collection case (see the module doc); ServiceError names
    what is missing and nothing changes."""
    case = get_scoped(session, CollectionCase, collection_case_id, company_id)
    check_ready(session, case, today)
    current = open_legal_case_of(session, case.id)
    if current is not None:
        raise ServiceError(N_("collection case %(case)s already has an open legal case (%(id)s)"),
                           case=case.id, id=current.id)
    if lawyer_user_id is not None:
        check_lawyer(session, company_id, lawyer_user_id)
    claim = build_claim(session, company_id, case, as_of=today, include_time_barred=include_time_barred,
                        claim_late_fees=claim_late_fees, late_fee_basis=late_fee_basis)
    if not claim.charge_ids:
        if claim.excluded_time_barred:
            raise ServiceError(N_("every overdue charge of case %(id)s is time-barred (L4): include time-barred "
                                  "charges explicitly to claim them"), id=case.id)
        raise ServiceError(N_("case %(id)s owes nothing as of %(date)s"), id=case.id, date=today.isoformat())
    if claim.total <= 0:
        raise ServiceError(N_("case %(id)s owes nothing as of %(date)s once its credit is deducted"),
                           id=case.id, date=today.isoformat())
    suggestion = propose_route(session, company_id, case.id, claim=claim.total, filing_date=today)
    legal = LegalCase(
        company_id=company_id, collection_case_id=case.id, unit_id=case.unit_id, ownership_id=case.ownership_id,
        state=LegalState.DRAFTED, proposed_route=suggestion.route, route_reasons=list(suggestion.reasons),
        lawyer_user_id=lawyer_user_id, opened_on=today, opened_by=actor.name, claim_as_of=today,
        claimed_charge_ids=list(claim.charge_ids), include_time_barred=include_time_barred,
        claim_late_fees=claim_late_fees, until_actual_payment=until_actual_payment,
        late_fee_basis=claim.late_fee_basis, claimed_principal=claim.principal, claimed_late_fee=claim.late_fee,
    )
    session.add(legal)
    session.flush()
    add_event(session, actor, legal, "opened", today, detail=_opened_detail(claim, suggestion, lawyer_user_id))
    return legal


def open_many(
    session: Session, actor: Actor, company_id: int, collection_case_ids: Sequence[int], *, today: dt.date,
    lawyer_user_id: int | None, include_time_barred: bool = False, claim_late_fees: bool = True,
    until_actual_payment: bool = True, late_fee_basis: str = "contract",
) -> OpenManyResult:
    """Bulk filing (issue 5 §7): one legal case per collection case (one per owner and unit), each
    in its own savepoint; those failing a precondition are skipped with the reason."""
    if lawyer_user_id is not None:
        check_lawyer(session, company_id, lawyer_user_id)
    result = OpenManyResult()
    for case_id in dict.fromkeys(collection_case_ids):
        try:
            with session.begin_nested():
                result.created.append(open_legal_case(
                    session, actor, company_id, case_id, today=today, lawyer_user_id=lawyer_user_id,
                    include_time_barred=include_time_barred, claim_late_fees=claim_late_fees,
                    until_actual_payment=until_actual_payment, late_fee_basis=late_fee_basis))
        except ServiceError as exc:
            result.skipped.append((case_id, str(exc)))
        except IntegrityError:  # opened concurrently: the partial unique index holds
            result.skipped.append((case_id, f"collection case {case_id} already has an open legal case"))
    return result


def assign_lawyer(
    session: Session, actor: Actor, company_id: int, legal_case_id: int, *, lawyer_user_id: int, today: dt.date,
) -> LegalCase:
    """Assign (or reassign) the lawyer: a user with the LAWYER role in this company."""
    case = get_legal_case(session, company_id, legal_case_id, lock=True)
    if case.closed_on is not None:
        raise ServiceError(N_("legal case %(id)s is closed"), id=case.id)
    check_lawyer(session, company_id, lawyer_user_id)
    previous = case.lawyer_user_id
    case.lawyer_user_id = lawyer_user_id
    add_event(session, actor, case, "lawyer_assigned", today,
              detail={"lawyer_user_id": lawyer_user_id, "previous": previous})
    return case


def open_legal_case_of(session: Session, collection_case_id: int) -> LegalCase | None:
    return session.scalar(select(LegalCase).where(LegalCase.collection_case_id == collection_case_id,
                                                  LegalCase.closed_on.is_(None)))


def propose_route(
    session: Session, company_id: int, collection_case_id: int, *, claim: Decimal, filing_date: dt.date
) -> RouteSuggestion:
    """The route proposal of ``arrears.services.legal.routing`` (L10–L12), imported lazily."""
    try:
        from . import routing
    except ImportError:
        return RouteSuggestion(None, (), "route proposal not available")
    try:
        proposal: Any = routing.propose(session, company_id, collection_case_id, claim=claim,
                                        filing_date=filing_date)
    except ServiceError as exc:
        return RouteSuggestion(None, (), str(exc))
    route = getattr(proposal, "route", None)
    reasons = tuple(str(r) for r in getattr(proposal, "reasons", ()) or ())
    warnings = tuple(str(w) for w in getattr(proposal, "warnings", ()) or ())
    return RouteSuggestion(LegalRoute(str(route)) if route else None, reasons + warnings)


def _opened_detail(claim: Claim, suggestion: RouteSuggestion, lawyer_user_id: int | None) -> dict[str, Any]:
    supplementary = [s.charge_id for s in flagged(list(claim.standings))]
    return {
        "as_of": claim.as_of, "charges": list(claim.charge_ids), "principal": claim.principal,
        "late_fee": claim.late_fee, "late_fee_basis": claim.late_fee_basis, "credit": claim.credit, "excluded_time_barred": list(claim.excluded_time_barred),
        "supplementary_demand_offered": bool(supplementary), "flagged_charges": supplementary,
        "proposed_route": suggestion.route.value if suggestion.route else None, "route_note": suggestion.note,
        "lawyer_user_id": lawyer_user_id,
    }


__all__ = [
    "LegalFigures",
    "OpenManyResult",
    "RouteSuggestion",
    "apply_dishonest",
    "assign_lawyer",
    "case_figures",
    "check_route",
    "convert_to_lawsuit",
    "decline_conversion",
    "dishonest_check",
    "dismiss",
    "get_legal_case",
    "open_legal_case",
    "open_legal_case_of",
    "open_many",
    "propose_route",
    "record_deletion",
    "record_dishonest_ground",
    "record_enforcement",
    "record_filing",
    "record_listing",
    "record_mediation",
    "record_objection",
    "record_payment_order",
    "record_title",
    "refresh_payments",
    "request_deletion",
    "set_route",
    "withdraw",
]
