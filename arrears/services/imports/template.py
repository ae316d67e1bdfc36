"""The downloadable template workbook: a README sheet, then one sheet per table with the
English header row and one example row (which imports cleanly as it is)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from .schema import SHEETS

_REQUIRED = PatternFill("solid", fgColor="FFF2CC")
_TEXT_TYPES = ("text", "period")


def template_workbook() -> bytes:
    workbook = Workbook()
    readme = workbook.active
    readme.title = "README"
    _readme(readme)
    for sheet in SHEETS:
        ws = workbook.create_sheet(sheet.name)
        ws.append([c.name for c in sheet.columns])
        ws.append([c.example or None for c in sheet.columns])
        for index, column in enumerate(sheet.columns, start=1):
            letter = get_column_letter(index)
            cell = ws.cell(row=1, column=index)
            cell.font = Font(bold=column.required)
            if column.required:
                cell.fill = _REQUIRED
            ws.column_dimensions[letter].width = max(12, len(column.name) + 4)
            if column.type_doc.startswith(_TEXT_TYPES) or "id_number" in column.name:
                # Text format keeps ID numbers, codes and labels like 2025-03 exactly as typed.
                ws.column_dimensions[letter].number_format = "@"
                ws.cell(row=2, column=index).number_format = "@"
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _readme(ws) -> None:  # type: ignore[no-untyped-def]
    lines = [
        ("arrears import workbook / 欠费台账导入模板", ""),
        ("Fill one sheet per table; row 1 is the header (English names below, or the Chinese names). "
         "Replace the example row (row 2) with your data. Highlighted headers are required columns.",
         "每个工作表一张表；第1行为表头（可用英文或中文列名）。请用您的数据替换第2行示例。黄色表头为必填列。"),
        ("The import is all or nothing: any error rejects the whole file and changes nothing. "
         "Importing the same file again changes nothing.", "导入要么全部成功，要么全部不导入；重复导入同一文件不会产生任何变化。"),
        ("Format ID number and code columns as text.", "证件号码、编码类列请设置为文本格式。"),
        ("", ""),
    ]
    for sheet in SHEETS:
        lines.append((f"{sheet.name} / {sheet.zh}: {sheet.doc}", ""))
        for column in sheet.columns:
            need = "required / 必填" if column.required else "optional / 选填"
            lines.append((f"  {column.name} / {column.zh} ({need}; {column.type_doc})", column.doc))
        lines.append(("", ""))
    for row in lines:
        ws.append(list(row))
    ws["A1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 80
    ws.column_dimensions["B"].width = 100
