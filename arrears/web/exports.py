"""Excel exports of the lists: the columns a service chose (English msgids), translated here.

Each list's service builds its export rows next to the list's own query (same filter, every
matching row); the view only parses the filter and calls :func:`send_export`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from flask import Response
from flask_babel import gettext

from arrears.documents.xlsx import Column

from .downloads import xlsx_response


def send_export(stem: str, title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
                today: dt.date) -> Response:
    """``rows`` under ``columns`` (headers are msgids, translated now) as ``<stem>-<today>.xlsx``."""
    translated = [replace(column, header=gettext(column.header)) for column in columns]
    return xlsx_response(stem, title, translated, rows, today=today)
