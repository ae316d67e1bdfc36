"""What the validators know: existing records (loaded in bulk by natural key) plus the file's
new ones, and the plan of what to write."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.persistence.models import (
    Building,
    Charge,
    Community,
    Company,
    FeeItem,
    FeeSchedule,
    Interruption,
    InterruptionCharge,
    Owner,
    Ownership,
    OwnershipParty,
    Payment,
    Unit,
)

OwnerKey = tuple[str, str]  # id_type, id_number
UnitKey = tuple[str, str]  # community code, unit code
CHUNK = 1000


@dataclass
class OwnerInfo:
    key: OwnerKey
    kind: str
    is_developer: bool
    name: str
    id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class UnitInfo:
    key: UnitKey
    unit_type: str
    id: int | None = None


@dataclass
class OwnershipInfo:
    unit: UnitKey
    valid_from: dt.date
    valid_to: dt.date | None
    owners: list[OwnerKey]
    id: int | None = None
    row: int | None = None
    note: str | None = None


@dataclass
class ChargeInfo:
    unit: UnitKey
    fee_item: str
    period_start: dt.date
    period_end: dt.date
    label: str
    ownership_from: dt.date
    amount: Decimal
    due_date: dt.date
    id: int | None = None
    row: int | None = None
    note: str | None = None


@dataclass
class ScheduleInfo:
    valid_from: dt.date
    valid_to: dt.date | None
    cycle: str
    values: dict[str, Any]
    id: int | None = None


@dataclass
class Plan:
    """New records to write, in dependency order; each item carries its sheet row number."""

    owners: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    communities: list[tuple[int, dict[str, Any], OwnerKey | None]] = field(default_factory=list)
    fee_items: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[tuple[int, str, str, dict[str, Any]]] = field(default_factory=list)
    buildings: set[tuple[str, str]] = field(default_factory=set)
    units: list[tuple[int, UnitKey, str, dict[str, Any]]] = field(default_factory=list)
    ownerships: list[OwnershipInfo] = field(default_factory=list)
    charges: list[ChargeInfo] = field(default_factory=list)
    interruptions: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    payments: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@dataclass
class World:
    company: Company
    owners: dict[OwnerKey, OwnerInfo] = field(default_factory=dict)
    owner_key_of: dict[int, OwnerKey] = field(default_factory=dict)
    communities: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> column values (+ id)
    fee_items: dict[str, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[tuple[str, str, str], list[ScheduleInfo]] = field(default_factory=lambda: defaultdict(list))
    buildings: dict[tuple[str, str], int] = field(default_factory=dict)
    units: dict[UnitKey, UnitInfo] = field(default_factory=dict)
    unit_values: dict[UnitKey, dict[str, Any]] = field(default_factory=dict)
    ownerships: dict[UnitKey, list[OwnershipInfo]] = field(default_factory=lambda: defaultdict(list))
    charges: dict[UnitKey, list[ChargeInfo]] = field(default_factory=lambda: defaultdict(list))
    payments: dict[str, tuple[int, int, dt.date, Decimal]] = field(default_factory=dict)
    interruptions: dict[tuple[int, str, dt.date, str], set[int]] = field(default_factory=dict)
    plan: Plan = field(default_factory=Plan)

    def ownership_covering(self, unit: UnitKey, day: dt.date) -> OwnershipInfo | None:
        for record in self.ownerships.get(unit, []):
            if record.valid_from <= day and (record.valid_to is None or day <= record.valid_to):
                return record
        return None


COMMUNITY_FIELDS = (
    "name", "province", "city", "district", "address", "competent_court", "arbitration_commission",
    "contract_name", "contract_number", "contract_signed_on", "contract_start", "contract_end", "fee_clause",
    "late_fee_rate_per_day", "late_fee_cap_ratio", "allocation_policy", "demand_deadline_days",
    "vacancy_discount_ratio", "vacancy_discount_after_months", "vacancy_discount_basis",
)
OWNER_FIELDS = ("name", "kind", "birth_date", "nationality", "phone", "email", "service_address",
                "service_address_confirmed", "language", "is_developer")


def load_world(session: Session, company: Company) -> World:
    """Existing master data of the company, a handful of set-based queries."""
    world = World(company)
    company_id = company.id
    for row in session.execute(select(Owner.__table__).where(Owner.company_id == company_id)).mappings():
        key = (row["id_type"], row["id_number"])
        values = {f: _plain(row[f]) for f in OWNER_FIELDS}
        world.owners[key] = OwnerInfo(key, str(row["kind"]), bool(row["is_developer"]), row["name"], row["id"], values)
        world.owner_key_of[row["id"]] = key
    community_codes: dict[int, str] = {}
    for row in session.execute(select(Community.__table__).where(Community.company_id == company_id)).mappings():
        values = {f: _plain(row[f]) for f in COMMUNITY_FIELDS}
        values["id"], values["developer_id"] = row["id"], row["developer_id"]
        world.communities[row["code"]] = values
        community_codes[row["id"]] = row["code"]
    for item in session.scalars(select(FeeItem).where(FeeItem.company_id == company_id)):
        world.fee_items[item.code] = {"id": item.id, "name": item.name, "kind": str(item.kind.value)}
    fee_codes = {v["id"]: code for code, v in world.fee_items.items()}
    if community_codes:
        _load_schedules(session, world, community_codes, fee_codes)
        _load_units(session, world, company_id, community_codes)
    return world


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def _load_schedules(session: Session, world: World, communities: dict[int, str], fee_codes: dict[int, str]) -> None:
    query = select(FeeSchedule.__table__).where(FeeSchedule.community_id.in_(list(communities)))
    for row in session.execute(query).mappings():
        key = (communities[row["community_id"]], fee_codes[row["fee_item_id"]], _plain(row["unit_type"]))
        values = {f: _plain(row[f]) for f in ("basis", "rate", "cycle", "due_rule", "due_day", "valid_to")}
        world.schedules[key].append(ScheduleInfo(row["valid_from"], row["valid_to"], values["cycle"], values, row["id"]))


def _load_units(session: Session, world: World, company_id: int, communities: dict[int, str]) -> None:
    for building_id, community_id, code in session.execute(
        select(Building.id, Building.community_id, Building.code).where(Building.community_id.in_(list(communities)))
    ):
        world.buildings[(communities[community_id], code)] = building_id
    building_codes = {v: k[1] for k, v in world.buildings.items()}
    unit_keys: dict[int, UnitKey] = {}
    query = select(Unit.id, Unit.community_id, Unit.code, Unit.area, Unit.unit_type, Unit.delivered_on,
                   Unit.building_id).where(Unit.company_id == company_id)
    for uid, community_id, code, area, unit_type, delivered_on, building_id in session.execute(query):
        key = (communities[community_id], code)
        world.units[key] = UnitInfo(key, _plain(unit_type), uid)
        world.unit_values[key] = {"area": area, "unit_type": _plain(unit_type), "delivered_on": delivered_on,
                                  "building": building_codes.get(building_id)}
        unit_keys[uid] = key
    parties: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for ownership_id, owner_id, position in session.execute(
        select(OwnershipParty.ownership_id, OwnershipParty.owner_id, OwnershipParty.position)
        .join(Ownership, Ownership.id == OwnershipParty.ownership_id)
        .join(Unit, Unit.id == Ownership.unit_id)
        .where(Unit.company_id == company_id)
    ):
        parties[ownership_id].append((position, owner_id))
    for oid, unit_id, valid_from, valid_to in session.execute(
        select(Ownership.id, Ownership.unit_id, Ownership.valid_from, Ownership.valid_to)
        .join(Unit, Unit.id == Ownership.unit_id).where(Unit.company_id == company_id)
        .order_by(Ownership.valid_from)
    ):
        key = unit_keys[unit_id]
        owners = [world.owner_key_of[o] for _, o in sorted(parties.get(oid, []))]
        world.ownerships[key].append(OwnershipInfo(key, valid_from, valid_to, owners, oid))


def load_charges(session: Session, world: World, unit_keys: Iterable[UnitKey]) -> None:
    """Posted charges of these existing units (only those a sheet refers to)."""
    units = {world.units[k].id: k for k in unit_keys if k in world.units and world.units[k].id is not None}
    fee_codes = {v["id"]: code for code, v in world.fee_items.items()}
    ownership_from = {o.id: o.valid_from for records in world.ownerships.values() for o in records}
    for chunk in _chunks(list(units)):
        query = select(Charge.id, Charge.unit_id, Charge.fee_item_id, Charge.period_start, Charge.period_end,
                       Charge.period_label, Charge.ownership_id, Charge.amount, Charge.due_date).where(
            Charge.unit_id.in_(chunk), Charge.reversed_on.is_(None))
        for cid, unit_id, fee_item_id, start, end, label, ownership_id, amount, due in session.execute(query):
            world.charges[units[unit_id]].append(ChargeInfo(
                units[unit_id], fee_codes[fee_item_id], start, end, label, ownership_from[ownership_id], amount, due, cid
            ))


def load_payments(session: Session, world: World, refs: Sequence[str]) -> None:
    company_id = world.company.id
    for chunk in _chunks(list(refs)):
        query = select(Payment.receipt_ref, Payment.unit_id, Payment.payer_id, Payment.received_on, Payment.amount).where(
            Payment.company_id == company_id, Payment.receipt_ref.in_(chunk))
        for ref, unit_id, payer_id, received_on, amount in session.execute(query):
            world.payments[ref] = (unit_id, payer_id, received_on, amount)


def load_interruptions(session: Session, world: World, unit_ids: Sequence[int]) -> None:
    for chunk in _chunks(list(unit_ids)):
        query = (select(Interruption.unit_id, Interruption.kind, Interruption.occurred_on, Interruption.proof_ref,
                        InterruptionCharge.charge_id)
                 .outerjoin(InterruptionCharge, InterruptionCharge.interruption_id == Interruption.id)
                 .where(Interruption.unit_id.in_(chunk)))
        for unit_id, kind, occurred_on, proof_ref, charge_id in session.execute(query):
            charges = world.interruptions.setdefault((unit_id, _plain(kind), occurred_on, proof_ref), set())
            if charge_id is not None:
                charges.add(charge_id)


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]

