"""Excel downloads of lists and reports: the page's rows, as numbers and dates, never formulas.

Each list's service builds its export rows next to the list's own query (same filter, every
matching row) and names its columns with English msgids; the view parses the filter and calls
:func:`xlsx_response`, which translates the headers for the request's language.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from flask import Response, send_file
from flask_babel import gettext

from arrears.documents.xlsx import Column, workbook_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(stem: str, title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]],
                  *, today: dt.date) -> Response:
    """One sheet of ``rows`` under ``columns``, downloaded as ``<stem>-<today>.xlsx``.

    Headers are translated here (a header that is already translated comes back unchanged)."""
    translated = [replace(column, header=gettext(column.header)) for column in columns]
    data = workbook_bytes([(title, translated, rows)])
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"{stem}-{today.isoformat()}.xlsx", max_age=0)
