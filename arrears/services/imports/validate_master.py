"""Validate the master-data sheets: owners, communities, fee schedules, units, ownerships."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from arrears.domain.identity import IdType, birth_date_from_id
from arrears.services.ownership import overlaps

from . import checks
from .choices import ORGANISATION_ID_TYPES
from .report import ImportReport
from .rows import Row
from .world import COMMUNITY_FIELDS, OWNER_FIELDS, OwnerInfo, OwnershipInfo, ScheduleInfo, UnitInfo, World


def owners(rows: list[Row], world: World, report: ImportReport) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        key = checks.owner_key(row, report, "id_type", "id_number")
        if key is None or checks.duplicate(row, report, seen, key, "id_number", "this owner", "该业主"):
            continue
        values = _owner_values(row, report, key)
        existing = world.owners.get(key)
        if existing is not None and existing.id is not None:
            if checks.compare(row, report, existing.values, values, f"owner {key[1]}", f"业主{key[1]}"):
                report.count("owners", "unchanged")
            continue
        world.owners[key] = OwnerInfo(key, values["kind"], values["is_developer"], values["name"], None, values)
        world.plan.owners.append((row.number, {"id_type": key[0], "id_number": key[1], **values}))
        report.count("owners", "new")


def _owner_values(row: Row, report: ImportReport, key: tuple[str, str]) -> dict[str, Any]:
    id_type, number = key
    organisation_id = id_type in ORGANISATION_ID_TYPES
    kind = row.get("kind", "organisation" if organisation_id else "person")
    if kind == "person" and organisation_id:
        row.error(report, "kind", f"kind: a person cannot hold a {id_type} document", f"自然人不能使用{id_type}证件")
    if kind == "organisation" and id_type == IdType.RESIDENT_ID.value:
        row.error(report, "kind", "kind: an organisation is identified by a uscc or org_code, not a resident ID",
                  "单位应使用统一社会信用代码或组织机构代码，而非居民身份证")
    birth = row.get("birth_date")
    if kind == "person":
        carried = birth_date_from_id(IdType(id_type), number)
        if carried is not None and birth is not None and birth != carried:
            row.error(report, "birth_date", f"birth_date: differs from the date in the ID number ({carried})",
                      f"出生日期与证件号码中的日期（{carried}）不一致")
        elif carried is None and birth is None:
            row.error(report, "birth_date", "birth_date: required for a person whose document does not carry it",
                      "证件号码不含出生日期的自然人必须填写出生日期")
        birth = carried or birth
    else:
        birth = None
    is_developer = bool(row.get("is_developer", False))
    if is_developer and kind != "organisation":
        row.error(report, "is_developer", "is_developer: a developer is an organisation", "建设单位应为单位（非自然人）")
    values = {f: row.get(f) for f in OWNER_FIELDS}
    values.update(kind=kind, birth_date=birth, is_developer=is_developer,
                  service_address_confirmed=bool(row.get("service_address_confirmed", False)),
                  language=row.get("language", "zh_CN"))
    return values


def communities(rows: list[Row], world: World, report: ImportReport) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        code = row.get("code")
        if code is None or checks.duplicate(row, report, seen, code, "code", "this community", "该小区"):
            continue
        _community_rules(row, report)
        developer = _developer(row, report, world)
        values = {f: row.get(f) for f in COMMUNITY_FIELDS}
        existing = world.communities.get(code)
        if existing is not None and existing.get("id") is not None:
            same = checks.compare(row, report, existing, values, f"community {code}", f"小区{code}")
            if developer is not None and world.owners[developer].id != existing.get("developer_id"):
                same = False
                row.error(report, "developer_id_number", "developer_id_number: the community already has another developer",
                          "该小区在系统中已登记了其他建设单位；导入不会修改已有记录")
            if same:
                report.count("communities", "unchanged")
            continue
        values.update(
            late_fee_cap_ratio=row.get("late_fee_cap_ratio", Decimal("1")),
            allocation_policy=row.get("allocation_policy", "principal_first"),
            demand_deadline_days=row.get("demand_deadline_days", 15),
        )
        world.communities[code] = {**values, "id": None}
        world.plan.communities.append((row.number, {"code": code, **values}, developer))
        report.count("communities", "new")


def _community_rules(row: Row, report: ImportReport) -> None:
    rate = row.get("late_fee_rate_per_day")
    if rate is not None and rate >= 1:
        row.error(report, "late_fee_rate_per_day", "late_fee_rate_per_day: a rate per day must be below 1 (e.g. 0.0005)",
                  "违约金日费率应小于1（如 0.0005 或 万分之五）")
    days = row.get("demand_deadline_days")
    if days is not None and not 1 <= days <= 365:
        row.error(report, "demand_deadline_days", "demand_deadline_days: must be 1 to 365", "催告期限天数应在1至365之间")
    ratio = row.get("vacancy_discount_ratio")
    if ratio is not None and ratio > 1:
        row.error(report, "vacancy_discount_ratio", "vacancy_discount_ratio: must be at most 1 (100%)",
                  "空置收费比例不能超过1（100%）")
    start, end = row.get("contract_start"), row.get("contract_end")
    if start and end and end < start:
        row.error(report, "contract_end", "contract_end: the contract ends before it starts", "合同结束日期早于开始日期")


def _developer(row: Row, report: ImportReport, world: World) -> tuple[str, str] | None:
    if row.get("developer_id_number") is None:
        return None
    key = checks.owner_key(row, report, "developer_id_type", "developer_id_number", IdType.USCC.value)
    if key is None:
        return None
    owner = world.owners.get(key)
    if owner is None or owner.kind != "organisation" or not owner.is_developer:
        row.error(report, "developer_id_number",
                  f"developer_id_number: {key[1]} is not an owners row of kind organisation marked is_developer",
                  f"建设单位证件号码{key[1]}不是业主表中标记为建设单位的单位")
        return None
    return key


def fee_schedules(rows: list[Row], world: World, report: ImportReport) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        community = checks.community(row, report, world)
        item = _fee_item(row, report, world)
        _schedule_rules(row, report)
        unit_type, valid_from = row.get("unit_type"), row.get("valid_from")
        if None in (community, item, unit_type, valid_from):
            continue
        key = (community, item, unit_type)
        if checks.duplicate(row, report, seen, (*key, valid_from), "valid_from", "this fee standard", "该收费标准"):
            continue
        values = {"basis": row.get("basis", "per_m2"), "rate": row.get("rate"), "cycle": row.get("cycle"),
                  "due_rule": row.get("due_rule"), "due_day": row.get("due_day"), "valid_to": row.get("valid_to")}
        existing = next((s for s in world.schedules[key] if s.valid_from == valid_from), None)
        if existing is not None:
            if checks.compare(row, report, existing.values, values, "this fee standard", "该收费标准"):
                report.count("fee_schedules", "unchanged")
            continue
        for other in world.schedules[key]:
            if _ranges_overlap(valid_from, values["valid_to"], other.valid_from, other.valid_to):
                row.error(report, "valid_from", f"valid_from: overlaps the standard valid from {other.valid_from}",
                          f"与{other.valid_from}起生效的收费标准时间重叠")
                break
        world.schedules[key].append(ScheduleInfo(valid_from, values["valid_to"], values["cycle"], values))
        world.plan.schedules.append((row.number, community, item, {"unit_type": unit_type, "valid_from": valid_from, **values}))
        report.count("fee_schedules", "new")


def _fee_item(row: Row, report: ImportReport, world: World) -> str | None:
    code, name = row.get("fee_item_code"), row.get("fee_item_name")
    if code is None or name is None:
        return None
    kind = row.get("fee_kind", "fee")
    known = world.fee_items.get(code)
    if known is None:
        world.fee_items[code] = {"id": None, "name": name, "kind": kind}
        world.plan.fee_items.append({"code": code, "name": name, "kind": kind})
        return code
    for column, value in (("fee_item_name", name), ("fee_kind", kind)):
        old = known["name" if column == "fee_item_name" else "kind"]
        if old != value and (column == "fee_item_name" or row.get("fee_kind") is not None):
            row.error(report, column, f"{column}: fee item {code} has {old}, not {value}",
                      f"收费项目{code}的{'名称' if column == 'fee_item_name' else '类别'}为“{old}”而非“{value}”")
    return code


def _schedule_rules(row: Row, report: ImportReport) -> None:
    rate, day = row.get("rate"), row.get("due_day")
    if rate is not None and rate <= 0:
        row.error(report, "rate", "rate: must be greater than 0", "单价必须大于0")
    if day is not None and not 1 <= day <= 31:
        row.error(report, "due_day", "due_day: must be 1 to 31", "缴费日应在1至31之间")
    if row.get("due_rule") == "day_of_first_month" and day is None and row.ok("due_day"):
        row.error(report, "due_day", "due_day: required when due_rule is day_of_first_month",
                  "缴费期限规则为“首月某日”时必须填写缴费日")
    start, end = row.get("valid_from"), row.get("valid_to")
    if start and end and end < start:
        row.error(report, "valid_to", "valid_to: ends before valid_from", "失效日期早于生效日期")


def _ranges_overlap(a_from: dt.date, a_to: dt.date | None, b_from: dt.date, b_to: dt.date | None) -> bool:
    return not ((a_to is not None and a_to < b_from) or (b_to is not None and b_to < a_from))


def units(rows: list[Row], world: World, report: ImportReport) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        community, code = checks.community(row, report, world), row.get("unit_code")
        area = row.get("area")
        if area is not None and area <= 0:
            row.error(report, "area", "area must be greater than 0", "面积必须大于0")
        if community is None or code is None:
            continue
        key = (community, code)
        if checks.duplicate(row, report, seen, key, "unit_code", "this unit", "该房屋"):
            continue
        building = row.get("building") or code.split("-")[0].strip() or code
        values = {"area": area, "unit_type": row.get("unit_type", "residential"),
                  "delivered_on": row.get("delivered_on"), "building": building}
        if key in world.unit_values and world.units[key].id is not None:
            if checks.compare(row, report, world.unit_values[key], values, f"unit {code}", f"房屋{code}"):
                report.count("units", "unchanged")
            continue
        world.units[key] = UnitInfo(key, values["unit_type"])
        world.unit_values[key] = values
        if (community, building) not in world.buildings:
            world.plan.buildings.add((community, building))
        world.plan.units.append((row.number, key, building, values))
        report.count("units", "new")


def ownerships(rows: list[Row], world: World, report: ImportReport) -> None:
    groups: dict[tuple[Any, ...], list[tuple[Row, tuple[str, str]]]] = defaultdict(list)
    for row in rows:
        unit = checks.unit(row, report, world)
        owner = checks.known_owner(row, report, world, "owner_id_type", "owner_id_number")
        start, end = row.get("valid_from"), row.get("valid_to")
        if start and end and end < start:
            row.error(report, "valid_to", "valid_to: the ownership ends before it starts", "产权截止日期早于起始日期")
        if unit is not None and owner is not None and start is not None:
            groups[(unit, start)].append((row, owner))
    for (unit, start), members in groups.items():
        _ownership_group(unit, start, members, world, report)


def _ownership_group(unit: tuple[str, str], start: dt.date, members: list[tuple[Row, tuple[str, str]]],
                     world: World, report: ImportReport) -> None:
    first = members[0][0]
    end = first.get("valid_to")
    owners: list[tuple[str, str]] = []
    for row, owner in members:
        if row.get("valid_to") != end:
            row.error(report, "valid_to", f"valid_to: co-owner rows of one ownership must agree (row {first.number})",
                      f"同一产权记录的共有人行截止日期应一致（见第{first.number}行）")
        if owner in owners:
            row.error(report, "owner_id_number", "owner_id_number: this owner is listed twice on the ownership",
                      "同一产权记录中该业主重复出现")
            continue
        owners.append(owner)
    records = world.ownerships[unit]
    existing = next((r for r in records if r.valid_from == start), None)
    if existing is not None:
        if existing.id is None:
            return
        if existing.valid_to != end or set(existing.owners) != set(owners):
            first.error(report, "owner_id_number",
                        f"owner_id_number: unit {unit[1]} already has an ownership from {start} with other owners "
                        "or end date; an import never changes existing records",
                        f"房屋{unit[1]}已有{start}起的产权记录，但业主或截止日期不同；导入不会修改已有记录")
        else:
            report.count("ownerships", "unchanged", len(members))
        return
    clash = overlaps(records, start, end)  # type: ignore[arg-type]
    if clash is not None:
        first.error(report, "valid_from", f"valid_from: overlaps the ownership of unit {unit[1]} from {clash.valid_from}",
                    f"与房屋{unit[1]}自{clash.valid_from}起的产权记录时间重叠")
        return
    record = OwnershipInfo(unit, start, end, owners, None, first.number, first.get("note"))
    records.append(record)
    records.sort(key=lambda r: r.valid_from)
    world.plan.ownerships.append(record)
    report.count("ownerships", "new", len(members))
