"""Build a synthetic portfolio fast: SQLAlchemy Core executemany of plain dicts with explicit ids.

One company; communities of 2,000 units (half with a late-fee clause and `principal_first`, half
without and `statutory`); one owner per unit (a tenth with a co-owning spouse); monthly property
fees due on the 15th. The first `months - 1` months of charges are inserted here, with payments
and allocations that agree with the caches (`principal_outstanding`, `unapplied`): about 85 % of
units paid everything on time (half monthly, half by quarter), 15 % stopped paying at some month
(a third of those paid part of the next charge), and 1 % of the paid-up units hold a prepaid
credit. The last month is left to the billing run being measured.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select, text

from arrears.domain.allocation import AllocationPolicy, Component
from arrears.domain.identity import IdType, uscc_check_char
from arrears.domain.periods import BillingCycle, DueRule
from arrears.persistence.base import utcnow
from arrears.persistence.enums import ChargeSource, FeeBasis, FeeKind, OwnerKind, UnitType
from arrears.persistence.models import (
    Allocation,
    Building,
    Charge,
    Community,
    Company,
    FeeItem,
    FeeSchedule,
    Owner,
    Ownership,
    OwnershipParty,
    Payment,
    Unit,
)

UNITS_PER_COMMUNITY = 2000
UNITS_PER_BUILDING = 100
CHUNK_UNITS = 2000
ARREARS_SHARE = 0.15
PREPAID_SHARE = 0.01
SPOUSE_SHARE = 0.10
RATES = (Decimal("1.80"), Decimal("2.20"), Decimal("2.80"), Decimal("3.50"))
ZERO = Decimal("0.00")
Say = Callable[[str], None]


@dataclass(frozen=True)
class Portfolio:
    company_id: int
    units: int
    months: int
    first_month: dt.date
    last_month: dt.date  # billed by the measured run
    today: dt.date
    in_arrears: int
    rows: dict[str, int]


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def resident_id(index: int) -> str:
    """A unique, checksum-valid resident ID number for owner number `index`."""
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=index % 18000)
    body = f"320106{birth:%Y%m%d}{index // 18000 % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def build(engine: Engine, *, units: int, months: int, last_month: dt.date, seed: int, say: Say) -> Portfolio:
    """Insert the portfolio and return what the measurements need."""
    rng = random.Random(seed)
    first_month = add_months(last_month, -(months - 1))
    today = last_month.replace(day=10)
    now = utcnow()
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        company_id, fee_item_id = _master(conn, units, first_month, now, counts, rng)
    ids = _Ids(engine)
    in_arrears = 0
    owner_seq = 0
    for start in range(0, units, CHUNK_UNITS):
        with engine.begin() as conn:
            _skip_fk_triggers(conn)
            chunk = _units_chunk(conn, company_id, start, min(units, start + CHUNK_UNITS), owner_seq, now, rng, counts)
            owner_seq = chunk.owner_seq
            in_arrears += _ledger_chunk(conn, company_id, fee_item_id, chunk, first_month, months - 1, today, now,
                                        rng, ids, counts)
        say(f"  built {min(units, start + CHUNK_UNITS):,}/{units:,} units")
    with engine.begin() as conn:
        _reset_sequences(conn)
        if conn.dialect.name == "postgresql":
            say("  ANALYZE")
            conn.execute(text("ANALYZE"))
    return Portfolio(company_id, units, months, first_month, last_month, today, in_arrears, counts)


class _Ids:
    """Explicit primary keys (the database is fresh), so allocations can name their rows."""

    def __init__(self, engine: Engine) -> None:
        with engine.connect() as conn:
            self.next = {
                t.name: (conn.scalar(select(func.max(t.c.id))) or 0) + 1
                for t in (Charge.__table__, Payment.__table__, Allocation.__table__)
            }

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def _insert(conn: Connection, model: Any, rows: list[dict[str, Any]], counts: dict[str, int]) -> None:
    table: Table = model.__table__
    for start in range(0, len(rows), 20000):
        conn.execute(table.insert(), rows[start : start + 20000])
    counts[table.name] = counts.get(table.name, 0) + len(rows)


def _master(
    conn: Connection, units: int, first_month: dt.date, now: dt.datetime, counts: dict[str, int], rng: random.Random
) -> tuple[int, int]:
    company_id = conn.execute(
        Company.__table__.insert().returning(Company.__table__.c.id),
        {"name": "基准测试物业服务有限公司", "uscc": "91320106MA1BENCH0" + uscc_check_char("91320106MA1BENCH0"), "legal_representative": "王建国",
         "address": "江苏省南京市鼓楼区中山北路1号", "timezone": "Asia/Shanghai", "arrears_tolerance": ZERO,
         "created_at": now, "phone": None, "books_closed_through": None},
    ).scalar_one()
    fee_item_id = conn.execute(
        FeeItem.__table__.insert().returning(FeeItem.__table__.c.id),
        {"company_id": company_id, "code": "PROPERTY", "name": "物业服务费", "kind": FeeKind.FEE},
    ).scalar_one()
    communities, schedules, buildings = [], [], []
    for n in range((units + UNITS_PER_COMMUNITY - 1) // UNITS_PER_COMMUNITY):
        late_fee = n % 2 == 0
        communities.append({
            "id": n + 1, "company_id": company_id, "code": f"C{n + 1:03d}", "name": f"基准小区{n + 1}",
            "province": "江苏" if late_fee else "浙江", "city": "南京市" if late_fee else "杭州市", "district": None,
            "address": f"基准路{n + 1}号", "competent_court": "南京市鼓楼区人民法院", "arbitration_commission": None,
            "contract_name": "前期物业服务合同", "contract_number": None, "contract_signed_on": None,
            "contract_start": None, "contract_end": None, "fee_clause": None,
            "late_fee_rate_per_day": Decimal("0.0005") if late_fee else None, "late_fee_cap_ratio": Decimal("1"),
            "allocation_policy": AllocationPolicy.PRINCIPAL_FIRST if late_fee else AllocationPolicy.STATUTORY,
            "demand_deadline_days": 15, "vacancy_discount_ratio": None, "vacancy_discount_after_months": None,
            "vacancy_discount_basis": None, "developer_id": None, "created_at": now,
        })
        schedules.append({
            "community_id": n + 1, "fee_item_id": fee_item_id, "unit_type": UnitType.RESIDENTIAL,
            "basis": FeeBasis.PER_M2, "rate": RATES[n % len(RATES)], "cycle": BillingCycle.MONTHLY,
            "due_rule": DueRule.DAY_OF_FIRST_MONTH, "due_day": 15, "valid_from": first_month, "valid_to": None,
            "created_at": now,
        })
        for b in range(UNITS_PER_COMMUNITY // UNITS_PER_BUILDING):
            buildings.append({"id": n * 100 + b + 1, "community_id": n + 1, "code": str(b + 1), "name": f"{b + 1}幢"})
    _insert(conn, Community, communities, counts)
    _insert(conn, FeeSchedule, schedules, counts)
    _insert(conn, Building, buildings, counts)
    return company_id, fee_item_id


@dataclass
class _Chunk:
    units: list[tuple[int, int, Decimal, Decimal, bool]]  # unit id, community, area, rate, late fee clause
    payers: dict[int, int]  # unit id -> owner id
    owner_seq: int


def _units_chunk(
    conn: Connection, company_id: int, start: int, stop: int, owner_seq: int, now: dt.datetime,
    rng: random.Random, counts: dict[str, int],
) -> _Chunk:
    units, owners, ownerships, parties = [], [], [], []
    chunk = _Chunk([], {}, owner_seq)
    for i in range(start, stop):
        unit_id = i + 1
        community = i // UNITS_PER_COMMUNITY
        within = i % UNITS_PER_COMMUNITY
        building, slot = within // UNITS_PER_BUILDING, within % UNITS_PER_BUILDING
        entrance, floor, room = slot // 50 + 1, slot % 50 // 2 + 1, slot % 2 + 1
        area = Decimal(rng.randint(6000, 18000)) / 100
        units.append({
            "id": unit_id, "company_id": company_id, "community_id": community + 1,
            "building_id": community * 100 + building + 1, "code": f"{building + 1}-{entrance}-{floor}{room:02d}",
            "area": area, "unit_type": UnitType.RESIDENTIAL, "delivered_on": dt.date(2015, 1, 1), "created_at": now,
        })
        household = [chunk.owner_seq + 1] + ([chunk.owner_seq + 2] if rng.random() < SPOUSE_SHARE else [])
        for owner_id in household:
            owners.append({
                "id": owner_id, "company_id": company_id, "kind": OwnerKind.PERSON, "name": f"业主{owner_id}",
                "id_type": IdType.RESIDENT_ID.value, "id_number": resident_id(owner_id), "nationality": "CN",
                "birth_date": None, "phone": f"139{owner_id:08d}", "email": None, "service_address": None,
                "service_address_confirmed": True, "language": "zh_CN", "is_developer": False, "created_at": now,
            })
        chunk.owner_seq += len(household)
        ownerships.append({"id": unit_id, "unit_id": unit_id, "valid_from": dt.date(2015, 1, 1), "valid_to": None,
                           "note": None, "created_at": now})
        for position, owner_id in enumerate(household):
            parties.append({"ownership_id": unit_id, "owner_id": owner_id, "position": position})
        chunk.payers[unit_id] = household[0]
        rate = RATES[community % len(RATES)]
        chunk.units.append((unit_id, community + 1, area, rate, community % 2 == 0))
    _insert(conn, Unit, units, counts)
    _insert(conn, Owner, owners, counts)
    _insert(conn, Ownership, ownerships, counts)
    _insert(conn, OwnershipParty, parties, counts)
    return chunk


def _ledger_chunk(
    conn: Connection, company_id: int, fee_item_id: int, chunk: _Chunk, first_month: dt.date, months: int, today: dt.date,
    now: dt.datetime, rng: random.Random, ids: _Ids, counts: dict[str, int],
) -> int:
    """Charges for `months` months, and payments/allocations consistent with the caches."""
    charges, payments, allocations = [], [], []
    in_arrears = 0
    for unit_id, _community, area, rate, _late_fee in chunk.units:
        amount = (area * rate).quantize(Decimal("0.01"))
        unit_charges = []
        for m in range(months):
            start = add_months(first_month, m)
            unit_charges.append({
                "id": ids.take("charge"), "company_id": company_id, "unit_id": unit_id, "ownership_id": unit_id,
                "fee_item_id": fee_item_id, "kind": FeeKind.FEE, "period_start": start, "period_end": add_months(start, 1) - dt.timedelta(days=1),
                "period_label": f"{start:%Y-%m}", "due_date": start.replace(day=15), "amount": amount,
                "source": ChargeSource.BILLING, "repost_of_id": None, "note": None, "created_by": "bench",
                "principal_outstanding": amount, "late_fee_paid": ZERO, "reversed_on": None, "created_at": now,
            })
        paid_through = months
        if rng.random() < ARREARS_SHARE:
            paid_through = rng.randint(0, max(0, months - 2))
            in_arrears += 1
        lump = 1 if rng.random() < 0.5 else 3
        for group in _groups(unit_charges[:paid_through], lump):
            received = group[0]["due_date"] - dt.timedelta(days=rng.randint(0, 10))
            payment_id = ids.take("payment")
            total = sum((c["amount"] for c in group), ZERO)
            payments.append(_payment(payment_id, company_id, unit_id, chunk.payers[unit_id], received, total, ZERO, now))
            for c in group:
                allocations.append(_allocation(ids.take("allocation"), payment_id, c["id"], c["amount"], received, now))
                c["principal_outstanding"] = ZERO
        if paid_through < months and rng.random() < 1 / 3:
            # Part of the first unpaid charge, after its due date: principal comes first under both
            # policies here (statutory communities have no late-fee clause).
            target = unit_charges[paid_through]
            part = (target["amount"] * rng.randint(20, 80) / 100).quantize(Decimal("1"))
            received = min(today, target["due_date"] + dt.timedelta(days=rng.randint(10, 60)))
            if part > 0 and received > target["due_date"]:
                payment_id = ids.take("payment")
                payments.append(_payment(payment_id, company_id, unit_id, chunk.payers[unit_id], received, part, ZERO, now))
                allocations.append(_allocation(ids.take("allocation"), payment_id, target["id"], part, received, now))
                target["principal_outstanding"] = target["amount"] - part
        elif paid_through == months and rng.random() < PREPAID_SHARE / (1 - ARREARS_SHARE):
            received = today - dt.timedelta(days=rng.randint(5, 25))
            credit = Decimal(rng.randint(2, 12) * 100)
            payments.append(_payment(ids.take("payment"), company_id, unit_id, chunk.payers[unit_id], received,
                                     credit, credit, now))
        charges += unit_charges
    _insert(conn, Charge, charges, counts)
    _insert(conn, Payment, payments, counts)
    _insert(conn, Allocation, allocations, counts)
    return in_arrears


def _groups(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _payment(payment_id: int, company_id: int, unit_id: int, payer_id: int, received: dt.date, amount: Decimal,
             unapplied: Decimal, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": payment_id, "company_id": company_id, "unit_id": unit_id, "payer_id": payer_id,
        "receipt_ref": f"B{payment_id:09d}", "received_on": received, "amount": amount, "method": "bank_transfer",
        "designation": [], "note": None, "created_by": "bench", "import_batch_id": None, "unapplied": unapplied,
        "reversed_on": None, "created_at": now,
    }


def _allocation(allocation_id: int, payment_id: int, charge_id: int, amount: Decimal, on: dt.date,
                now: dt.datetime) -> dict[str, Any]:
    return {"id": allocation_id, "payment_id": payment_id, "charge_id": charge_id, "component": Component.PRINCIPAL,
            "amount": amount, "applied_on": on, "voided_on": None, "created_at": now}


def _skip_fk_triggers(conn: Connection) -> None:
    """PostgreSQL: the generated rows are consistent by construction, so skip the per-row foreign
    key triggers for this bulk load (superuser only; CHECK constraints and indexes still apply)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))


def _reset_sequences(conn: Connection) -> None:
    """Explicit ids leave PostgreSQL's serial sequences behind: move them past the data."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("community", "building", "fee_schedule", "unit", "owner", "ownership", "ownership_party",
                  "charge", "payment", "allocation"):
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        ))
