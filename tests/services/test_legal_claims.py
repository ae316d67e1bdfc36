"""What stands against each charge before a filing (L2, L4, L5): covered by a delivered demand,
deadline running, billed after the demand (supplementary demand offered), time-barred."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from arrears.persistence.enums import ChargeSource, FeeKind
from arrears.persistence.models import Charge
from arrears.services import billing
from arrears.services.errors import ServiceError
from arrears.services.legal import claims
from arrears.services.legal.cases import open_legal_case
from tests.documents.packet_world import DEADLINE_ON, TODAY, World, build_world
from tests.factories import ACTOR


def old_charge(session: Session, world: World, due: dt.date = dt.date(2022, 1, 15)) -> Charge:
    """An unpaid charge of 2022 Q1 never demanded: time-barred by 2026 (L4)."""
    model = world.charges[0]
    charge = Charge(company_id=world.company.id, unit_id=world.unit.id, ownership_id=model.ownership_id,
                    fee_item_id=model.fee_item_id, kind=FeeKind.FEE, period_start=dt.date(due.year, 1, 1),
                    period_end=dt.date(due.year, 3, 31), period_label=f"{due.year}Q1", due_date=due,
                    amount=Decimal("590.70"), source=ChargeSource.MANUAL, principal_outstanding=Decimal("590.70"))
    session.add(charge)
    session.flush()
    return charge


def test_every_charge_covered_by_the_demand_whose_deadline_passed(session: Session) -> None:
    world = build_world(session)
    standings = claims.charge_standing(session, world.company.id, world.case.id, as_of=TODAY)
    assert [s.charge_id for s in standings] == [c.id for c in world.charges]
    assert all(s.demand_id == world.demand.id and s.deadline_passed for s in standings)  # type: ignore[union-attr]
    assert all(s.against == () for s in standings)
    assert standings[0].outstanding == Decimal("290.70")  # 300.00 paid on Q1
    assert not claims.supplementary_demand_offered(standings)


def test_deadline_running_before_the_demand_deadline(session: Session) -> None:
    world = build_world(session)
    standings = claims.charge_standing(session, world.company.id, world.case.id, as_of=DEADLINE_ON)
    assert all(s.covered and not s.deadline_passed for s in standings)
    assert all(claims.DEADLINE_RUNNING in s.against for s in standings)


def test_charges_billed_after_the_demand_are_flagged(session: Session) -> None:
    world = build_world(session)
    later = dt.date(2027, 1, 20)
    billing.run_billing(session, ACTOR, company_id=world.company.id, through=dt.date(2027, 1, 1), today=later)
    standings = claims.charge_standing(session, world.company.id, world.case.id, as_of=later)
    new = [s for s in standings if s.charge_id not in {c.id for c in world.charges}]
    assert len(new) == 1 and new[0].due_date == dt.date(2027, 1, 15)
    assert new[0].billed_after_demand and not new[0].covered and new[0].overdue
    assert new[0].against == (claims.BILLED_AFTER_DEMAND,)
    assert claims.supplementary_demand_offered(standings)
    assert [s.charge_id for s in claims.flagged(standings)] == [new[0].charge_id]
    # flagged, not excluded: the claim includes it, and the opening event says a demand is offered
    legal = open_legal_case(session, ACTOR, world.company.id, world.case.id, today=later)
    assert new[0].charge_id in legal.claimed_charge_ids
    assert legal.events[0].detail["supplementary_demand_offered"] is True
    assert legal.events[0].detail["flagged_charges"] == [new[0].charge_id]


def test_upcoming_charges_are_not_claimed(session: Session) -> None:
    world = build_world(session)
    billing.run_billing(session, ACTOR, company_id=world.company.id, through=dt.date(2027, 1, 1), today=TODAY)
    standings = claims.charge_standing(session, world.company.id, world.case.id, as_of=TODAY)
    upcoming = [s for s in standings if not s.overdue]
    assert len(upcoming) == 1 and claims.NOT_DUE in upcoming[0].against
    legal = open_legal_case(session, ACTOR, world.company.id, world.case.id, today=TODAY)
    assert upcoming[0].charge_id not in legal.claimed_charge_ids


def test_time_barred_charges_shown_and_left_out_unless_included(session: Session) -> None:
    world = build_world(session)
    barred = old_charge(session, world)
    standings = {s.charge_id: s for s in claims.charge_standing(session, world.company.id, world.case.id, as_of=TODAY)}
    assert standings[barred.id].time_barred
    assert standings[barred.id].against == (claims.NOT_COVERED, claims.TIME_BARRED)
    assert standings[barred.id].limitation_end == dt.date(2025, 1, 16)  # due 2022-01-15 → 2025-01-16 (L4)
    assert not standings[barred.id].claimable() and standings[barred.id].claimable(include_time_barred=True)

    without = claims.build_claim(session, world.company.id, world.case, as_of=TODAY, include_time_barred=False,
                                 claim_late_fees=False)
    assert barred.id not in without.charge_ids and without.excluded_time_barred == (barred.id,)
    assert without.principal == Decimal("2062.80")  # 4 × 590.70 − 300.00
    including = claims.build_claim(session, world.company.id, world.case, as_of=TODAY, include_time_barred=True,
                                   claim_late_fees=False)
    assert barred.id in including.charge_ids and including.principal == Decimal("2653.50")


def test_late_fee_only_with_a_contract_clause(session: Session) -> None:
    world = build_world(session)
    with_fee = claims.build_claim(session, world.company.id, world.case, as_of=TODAY, include_time_barred=False,
                                  claim_late_fees=True)
    assert with_fee.late_fee > 0
    no_clause = build_world(session, late_fee_rate=None, uscc="91110000600007336D")
    claim = claims.build_claim(session, no_clause.company.id, no_clause.case, as_of=TODAY,
                               include_time_barred=False, claim_late_fees=True)
    assert claim.late_fee == Decimal("0.00")


def test_no_demand_or_deadline_running_refused(session: Session) -> None:
    world = build_world(session, demand=False)
    with pytest.raises(ServiceError, match="no delivered demand"):
        claims.check_ready(session, world.case, TODAY)
    other = build_world(session, uscc="91110000600007336D")
    with pytest.raises(ServiceError, match="has not passed"):
        claims.check_ready(session, other.case, DEADLINE_ON)
