"""The late-fee basis of a legal case (L7): the contract rate, or one-year LPR × 1.3."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from arrears.domain.money import to_fen
from arrears.services.errors import ServiceError
from arrears.services.legal import claims
from arrears.services.legal.cases import open_legal_case
from tests.documents.packet_world import TODAY, build_world
from tests.factories import ACTOR

D = Decimal
CONTRACT_RATE = D("0.0005")
LPR_RATE = D("3.00") / 100 * D("1.3") / 365  # the LPR in force on 2026-11-25 (since 2025-05-20)
# (principal, days) segments of each charge to TODAY: Q1's 300.00 paid on 2026-02-14
SEGMENTS = [
    [(D("590.70"), 30), (D("290.70"), 284)],  # Q1, due 2026-01-15
    [(D("590.70"), 224)],  # Q2, due 2026-04-15
    [(D("590.70"), 133)],  # Q3, due 2026-07-15
    [(D("590.70"), 41)],  # Q4, due 2026-10-15
]


def fee(rate: Decimal) -> Decimal:
    """Each charge's fee rounded once to the fen, then summed (L7); no cap is reached here."""
    return sum((to_fen(sum((rate * p * d for p, d in segments), D(0))) for segments in SEGMENTS), D("0.00"))


def test_lpr_basis_claims_less_by_the_expected_amount(session: Session) -> None:
    world = build_world(session)
    on_contract = claims.build_claim(session, world.company.id, world.case, as_of=TODAY, include_time_barred=False,
                                     claim_late_fees=True)
    on_lpr = claims.build_claim(session, world.company.id, world.case, as_of=TODAY, include_time_barred=False,
                                claim_late_fees=True, late_fee_basis="lpr_x1_3")
    assert on_contract.late_fee == fee(CONTRACT_RATE)
    assert on_lpr.late_fee == fee(LPR_RATE)
    assert on_contract.late_fee - on_lpr.late_fee == fee(CONTRACT_RATE) - fee(LPR_RATE)
    assert on_lpr.principal == on_contract.principal and on_lpr.late_fee_basis == "lpr_x1_3"
    # one charge by hand: Q2 = 590.70 × 224 days: 66.16 on the contract rate, 14.14 on LPR × 1.3
    assert to_fen(CONTRACT_RATE * D("590.70") * 224) == D("66.16")
    assert to_fen(LPR_RATE * D("590.70") * 224) == D("14.14")


def test_legal_case_keeps_its_basis(session: Session) -> None:
    world = build_world(session)
    legal = open_legal_case(session, ACTOR, world.company.id, world.case.id, today=TODAY, late_fee_basis="lpr_x1_3")
    assert legal.late_fee_basis == "lpr_x1_3"
    assert legal.claimed_late_fee == fee(LPR_RATE)
    assert legal.events[0].detail["late_fee_basis"] == "lpr_x1_3"


def test_default_basis_is_the_contract(session: Session) -> None:
    world = build_world(session)
    legal = open_legal_case(session, ACTOR, world.company.id, world.case.id, today=TODAY)
    assert legal.late_fee_basis == "contract" and legal.claimed_late_fee == fee(CONTRACT_RATE)


def test_no_late_fee_without_a_clause_whatever_the_basis(session: Session) -> None:
    world = build_world(session, late_fee_rate=None)
    claim = claims.build_claim(session, world.company.id, world.case, as_of=TODAY, include_time_barred=False,
                               claim_late_fees=True, late_fee_basis="lpr_x1_3")
    assert claim.late_fee == 0


def test_unknown_basis_or_no_lpr_on_record_is_refused(session: Session) -> None:
    world = build_world(session)
    with pytest.raises(ServiceError):
        open_legal_case(session, ACTOR, world.company.id, world.case.id, today=TODAY, late_fee_basis="lpr_x1_5")
    community = world.community
    with pytest.raises(ServiceError, match="LPR"):
        claims.claim_terms(community, "lpr_x1_3", dt.date(2023, 1, 1))
