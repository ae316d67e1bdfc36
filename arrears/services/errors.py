"""Errors a use case raises for bad input; views and commands turn them into messages.

A message is an English msgid with named ``%(name)s`` placeholders, marked with :func:`N_` so
that ``pybabel extract -k N_`` collects it, and the variable parts are passed as keyword params::

    raise ServiceError(N_("receipt %(ref)s is already recorded with different content"), ref=ref)

Services never translate (they import neither Flask nor Flask-Babel): ``str(exc)`` is the English
text with the params filled in (CLI output, logs, import reports), and the web translates
``exc.message`` with ``exc.params`` where it shows the error (``arrears.web.messages.error_text``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a message for extraction and return it unchanged; it is translated where it is shown."""
    return message


class ServiceError(Exception):
    """A request that cannot be carried out as asked; nothing was changed.

    `message` is the untranslated msgid (with ``%(name)s`` placeholders), `params` fills them.
    """

    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        self.params = params
        super().__init__(_fill(message, params))

    def __str__(self) -> str:
        return _fill(self.message, self.params)


def _fill(message: str, params: dict[str, object]) -> str:
    # Like gettext(message, **params): placeholders are filled only when there are params.
    return message % params if params else message


class NotFound(ServiceError):
    """The object does not exist in the caller's company (other companies' objects included)."""


class ClosedPeriodError(ServiceError):
    """An entry dated inside closed books."""


def invalid_amount(value: object) -> ServiceError:
    """The error for an amount that `parse_money` refused (a `MoneyError`), in words a user can act
    on; the domain's own message stays in the exception chain."""
    text = str(value).strip()
    if not text:
        return ServiceError(N_("an amount is required"))
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        number = None
    if number is not None and number.is_finite() and int(number.as_tuple().exponent) < -2:
        return ServiceError(N_("'%(value)s' has more than 2 decimal places (an amount is in yuan and fen)"),
                            value=text)
    return ServiceError(N_("'%(value)s' is not a valid amount of money"), value=text)
