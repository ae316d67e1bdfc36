"""Route facts from the database and the route proposal (L10–L12, E6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from arrears.domain import routing as r
from arrears.domain.routing import RouteName
from arrears.persistence.enums import DisputeOutcome, LegalRoute
from arrears.persistence.legal import SmallClaimsCeiling
from arrears.persistence.models import Community, Owner, Ownership, OwnershipParty
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation.disputes import open_dispute, resolve_dispute
from arrears.services.legal.ceilings import add_ceiling, seed_ceilings
from arrears.services.legal.routing import propose, route_facts
from tests.factories import ACTOR, make_company, make_owner
from tests.services.test_escalation_plans import TODAY, build_case

D = Decimal
FILING = dt.date(2026, 3, 1)


@pytest.fixture
def case(session: Session):  # type: ignore[no-untyped-def]
    """A Jiangsu case whose owner has a service address and a phone; the ceilings seeded."""
    session.execute(delete(SmallClaimsCeiling))
    seed_ceilings(session)
    collection_case, _ = build_case(session)
    for owner in _owners(session, collection_case):
        owner.service_address = "南京市鼓楼区中山路1号1-1-101"
    session.flush()
    return collection_case


def _owners(session: Session, case) -> list[Owner]:  # type: ignore[no-untyped-def]
    ownership = session.get(Ownership, case.ownership_id)
    assert ownership is not None
    return [p.owner for p in ownership.parties]


def _co_owner(session: Session, case, **kw: object) -> Owner:  # type: ignore[no-untyped-def]
    owner = make_owner(session, case.company_id, **kw)
    ownership = session.get(Ownership, case.ownership_id)
    assert ownership is not None
    ownership.parties.append(OwnershipParty(owner_id=owner.id, position=1))
    session.flush()
    session.refresh(ownership)
    return owner


def _facts(session: Session, case, claim: str = "12345.60", filing: dt.date = FILING):  # type: ignore[no-untyped-def]
    return route_facts(session, case.company_id, case.id, claim=D(claim), filing_date=filing)


def test_facts_of_a_plain_case(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    facts = _facts(session, case)
    assert (facts.claim, facts.filing_date, facts.province, facts.arbitration_commission) == (
        D("12345.60"), FILING, "江苏", None)
    assert (facts.open_dispute, facts.ever_disputed, facts.owner_reachable, facts.whereabouts_unknown,
            facts.foreign_related, facts.amount_fixed) == (False, False, True, False, False, True)
    assert sorted(c.amount for c in facts.ceilings) == [D("60862.00"), D("64610.00")]


def test_e6_proposal_from_the_database(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    proposal = propose(session, case.company_id, case.id, claim=D("12345.60"), filing_date=FILING)
    assert proposal.route is RouteName.PAYMENT_ORDER and proposal.suit_route is RouteName.SMALL_CLAIMS
    assert LegalRoute(proposal.route) is LegalRoute.PAYMENT_ORDER
    assert proposal.ceiling is not None and proposal.ceiling.amount == D("64610.00")
    assert proposal.warnings == ()
    assert proposal.fees == {"payment_order": D("36.21"), "small_claims": D("54.32"), "simplified": D("54.32"),
                             "ordinary": D("108.64")}
    above = propose(session, case.company_id, case.id, claim=D("80000.00"), filing_date=FILING)
    assert above.suit_route is RouteName.SIMPLIFIED and above.options["small_claims"].by_agreement
    big = propose(session, case.company_id, case.id, claim=D("300000.00"), filing_date=FILING)
    assert big.suit_route is RouteName.ORDINARY


def test_ceiling_in_force_on_the_filing_date(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    before = propose(session, case.company_id, case.id, claim=D("62000.00"), filing_date=dt.date(2026, 1, 3))
    after = propose(session, case.company_id, case.id, claim=D("62000.00"), filing_date=dt.date(2026, 1, 4))
    assert before.ceiling is not None and before.ceiling.amount == D("60862.00")
    assert after.ceiling is not None and after.ceiling.amount == D("64610.00")
    assert (before.suit_route, after.suit_route) == (RouteName.SIMPLIFIED, RouteName.SMALL_CLAIMS)


def test_open_and_past_disputes(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    dispute = open_dispute(session, ACTOR, case.company_id, case.id, category="leak", description="roof",
                           today=TODAY)
    facts = _facts(session, case)
    assert (facts.open_dispute, facts.ever_disputed) == (True, True)
    assert propose(session, case.company_id, case.id, claim=D("12345.60"), filing_date=FILING).route is (
        RouteName.SMALL_CLAIMS)
    resolve_dispute(session, ACTOR, case.company_id, dispute.id, outcome=DisputeOutcome.UPHELD,
                    note="checked", today=TODAY)
    facts = _facts(session, case)
    assert (facts.open_dispute, facts.ever_disputed) == (False, True)
    proposal = propose(session, case.company_id, case.id, claim=D("12345.60"), filing_date=FILING)
    assert proposal.options["payment_order"].reasons == (r.PAYMENT_ORDER_PAST_DISPUTE,)


def test_arbitration_commission_from_the_community(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    community = session.get(Community, case.community_id)
    assert community is not None
    community.arbitration_commission = "  "
    session.flush()
    assert _facts(session, case).arbitration_commission is None
    community.arbitration_commission = "南京仲裁委员会"
    session.flush()
    assert _facts(session, case).arbitration_commission == "南京仲裁委员会"
    assert propose(session, case.company_id, case.id, claim=D("100.00"), filing_date=FILING).route is (
        RouteName.ARBITRATION)


def test_reachability_and_whereabouts(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    (owner,) = _owners(session, case)
    owner.service_address = None
    session.flush()
    facts = _facts(session, case)
    assert (facts.owner_reachable, facts.whereabouts_unknown) == (True, False)  # a phone still finds the owner
    owner.phone = " "
    session.flush()
    facts = _facts(session, case)
    assert (facts.owner_reachable, facts.whereabouts_unknown) == (False, True)
    proposal = propose(session, case.company_id, case.id, claim=D("12345.60"), filing_date=FILING)
    assert proposal.route is RouteName.ORDINARY
    assert not proposal.options["small_claims"].allowed and not proposal.options["simplified"].allowed


def test_a_co_owner_without_address_makes_whereabouts_unknown(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    _co_owner(session, case, phone=None)
    facts = _facts(session, case)
    assert (facts.owner_reachable, facts.whereabouts_unknown) == (False, True)


@pytest.mark.parametrize(("kw", "foreign"), [
    ({"id_type": "passport", "nationality": "US"}, True),
    ({"id_type": "passport", "nationality": None}, True),
    ({"id_type": "passport", "nationality": "中国"}, False),
    ({"id_type": "hk_macao_permit"}, True),
    ({"id_type": "taiwan_permit"}, True),
    ({"id_type": "hmt_residence_permit"}, True),
    ({"id_type": "foreign_permanent_id"}, True),
    ({"id_type": "resident_id"}, False),
    ({"id_type": "something_else"}, True),
])
def test_foreign_related_co_owner_means_no_small_claims(session: Session, case, kw: dict[str, object],
                                                         foreign: bool) -> None:  # type: ignore[no-untyped-def]
    _co_owner(session, case, service_address="香港中环皇后大道1号", **kw)
    assert _facts(session, case).foreign_related is foreign
    open_dispute(session, ACTOR, case.company_id, case.id, category="leak", description="roof", today=TODAY)
    proposal = propose(session, case.company_id, case.id, claim=D("12345.60"), filing_date=FILING)
    assert proposal.options["small_claims"].allowed is not foreign
    assert proposal.route is (RouteName.SIMPLIFIED if foreign else RouteName.SMALL_CLAIMS)


def test_province_without_ceiling_warns(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    community = session.get(Community, case.community_id)
    assert community is not None
    community.province = "广东"
    session.flush()
    proposal = propose(session, case.company_id, case.id, claim=D("12345.60"), filing_date=FILING)
    assert proposal.warnings == (r.WARN_NO_CEILING,)
    assert not proposal.options["small_claims"].decidable
    add_ceiling(session, ACTOR, province="广东省", amount="60000.00", wage_figure="120000.00",
                effective_from=dt.date(2025, 1, 1), source="粤高法", checked_on=dt.date(2024, 12, 1))
    proposal = propose(session, case.company_id, case.id, claim=D("12345.60"), filing_date=FILING)
    assert proposal.warnings == (r.WARN_STALE_CEILING,)  # checked 2024-12-01, 15 months before filing
    assert proposal.options["small_claims"].allowed


def test_other_company_and_bad_claims_are_refused(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    other = make_company(session)
    with pytest.raises(NotFound):
        route_facts(session, other.id, case.id, claim=D("1.00"), filing_date=FILING)
    for claim in (D("0.00"), D("-5.00")):
        with pytest.raises(ServiceError, match="positive"):
            route_facts(session, case.company_id, case.id, claim=claim, filing_date=FILING)
    with pytest.raises(ServiceError, match="more than 2 decimal places"):
        route_facts(session, case.company_id, case.id, claim=D("1.234"), filing_date=FILING)
