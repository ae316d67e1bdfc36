"""Errors a use case raises for bad input; views and commands turn them into messages."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out as asked; nothing was changed."""


class NotFound(ServiceError):
    """The object does not exist in the caller's company (other companies' objects included)."""


class ClosedPeriodError(ServiceError):
    """An entry dated inside closed books."""
