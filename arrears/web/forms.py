"""Parsing of form and query input into typed values, with messages for the user."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _


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
