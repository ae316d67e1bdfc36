"""Exports keep numbers as numbers and never let a text cell run as a formula."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from arrears.documents.xlsx import Column, neutralise, workbook_bytes


@pytest.mark.parametrize("text", ["=1+1", "+86 138", "-2", "@SUM(A1)", "\t=cmd", "\r=x"])
def test_formula_starts_are_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["1-2-301", "张三", "", "a=b"])
def test_plain_text_is_kept(text: str) -> None:
    assert neutralise(text) == text


def test_workbook_types_round_trip() -> None:
    columns = [Column("Unit"), Column("Arrears", money=True), Column("Due"), Column("Periods")]
    rows = [["=HYPERLINK(\"http://x\")", Decimal("1234.50"), dt.date(2026, 3, 1), 3],
            ["1-2-301", Decimal("0.01"), None, 0]]
    book = load_workbook(io.BytesIO(workbook_bytes([("Arrears", columns, rows)])))
    sheet = book["Arrears"]
    assert [c.value for c in sheet[1]] == ["Unit", "Arrears", "Due", "Periods"]
    unit, amount, due, periods = sheet[2]
    assert unit.data_type == "s" and unit.value == "'=HYPERLINK(\"http://x\")"
    assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("1234.50")
    assert amount.number_format == "#,##0.00"
    assert due.value == dt.datetime(2026, 3, 1) and due.is_date
    assert periods.value == 3
    assert sheet["A3"].value == "1-2-301"
