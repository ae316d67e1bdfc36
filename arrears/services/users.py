"""Users, memberships and password login with throttling of failed attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from arrears.persistence.enums import Role
from arrears.persistence.models import Company, LoginAttempt, Membership, User

from . import audit
from .actor import Actor
from .errors import N_, ServiceError

MIN_PASSWORD_LENGTH = 10
# A constant hash to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class LoginThrottled(ServiceError):
    """Too many failed logins for this name or address in the window."""


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    display_name: str,
    memberships: dict[int, Role],
) -> User:
    username = username.strip().lower()
    if not username:
        raise ServiceError(N_("username must not be empty"))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(N_("password must have at least %(count)d characters"), count=MIN_PASSWORD_LENGTH)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ServiceError(N_("user '%(username)s' already exists"), username=username)
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=generate_password_hash(password, method="scrypt"),
    )
    session.add(user)
    session.flush()
    for company_id, role in memberships.items():
        if session.get(Company, company_id) is None:
            raise ServiceError(N_("company %(id)s does not exist"), id=company_id)
        session.add(Membership(user_id=user.id, company_id=company_id, role=Role(role)))
        audit.record(session, actor, "user.membership", "user", user.id, company_id=company_id, role=str(role))
    session.flush()
    return user


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    remote_addr: str | None,
    now: dt.datetime,
    max_failures: int,
    window: dt.timedelta,
) -> User | None:
    """Return the user when the password matches; record every attempt for throttling."""
    username = username.strip().lower()
    since = now - window
    failures = session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.username == username,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at >= since,
        )
    )
    if failures is not None and failures >= max_failures:
        raise LoginThrottled(N_("too many failed sign-ins for %(username)s; try again later"), username=username)
    user = session.scalar(select(User).where(User.username == username))
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None and user.is_active
    session.add(LoginAttempt(username=username, remote_addr=remote_addr, succeeded=ok, at=now))
    session.flush()
    return user if ok else None
