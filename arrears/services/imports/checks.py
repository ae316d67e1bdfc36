"""Checks shared by the sheet validators: references by natural key, identity numbers, conflicts."""

from __future__ import annotations

from typing import Any

from arrears.domain.identity import IdentifierError, IdType, normalize_id

from .report import ImportReport
from .rows import Row
from .world import OwnerKey, UnitKey, World

_ID_ZH = (
    ("checksum", "校验位不正确（请检查最后一位）"),
    ("must have 18 characters", "应为18位"),
    ("province", "省份代码无效"),
    ("birth date", "中的出生日期无效"),
    ("invalid character", "含有无效字符"),
    ("17 digits", "应为17位数字加一位数字或X"),
    ("empty", "为空"),
)


def owner_key(row: Row, report: ImportReport, type_column: str, number_column: str,
              default_type: str = IdType.RESIDENT_ID.value) -> OwnerKey | None:
    """The normalised (id_type, id_number) of a row's owner reference, or None after an error."""
    number = row.get(number_column)
    if number is None or not row.ok(type_column, number_column):
        return None
    id_type = row.get(type_column, default_type)
    try:
        return id_type, normalize_id(IdType(id_type), number)
    except IdentifierError as exc:
        zh = next((z for key, z in _ID_ZH if key in str(exc)), "格式不正确")
        row.error(report, number_column, f"{number_column}: {exc}", f"证件号码{number}{zh}")
        return None


def known_owner(row: Row, report: ImportReport, world: World, type_column: str, number_column: str) -> OwnerKey | None:
    key = owner_key(row, report, type_column, number_column)
    if key is not None and key not in world.owners:
        row.error(report, number_column, f"{number_column}: no owner {key[1]} ({key[0]}) in the owners sheet or the app",
                  f"业主证件号码{key[1]}在业主表和系统中都不存在")
        return None
    return key


def community(row: Row, report: ImportReport, world: World, column: str = "community_code") -> str | None:
    code = row.get(column)
    if code is None:
        return None
    if code not in world.communities:
        row.error(report, column, f"{column}: no community {code} in the communities sheet or the app",
                  f"小区编码{code}在小区表和系统中都不存在")
        return None
    return code


def unit(row: Row, report: ImportReport, world: World) -> UnitKey | None:
    code = community(row, report, world)
    unit_code = row.get("unit_code")
    if code is None or unit_code is None:
        return None
    key = (code, unit_code)
    if key not in world.units:
        row.error(report, "unit_code", f"unit_code: no unit {unit_code} in community {code} in the units sheet or the app",
                  f"房号{unit_code}（小区{code}）在房屋表和系统中都不存在")
        return None
    return key


def duplicate(row: Row, report: ImportReport, seen: dict[Any, int], key: Any, column: str, what_en: str,
              what_zh: str) -> bool:
    """True (and an error) if `key` already appeared in an earlier row of the sheet."""
    first = seen.setdefault(key, row.number)
    if first == row.number:
        return False
    row.error(report, column, f"{what_en} already appears in row {first}", f"{what_zh}与第{first}行重复")
    return True


def compare(row: Row, report: ImportReport, existing: dict[str, Any], new: dict[str, Any], what_en: str,
            what_zh: str) -> bool:
    """True if every value the row gives equals the existing record's; else an error per column."""
    same = True
    for name, value in new.items():
        if value is None or name not in row.values or row.values[name] is None:
            continue
        old = existing.get(name)
        if old != value:
            same = False
            shown = "(blank)" if old is None else old
            row.error(report, name,
                      f"{name}: {what_en} already exists with {name} = {shown}, not {value}; "
                      "an import never changes existing records",
                      f"{what_zh}已存在，其{row.table.sheet.by_name[name].zh}为“{shown}”而非“{value}”；导入不会修改已有记录")
    return same
