"""One form post = one service call, with the same handling of its outcome on every page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash

from arrears.services.errors import NotFound, ServiceError

from .forms import InputError
from .messages import error_text


def perform(act: Callable[[], Any], success: str, *, refused: Callable[[], Any], done: Callable[[], Any]) -> Any:
    """Run `act`. Bad input or a refused change: flash why and return `refused()` — a 400 page, so
    the request's transaction rolls back and nothing is half-written. Another company's object: 404.
    Success: flash `success` and return `done()` (a redirect)."""
    try:
        act()
    except NotFound:
        abort(404)
    except InputError as exc:
        flash(str(exc), "error")
        return refused()
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return refused()
    flash(success, "success")
    return done()
