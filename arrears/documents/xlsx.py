"""Excel workbooks of lists and reports (openpyxl): numbers as numbers, no formula can run.

Amounts are written as numbers with a two-decimal format so sums work in the spreadsheet; dates as
dates. Any text that a spreadsheet would read as a formula or DDE command (first character ``=``,
``+``, ``-``, ``@``, or a tab/carriage return before one) is prefixed with an apostrophe-like quote
character and stored as a plain string, the OWASP "CSV injection" defence applied to xlsx.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
MAX_SHEET_TITLE = 31


@dataclass(frozen=True)
class Column:
    """A column: its header (already translated) and a width in characters."""

    header: str
    width: int = 14
    money: bool = False


def neutralise(text: str) -> str:
    """Text that cannot be taken for a formula: a leading ``'`` is kept as a literal character."""
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _cell(sheet: Worksheet, value: Any, column: Column) -> WriteOnlyCell:
    if isinstance(value, bool):
        cell = WriteOnlyCell(sheet, value=value)
    elif isinstance(value, (Decimal, int, float)):
        cell = WriteOnlyCell(sheet, value=value)
        if column.money or isinstance(value, Decimal):
            cell.number_format = MONEY_FORMAT
    elif isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
    elif value is None:
        cell = WriteOnlyCell(sheet, value=None)
    else:
        cell = WriteOnlyCell(sheet, value=neutralise(str(value)))
        cell.data_type = "s"
    return cell


def add_sheet(book: Workbook, title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> None:
    """Append one sheet; rows are streamed (write-only mode) so large lists stay small in memory."""
    sheet = book.create_sheet(title=neutralise(title)[:MAX_SHEET_TITLE].replace("/", "-"))
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=neutralise(column.header))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(sheet, value, column) for value, column in zip(row, columns, strict=True)])


def workbook_bytes(sheets: Sequence[tuple[str, Sequence[Column], Iterable[Sequence[Any]]]]) -> bytes:
    """One workbook with the given sheets, as the bytes of an .xlsx file."""
    book = Workbook(write_only=True)
    for title, columns, rows in sheets:
        add_sheet(book, title, columns, rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
