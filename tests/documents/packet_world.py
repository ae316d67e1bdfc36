"""A case ready for filing, built directly in the database (shared by the packet tests).

E1's unit (89.50 m², 2.20 per m² per month, quarterly, due on the 15th of the quarter's first
month) billed for 2026 Q1–Q4; E2's late-fee rate 0.05 % per day and part payment of 300.00 on
2026-02-14 applied to Q1; two co-owners with valid resident IDs; one demand (EMS, signed for)
delivered 2026-10-25 with its deadline 2026-11-09 and its limitation interruption (L5).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.escalation import Action, action_key
from arrears.domain.periods import BillingCycle
from arrears.persistence.enums import ActionStatus, InterruptionKind
from arrears.persistence.models import (
    Charge,
    CollectionCase,
    Community,
    Company,
    EscalationAction,
    Interruption,
    InterruptionCharge,
    Owner,
    Unit,
)
from arrears.services import billing
from arrears.services.payments import PaymentInput, record_payment
from tests.factories import (
    ACTOR,
    RESIDENT_IDS,
    make_community,
    make_company,
    make_owner,
    make_ownership,
    make_schedule,
    make_unit,
)

TODAY = dt.date(2026, 11, 25)
AS_OF = dt.date(2026, 11, 22)
DELIVERED_ON = dt.date(2026, 10, 25)
DEADLINE_ON = dt.date(2026, 11, 9)
TRACKING = "EA123456789CN"
COURT = "南京市鼓楼区人民法院"
USCC = "91310000775785552L"


@dataclass
class World:
    company: Company
    community: Community
    unit: Unit
    owners: list[Owner]
    case: CollectionCase
    charges: list[Charge]
    demand: EscalationAction | None


def build_world(
    session: Session, *, late_fee_rate: Decimal | None = Decimal("0.0005"), commission: str | None = None,
    demand: bool = True, uscc: str = USCC, delivered_on: dt.date = DELIVERED_ON, deadline_on: dt.date = DEADLINE_ON,
) -> World:
    company = make_company(session, name="金陵物业服务有限公司", uscc=uscc, legal_representative="王建国",
                           address="南京市鼓楼区北京西路8号", phone="025-83000000")
    community = make_community(
        session, company, name="阳光花园", province="江苏", city="南京市", address="南京市鼓楼区中山路1号",
        late_fee_rate_per_day=late_fee_rate, competent_court=COURT, arbitration_commission=commission,
        contract_name="前期物业服务合同", contract_number="YG-2019-001", contract_signed_on=dt.date(2019, 6, 1),
        contract_start=dt.date(2019, 7, 1), contract_end=None,
        fee_clause="住宅物业服务费按建筑面积每月每平方米2.20元计收，按季交纳，每季首月15日前交清。")
    make_schedule(session, community, rate=Decimal("2.20"), cycle=BillingCycle.QUARTERLY, due_day=15)
    unit = make_unit(session, community, code="3-2-1101", area=Decimal("89.50"))
    owners = [
        make_owner(session, company.id, name="李明", id_number=RESIDENT_IDS[1], phone="13912345678",
                   service_address="南京市鼓楼区中山路1号阳光花园3-2-1101室", service_address_confirmed=True),
        make_owner(session, company.id, name="赵丽", id_number=RESIDENT_IDS[0], phone="13987654321"),
    ]
    ownership = make_ownership(session, unit, owners, valid_from=dt.date(2019, 7, 1))
    billing.run_billing(session, ACTOR, company_id=company.id, through=dt.date(2026, 10, 1), today=TODAY)
    charges = list(session.scalars(select(Charge).where(Charge.unit_id == unit.id).order_by(Charge.due_date)))
    assert [c.amount for c in charges] == [Decimal("590.70")] * 4  # E1
    record_payment(session, ACTOR, company.id, PaymentInput(unit.id, owners[0].id, "R-2026-0214", dt.date(2026, 2, 14),
                                                            Decimal("300.00")), today=TODAY)
    case = CollectionCase(company_id=company.id, community_id=community.id, unit_id=unit.id,
                          ownership_id=ownership.id, owner_id=owners[0].id, opened_on=dt.date(2026, 3, 1),
                          stage_code="legal", stage_entered_on=dt.date(2026, 11, 10),
                          demand_deadline=deadline_on if demand else None)
    session.add(case)
    session.flush()
    action = None
    if demand:
        session.refresh(charges[0])
        action = EscalationAction(
            key=action_key(case.id, "demand", 1), company_id=company.id, case_id=case.id,
            ownership_id=ownership.id, unit_id=unit.id, owner_id=owners[0].id, cycle=1, stage_code="demand",
            action=Action.DEMAND, prepared_on=dt.date(2026, 10, 20), status=ActionStatus.DONE, needs_approval=True,
            arrears=sum((c.principal_outstanding for c in charges), Decimal("0.00")), channels=["letter"],
            deadline_days=15, delivered_on=delivered_on, deadline_on=deadline_on,
            charges=[{"id": c.id, "period": c.period_label, "due": c.due_date.isoformat(),
                      "outstanding": str(c.principal_outstanding)} for c in charges])
        session.add(action)
        event = Interruption(company_id=company.id, unit_id=unit.id, owner_id=owners[0].id,
                             kind=InterruptionKind.DEMAND_DELIVERED, occurred_on=delivered_on, proof_ref=TRACKING,
                             proof_note=f"signed_by_owner on {delivered_on.isoformat()}; signed by 李明",
                             source="manual", created_by="tester")
        event.charges = [InterruptionCharge(charge_id=c.id) for c in charges]
        session.add(event)
        session.flush()
    return World(company, community, unit, owners, case, charges, action)
