"""Validate the ledger sheets: historical charges, payments and limitation interruptions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from arrears.domain.limitation import DeliveryResult, counts_as_delivered
from arrears.domain.periods import BillingCycle, Period, period_containing

from . import checks
from .report import ImportReport
from .rows import Row
from .world import ChargeInfo, OwnerKey, UnitKey, World


def charges(rows: list[Row], world: World, report: ImportReport) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        unit = checks.unit(row, report, world)
        item = row.get("fee_item_code")
        if item is not None and item not in world.fee_items:
            row.error(report, "fee_item_code", f"fee_item_code: no fee item {item} in the fee_schedules sheet or the app",
                      f"收费项目{item}在收费标准表和系统中都不存在")
            item = None
        amount = row.get("amount")
        if amount is not None and amount <= 0:
            row.error(report, "amount", "amount must be greater than 0", "金额必须大于0")
        if unit is None or item is None:
            continue
        period = _charge_period(row, report, world, unit, item)
        if period is None:
            continue
        ownership_from = _charge_ownership(row, report, world, unit, period)
        if ownership_from is None:
            continue
        key = (unit, item, period.start, ownership_from)
        if checks.duplicate(row, report, seen, key, "period" if "period" in row.values else "period_start",
                            "this charge", "该应收记录"):
            continue
        existing = next((c for c in world.charges[unit] if (c.fee_item, c.period_start, c.ownership_from) == key[1:]), None)
        if existing is not None and existing.id is not None:
            values = {"amount": amount, "due_date": row.get("due_date")}
            if checks.compare(row, report, {"amount": existing.amount, "due_date": existing.due_date}, values,
                              "this charge", "该应收记录"):
                report.count("charges", "unchanged")
            continue
        info = ChargeInfo(unit, item, period.start, period.end, period.label, ownership_from, amount,
                          row.get("due_date"), None, row.number, row.get("note"))
        world.charges[unit].append(info)
        world.plan.charges.append(info)
        report.count("charges", "new")


def _charge_period(row: Row, report: ImportReport, world: World, unit: UnitKey, item: str) -> Period | None:
    label, start, end = row.get("period"), row.get("period_start"), row.get("period_end")
    if not row.ok("period", "period_start", "period_end"):
        return None
    if label is not None:
        if start is not None and start != label.start:
            row.error(report, "period_start", f"period_start: {start} is not the start of {label.label}",
                      f"账期开始日期{start}与账期{label.label}不符")
            return None
        return label
    if start is None:
        row.error(report, "period", "period: give a period label or a period_start", "请填写账期或账期开始日期")
        return None
    if end is not None:
        if end < start:
            row.error(report, "period_end", "period_end: ends before period_start", "账期结束日期早于开始日期")
            return None
        for cycle in BillingCycle:
            candidate = period_containing(cycle, start)
            if (candidate.start, candidate.end) == (start, end):
                return candidate
        return Period(start, end)
    schedule = _schedule_cycle(world, unit, item, start)
    if schedule is None:
        row.error(report, "period_end", "period_end: required, no fee standard of this fee item covers period_start",
                  "没有覆盖该账期开始日期的收费标准，请填写账期结束日期")
        return None
    candidate = period_containing(BillingCycle(schedule), start)
    if candidate.start != start:
        row.error(report, "period_start", f"period_start: {start} does not start a {schedule} period",
                  f"账期开始日期{start}不是计费周期的第一天")
        return None
    return candidate


def _schedule_cycle(world: World, unit: UnitKey, item: str, day: dt.date) -> str | None:
    unit_type = world.units[unit].unit_type
    for schedule in world.schedules.get((unit[0], item, unit_type), []):
        if schedule.valid_from <= day and (schedule.valid_to is None or day <= schedule.valid_to):
            return schedule.cycle
    return None


def _charge_ownership(row: Row, report: ImportReport, world: World, unit: UnitKey, period: Period) -> dt.date | None:
    wanted = row.get("ownership_from")
    if wanted is not None:
        record = next((o for o in world.ownerships.get(unit, []) if o.valid_from == wanted), None)
        if record is None or wanted > period.end or (record.valid_to is not None and record.valid_to < period.start):
            row.error(report, "ownership_from", f"ownership_from: unit {unit[1]} has no ownership from {wanted} "
                      "overlapping the period", f"房屋{unit[1]}没有自{wanted}起且与该账期重叠的产权记录")
            return None
        return wanted
    record = world.ownership_covering(unit, period.start)
    if record is None:
        column = "period" if row.get("period") is not None else "period_start"
        row.error(report, column, f"{column}: no ownership record of unit {unit[1]} covers {period.start}",
                  f"房屋{unit[1]}没有覆盖{period.start}的产权记录，请在产权表中补充")
        return None
    return record.valid_from


def _owned_by(world: World, unit: UnitKey, owner: OwnerKey | None) -> set[dt.date]:
    """valid_from of the unit's ownership records that name the owner (all records if None)."""
    return {o.valid_from for o in world.ownerships.get(unit, []) if owner is None or owner in o.owners}


