"""Write a validated plan: master data by bulk inserts (ids from RETURNING), then interruptions
and payments through their services, payments in date order after the charges exist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from arrears.domain.allocation import AllocationPolicy
from arrears.domain.periods import BillingCycle, DueRule
from arrears.persistence.enums import ChargeSource, FeeBasis, FeeKind, InterruptionKind, OwnerKind, UnitType
from arrears.persistence.models import (
    Building,
    Charge,
    Community,
    FeeItem,
    FeeSchedule,
    Owner,
    Ownership,
    OwnershipParty,
    Unit,
)
from arrears.services.actor import Actor
from arrears.services.errors import ServiceError
from arrears.services.interruptions import record_interruption
from arrears.services.payment_batch import PaymentInput, PaymentRowError, apply_credits, record_payments

from .world import OwnerKey, UnitKey, World



class ApplyError(Exception):
    """A service refused a row while writing; the caller rolls back to its savepoint."""

    def __init__(self, sheet: str, row: int | None, message: str) -> None:
        super().__init__(message)
        self.sheet, self.row, self.message = sheet, row, message


def _insert(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    return list(session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), list(rows)))


class Writer:
    def __init__(self, session: Session, actor: Actor, world: World, *, today: dt.date, batch_id: int | None,
                 progress: Callable[[str], None], written: Callable[..., None] | None = None) -> None:
        self.session, self.actor, self.world, self.today = session, actor, world, today
        self.batch_id, self.progress = batch_id, progress
        # written(sheet) once a sheet is written, written(sheet, done, total) along the way
        self.written = written or (lambda *_args: None)
        self.company_id = world.company.id
        self.owner_ids = {k: o.id for k, o in world.owners.items() if o.id is not None}
        self.community_ids = {c: v["id"] for c, v in world.communities.items() if v.get("id") is not None}
        self.fee_items = {c: v for c, v in world.fee_items.items() if v.get("id") is not None}
        self.unit_ids = {k: u.id for k, u in world.units.items() if u.id is not None}
        self.ownership_ids = {(o.unit, o.valid_from): o.id for rs in world.ownerships.values() for o in rs if o.id}

    def run(self) -> None:
        plan = self.world.plan
        self._owners()
        self.written("owners")
        self._communities()
        self.written("communities")
        self._fee_items()
        self._schedules()
        self.written("fee_schedules")
        self._units()
        self.written("units")
        self._ownerships()
        self.written("ownerships")
        self._charges()
        self.written("charges")
        self.progress(f"master data written; {len(plan.interruptions)} interruptions, {len(plan.payments)} payments to post")
        self._interruptions()
        self.written("interruptions")
        self._payments()
        self.written("payments")

    def _owners(self) -> None:
        rows = [{"company_id": self.company_id, **values, "kind": OwnerKind(values["kind"])}
                for _, values in self.world.plan.owners]
        keys = [(v["id_type"], v["id_number"]) for _, v in self.world.plan.owners]
        self.owner_ids.update(zip(keys, _insert(self.session, Owner, rows)))

    def _communities(self) -> None:
        rows = []
        for _, values, developer in self.world.plan.communities:
            row = {"company_id": self.company_id, **values,
                   "developer_id": None if developer is None else self.owner_ids[developer]}
            row["allocation_policy"] = AllocationPolicy(row["allocation_policy"])
            rows.append(row)
        self.community_ids.update(zip([r["code"] for r in rows], _insert(self.session, Community, rows)))

    def _fee_items(self) -> None:
        rows = [{"company_id": self.company_id, "code": i["code"], "name": i["name"], "kind": FeeKind(i["kind"])}
                for i in self.world.plan.fee_items]
        for row, new_id in zip(rows, _insert(self.session, FeeItem, rows)):
            self.fee_items[row["code"]] = {"id": new_id, "kind": row["kind"]}

    def _schedules(self) -> None:
        rows = []
        for _, community, item, values in self.world.plan.schedules:
            rows.append({
                "community_id": self.community_ids[community], "fee_item_id": self.fee_items[item]["id"],
                "unit_type": UnitType(values["unit_type"]), "basis": FeeBasis(values["basis"]), "rate": values["rate"],
                "cycle": BillingCycle(values["cycle"]), "due_rule": DueRule(values["due_rule"]),
                "due_day": values["due_day"], "valid_from": values["valid_from"], "valid_to": values["valid_to"],
            })
        _insert(self.session, FeeSchedule, rows)

    def _units(self) -> None:
        buildings = sorted(self.world.plan.buildings)
        rows = [{"community_id": self.community_ids[c], "code": b, "name": None} for c, b in buildings]
        building_ids = dict(self.world.buildings)
        building_ids.update(zip(buildings, _insert(self.session, Building, rows)))
        unit_rows = []
        for _, (community, code), building, values in self.world.plan.units:
            unit_rows.append({
                "company_id": self.company_id, "community_id": self.community_ids[community],
                "building_id": building_ids[(community, building)], "code": code, "area": values["area"],
                "unit_type": UnitType(values["unit_type"]), "delivered_on": values["delivered_on"],
            })
        keys = [key for _, key, _, _ in self.world.plan.units]
        self.unit_ids.update(zip(keys, _insert(self.session, Unit, unit_rows)))

    def _ownerships(self) -> None:
        records = self.world.plan.ownerships
        rows = [{"unit_id": self.unit_ids[r.unit], "valid_from": r.valid_from, "valid_to": r.valid_to, "note": r.note}
                for r in records]
        ids = _insert(self.session, Ownership, rows)
        parties = []
        for record, new_id in zip(records, ids):
            record.id = new_id
            self.ownership_ids[(record.unit, record.valid_from)] = new_id
            parties += [{"ownership_id": new_id, "owner_id": self.owner_ids[o], "position": i}
                        for i, o in enumerate(record.owners)]
        _insert(self.session, OwnershipParty, parties)

    def _charges(self) -> None:
        charges = self.world.plan.charges
        now = dt.datetime.now(dt.timezone.utc)
        rows = [{
            "company_id": self.company_id, "unit_id": self.unit_ids[c.unit],
            "ownership_id": self.ownership_ids[(c.unit, c.ownership_from)],
            "fee_item_id": self.fee_items[c.fee_item]["id"], "kind": FeeKind(self.fee_items[c.fee_item]["kind"]),
            "period_start": c.period_start, "period_end": c.period_end, "period_label": c.label,
            "due_date": c.due_date, "amount": c.amount, "principal_outstanding": c.amount,
            "late_fee_paid": Decimal("0.00"), "source": ChargeSource.IMPORT, "note": c.note,
            "created_by": self.actor.name, "created_at": now,
        } for c in charges]
        for charge, new_id in zip(charges, _insert(self.session, Charge, rows)):
            charge.id = new_id
        self._apply_existing_credit({self.unit_ids[c.unit] for c in charges})

    def _apply_existing_credit(self, unit_ids: set[int]) -> None:
        """Credit already on a unit pays the charges just imported, as billing does."""
        apply_credits(self.session, self.company_id, unit_ids, today=self.today)

    def _charge_ids(self, unit: UnitKey, labels: list[str], owner: OwnerKey | None) -> tuple[int, ...]:
        records = {o.valid_from for o in self.world.ownerships.get(unit, []) if owner is None or owner in o.owners}
        wanted = set(labels)
        return tuple(sorted(c.id for c in self.world.charges.get(unit, [])
                            if c.id is not None and c.label in wanted and c.ownership_from in records))

    def _interruptions(self) -> None:
        for row, item in self.world.plan.interruptions:
            unit = item["unit"]
            try:
                record_interruption(
                    self.session, self.actor, self.company_id, self.unit_ids[unit],
                    kind=InterruptionKind(item["kind"]), occurred_on=item["occurred_on"], proof_ref=item["proof_ref"],
                    charge_ids=self._charge_ids(unit, item["labels"], item["owner"]), today=self.today,
                    owner_id=None if item["owner"] is None else self.owner_ids[item["owner"]],
                    delivery=item["delivery"], owner_gave_contact=item["owner_gave_contact"],
                    proof_note=item["proof_note"], source="import", import_batch_id=self.batch_id,
                )
            except ServiceError as exc:
                raise ApplyError("interruptions", row, str(exc)) from exc

    def _payment_progress(self, done: int, total: int) -> None:
        self.progress(f"payments {done}/{total}")
        self.written("payments", done, total)

    def _payments(self) -> None:
        """All payments in one batch: the unit ledgers are loaded once and applied in date order."""
        ordered = sorted(self.world.plan.payments, key=lambda p: (p[1]["received_on"], p[0]))
        inputs = [
            PaymentInput(
                unit_id=self.unit_ids[item["unit"]], payer_id=self.owner_ids[item["payer"]],
                receipt_ref=item["receipt_ref"], received_on=item["received_on"], amount=item["amount"],
                method=item["method"], note=item["note"],
                designation=self._charge_ids(item["unit"], item["labels"], item["payer"]) if item["labels"] else (),
            )
            for _, item in ordered
        ]
        try:
            record_payments(self.session, self.actor, self.company_id, inputs, today=self.today,
                            import_batch_id=self.batch_id,
                            progress=self._payment_progress)
        except PaymentRowError as exc:
            raise ApplyError("payments", ordered[exc.index][0], str(exc)) from exc
