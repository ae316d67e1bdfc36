"""Factories for test data: `make_unit(session, area=...)`; every argument has a sane default."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from sqlalchemy.orm import Session

from arrears.domain.allocation import AllocationPolicy
from arrears.domain.periods import BillingCycle, DueRule
from arrears.persistence.enums import FeeBasis, OwnerKind, Role, UnitType
from arrears.persistence.models import (
    Building,
    Community,
    Company,
    FeeItem,
    FeeSchedule,
    Owner,
    Ownership,
    OwnershipParty,
    Unit,
)
from arrears.services.actor import Actor
from arrears.services.users import create_user

_seq = itertools.count(1)
ACTOR = Actor("tester")
# Valid resident ID numbers (checksums correct) for test owners.
RESIDENT_IDS = ["11010519491231002X", "110101199003074477", "440308199901010011"]
USCCS = ["91310000775785552L", "91110000600007336D"]


def make_company(session: Session, **kw: object) -> Company:
    n = next(_seq)
    company = Company(
        name=kw.pop("name", f"测试物业服务有限公司{n}"),
        uscc=kw.pop("uscc", f"9131000077578{n:04d}X"),
        legal_representative=kw.pop("legal_representative", "王建国"),
        address=kw.pop("address", "上海市浦东新区世纪大道100号"),
        **kw,
    )
    session.add(company)
    session.flush()
    return company


def make_community(session: Session, company: Company | None = None, **kw: object) -> Community:
    company = company or make_company(session)
    n = next(_seq)
    community = Community(
        company_id=company.id,
        code=kw.pop("code", f"C{n}"),
        name=kw.pop("name", f"阳光花园{n}"),
        province=kw.pop("province", "江苏"),
        city=kw.pop("city", "南京市"),
        address=kw.pop("address", "南京市鼓楼区中山路1号"),
        contract_name=kw.pop("contract_name", "前期物业服务合同"),
        late_fee_rate_per_day=kw.pop("late_fee_rate_per_day", Decimal("0.0005")),
        late_fee_cap_ratio=kw.pop("late_fee_cap_ratio", Decimal("1")),
        allocation_policy=kw.pop("allocation_policy", AllocationPolicy.PRINCIPAL_FIRST),
        **kw,
    )
    session.add(community)
    session.flush()
    return community


def make_fee_item(session: Session, company: Company, code: str = "PROPERTY") -> FeeItem:
    item = FeeItem(company_id=company.id, code=f"{code}{next(_seq)}", name="物业服务费")
    session.add(item)
    session.flush()
    return item


def make_schedule(session: Session, community: Community, **kw: object) -> FeeSchedule:
    company = session.get(Company, community.company_id)
    assert company is not None
    fee_item = kw.pop("fee_item", None) or make_fee_item(session, company)
    schedule = FeeSchedule(
        community_id=community.id,
        fee_item_id=fee_item.id,  # type: ignore[attr-defined]
        unit_type=kw.pop("unit_type", UnitType.RESIDENTIAL),
        basis=kw.pop("basis", FeeBasis.PER_M2),
        rate=kw.pop("rate", Decimal("2.20")),
        cycle=kw.pop("cycle", BillingCycle.MONTHLY),
        due_rule=kw.pop("due_rule", DueRule.DAY_OF_FIRST_MONTH),
        due_day=kw.pop("due_day", 15),
        valid_from=kw.pop("valid_from", dt.date(2026, 1, 1)),
        valid_to=kw.pop("valid_to", None),
    )
    session.add(schedule)
    session.flush()
    return schedule


def make_unit(session: Session, community: Community | None = None, **kw: object) -> Unit:
    community = community or make_community(session)
    building = Building(community_id=community.id, code=f"B{next(_seq)}")
    session.add(building)
    session.flush()
    unit = Unit(
        company_id=community.company_id,
        community_id=community.id,
        building_id=building.id,
        code=kw.pop("code", f"1-1-{next(_seq):03d}"),
        area=kw.pop("area", Decimal("89.50")),
        unit_type=kw.pop("unit_type", UnitType.RESIDENTIAL),
        **kw,
    )
    session.add(unit)
    session.flush()
    return unit


def make_owner(session: Session, company_id: int, **kw: object) -> Owner:
    n = next(_seq)
    owner = Owner(
        company_id=company_id,
        kind=kw.pop("kind", OwnerKind.PERSON),
        name=kw.pop("name", f"张三{n}"),
        id_type=kw.pop("id_type", "resident_id"),
        id_number=kw.pop("id_number", f"ID{n:016d}"),
        phone=kw.pop("phone", "13800138000"),
        **kw,
    )
    session.add(owner)
    session.flush()
    return owner


def make_ownership(
    session: Session, unit: Unit, owners: list[Owner] | None = None, *,
    valid_from: dt.date = dt.date(2020, 1, 1), valid_to: dt.date | None = None,
) -> Ownership:
    owners = owners or [make_owner(session, unit.company_id)]
    record = Ownership(unit_id=unit.id, valid_from=valid_from, valid_to=valid_to)
    for position, owner in enumerate(owners):
        record.parties.append(OwnershipParty(owner_id=owner.id, position=position))
    session.add(record)
    session.flush()
    return record


def make_user(session: Session, company: Company, role: Role = Role.ACCOUNTANT, **kw: object):  # type: ignore[no-untyped-def]
    username = str(kw.pop("username", f"user{next(_seq)}"))
    return create_user(
        session, ACTOR, username=username, password=str(kw.pop("password", "correct horse battery")),
        display_name=username, memberships={company.id: role},
    )