def _check_labels(row: Row, report: ImportReport, world: World, unit: UnitKey, column: str,
                  periods: list[Period], owner: OwnerKey | None) -> list[str]:
    records = _owned_by(world, unit, owner)
    available = {c.label for c in world.charges.get(unit, []) if c.ownership_from in records}
    labels = list(dict.fromkeys(p.label for p in periods))
    missing = [label for label in labels if label not in available]
    if missing:
        whose = "" if owner is None else f" owed by {owner[1]}"
        row.error(report, column, f"{column}: unit {unit[1]} has no charge{whose} for {', '.join(missing)}",
                  f"房屋{unit[1]}没有{'、'.join(missing)}的应收记录")
    return labels


def payments(rows: list[Row], world: World, report: ImportReport, today: dt.date) -> None:
    seen: dict[Any, int] = {}
    closed = world.company.books_closed_through
    for row in rows:
        ref = row.get("receipt_ref")
        if ref is not None and checks.duplicate(row, report, seen, ref, "receipt_ref", f"receipt {ref}", f"收据号{ref}"):
            continue
        unit = checks.unit(row, report, world)
        payer = checks.known_owner(row, report, world, "payer_id_type", "payer_id_number")
        amount, received = row.get("amount"), row.get("received_on")
        if amount is not None and amount <= 0:
            row.error(report, "amount", "amount must be greater than 0", "金额必须大于0")
        if received is not None and received > today:
            row.error(report, "received_on", "received_on: a payment cannot be dated in the future", "收款日期不能晚于今天")
        elif received is not None and closed is not None and received <= closed:
            row.error(report, "received_on", f"received_on: books are closed through {closed}", f"账簿已结账至{closed}，不能录入该日期")
        if unit is None or payer is None:
            continue
        if not _owned_by(world, unit, payer):
            row.error(report, "payer_id_number", f"payer_id_number: {payer[1]} is not an owner (or former owner) of unit {unit[1]}",
                      f"缴款人{payer[1]}不是房屋{unit[1]}的业主（或原业主）")
            continue
        labels = _check_labels(row, report, world, unit, "designation", row.get("designation", []), payer)
        if ref is None or amount is None or received is None:
            continue
        existing = world.payments.get(ref)
        if existing is not None:
            ids = (world.units[unit].id, world.owners[payer].id, received, amount)
            if existing != ids:
                row.error(report, "receipt_ref", f"receipt_ref: receipt {ref} is already recorded with different content "
                          f"(unit, payer, date or amount)", f"收据号{ref}已登记，但房屋、缴款人、日期或金额不同")
            else:
                report.count("payments", "unchanged")
            continue
        world.plan.payments.append((row.number, {
            "unit": unit, "payer": payer, "receipt_ref": ref, "received_on": received, "amount": amount,
            "method": row.get("method", "bank_transfer"), "labels": labels, "note": row.get("note"),
        }))
        report.count("payments", "new")


def interruptions(rows: list[Row], world: World, report: ImportReport, today: dt.date) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        unit = checks.unit(row, report, world)
        kind, day, proof = row.get("kind"), row.get("occurred_on"), row.get("proof_ref")
        if day is not None and day > today:
            row.error(report, "occurred_on", "occurred_on: an interruption cannot be dated in the future", "日期不能晚于今天")
        delivery = _delivery(row, report, kind)
        owner = None
        if row.get("owner_id_number") is not None:
            owner = checks.known_owner(row, report, world, "owner_id_type", "owner_id_number")
        if unit is None or None in (kind, day, proof):
            continue
        labels = _check_labels(row, report, world, unit, "periods", row.get("periods", []), owner)
        key = (unit, kind, day, proof)
        if checks.duplicate(row, report, seen, key, "proof_ref", "this event", "该中断事件"):
            continue
        unit_id = world.units[unit].id
        existing = world.interruptions.get((unit_id, kind, day, proof)) if unit_id is not None else None
        if existing is not None:
            records = _owned_by(world, unit, owner)
            covered = {c.id for c in world.charges[unit] if c.label in labels and c.ownership_from in records}
            if covered != existing:
                row.error(report, "periods", "periods: this event is already recorded for other periods",
                          "该中断事件已登记，但涉及的账期不同；导入不会修改已有记录")
            else:
                report.count("interruptions", "unchanged")
            continue
        world.plan.interruptions.append((row.number, {
            "unit": unit, "kind": kind, "occurred_on": day, "proof_ref": proof, "delivery": delivery,
            "owner_gave_contact": row.get("owner_gave_contact", True), "labels": labels, "owner": owner,
            "proof_note": row.get("proof_note"),
        }))
        report.count("interruptions", "new")


def _delivery(row: Row, report: ImportReport, kind: str | None) -> DeliveryResult | None:
    value = row.get("delivery_result")
    if kind != "demand_delivered":
        return None if value is None else DeliveryResult(value)
    if value is None:
        if row.ok("delivery_result"):
            row.error(report, "delivery_result", "delivery_result: required for a delivered demand (L5)",
                      "催告送达必须填写送达结果")
        return None
    result = DeliveryResult(value)
    if not counts_as_delivered(result, owner_gave_contact=row.get("owner_gave_contact", True)):
        row.error(report, "delivery_result", f"delivery_result: {value} does not count as a delivered demand (L5)",
                  f"送达结果“{value}”不构成有效送达，不能中断诉讼时效")
    return result
