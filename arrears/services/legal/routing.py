"""Gather the facts of a collection case for the route choice and propose a route (L10–L12, E6).

The decision itself is pure (``arrears.domain.routing.propose_route``); this module reads the
community (province, arbitration commission), the disputes and the owners of the case. Reasons and
warnings in the proposal are English msgids; the web translates them.

Owners (every co-owner of the case's ownership is a defendant, jointly liable, L1):
- ``owner_reachable``: every co-owner has a service address or a phone number;
- ``whereabouts_unknown``: some co-owner can be found by no means on record (neither a service
  address nor a phone number) — an owner who simply lives elsewhere is not 下落不明;
- ``foreign_related``: some co-owner is a foreign national or holds a Hong Kong, Macao or Taiwan
  document (``arrears.domain.identity.is_foreign_related``); an unknown document type counts as
  foreign-related so that an unsure case is never pushed into small claims.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from arrears.domain.identity import IdType, is_foreign_related
from arrears.domain.money import MoneyError, parse_money
from arrears.domain.routing import RouteFacts, RouteProposal, propose_route
from arrears.persistence.models import Community, Owner, Ownership

from ..errors import N_, ServiceError, invalid_amount
from ..escalation.cases import get_case
from ..escalation.disputes import disputed_case_ids, ever_disputed
from .ceilings import ceilings_for


def route_facts(
    session: Session, company_id: int, collection_case_id: int, *, claim: Decimal, filing_date: dt.date,
) -> RouteFacts:
    """The facts ``propose_route`` decides on, for the company's collection case (NotFound otherwise)."""
    amount = _claim(claim)
    case = get_case(session, company_id, collection_case_id)
    community = session.get(Community, case.community_id)
    assert community is not None
    owners = _owners(session, case.ownership_id)
    if not owners:
        raise ServiceError(N_("the collection case has no owner on record"))
    commission = (community.arbitration_commission or "").strip() or None
    return RouteFacts(
        claim=amount,
        filing_date=filing_date,
        province=community.province,
        ceilings=tuple(ceilings_for(session, community.province)),
        arbitration_commission=commission,
        open_dispute=case.id in disputed_case_ids(session, company_id),
        ever_disputed=ever_disputed(session, case.id),
        owner_reachable=all(_has(o.service_address) or _has(o.phone) for o in owners),
        whereabouts_unknown=any(not _has(o.service_address) and not _has(o.phone) for o in owners),
        foreign_related=any(_foreign(o) for o in owners),
    )


def propose(
    session: Session, company_id: int, collection_case_id: int, *, claim: Decimal, filing_date: dt.date,
) -> RouteProposal:
    """The proposed route with reasons, every option's verdict, warnings and fees (L9–L12, E6)."""
    return propose_route(route_facts(session, company_id, collection_case_id, claim=claim,
                                     filing_date=filing_date))


def _claim(claim: object) -> Decimal:
    try:
        amount = parse_money(claim)  # type: ignore[arg-type]
    except (MoneyError, TypeError) as exc:
        raise invalid_amount(claim) from exc
    if amount <= 0:
        raise ServiceError(N_("the claim must be a positive amount"))
    return amount


def _owners(session: Session, ownership_id: int) -> list[Owner]:
    ownership = session.get(Ownership, ownership_id)
    if ownership is None:
        return []
    return [party.owner for party in sorted(ownership.parties, key=lambda p: p.position)]


def _has(value: str | None) -> bool:
    return bool((value or "").strip())


def _foreign(owner: Owner) -> bool:
    try:
        id_type = IdType(owner.id_type)
    except ValueError:
        return True
    return is_foreign_related(id_type, owner.nationality)
