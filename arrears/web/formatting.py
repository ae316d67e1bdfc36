"""Numbers, money and dates in templates, formatted by Babel for the request's locale.

Amounts stay ``Decimal`` until this last step; ``money`` always shows two decimals (fen) with the
locale's grouping, and ``day`` shows a date as the locale writes it (2026年11月22日 / Nov 22, 2026).
Form fields keep ISO dates (``<input type=date>`` needs them), so only displayed text uses these.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal


def money(value: Decimal | int | None) -> str:
    """An amount in yuan with two decimals and grouping; empty for None."""
    if value is None:
        return ""
    return format_decimal(Decimal(value), format="#,##0.00")


def number(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    return format_decimal(value)


def day(value: dt.date | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_date(value, fmt)


def moment(value: dt.datetime | None, fmt: str = "short") -> str:
    """A timestamp in the configured time zone (Flask-Babel converts from UTC)."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(money=money, number=number, day=day, moment=moment)
