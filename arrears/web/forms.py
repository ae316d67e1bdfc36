"""Parsing of form and query input into typed values, with messages for the user."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _

from arrears.domain.money import MoneyError, parse_money
from arrears.services.errors import invalid_amount

from .messages import error_text


class InputError(ValueError):
    """Bad input from a form; the message is shown to the user."""


def parse_date(value: str | None, *, default: dt.date | None = None, field: str = "") -> dt.date:
    if not value:
        if default is None:
            raise InputError(_("%(field)s: a date is required (YYYY-MM-DD).", field=field))
        return default
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise InputError(_("%(field)s: %(value)s is not a date like 2026-11-22.", field=field, value=value)) from None


def parse_int(value: str | None, field: str) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        raise InputError(_("%(field)s: enter a whole number.", field=field)) from None


def parse_amount(value: str) -> Decimal:
    """A money amount typed by a person ("1,234.5", "¥80"); the error names the bad value."""
    try:
        return parse_money(value)
    except (MoneyError, TypeError):
        raise InputError(error_text(invalid_amount(value))) from None
