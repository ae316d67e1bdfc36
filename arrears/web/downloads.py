"""Excel downloads of lists and reports: the page's rows, as numbers and dates, never formulas."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response, send_file

from arrears.documents.xlsx import Column, workbook_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(stem: str, title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]],
                  *, today: dt.date) -> Response:
    """One sheet of ``rows`` under ``columns``, downloaded as ``<stem>-<today>.xlsx``."""
    data = workbook_bytes([(title, columns, rows)])
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"{stem}-{today.isoformat()}.xlsx", max_age=0)
