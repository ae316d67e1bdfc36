"""Read a workbook (.xlsx via python-calamine), a folder or .zip of .csv files, or one .csv file
into tables of cells, and match their headers (English or Chinese) to the schema."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from .cells import Cell
from .report import ImportReport
from .schema import SHEET_BY_KEY, Sheet, header_key


@dataclass
class Table:
    """One sheet: which column index holds which schema column, and its data rows by row number."""

    sheet: Sheet
    header_row: int = 1
    columns: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # column name -> header as written
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)

    def label(self, column: str) -> str:
        """The column as the user wrote it, for messages."""
        return self.headers.get(column, column)


class ReadError(Exception):
    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en, self.zh = en, zh


def read_tables(path: Path, report: ImportReport) -> dict[str, Table]:
    """The recognised sheets of the file; unknown sheets and columns are reported as warnings."""
    raw = _read_raw(path)
    tables: dict[str, Table] = {}
    for name, rows in raw.items():
        sheet = SHEET_BY_KEY.get(header_key(name))
        if sheet is None:
            if header_key(name) not in {"readme", "说明"}:
                report.warn(name, None, None, "sheet is not part of the import format and was ignored",
                            "该工作表不属于导入格式，已忽略")
            continue
        if sheet.name in tables:
            report.error(name, None, None, f"sheet {sheet.name} appears twice", f"工作表{sheet.zh}重复出现")
            continue
        tables[sheet.name] = _table(sheet, rows, report)
    if not tables and not report.errors:
        report.error("(file)", None, None, "the file contains none of the import sheets",
                     "文件中没有任何可导入的工作表")
    return tables


def _table(sheet: Sheet, rows: list[list[Cell]], report: ImportReport) -> Table:
    table = Table(sheet)
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(c is not None for c in r)]
    if not numbered:
        _missing(sheet, sheet.columns, report)
        return table
    table.header_row, header = numbered[0]
    known = {header_key(s): c for c in sheet.columns for s in c.spellings()}
    for index, cell in enumerate(header):
        written = "" if cell is None else str(cell).strip()
        if not written:
            continue
        column = known.get(header_key(written))
        if column is None:
            report.warn(sheet.name, table.header_row, written, "unknown column ignored", "未知列，已忽略")
        elif column.name in table.columns:
            report.error(sheet.name, table.header_row, written, f"column {column.name} appears twice",
                         f"列“{column.zh}”重复出现")
        else:
            table.columns[column.name] = index
            table.headers[column.name] = written
    _missing(sheet, [c for c in sheet.columns if c.name not in table.columns], report)
    table.rows = numbered[1:]
    return table


def _missing(sheet: Sheet, columns: Any, report: ImportReport) -> None:
    for column in columns:
        if column.required:
            report.error(sheet.name, None, column.name, f"required column {column.name} ({column.zh}) is missing",
                         f"缺少必填列“{column.zh}”（{column.name}）")


def _read_raw(path: Path) -> dict[str, list[list[Cell]]]:
    if path.is_dir():
        return {p.stem: _csv_rows(p.read_bytes()) for p in sorted(path.glob("*.csv"))}
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return {path.stem: _csv_rows(path.read_bytes())}
    if suffix == ".zip":
        return _zip(path)
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        return _workbook(path)
    raise ReadError(f"unsupported file type {suffix or '(none)'}: use .xlsx, .zip of .csv files or a folder",
                    f"不支持的文件类型{suffix}：请使用 .xlsx、.csv 压缩包或文件夹")


def _zip(path: Path) -> dict[str, list[list[Cell]]]:
    result: dict[str, list[list[Cell]]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = Path(info.filename).name
                if info.is_dir() or not name.lower().endswith(".csv") or name.startswith("."):
                    continue
                result[Path(name).stem] = _csv_rows(archive.read(info))
    except zipfile.BadZipFile as exc:
        raise ReadError(f"the .zip file cannot be read: {exc}", "无法读取该 .zip 文件") from exc
    return result


def _csv_rows(data: bytes) -> list[list[Cell]]:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError("a .csv file is not UTF-8 encoded (save it as CSV UTF-8)",
                        "CSV 文件不是 UTF-8 编码（请另存为“CSV UTF-8”）") from exc
    return [[c if c.strip() else None for c in row] for row in csv.reader(io.StringIO(content, newline=""))]


def _workbook(path: Path) -> dict[str, list[list[Cell]]]:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        return {
            name: [[_cell(v) for v in row] for row in workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)]
            for name in workbook.sheet_names
        }
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types for bad files
        raise ReadError(f"the workbook cannot be read: {exc}", "无法读取该工作簿") from exc


def _cell(value: Any) -> Cell:
    """Spreadsheet values as text or dates; numbers become their shortest exact decimal text."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    text = str(value)
    return text if text.strip() else None
