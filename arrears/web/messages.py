"""Service errors in the user's language.

Services raise `ServiceError(N_("... %(name)s ..."), name=value)` without translating (they may not
import Flask-Babel); the web translates the msgid here, where the error is shown. A msgid missing
from the catalogue falls back to the English text.
"""

from __future__ import annotations

from flask_babel import gettext

from arrears.services.errors import ServiceError


def error_text(exc: ServiceError) -> str:
    """The error's message translated into the current locale, its params filled in."""
    return gettext(exc.message, **exc.params)


__all__ = ["error_text"]
