"""Who is acting, for the audit log and for tenant scoping."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    name: str
    user_id: int | None = None

    @classmethod
    def system(cls, what: str = "system") -> "Actor":
        return cls(name=what)
