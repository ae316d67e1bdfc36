"""Access is denied by default: every view declares who may use it with @allow or @public.

The signed-in user acts for one company at a time (one of their memberships); every query is
scoped to it, and another company's objects answer 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, g, redirect, request, session, url_for

from arrears.persistence.enums import Role
from arrears.persistence.models import Membership, User
from arrears.services.actor import Actor

from .transaction import db

F = TypeVar("F", bound=Callable[..., Any])

EVERYONE = frozenset(Role)
# The company's own staff. A lawyer sees only the legal cases assigned to them (and what those
# cases show), never the company's units, collection cases, runs or notices.
STAFF = EVERYONE - {Role.LAWYER}
WRITERS = frozenset({Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT})
MANAGERS = frozenset({Role.ADMIN, Role.MANAGER})
ADMINS = frozenset({Role.ADMIN})
LAWYERS = frozenset({Role.LAWYER})


def allow(roles: frozenset[Role], *, any_membership: bool = False) -> Callable[[F], F]:
    """Let signed-in members with one of `roles` in the current company use the view.

    With `any_membership` a role in ANY of the user's companies lets them in: the view must then
    scope each object itself (a lawyer's legal cases are scoped by assignment, across the
    companies that instruct them) and answer 404 for anything else."""

    def decorate(view: F) -> F:
        view._allowed_roles = roles  # type: ignore[attr-defined]
        view._any_membership = any_membership  # type: ignore[attr-defined]
        return view

    return decorate


def public(view: F) -> F:
    """A view anyone may use (login, health check)."""
    view._public = True  # type: ignore[attr-defined]
    return view


def declared_policy(view: Callable[..., Any]) -> str | None:
    if getattr(view, "_public", False):
        return "public"
    roles = getattr(view, "_allowed_roles", None)
    return None if roles is None else ",".join(sorted(roles))


def current_company_id() -> int:
    return int(g.membership.company_id)


def current_actor() -> Actor:
    return Actor(name=g.user.username, user_id=g.user.id)


def has_role(roles: frozenset[Role]) -> bool:
    membership = getattr(g, "membership", None)
    return membership is not None and Role(membership.role) in roles


def membership_in(company_id: int) -> Membership | None:
    """The signed-in user's membership in `company_id`, if any."""
    user = getattr(g, "user", None)
    for membership in (user.memberships if user is not None else ()):
        if membership.company_id == company_id:
            return membership
    return None


def companies_with_role(roles: frozenset[Role]) -> list[int]:
    """The companies in which the signed-in user holds one of `roles` (e.g. those instructing a lawyer)."""
    user = getattr(g, "user", None)
    return sorted(m.company_id for m in (user.memberships if user is not None else ()) if Role(m.role) in roles)


def act_for(membership: Membership) -> None:
    """Make `membership` (one of the user's own) the current one: its company becomes the current
    company for this request and the next ones, as when the user switches company."""
    assert membership.user_id == g.user.id
    g.membership = membership
    session["company_id"] = membership.company_id


def init_app(app: Flask) -> None:
    @app.before_request
    def _enforce() -> Any:
        if request.endpoint == "static":
            return None
        if request.endpoint is None:  # an unknown address: the 404 page still shows who is signed in
            _load_user(optional=True)
            return None
        view = app.view_functions.get(request.endpoint)
        if view is None:
            return None
        if getattr(view, "_public", False):
            _load_user(optional=True)
            return None
        roles = getattr(view, "_allowed_roles", None)
        if roles is None:
            abort(403)  # no declaration: denied by default
        if not _load_user(optional=False):
            if request.path.startswith("/api/"):
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path))
        if Role(g.membership.role) not in roles and not (
                getattr(view, "_any_membership", False) and companies_with_role(roles)):
            abort(403)
        return None

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {
            "current_user": getattr(g, "user", None),
            "current_membership": getattr(g, "membership", None),
            "has_role": has_role,
            "MANAGERS": MANAGERS,
            "WRITERS": WRITERS,
            "STAFF": STAFF,
        }


def _load_user(*, optional: bool) -> bool:
    user_id = session.get("user_id")
    if user_id is None:
        return False
    user = db().get(User, user_id)
    if user is None or not user.is_active or not user.memberships:
        session.clear()
        return False
    g.user = user
    g.user_locale = user.locale
    g.membership = _membership(user)
    return True


def _membership(user: User) -> Membership:
    wanted = session.get("company_id")
    for membership in user.memberships:
        if membership.company_id == wanted:
            return membership
    first = sorted(user.memberships, key=lambda m: m.company_id)[0]
    session["company_id"] = first.company_id
    return first
