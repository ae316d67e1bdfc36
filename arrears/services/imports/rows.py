"""Turn a table's cells into typed rows, reporting each bad cell by sheet, row and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .cells import CellError
from .reader import Table
from .report import ImportReport


@dataclass
class Row:
    sheet: str
    number: int
    values: dict[str, Any]
    table: Table
    bad: set[str] = field(default_factory=set)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None or value == "" else value

    def ok(self, *names: str) -> bool:
        """True if none of these columns failed to parse."""
        return not self.bad.intersection(names)

    def error(self, report: ImportReport, column: str | None, en: str, zh: str) -> None:
        if column is not None:
            self.bad.add(column)
        label = None if column is None else self.table.label(column)
        report.error(self.sheet, self.number, label, en, zh)


def parse_rows(table: Table, report: ImportReport) -> list[Row]:
    """Typed rows; a blank required cell or an unreadable cell is an error at that cell."""
    rows = []
    sheet = table.sheet
    for number, cells in table.rows:
        row = Row(sheet.name, number, {}, table)
        for name, index in table.columns.items():
            column = sheet.by_name[name]
            raw = cells[index] if index < len(cells) else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                row.values[name] = None
                if column.required:
                    row.error(report, name, f"{name} is required", f"“{column.zh}”为必填项")
                continue
            try:
                row.values[name] = column.parse(raw)
            except CellError as exc:
                row.values[name] = None
                row.error(report, name, f"{name}: {exc.en}", f"{column.zh}：{exc.zh}")
        rows.append(row)
    return rows
